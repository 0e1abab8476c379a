"""The organisation tree (organisation → districts → units) and the organisation's own pages."""

from __future__ import annotations

from typing import Any

from peewee import fn

from portal.store.models import OrgNode, OrgProfile, Survey, User

ROOT_NAME_SV = "Organisationen"
ROOT_NAME_EN = "The organisation"


def ensure_root_node() -> OrgNode:
    """The root node, created when the tree is empty; the caller holds a write transaction."""
    root = OrgNode.get_or_none(OrgNode.parent.is_null())
    if root is None:
        root = OrgNode.create(kind="organisation", name_sv=ROOT_NAME_SV, name_en=ROOT_NAME_EN)
    return root


def root_node() -> OrgNode | None:
    """The organisation itself (the one node without a parent)."""
    return OrgNode.get_or_none(OrgNode.parent.is_null())


def org_nodes() -> list[OrgNode]:
    """Every node, in the order of ``position`` then id (one query; the tree is small)."""
    return list(OrgNode.select().order_by(OrgNode.position, OrgNode.id))


def get_node(node_id: Any) -> OrgNode | None:
    """The node with ``node_id``, or None (also for an id that is not a number)."""
    try:
        return OrgNode.get_or_none(OrgNode.id == int(node_id))
    except (TypeError, ValueError):
        return None


def create_node(parent: OrgNode, kind: str, name_sv: str, name_en: str = "") -> OrgNode:
    """A new node under ``parent``, placed after its siblings."""
    last = OrgNode.select(fn.MAX(OrgNode.position)).where(OrgNode.parent == parent.id).scalar() or 0
    return OrgNode.create(
        parent=parent.id, kind=kind, name_sv=name_sv, name_en=name_en, position=last + 1
    )


def rename_node(node: OrgNode, name_sv: str, name_en: str) -> None:
    """Give ``node`` new names."""
    OrgNode.update(name_sv=name_sv, name_en=name_en).where(OrgNode.id == node.id).execute()
    node.name_sv, node.name_en = name_sv, name_en


def delete_node(node: OrgNode) -> None:
    """Delete a node (the caller has checked that nothing is under or attached to it)."""
    OrgNode.delete().where(OrgNode.id == node.id).execute()


def node_usage(node: OrgNode) -> tuple[int, int, int]:
    """(child nodes, surveys, accounts) attached to ``node``."""
    return (
        OrgNode.select().where(OrgNode.parent == node.id).count(),
        Survey.select().where(Survey.node_id == node.id).count(),
        User.select().where(User.node_id == node.id).count(),
    )


def set_survey_node(survey: Survey, node_id: int) -> None:
    """Move ``survey`` to the node ``node_id``."""
    Survey.update(node_id=node_id).where(Survey.id == survey.id).execute()
    survey.node_id = node_id


def set_user_node(user_id: int, node_id: int) -> None:
    """Attach the account ``user_id`` to the node ``node_id``."""
    User.update(node_id=node_id).where(User.id == user_id).execute()


def org_profile() -> OrgProfile:
    """The organisation's page settings (an unsaved empty row when never edited)."""
    return OrgProfile.get_or_none(OrgProfile.id == 1) or OrgProfile(id=1)


def save_org_profile(fields: dict[str, Any]) -> OrgProfile:
    """Save the organisation's page settings; the caller holds a write transaction."""
    if OrgProfile.get_or_none(OrgProfile.id == 1) is None:
        OrgProfile.insert(id=1, **fields).execute()
    else:
        OrgProfile.update(**fields).where(OrgProfile.id == 1).execute()
    return OrgProfile.get_by_id(1)
