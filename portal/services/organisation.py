"""The organisation: its tree (organisation → districts → units), who may see what in it,
and its own pages (data controller, retention decision, accessibility statement).

Scope rule: an administrator sees everything; every HR and board account is attached to
one node and sees the surveys at or below it. A city-wide survey lives at a node with
several districts below it; an account of one of its districts (or of a unit) sees only
the slice of the survey's one published report that lies at or below its node
(``district_keys``), never the survey's administration pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from portal import store
from portal.services import audit
from portal.services.dimension_import import (
    MAX_NAME,
    ImportFileError,
    RowError,
    file_rows,
    table_rows,
)
from portal.services.org_tree import (  # noqa: F401 - the tree is read through this module too
    DISTRICT,
    ORGANISATION,
    UNIT,
    Node,
    Tree,
    load_tree,
)
from portal.store.models import Survey, User
from surveys import N_

KIND_LABELS = {
    ORGANISATION: N_("Organisation"),
    DISTRICT: N_("District or administration"),
    UNIT: N_("Unit"),
}
# Which kind of node may stand under which.
ALLOWED_PARENTS = {DISTRICT: (ORGANISATION,), UNIT: (ORGANISATION, DISTRICT)}


class OrganisationError(Exception):
    """A refused change to the tree or the pages; ``message`` is an msgid with ``params``."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


# -- the tree (portal.services.org_tree) ---------------------------------------------------------


def _clean_name(name_sv: str, name_en: str) -> tuple[str, str]:
    name_sv, name_en = (name_sv or "").strip(), (name_en or "").strip()
    if not name_sv:
        raise OrganisationError(N_("Enter a Swedish name."))
    if len(name_sv) > MAX_NAME or len(name_en) > MAX_NAME:
        raise OrganisationError(N_("A name is longer than 200 characters."))
    return name_sv, name_en


def _check_sibling_names(tree: Tree, parent_id: int, name_sv: str, skip: int | None = None):
    for sibling in tree.children(parent_id):
        if sibling.id != skip and sibling.name_sv.casefold() == name_sv.casefold():
            raise OrganisationError(
                N_("%(parent)s already has a part named %(name)s."),
                parent=tree.nodes[parent_id].name_sv,
                name=name_sv,
            )


def add_node(parent_id: Any, kind: str, name_sv: str, name_en: str, *, actor: User) -> Node:
    """Add a district under the organisation, or a unit under it or under a district."""
    tree = load_tree()
    parent = store.get_node(parent_id)
    if parent is None:
        raise OrganisationError(N_("Choose where the new part belongs."))
    if kind not in ALLOWED_PARENTS or parent.kind not in ALLOWED_PARENTS[kind]:
        raise OrganisationError(
            N_("A district belongs directly under the organisation; a unit under a district.")
        )
    name_sv, name_en = _clean_name(name_sv, name_en)
    with store.write_transaction():
        _check_sibling_names(tree, parent.id, name_sv)
        row = store.create_node(parent, kind, name_sv, name_en)
        audit.record(
            "org_node_added",
            actor=actor,
            subject=name_sv,
            detail=N_("Under %(parent)s"),
            params={"parent": parent.name_sv},
        )
    return Node(row.id, parent.id, kind, name_sv, name_en)


def rename_node(node_id: Any, name_sv: str, name_en: str, *, actor: User) -> None:
    """Rename a node (the root's name is the organisation's name)."""
    row = store.get_node(node_id)
    if row is None:
        raise OrganisationError(N_("That part of the organisation no longer exists."))
    name_sv, name_en = _clean_name(name_sv, name_en)
    tree = load_tree()
    with store.write_transaction():
        if row.parent_id is not None:
            _check_sibling_names(tree, row.parent_id, name_sv, skip=row.id)
        old = row.name_sv
        store.rename_node(row, name_sv, name_en)
        audit.record(
            "org_node_renamed",
            actor=actor,
            subject=name_sv,
            detail=N_("Formerly %(name)s"),
            params={"name": old},
        )


