"""Client reports: papermill runs `notebooks/report.ipynb`, nbconvert turns it into one offline HTML.

    render_report("Acme", "reports/", db="acme.duckdb", scenarios=[...])   # -> {"html": ..., "notebook": ...}

How a report is made (one process, imports once):
  1. parameters are checked against the notebook's `parameters` cell (`papermill.inspect_notebook`)
     BEFORE any kernel starts: an unknown or mistyped name is a WorkbenchError, not a warning;
  2. papermill executes the notebook in-process (kernel `python3`, which jupyter_client maps to
     this interpreter) with absolute paths and `cwd` = the output folder; the executed notebook
     is written beside the HTML as the audit trail (on failure, with papermill's error banner);
  3. one reused `HTMLExporter` (lab template minus its CDN scripts, plus our CSS) writes the HTML
     with code, prompts and bookkeeping cells removed. Charts are inline SVG (vl-convert), so the
     file fetches nothing: no `http(s)` src or href anywhere;
  4. optionally a PDF, printed by a system Chromium from that HTML.

A batch (`batch.py`) runs several clients at once (threads: each client's notebook runs in its own kernel
process, so the work is parallel while papermill, nbconvert and the exporter are loaded once).
A failing client keeps its partial notebook and an `.error.txt`; the others go on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from .._imports import skip_slow_format_checkers
from ..config import resource
from ..errors import WorkbenchError
from .styles import CSS, PAGE_CSS
from .svg import ChartDrawer

skip_slow_format_checkers()

NOTEBOOKS = resource("notebooks")  # the checkout's notebooks/, or the wheel's packaged copy
ROOT = NOTEBOOKS.parent
REPORT_NOTEBOOK = NOTEBOOKS / "report.ipynb"
EXPLORER_NOTEBOOK = NOTEBOOKS / "02_cost_scenarios.ipynb"
KERNEL = "python3"
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
SUMMARY_MIME = "application/vnd.workbench.summary+json"
REMOVE_TAGS = {"remove-cell", "injected-parameters", "papermill-error-cell-tag"}
# What would make the page fetch: a remote src/href, a CSS url(), or a URL inside a script
# (Altair's HTML renderer loads vega with `import("https://cdn...")`, which no attribute shows).
_HTTP_REF = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.I | re.S)
_URL = re.compile(r"https?://", re.I)


class ReportError(WorkbenchError):
    """A report could not be made; `paths` holds what was written (the partial notebook, the error)."""

    exit_code = 1

    def __init__(self, message: str, paths: dict | None = None):
        super().__init__(message)
        self.paths = paths or {}


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------

_declared_cache: dict[tuple[str, float], dict] = {}
_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "list": (list,), "dict": (dict,)}


def declared_parameters(notebook: str | os.PathLike) -> dict[str, dict]:
    """name -> {inferred_type_name, default, help} from the notebook's `parameters` cell (no kernel)."""
    import papermill as pm

    path = Path(notebook).resolve()
    if not path.is_file():
        raise WorkbenchError(f"no notebook at {path}")
    key = (str(path), path.stat().st_mtime)
    if key not in _declared_cache:
        declared = pm.inspect_notebook(str(path))
        if not declared:
            raise WorkbenchError(f"{path.name} has no cell tagged `parameters`")
        _declared_cache[key] = declared
    return _declared_cache[key]


