"""Installed as a wheel, from any directory: the bundled checklists, notebooks and sample data ship
inside the package (`workbench/_bundled/`), and `workbench.config.resource` finds them there.

The wheel is built offline (`pip wheel --no-build-isolation` with the venv's setuptools) from a
copy of the checkout, then installed alone into a new venv made without pip. That venv borrows
this one's site-packages for the dependencies only, through a plain path line in a `.pth` file:
a path line does not run this venv's `.pth` files, so the editable install's finder never loads
and the checkout's `workbench` is not importable there (the test checks `workbench.__file__`).
The dependencies' own data files (nbconvert's and Voila's templates, under `share/jupyter`) are
borrowed the same way, through JUPYTER_PATH: a full install would have put them in the new venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from workbench.config import BUNDLED, resource
from workbench.errors import WorkbenchError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("workbench", *BUNDLED, "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
LEFTOVERS = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".ipynb_checkpoints", "*.duckdb", "*.duckdb.wal")


# ---------------------------------------------------------------------------------------------
# resource() in the checkout
# ---------------------------------------------------------------------------------------------


def test_resource_finds_the_checkout_folders():
    assert resource("checklists", "production-readiness.yaml") == ROOT / "checklists" / "production-readiness.yaml"
    assert resource("notebooks", "02_cost_scenarios.ipynb").is_file()
    assert resource("data", "sample").is_dir()
    assert resource("data", "scenarios", "baseline.yaml").is_file()


def test_resource_names_what_is_missing():
    with pytest.raises(WorkbenchError, match=r"data/no-such-file\.yaml is missing .*data/no-such-file\.yaml"):
        resource("data", "no-such-file.yaml")
    with pytest.raises(ValueError, match="bundled folders"):
        resource("tests", "conftest.py")


# ---------------------------------------------------------------------------------------------
# The wheel, in a venv of its own
# ---------------------------------------------------------------------------------------------


def _can_build_offline() -> str | None:
    """Why a wheel cannot be built here without the network, or None."""
    import importlib.util
    from importlib.metadata import PackageNotFoundError, version

    def release(name: str) -> tuple[int, ...]:
        return tuple(int(x) for x in version(name).split(".")[:2] if x.isdigit())

    try:
        if release("setuptools") < (70, 1) and importlib.util.find_spec("wheel") is None:
            return f"setuptools {version('setuptools')} needs the `wheel` package to build wheels (pip install -e '.[dev]')"
        if release("pip") < (22, 3):
            return f"pip {version('pip')} has no --python (22.3+)"
    except PackageNotFoundError as exc:
        return f"{exc.name} is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, env, workdir, src): the wheel installed alone in a new venv, an environment that runs
    it, an empty working directory outside the repository, and the copy of the checkout it was built from."""
    reason = _can_build_offline()
    if reason:
        pytest.skip(f"cannot build the wheel offline: {reason}")
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"  # a copy: the build's build/ and egg-info stay out of the checkout
    for name in SOURCES:
        (shutil.copytree(ROOT / name, src / name, ignore=LEFTOVERS) if (ROOT / name).is_dir()
         else shutil.copy2(ROOT / name, src / name))
    dist = base / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist),
                            str(src)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("workbench-*.whl")

    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # the wheel alone, before the venv can see any other workbench
    done = subprocess.run([*pip, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))  # this venv's, in order
    (site / "_workbench_test_deps.pth").write_text("".join(f"{p}\n" for p in deps))

    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "WORKBENCH_DB")}
    here = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([str(venv / "bin")] + [p for p in env.get("PATH", "").split(os.pathsep) if p != here])
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONNOUSERSITE"] = "1"
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(Path(sys.prefix) / "share" / "jupyter"),
                                                        env.get("JUPYTER_PATH")]))
    env["XDG_CACHE_HOME"] = str(base / "cache")  # the sample database is built from the wheel's copy
    work = base / "elsewhere"
    work.mkdir()
    return venv, env, work, src


