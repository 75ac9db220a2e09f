"""Packaging: the configuration is in pyproject.toml; this adds one build step.

The repository keeps its checklists, notebooks and sample data (scenarios, prices, eval suite) in
top-level folders beside `workbench/`. A wheel must carry them: `build_py` copies them into the
package as `workbench/_bundled/{checklists,notebooks,data}`, where `workbench.config.resource`
finds them once installed. The editable install (`pip install -e .`) copies nothing: `resource`
reads the checkout's own folders.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("checklists", "notebooks", "data")  # = workbench.config.BUNDLED
# What running the notebooks or the demo in the checkout may leave in those folders.
SKIP = ("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.duckdb", "*.duckdb.wal", ".DS_Store")


def bundled_files() -> list[tuple[Path, str]]:
    """(source file, path inside the package) for every file of the bundled folders."""
    out = []
    for name in BUNDLED:
        for folder, dirs, files in os.walk(HERE / name):
            dirs[:] = sorted(d for d in dirs if not any(fnmatch.fnmatch(d, p) for p in SKIP))
            for f in sorted(files):
                if not any(fnmatch.fnmatch(f, p) for p in SKIP):
                    src = Path(folder) / f
                    out.append((src, str(Path("_bundled") / src.relative_to(HERE))))
    return out


class build_py_with_bundle(build_py):
    """build_py, plus the top-level checklists/, notebooks/ and data/ as workbench/_bundled/."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for src, rel in bundled_files():
            target = Path(self.build_lib) / "workbench" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(Path(self.build_lib) / "workbench" / rel) for _, rel in bundled_files()]


setup(cmdclass={"build_py": build_py_with_bundle})
