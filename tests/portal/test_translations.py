"""The catalogs are complete and the compiled files match them."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"


def catalog(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh)


def extracted_ids(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - Babel's own extractor, with this interpreter
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "N_",
            "-o",
            str(pot),
            "portal",
            "surveys",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_message_in_the_code_is_translated(tmp_path, lang):
    ids = extracted_ids(tmp_path)
    translated = {m.id: m for m in catalog(lang) if m.id}
    missing = sorted(ids - set(translated))
    assert not missing, f"run `flask --app app translate update`; missing in {lang}: {missing}"
    empty = sorted(i for i in ids if not translated[i].string or translated[i].fuzzy)
    assert not empty, f"untranslated or fuzzy in {lang}: {empty}"


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_compiled_catalog_is_up_to_date(lang):
    po = {m.id: m.string for m in catalog(lang) if m.id and not m.fuzzy}
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        mo = {m.id: m.string for m in read_mo(fh) if m.id}
    assert po == mo, "run `flask --app app translate compile`"


def test_swedish_placeholders_match_english():
    import re

    pattern = re.compile(r"%\((\w+)\)[sd]")
    for message in catalog("sv"):
        if message.id and message.string:
            assert set(pattern.findall(message.id)) == set(pattern.findall(message.string)), (
                message.id
            )


def test_templates_have_no_bare_text():
    """Visible text in templates goes through _(); only tags, expressions and names remain."""
    import re

    allowed = {"English", "Svenska", "x", "–", "·", "|", ":", "=", "%"}
    for path in (ROOT / "portal").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        source = re.sub(r"{#.*?#}", "", source, flags=re.S)
        source = re.sub(r"{%.*?%}|{{.*?}}", " ", source, flags=re.S)
        source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
        source = re.sub(r"<[^>]*>", " ", source, flags=re.S)
        words = [w for w in re.split(r"\s+", io.StringIO(source).read()) if w]
        leftovers = [
            w
            for w in words
            if w not in allowed and re.search(r"[A-Za-zÅÄÖåäö]", w) and not w.endswith('="')
        ]
        assert not leftovers, f"{path.relative_to(ROOT)}: untranslated text {leftovers[:10]}"