def remove_node(node_id: Any, *, actor: User) -> None:
    """Remove a node that has nothing under it and no survey or account attached."""
    row = store.get_node(node_id)
    if row is None:
        raise OrganisationError(N_("That part of the organisation no longer exists."))
    if row.parent_id is None:
        raise OrganisationError(N_("The organisation itself cannot be removed."))
    with store.write_transaction():
        children, surveys, accounts = store.node_usage(row)
        if children or surveys or accounts:
            raise OrganisationError(
                N_(
                    "%(name)s cannot be removed: it has %(children)d parts, %(surveys)d surveys "
                    "and %(accounts)d accounts attached. Move or remove them first."
                ),
                name=row.name_sv,
                children=children,
                surveys=surveys,
                accounts=accounts,
            )
        store.delete_node(row)
        audit.record("org_node_removed", actor=actor, subject=row.name_sv)


# -- importing the tree from a file ---------------------------------------------------------------

IMPORT_COLUMNS = {
    "type": "type",
    "typ": "type",
    "name_sv": "name_sv",
    "namn": "name_sv",
    "namn_sv": "name_sv",
    "name_en": "name_en",
    "namn_en": "name_en",
    "district": "district",
    "förvaltning": "district",
    "forvaltning": "district",
    "stadsdel": "district",
}
IMPORT_TYPES = {
    "district": DISTRICT,
    "förvaltning": DISTRICT,
    "forvaltning": DISTRICT,
    "stadsdel": DISTRICT,
    "stadsdelsförvaltning": DISTRICT,
    "unit": UNIT,
    "enhet": UNIT,
}


@dataclass(frozen=True)
class ImportRow:
    """One district or unit read from the file; ``district`` names a unit's district."""

    kind: str
    name_sv: str
    name_en: str
    district: str


def read_tree_file(filename: str, raw: bytes) -> list[ImportRow]:
    """Read and check a whole CSV or XLSX file of districts and units (every problem listed)."""
    return parse_tree_rows(file_rows(filename, raw))


