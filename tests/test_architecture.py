"""The layers of the portal, as contracts in pyproject.toml ([tool.importlinter]).

web → services → reports → store → surveys: a lower layer never imports a
higher one, infrastructure modules import no layer, surveys/ stays pure, and no
package of the portal takes part in an import cycle.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    result = subprocess.run(  # noqa: S603 - our own interpreter and tool
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_a_view_module_registers_nothing():
    """No import side effects: the admin views only record routes until create_blueprint()."""
    code = (
        "import portal.web.admin.surveys, portal.web.board, portal.web.admin.nav as nav;"
        "names = [item.endpoint for item in nav.NAV_ITEMS];"
        "import portal.web.admin.surveys as s;"
        "assert isinstance(nav.NAV_ITEMS, tuple), type(nav.NAV_ITEMS);"
        "assert len(names) == len(set(names)), names;"
        "from flask import Flask;"
        "from portal.web import admin;"
        "a, b = admin.create_blueprint(), admin.create_blueprint();"
        "assert a is not b"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
