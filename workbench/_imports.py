"""Start-up cost of the notebook stack.

altair, nbformat and papermill import jsonschema, whose format checker imports
`rfc3987_syntax` when it is installed (jupyter-events' `format-nongpl` extra installs it).
That module builds a lark grammar at import: 0.8-1.4 s per process, spent only to check the
`iri` / `iri-reference` string formats, which no Vega-Lite spec, notebook or report uses.
Marking it unavailable before jsonschema loads makes jsonschema skip those two checkers
(it treats the module as absent) and saves that time in every report, kernel and CLI run.
"""

from __future__ import annotations

import sys


def skip_slow_format_checkers() -> None:
    """Call before the first import of jsonschema (altair, nbformat, papermill) in a process."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


def lazy_exports(package: str, exports: dict[str, str]):
    """A package's `__getattr__` and `__dir__` (PEP 562): each public name is imported from its
    module on first use, so `import workbench.cost` costs nothing until a name is asked for.

    `exports` maps a name to the module (relative to `package`) that defines it."""
    import importlib

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # Not cached in the package: the defining module stays the one place a name lives (a
        # test or a notebook that patches it there is seen everywhere).
        return getattr(importlib.import_module(module, package), name)

    def __dir__() -> list[str]:
        return sorted(set(sys.modules[package].__dict__) | set(exports))

    return __getattr__, __dir__
