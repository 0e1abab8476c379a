"""The organisation tree in memory: its nodes, who is under whom, and the paths shown.

Separate from ``portal.services.organisation`` (the rules for editing, importing and
scope) so that the survey lifecycle can read the tree without importing those rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portal import store
from portal.store.models import OrgNode

ORGANISATION, DISTRICT, UNIT = "organisation", "district", "unit"


@dataclass(frozen=True)
class Node:
    """One node as the pages and the rules read it."""

    id: int
    parent_id: int | None
    kind: str
    name_sv: str
    name_en: str

    @property
    def key(self) -> str:
        """The portal-unique option key of the node in city-wide surveys ("n" and the id)."""
        return f"n{self.id}"

    def name(self, lang: str) -> str:
        return (self.name_en or self.name_sv) if lang == "en" else self.name_sv


class Tree:
    """The whole tree in memory (it has tens or a few hundred nodes)."""

    def __init__(self, rows: Iterable[OrgNode]) -> None:
        self.nodes: dict[int, Node] = {}
        self._children: dict[int | None, list[int]] = {}
        for row in rows:
            node = Node(row.id, row.parent_id, row.kind, row.name_sv, row.name_en)
            self.nodes[node.id] = node
            self._children.setdefault(node.parent_id, []).append(node.id)
        roots = self._children.get(None, [])
        self.root: Node | None = self.nodes[roots[0]] if roots else None

    def get(self, node_id: int | None) -> Node | None:
        return self.nodes.get(node_id) if node_id is not None else None

    def by_key(self, key: str) -> Node | None:
        if not key.startswith("n") or not key[1:].isdigit():
            return None
        return self.nodes.get(int(key[1:]))

    def children(self, node_id: int) -> list[Node]:
        return [self.nodes[i] for i in self._children.get(node_id, [])]

    def ancestors(self, node_id: int) -> list[Node]:
        """The node and its ancestors up to the root (nearest first)."""
        chain: list[Node] = []
        node = self.nodes.get(node_id)
        while node is not None and len(chain) <= len(self.nodes):
            chain.append(node)
            node = self.nodes.get(node.parent_id) if node.parent_id is not None else None
        return chain

    def at_or_below(self, node_id: int) -> set[int]:
        """The ids of the node and everything under it."""
        found, todo = set(), [node_id]
        while todo:
            current = todo.pop()
            if current in found or current not in self.nodes:
                continue
            found.add(current)
            todo.extend(self._children.get(current, []))
        return found

    def is_at_or_below(self, node_id: int | None, top_id: int | None) -> bool:
        """Whether ``node_id`` is ``top_id`` or under it (None is the root)."""
        node_id = node_id if node_id is not None else (self.root.id if self.root else None)
        top_id = top_id if top_id is not None else (self.root.id if self.root else None)
        return any(n.id == top_id for n in self.ancestors(node_id)) if node_id else False

    def path(self, node_id: int | None, lang: str) -> str:
        """ "Organisation › District › Unit"."""
        node_id = node_id if node_id is not None else (self.root.id if self.root else None)
        return " › ".join(n.name(lang) for n in reversed(self.ancestors(node_id or 0)))

    def listing(self) -> list[tuple[Node, int]]:
        """Every node depth first, with its depth (the root 0)."""
        result: list[tuple[Node, int]] = []

        def visit(node_id: int, depth: int) -> None:
            result.append((self.nodes[node_id], depth))
            for child in self._children.get(node_id, []):
                visit(child, depth + 1)

        if self.root is not None:
            visit(self.root.id, 0)
        return result

    def districts_under(self, node_id: int) -> list[Node]:
        """The districts at or below ``node_id``, in tree order."""
        below = self.at_or_below(node_id)
        return [n for n, _ in self.listing() if n.kind == DISTRICT and n.id in below]

    def units_under(self, node_id: int) -> list[Node]:
        """The units at or below ``node_id``, in tree order."""
        below = self.at_or_below(node_id)
        return [n for n, _ in self.listing() if n.kind == UNIT and n.id in below]


def load_tree() -> Tree:
    """The organisation tree (one query)."""
    return Tree(store.org_nodes())
