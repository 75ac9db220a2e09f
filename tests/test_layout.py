"""The package's shape: what the README promises imports, the CLI reference is current, rooms stay small."""

from __future__ import annotations

import importlib
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_imports_work():
    """Every `from workbench... import ...` line in the README's code blocks imports."""
    lines = re.findall(r"^\s*(from workbench[\w.]* import [\w, ]+)", README, re.M)
    assert lines, "the README shows how to import the package"
    for line in lines:
        exec(line, {})


def test_readme_dotted_names_resolve():
    """Every `workbench.x.y` the README names (in backticks) is a module or an attribute of one."""
    names = set(re.findall(r"`(workbench(?:\.\w+)+)", README))
    assert names
    for dotted in sorted(names):
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ModuleNotFoundError:
                continue
            for attr in parts[i:]:
                obj = getattr(obj, attr)
            break
        else:
            pytest.fail(f"README names {dotted}, which does not exist")


def test_public_api():
    import workbench

    for name in workbench.__all__:
        assert getattr(workbench, name) is not None
    for pkg in ("cost", "readiness", "report", "explore"):
        mod = importlib.import_module(f"workbench.{pkg}")
        assert mod.__doc__ and "In:" in mod.__doc__ and "Out:" in mod.__doc__, f"workbench.{pkg} says what flows in and out"
        for name in mod.__all__:
            assert getattr(mod, name) is not None, f"workbench.{pkg}.{name}"


def test_importing_a_room_is_cheap():
    """A subpackage's names load lazily: importing the package pulls in neither pandas nor duckdb."""
    code = ("import sys, workbench.cost, workbench.readiness, workbench.report, workbench.explore; "
            "print(sorted(m for m in ('pandas', 'duckdb', 'altair', 'papermill') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_reference_is_current():
    ns = runpy.run_path(str(ROOT / "docs" / "cli_reference.py"))
    assert (ROOT / "docs" / "cli.md").read_text() == ns["render"](), \
        "docs/cli.md is out of date: run `python docs/cli_reference.py`"


def test_no_module_over_600_lines():
    sizes = {p.relative_to(ROOT): len(p.read_text().splitlines()) for p in (ROOT / "workbench").rglob("*.py")}
    assert not {p: n for p, n in sizes.items() if n > 600}


def test_top_level_is_the_shell():
    top = sorted(p.stem for p in (ROOT / "workbench").glob("*.py"))
    assert len(top) <= 9, top
