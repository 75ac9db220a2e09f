"""workbench: readiness assessment and cost modelling for generative-AI pilots.

The public API is small: `Workbench(db)` and the error types. Heavy modules load lazily so
that `import workbench` (and `workbench --help`) stay fast.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["CheckFailed", "Workbench", "WorkbenchError", "__version__"]

from .errors import CheckFailed, WorkbenchError


def __getattr__(name: str):
    if name == "Workbench":
        from .api import Workbench

        return Workbench
    raise AttributeError(name)
