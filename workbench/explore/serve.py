"""`workbench serve`: the finance cost explorer (notebook 02) served by Voila on 127.0.0.1.

    serve(8866, db="pilot.duckdb")
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..errors import WorkbenchError
from ..report.render import EXPLORER_NOTEBOOK

# ---------------------------------------------------------------------------------------------
# Voila
# ---------------------------------------------------------------------------------------------


def voila_command(port: int = 8866, notebook: str | os.PathLike = EXPLORER_NOTEBOOK) -> list[str]:
    return [sys.executable, "-m", "voila", str(Path(notebook).resolve()), f"--port={port}", "--no-browser",
            "--Voila.ip=127.0.0.1", "--theme=light", "--show_tracebacks=False"]


def serve(port: int = 8866, db: str | os.PathLike | None = None, notebook: str | os.PathLike = EXPLORER_NOTEBOOK,
          wait: bool = True):
    """Serve the cost explorer with Voila on http://127.0.0.1:PORT (each visitor gets a kernel).

    `db` is passed to the kernels as WORKBENCH_DB (default: the bundled sample). With `wait`,
    blocks until Ctrl-C; otherwise returns the Popen.
    """
    import importlib.util

    if importlib.util.find_spec("voila") is None:
        raise WorkbenchError("Voila is not installed: pip install 'voila>=0.5.13,<0.6'")
    import nbformat
    from nbformat.sign import NotebookNotary

    # our own notebook: trust it, so Voila renders it without asking (Voila 0.5.13 asks for untrusted ones)
    NotebookNotary().sign(nbformat.read(str(notebook), as_version=4))
    env = dict(os.environ)
    if db:
        env["WORKBENCH_DB"] = str(Path(db).resolve())
    # Voila and its kernels in a process group of their own, so stopping `serve` stops them all.
    proc = subprocess.Popen(voila_command(port, notebook), env=env, cwd=str(Path(notebook).resolve().parent),
                            start_new_session=True)
    if not wait:
        return proc
    import signal

    def stop(signum=None, frame=None):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return stop_group(proc)
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> int:
    """SIGTERM to Voila's process group (Voila then shuts its kernels down), SIGKILL after `grace` s."""
    import signal

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()