def _plain(value: Any) -> Any:
    """Paths and tuples become what papermill can write as literals (str, list)."""
    if isinstance(value, os.PathLike):
        return str(value)
    if isinstance(value, (tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def validate_parameters(notebook: str | os.PathLike, parameters: dict) -> dict:
    """Reject unknown names and wrong types before any kernel starts; return JSON-able values."""
    declared = declared_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise WorkbenchError(
            f"{Path(notebook).name}: unknown parameter(s) {', '.join(unknown)}; "
            f"it declares: {', '.join(sorted(declared))}"
        )
    out = {}
    for name, value in parameters.items():
        value = _plain(value)
        want = _TYPES.get(str(declared[name].get("inferred_type_name", "")).lower())
        if value is not None and want and not (isinstance(value, want) and not (bool not in want and isinstance(value, bool))):
            raise WorkbenchError(
                f"{Path(notebook).name}: parameter {name} must be {declared[name]['inferred_type_name']}, "
                f"got {type(value).__name__} {value!r}"
            )
        out[name] = value
    return out


# ---------------------------------------------------------------------------------------------
# Kernel and execution
# ---------------------------------------------------------------------------------------------


def kernel_check(name: str = KERNEL) -> dict:
    """The kernel spec papermill will start, and the interpreter it resolves to."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(name)
    argv0 = spec.argv[0]
    # jupyter_client replaces a bare python/python3 with the running interpreter (KernelManager.format_kernel_cmd)
    resolved = sys.executable if argv0 in ("python", f"python{sys.version_info[0]}",
                                           f"python{sys.version_info[0]}.{sys.version_info[1]}") else argv0
    same = Path(resolved).resolve() == Path(sys.executable).resolve()
    return {"name": name, "argv0": argv0, "resolved": resolved, "current": sys.executable, "same_interpreter": same,
            "fix": None if same else "run `python -m ipykernel install --sys-prefix --name python3` in this environment"}


_runtime_lock = threading.Lock()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def use_private_runtime_dir() -> Path:
    """Kernel connection files of this process go to their own folder, removed at exit; folders
    left by a process that was killed (and so could not clean up) are removed the next time."""
    import atexit
    import tempfile

    with _runtime_lock:
        current = os.environ.get("JUPYTER_RUNTIME_DIR", "")
        mine = Path(tempfile.gettempdir()) / f"workbench-kernels-{os.getpid()}"
        if current == str(mine):
            return mine
        for old in mine.parent.glob("workbench-kernels-*"):
            pid = old.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(old, ignore_errors=True)
        mine.mkdir(mode=0o700, exist_ok=True)
        os.environ["JUPYTER_RUNTIME_DIR"] = str(mine)
        atexit.register(shutil.rmtree, mine, True)
        return mine


def execute(notebook: str | os.PathLike, parameters: dict, output_path: str | os.PathLike | None = None,
            cwd: str | os.PathLike | None = None, timeout: float = 900, kernel_name: str = KERNEL,
            on_cell_executed=None):
    """Validate, then run a notebook in-process with papermill; returns the executed NotebookNode.

    Raises WorkbenchError for bad parameters (no kernel started) and papermill's
    PapermillExecutionError when a cell fails (the output notebook is written with its error banner).
    `on_cell_executed(cell=..., cell_index=..., execute_reply=...)` is nbclient's hook, called in
    this process after each cell (see `workbench.report.svg`).
    """
    params = validate_parameters(notebook, parameters)
    use_private_runtime_dir()
    import papermill as pm

    hooks = {"on_cell_executed": on_cell_executed} if on_cell_executed else {}
    return pm.execute_notebook(
        str(Path(notebook).resolve()), str(output_path) if output_path else None, parameters=params,
        kernel_name=kernel_name, cwd=str(Path(cwd or os.getcwd()).resolve()), progress_bar=False,
        log_output=False, request_save_on_cell_execute=False, execution_timeout=timeout, start_timeout=120,
        kernel_manager_class=_ipc_kernel_manager(), **hooks,
    )


_ipc_manager = None


def _ipc_kernel_manager():
    """A kernel manager whose kernel talks to us over IPC sockets in our private runtime folder,
    not TCP ports: nothing listens on the network, and the kernel has no "running over TCP
    without encryption" to warn about. Each kernel has its own socket prefix, so the kernels of a
    batch, started at once, can never pick the same sockets."""
    global _ipc_manager
    if _ipc_manager is None:
        import uuid

        from jupyter_client.manager import AsyncKernelManager
        from traitlets import default

        class IPCKernelManager(AsyncKernelManager):
            @default("transport")
            def _default_transport(self):
                return "ipc"

            @default("ip")
            def _default_ip(self):
                return str(Path(os.environ.get("JUPYTER_RUNTIME_DIR") or ".") / f"k-{uuid.uuid4().hex[:12]}")

            async def _async_interrupt_kernel(self):
                # jupyter_client interrupts a kernel before asking it to shut down; the SIGINT can land
                # while the kernel answers its last message, and it then logs "KeyboardInterrupt caught
                # in kernel" into the report's stderr. A finished notebook has nothing to interrupt.
                if self.shutting_down:
                    return
                await super()._async_interrupt_kernel()

        _ipc_manager = IPCKernelManager
    return _ipc_manager


# ---------------------------------------------------------------------------------------------
# HTML export
# ---------------------------------------------------------------------------------------------

_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block extra_css %}<style type="text/css">{{ resources.wb_css }}</style>{% endblock extra_css %}
"""


_exporter = None
_exporter_lock = threading.Lock()


def exporter():
    """One HTMLExporter per process (nbconvert's first export is slow; later ones take ms)."""
    global _exporter
    if _exporter is None:
        import jinja2
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor

        exp = HTMLExporter(template_name="lab", extra_loaders=[jinja2.DictLoader({"wb_offline.html.j2": _TEMPLATE})],
                           template_file="wb_offline.html.j2", exclude_input=True, exclude_input_prompt=True,
                           exclude_output_prompt=True, embed_images=True)
        exp.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=REMOVE_TAGS, enabled=True), enabled=True)
        _exporter = exp
    return _exporter


_warmed = threading.Event()