def _run(installed, *args, timeout=300) -> subprocess.CompletedProcess:
    venv, env, work, _ = installed
    p = subprocess.run(list(args), cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{args} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def test_wheel_carries_the_bundle_and_not_the_checkout(installed):
    venv = installed[0]
    code = ("import json, workbench; from workbench.config import resource; "
            "from workbench.report.render import EXPLORER_NOTEBOOK, REPORT_NOTEBOOK; "
            "print(json.dumps({'package': workbench.__file__, 'explorer': str(EXPLORER_NOTEBOOK), "
            "'report': str(REPORT_NOTEBOOK), 'checklist': str(resource('checklists', 'production-readiness.yaml')), "
            "'sample': sorted(p.name for p in resource('data', 'sample').iterdir()), "
            "'scenarios': sorted(p.name for p in resource('data', 'scenarios').glob('*.yaml'))}))")
    got = json.loads(_run(installed, str(venv / "bin" / "python"), "-c", code).stdout)
    bundle = Path(got["package"]).parent / "_bundled"
    assert Path(got["package"]).is_relative_to(venv), f"workbench imported from {got['package']}, not the new venv"
    for key in ("explorer", "report", "checklist"):
        assert Path(got[key]).is_relative_to(bundle) and Path(got[key]).is_file(), (key, got[key])
    assert got["sample"] == sorted(p.name for p in (ROOT / "data" / "sample").iterdir())
    assert got["scenarios"] == sorted(p.name for p in (ROOT / "data" / "scenarios").glob("*.yaml"))
    # nothing the notebooks leave behind in a checkout ships
    assert not list(bundle.rglob(".ipynb_checkpoints")) and not list(bundle.rglob("*.duckdb"))
    # every file of the package ships (package data too: SQL migrations, YAML tables, templates)
    def files(top: Path, skip: str = "") -> set[str]:
        return {str(p.relative_to(top)) for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                and not (skip and p.is_relative_to(top / skip))}

    missing = files(installed[3] / "workbench") - files(bundle.parent, skip="_bundled")
    assert not missing, f"in the checkout's workbench/ but not in the wheel (add to package-data): {sorted(missing)}"


def test_assess_from_another_directory(installed):
    venv, _, work, _ = installed
    out = _run(installed, str(venv / "bin" / "workbench"), "assess", "--db", str(work / "assess.duckdb"), "--json")
    a = json.loads(out.stdout)
    assert Path(a["checklist"]["path"]).is_relative_to(venv)
    assert a["checklist"]["path"].endswith("_bundled/checklists/production-readiness.yaml")
    assert a["verdict"]


def test_demo_from_another_directory(installed):
    venv, _, work, _ = installed
    out = _run(installed, str(venv / "bin" / "workbench"), "demo", "--out", "demo-out", "--json")
    made = json.loads(out.stdout)
    assert Path(made["files"]["report"]).is_file() and (work / "demo-out" / "demo.duckdb").is_file()
    assert made["ingest"]["totals"]["rows_accepted"] > 0
    assert made["projection"]["scenarios"] and made["evals"]["baseline"]
    for text in (out.stdout, Path(made["files"]["notebook"]).read_text(), Path(made["files"]["report"]).read_text()):
        assert str(ROOT) not in text, "the installed demo (or its report kernel) read files of the checkout"


def test_serve_resolves_its_notebook(installed):
    venv = installed[0]
    assert "cost explorer" in _run(installed, str(venv / "bin" / "workbench"), "serve", "--help").stdout
    code = ("from pathlib import Path; from workbench.explore.serve import voila_command; "
            "nb = Path(voila_command(8866)[3]); assert nb.is_file(), nb; print(nb)")
    nb = Path(_run(installed, str(venv / "bin" / "python"), "-c", code).stdout.strip())
    assert nb.is_relative_to(venv) and nb.name == "02_cost_scenarios.ipynb"
