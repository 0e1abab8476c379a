"""Routes recorded by a view module and added to a blueprint by an explicit call.

A blueprint that is assembled from several view modules (the administration:
its account pages and its survey pages) is built in one factory function,
which calls ``register`` for each module. Importing a view module changes
nothing else: no blueprint, list or application is touched until then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint

View = Callable[..., Any]


class Routes:
    """Records ``route``/``get``/``post`` and blueprint hooks like a Blueprint would."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, View, dict[str, Any]]] = []
        self._hooks: list[tuple[str, View]] = []

    def route(self, rule: str, **options: Any) -> Callable[[View], View]:
        def decorator(view: View) -> View:
            self._rules.append((rule, view, options))
            return view

        return decorator

    def get(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["GET"], **options)

    def post(self, rule: str, **options: Any) -> Callable[[View], View]:
        return self.route(rule, methods=["POST"], **options)

    def before_request(self, hook: View) -> View:
        self._hooks.append(("before_request", hook))
        return hook

    def app_context_processor(self, hook: View) -> View:
        self._hooks.append(("app_context_processor", hook))
        return hook

    def app_template_global(self) -> Callable[[View], View]:
        def decorator(hook: View) -> View:
            self._hooks.append(("app_template_global", hook))
            return hook

        return decorator

    def register(self, bp: Blueprint) -> None:
        """Add every recorded route and hook to ``bp``."""
        for rule, view, options in self._rules:
            options = dict(options)
            endpoint = options.pop("endpoint", None)
            bp.add_url_rule(rule, endpoint=endpoint, view_func=view, **options)
        for kind, hook in self._hooks:
            if kind == "app_template_global":
                bp.app_template_global()(hook)
            else:
                getattr(bp, kind)(hook)