def warm_exporter_soon() -> None:
    """Build the exporter and compile its templates on a thread (once per process): started as a
    report's kernel boots, it takes the first export's cost (0.3 s) off the end of the report."""
    if _warmed.is_set():
        return
    _warmed.set()

    def warm() -> None:
        import nbformat

        try:
            to_html(nbformat.v4.new_notebook(), "warm-up")
        except Exception:  # noqa: BLE001 - the real export reports any problem
            pass

    threading.Thread(target=warm, daemon=True, name="workbench-exporter-warmup").start()


def to_html(nb, title: str) -> str:
    """One self-contained HTML document: no code, no prompts, no scripts or styles from the network."""
    import copy

    from .svg import VEGALITE, to_svg_outputs

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)  # saved widget state would pull the widget manager from a CDN
    nb.cells = [c for c in nb.cells if not REMOVE_TAGS & set(c.get("metadata", {}).get("tags", []))
                and c.get("cell_type") != "raw"]
    to_svg_outputs(nb)  # charts not drawn yet (see render_report)
    for c in nb.cells:
        if c.get("cell_type") == "code":  # drop stream noise (warnings) from the client copy
            c["outputs"] = [o for o in c.get("outputs", []) if o.get("output_type") != "stream"]
            for o in c["outputs"]:  # a chart is its SVG here: a Vega-Lite spec would need vega's scripts
                data = o.get("data") or {}
                if any(VEGALITE.match(m) for m in data):
                    o["data"] = {m: v for m, v in data.items() if not VEGALITE.match(m) and m != "text/plain"}
    with _exporter_lock:
        body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": title}, "wb_css": CSS + PAGE_CSS})
    bad = _HTTP_REF.findall(body) + [m[:80] for m in _SCRIPT.findall(body) if _URL.search(m)]
    if bad:
        raise WorkbenchError(f"the report HTML would fetch from the network ({bad[:3]}); refusing to write it")
    return body


def to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike | None = None, timeout: float = 120) -> Path | None:
    """Print the HTML to PDF with a system Chromium; None when there is no Chromium."""
    exe = next((c for c in CHROMIUM if Path(c).exists()), None) or shutil.which("chromium")
    if not exe:
        return None
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path or html_path.with_suffix(".pdf")).resolve()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="workbench-chromium-") as profile:
        subprocess.run([*network_isolation(), exe, *CHROMIUM_OFFLINE, f"--user-data-dir={profile}",
                        "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.as_uri()],
                       check=True, capture_output=True, timeout=timeout)
    return pdf_path if pdf_path.exists() else None


_isolation: list[str] | None = None


def network_isolation() -> list[str]:
    """The command prefix that runs a program in a network namespace of its own (loopback only,
    and down): `unshare --net` as root, `unshare --net --map-root-user` otherwise; [] where neither
    works. Chromium probes the network at start (an IPv6 reachability check against a public
    resolver) and no flag turns that off; in its own namespace nothing can leave the machine."""
    global _isolation
    if _isolation is None:
        _isolation = []
        unshare = shutil.which("unshare")
        if unshare:
            for prefix in ([unshare, "--net", "--"], [unshare, "--net", "--map-root-user", "--"]):
                try:
                    if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                        _isolation = prefix
                        break
                except (OSError, subprocess.SubprocessError):
                    continue
    return list(_isolation)


# Chromium prints a local file and must not touch the network: no update, sync, safe-browsing,
# metrics or field-trial checks, every host name resolving to nothing, and any connection that
# would still be made sent to a dead proxy on the loopback (tested by tracing its connect calls).
CHROMIUM_OFFLINE = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-default-apps", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--disable-breakpad", "--metrics-recording-only", "--disable-quic", "--dns-prefetch-disable",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AsyncDns,"
    "CertificateTransparencyComponentUpdater,AutofillServerCommunication,NetworkTimeServiceQuerying",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
)


# ---------------------------------------------------------------------------------------------
# One report
# ---------------------------------------------------------------------------------------------


def slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return s or "client"


def _abs(p) -> str | None:
    return str(Path(p).expanduser().resolve()) if p not in (None, "") else None


def _abs_list(ps) -> list[str]:
    if ps in (None, "", ()):
        return []
    if isinstance(ps, (str, os.PathLike)):
        ps = [ps]
    return [_abs(p) for p in ps]


def _summary_from(nb) -> dict | None:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if SUMMARY_MIME in data:
                return dict(data[SUMMARY_MIME])
    return None