def parse_tree_rows(rows: list[tuple[int, list[str]]]) -> list[ImportRow]:
    """Check the rows (line number, cells) of a tree file with a header row."""
    body = table_rows(
        rows,
        IMPORT_COLUMNS,
        N_(
            "The first row must name the columns; %(columns)s is missing. "
            "The columns are type, name_sv, name_en and district."
        ),
    )
    districts = {
        values.get("name_sv", "").casefold()
        for _, values in body
        if IMPORT_TYPES.get(values.get("type", "").lower()) == DISTRICT
    }
    errors: list[RowError] = []
    result: list[ImportRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, values in body:
        kind = IMPORT_TYPES.get(values.get("type", "").lower())
        name_sv, name_en = values.get("name_sv", ""), values.get("name_en", "")
        district = values.get("district", "")
        problems: list[tuple[str, dict[str, Any]]] = []
        if kind is None:
            problems.append((N_("The type must be district or unit (förvaltning or enhet)."), {}))
        if not name_sv:
            problems.append((N_("The Swedish name is missing."), {}))
        if len(name_sv) > MAX_NAME or len(name_en) > MAX_NAME:
            problems.append((N_("A name is longer than 200 characters."), {}))
        if kind == UNIT and district and district.casefold() not in districts:
            problems.append((N_("The unit's district is not listed in the file."), {}))
        if kind == DISTRICT and district:
            problems.append((N_("A district is not under another district: leave it empty."), {}))
        # A name is unique among its siblings: districts, or the units of one district.
        place = district.casefold() if kind == UNIT else ""
        earlier = seen.setdefault((kind or "", place, name_sv.casefold()), line)
        if kind and name_sv and earlier != line:
            problems.append((N_("The same name is on line %(line)d."), {"line": earlier}))
        errors.extend(RowError(line, message, params) for message, params in problems)
        if not problems and kind is not None:
            result.append(ImportRow(kind, name_sv, name_en, district))
    if errors:
        raise ImportFileError(errors)
    if not result:
        raise ImportFileError([RowError(0, N_("The file lists no districts or units."), {})])
    return result


def import_tree(rows: list[ImportRow], *, actor: User) -> tuple[int, int]:
    """Add the districts and units of a file that are not in the tree yet.

    A district is matched by its Swedish name under the organisation, a unit by
    its name under its district (or under the organisation when no district is
    named). Existing nodes are kept as they are, so the same file can be
    imported again. Returns (districts added, units added).
    """
    added = [0, 0]
    with store.write_transaction():
        root = store.ensure_root_node()
        tree = load_tree()
        # The names already under each node, so a second import adds nothing twice.
        names: dict[int, set[str]] = {
            node.id: {c.name_sv.casefold() for c in tree.children(node.id)}
            for node, _ in tree.listing()
        }
        district_ids = {
            c.name_sv.casefold(): c.id for c in tree.children(root.id) if c.kind == DISTRICT
        }
        for row in rows:
            if row.kind != DISTRICT or row.name_sv.casefold() in district_ids:
                continue
            node = store.create_node(root, DISTRICT, row.name_sv, row.name_en)
            district_ids[row.name_sv.casefold()] = node.id
            names.setdefault(root.id, set()).add(row.name_sv.casefold())
            names[node.id] = set()
            added[0] += 1
        parents = {root.id: root}
        for node_id in district_ids.values():
            parents[node_id] = store.get_node(node_id) or root
        for row in rows:
            if row.kind != UNIT:
                continue
            parent_id = district_ids[row.district.casefold()] if row.district else root.id
            if row.name_sv.casefold() in names[parent_id]:
                continue
            store.create_node(parents[parent_id], UNIT, row.name_sv, row.name_en)
            names[parent_id].add(row.name_sv.casefold())
            added[1] += 1
        audit.record(
            "org_imported",
            actor=actor,
            detail=N_("%(districts)d districts and %(units)d units added"),
            params={"districts": added[0], "units": added[1]},
        )
    return added[0], added[1]


def move_account(account: User, node_id: Any, *, actor: User) -> None:
    """Attach ``account`` to another node; its next request already sees the new scope."""
    node = store.get_node(node_id)
    if node is None:
        raise OrganisationError(N_("Choose one of the parts in the list."))
    with store.write_transaction():
        store.set_user_node(account.id, node.id)
        audit.record(
            "account_node_changed",
            actor=actor,
            subject=account.email,
            detail=N_("Now at %(node)s"),
            params={"node": node.name_sv},
        )


# -- scope ----------------------------------------------------------------------------------------


def account_node(user: User, tree: Tree) -> int | None:
    """The node an account works at (the root when none is set)."""
    node = tree.get(getattr(user, "node_id", None))
    if node is not None:
        return node.id
    return tree.root.id if tree.root else None


def can_run(user: User | None, survey: Survey, tree: Tree | None = None) -> bool:
    """Whether ``user`` may see and run ``survey``: it is at or below the account's node."""
    if user is None:
        return False
    if user.role == "admin":
        return True
    tree = tree or load_tree()
    return tree.is_at_or_below(survey.node_id, account_node(user, tree))


def district_keys(user: User | None, survey: Survey, tree: Tree | None = None) -> set[str]:
    """For a city-wide survey above the account's node: the district and unit keys of the
    survey at or below the account's node (its slice of the report); empty otherwise."""
    if user is None or user.role == "admin":
        return set()
    tree = tree or load_tree()
    top = account_node(user, tree)
    if top is None or tree.is_at_or_below(survey.node_id, top):
        return set()
    if not tree.is_at_or_below(top, survey.node_id):
        return set()
    mine = {tree.nodes[i].key for i in tree.at_or_below(top)}
    return mine & set(city_keys(survey))


def city_keys(survey: Survey) -> list[str]:
    """The district and unit option keys of a city-wide survey (empty for other surveys)."""
    definition = survey.definition()
    keys: list[str] = []
    for question in definition.dimensions():
        if question.dimension == "district" or (
            question.dimension == "unit" and any(o.parent for o in question.options)
        ):
            keys.extend(o.key for o in question.options if not o.prefer_not)
    return keys


def is_city_wide(survey: Survey) -> bool:
    """Whether respondents of ``survey`` choose a district."""
    return any(q.dimension == "district" for q in survey.definition().dimensions())


def visible_surveys(user: User, surveys: Iterable[Survey], tree: Tree | None = None):
    """The surveys of ``surveys`` that ``user`` may run (at or below the account's node)."""
    tree = tree or load_tree()
    return [s for s in surveys if can_run(user, s, tree)]


def survey_nodes(user: User, tree: Tree | None = None) -> list[tuple[Node, int]]:
    """The nodes where ``user`` may put a survey (at or below the account's node)."""
    tree = tree or load_tree()
    top = account_node(user, tree) if user.role != "admin" else (tree.root.id if tree.root else 0)
    below = tree.at_or_below(top or 0)
    return [(n, d) for n, d in tree.listing() if n.id in below]


# -- the organisation's own pages ----------------------------------------------------------------

A11Y_LEVELS = {
    "full": N_("fully compliant"),
    "partial": N_("partially compliant"),
    "none": N_("not compliant"),
}
DIGG_COMPLAINT_URL = "https://www.digg.se/tdosanmalan"
# What the portal's own tests verify (tests/browser): axe-core finds no WCAG 2.1 A or AA
# violation on every kind of page, headings are in order, pages reflow to 320 px and the
# respondent's form works without JavaScript. Nothing has been checked by people with
# assistive technology, so the honest default is "partially compliant".
DEFAULT_A11Y_LEVEL = "partial"
DEFAULT_A11Y_METHOD = N_(
    "The portal's developers test every kind of page automatically with every change of the "
    "software: axe-core checks the rules of WCAG 2.1 level A and AA in the Chromium browser, "
    "on a phone-sized and a desktop-sized screen and in print; the headings are checked to be "
    "in order; every page is checked to fit a 320 pixels wide screen without sideways "
    "scrolling; and the survey form is checked to work without JavaScript. Automated tests "
    "find only part of all accessibility problems. No manual review with screen readers or "
    "other assistive technology has been made."
)
DEFAULT_A11Y_PROBLEMS = N_(
    "The portal has not been reviewed manually with screen readers, magnifiers or voice "
    "control, so there may be problems that automated tests cannot find, for example in how "
    "the report's heat map and charts are read aloud (every figure in them is also given in "
    "a table).\n"
    "Texts that the organisation writes itself (survey introductions, notes and support "
    "contacts) are not checked for plain language."
)


@dataclass(frozen=True)
class Profile:
    """The organisation's pages with the defaults filled in (texts as saved, not translated)."""

    name: str
    logo_text: str
    controller: str
    dpo: str
    retention: str
    support_contacts: str
    service_name: str
    a11y_level: str
    a11y_problems: str
    a11y_method: str
    a11y_assessed_on: dt.date | None
    a11y_updated_on: dt.date | None
    a11y_feedback: str
    problems_default: bool
    method_default: bool


def profile(lang: str = "sv") -> Profile:
    """The organisation's page settings; empty fields are marked for their default text."""
    row = store.org_profile()
    root = store.root_node()
    name = root.name(lang) if root is not None else ""
    return Profile(
        name=name,
        logo_text=row.logo_text or "",
        controller=row.controller or "",
        dpo=row.dpo or "",
        retention=row.retention or "",
        support_contacts=row.support_contacts or "",
        service_name=row.service_name or "",
        a11y_level=row.a11y_level or DEFAULT_A11Y_LEVEL,
        a11y_problems=row.a11y_problems or "",
        a11y_method=row.a11y_method or "",
        a11y_assessed_on=row.a11y_assessed_on,
        a11y_updated_on=row.a11y_updated_on,
        a11y_feedback=row.a11y_feedback or "",
        problems_default=not row.a11y_problems,
        method_default=not row.a11y_method,
    )


PROFILE_TEXTS = (
    "logo_text",
    "controller",
    "dpo",
    "retention",
    "support_contacts",
    "service_name",
    "a11y_problems",
    "a11y_method",
    "a11y_feedback",
)
PROFILE_MAX = 4000


def save_profile(values: Mapping[str, Any], *, actor: User) -> None:
    """Save the organisation's pages (plain text, escaped when shown; the support contacts
    are formatted for staff like a survey's own, through portal/sanitize.py)."""
    fields: dict[str, Any] = {}
    for name in PROFILE_TEXTS:
        text = str(values.get(name) or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        limit = 60 if name == "logo_text" else PROFILE_MAX
        if len(text) > limit:
            raise OrganisationError(N_("At most %(max)d characters."), max=limit, field=name)
        fields[name] = text
    level = values.get("a11y_level") or DEFAULT_A11Y_LEVEL
    if level not in A11Y_LEVELS:
        raise OrganisationError(N_("Choose a compliance level."), field="a11y_level")
    fields["a11y_level"] = level
    fields["a11y_assessed_on"] = values.get("a11y_assessed_on")
    fields["a11y_updated_on"] = values.get("a11y_updated_on")
    with store.write_transaction():
        store.save_org_profile(fields)
        audit.record("org_profile_saved", actor=actor)


def support_text(survey: Survey | None) -> str:
    """A survey's own support contacts, else the organisation's (empty: the portal default)."""
    own = (getattr(survey, "support_contacts", None) or "").strip()
    return own or (store.org_profile().support_contacts or "").strip()
