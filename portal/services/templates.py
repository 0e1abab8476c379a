"""Survey templates: the shipped TOML files and the versions administrators upload.

An uploaded template replaces the shipped one with the same key for new
surveys (a municipality keeps its own version); surveys already created keep
the definition they froze. An upload is validated by the same loader as the
files in ``surveys/templates/``, with the same messages as the CLI.
"""

from __future__ import annotations

from typing import Any

from portal import store
from portal.services import audit
from surveys import N_
from surveys.definition import (
    Definition,
    DefinitionError,
    available_templates,
    load_bytes,
    load_template,
)

MAX_TEMPLATE_BYTES = 512 * 1024


def available() -> tuple[str, ...]:
    """The keys of every template HR can choose: shipped and uploaded."""
    uploaded = {t.key for t in store.uploaded_templates()}
    return tuple(sorted(set(available_templates()) | uploaded))


def is_uploaded(key: str) -> bool:
    """Whether ``key`` is (or overrides a shipped template with) an uploaded version."""
    return store.uploaded_template(key) is not None


def load(key: str) -> Definition:
    """The template ``key``: the uploaded version when there is one, else the shipped file."""
    uploaded = store.uploaded_template(key)
    if uploaded is not None:
        return load_bytes(uploaded.toml_text.encode("utf-8"), f"{key}.toml")
    return load_template(key)


def check_upload(filename: str, raw: bytes) -> Definition:
    """Validate an uploaded template file; raises DefinitionError with the CLI's message."""
    name = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if not name.endswith(".toml"):
        raise DefinitionError(name or "?", None, "the file name must end in .toml")
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise DefinitionError(name, None, f"the file is larger than {MAX_TEMPLATE_BYTES} bytes")
    return load_bytes(raw, name)


def upload(filename: str, raw: bytes, *, actor: Any) -> Definition:
    """Validate and store an uploaded template; it applies to surveys created from now on."""
    definition = check_upload(filename, raw)
    store.save_template(definition.key, raw.decode("utf-8"), getattr(actor, "email", "") or "")
    audit.record(
        "template_uploaded",
        actor=actor,
        subject=f"{definition.key}.toml",
        detail=N_("Template version %(version)s"),
        params={"version": definition.version},
    )
    return definition


def remove(key: str, *, actor: Any) -> bool:
    """Delete an uploaded template; the shipped template of that key (if any) applies again."""
    removed = store.delete_template(key)
    if removed:
        audit.record("template_removed", actor=actor, subject=f"{key}.toml")
    return removed