def render_report(client: str, out_dir: str | os.PathLike, db=None, logs=None, scenarios=(), answers=None,
                  suite=None, prices=None, checklist=None, *, outcomes=None, multipliers=(1, 10, 50, 100),
                  eval_stub: bool = False,
                  pdf: bool | None = None, timeout: float = 900, notebook: str | os.PathLike = REPORT_NOTEBOOK) -> dict:
    """Render one client's report into `out_dir`; return the paths written (and a short summary).

    Files: `<slug>.html` (the report), `<slug>.ipynb` (the executed notebook, the audit trail),
    `<slug>.pdf` when `pdf` is true or None and a system Chromium exists, `<slug>.duckdb` when
    `logs` are given without `db` (a fresh database for this client). On a failing cell:
    `<slug>.ipynb` (partial, with papermill's error banner) and `<slug>.error.txt`, then ReportError.
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    name = slug(client)
    paths: dict[str, str] = {"notebook": str(out / f"{name}.ipynb")}
    if db in (None, "") and not logs:
        if not os.environ.get("WORKBENCH_DB"):
            raise WorkbenchError(f"client {client!r}: give a database (db) or pilot logs (logs) to report on")
        db = os.environ["WORKBENCH_DB"]
    if db in (None, ""):
        db_path = out / f"{name}.duckdb"
        for stale in (db_path, Path(str(db_path) + ".wal")):
            stale.unlink(missing_ok=True)
        paths["db"] = str(db_path)
    else:
        db_path = Path(db).resolve()
        if not db_path.exists() and not logs:
            raise WorkbenchError(f"client {client!r}: no database at {db_path}")
    for label, group in (("logs", _abs_list(logs)), ("scenario", _abs_list(scenarios))):
        missing = [p for p in group if not Path(p).exists()]
        if missing:
            raise WorkbenchError(f"client {client!r}: {label} not found: {', '.join(missing)}")
    for label, p in (("answers", answers), ("suite", suite), ("prices", prices), ("checklist", checklist),
                     ("outcomes", outcomes)):
        if p not in (None, "") and not Path(p).expanduser().exists():
            raise WorkbenchError(f"client {client!r}: {label} file not found: {p}")
    params = {
        "client": client, "db": str(db_path), "logs": _abs_list(logs), "outcomes": _abs(outcomes) or "",
        "scenarios": _abs_list(scenarios), "multipliers": [float(m) for m in multipliers],
        "prices": _abs(prices) or "", "checklist": _abs(checklist) or "", "answers": _abs(answers) or "",
        "suite": _abs(suite) or "", "eval_stub": bool(eval_stub),
    }
    if "chart_output" in declared_parameters(notebook):
        # Charts leave the kernel as Vega-Lite specs and are drawn as SVG beside it as their cells
        # finish (workbench.report.svg): the drawing overlaps the kernel's work, its engine starts once.
        params["chart_output"] = "spec"
    error_path = out / f"{name}.error.txt"
    error_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    drawer = ChartDrawer()
    validate_parameters(notebook, params)  # (imports papermill)
    warm_exporter_soon()  # while the kernel boots, this process has nothing else to do
    try:
        nb = execute(notebook, params, output_path=paths["notebook"], cwd=out, timeout=timeout,
                     on_cell_executed=drawer.on_cell_executed)
        drawn = drawer.finish()
    except WorkbenchError:
        raise
    except Exception as exc:  # a failing cell (PapermillExecutionError), a dead kernel, a timeout
        msg = _describe(exc)
        error_path.write_text(f"client: {client}\n{msg}\n\n{traceback.format_exc()}")
        paths["error"] = str(error_path)
        raise ReportError(f"client {client!r}: {msg} (partial notebook: {paths['notebook']})", paths) from None
    if drawn:  # the audit trail keeps each chart's spec (interactive in Lab) and its SVG
        import nbformat

        nbformat.write(nb, paths["notebook"])
    executed = time.perf_counter() - t0
    html_path = out / f"{name}.html"
    html_path.write_text(to_html(nb, f"{client} | AI pilot report"), encoding="utf-8")
    paths["html"] = str(html_path)
    if pdf or pdf is None:
        try:
            made = to_pdf(html_path)
        except (subprocess.SubprocessError, OSError) as exc:
            if pdf:
                raise ReportError(f"client {client!r}: PDF printing failed: {exc}", paths) from None
            made = None
        if made:
            paths["pdf"] = str(made)
        elif pdf:
            raise ReportError(f"client {client!r}: no Chromium at {', '.join(CHROMIUM)} to print the PDF", paths)
    return {**paths, "summary": _summary_from(nb) or {}, "seconds": round(time.perf_counter() - t0, 2),
            "execute_seconds": round(executed, 2)}


def _describe(exc: Exception) -> str:
    ename = getattr(exc, "ename", None)
    if ename:
        return f"cell {getattr(exc, 'cell_index', '?')} raised {ename}: {str(getattr(exc, 'evalue', '')).strip()[:500]}"
    return f"{type(exc).__name__}: {str(exc).strip()[:500]}"
