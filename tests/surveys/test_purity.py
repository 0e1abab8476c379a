"""``surveys/`` is the pure domain: standard library only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import surveys

PACKAGE = Path(surveys.__file__).parent
FORBIDDEN = (
    "flask",
    "flask_babel",
    "flask_wtf",
    "peewee",
    "playhouse",
    "bleach",
    "werkzeug",
    "jinja2",
    "portal",
)


def test_importing_surveys_loads_no_framework():
    modules = [p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"]
    code = (
        "import sys\n"
        + "".join(f"import surveys.{m}\n" for m in modules)
        + f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_surveys_imports_only_the_standard_library():
    stdlib = set(sys.stdlib_module_names) | {"surveys"}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in stdlib, f"{path.name} imports {name}"
