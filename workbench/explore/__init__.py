"""Explore: the interactive side, for people in JupyterLab and in the browser.

In: a database (through `Workbench`), a projector, a checklist and answers. Out: ipywidgets
explorers (finance's cost explorer, the architects' checklist entry, saved to an answers file)
and `workbench serve`, which serves the cost explorer with Voila.

    widgets.py    the cost explorer and the checklist entry
    serve.py      Voila on 127.0.0.1 (`workbench serve`)
"""

from __future__ import annotations

from .._imports import lazy_exports

_EXPORTS = {
    **dict.fromkeys(["ExplorerState", "checklist_entry", "cost_explorer", "explorer_figures"], ".widgets"),
    **dict.fromkeys(["serve", "voila_command"], ".serve"),
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
