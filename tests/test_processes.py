"""Processes the workbench starts are stopped with it: `serve` takes Voila and its kernels down on
SIGTERM, and kernel connection files never outlive the process that made them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc")
def test_serve_stopped_with_sigterm_stops_voila(tmp_path):
    pytest.importorskip("voila")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--port", str(port)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        # Voila says where it listens once it does (read its log: no polling, no sleep).
        for line in proc.stderr:
            if line.strip() == f"http://127.0.0.1:{port}/" and not line.startswith("cost explorer"):
                break
        else:
            pytest.fail("voila never said it was running")
        voila = _children(proc.pid)
        assert voila, "serve started voila"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) is not None
        for pid in voila:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        assert not [p for p in voila if _alive(p)], "voila outlived serve"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "nothing listens on the port any more"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_kernel_files_of_a_killed_process_are_removed_and_our_own_at_exit(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(tempfile.gettempdir()) / f"workbench-kernels-{dead.pid}"
    stale.mkdir(exist_ok=True)
    (stale / "kernel-1234.json").write_text("{}")
    code = ("import os; from workbench.report.render import use_private_runtime_dir as u; d = u(); "
            "(d / 'kernel-x.json').write_text('{}'); print(d, os.environ['JUPYTER_RUNTIME_DIR'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == out[1] and Path(out[0]).name.startswith("workbench-kernels-")
    assert not stale.exists(), "the folder of a process that is gone was removed"
    assert not Path(out[0]).exists(), "the process removed its own folder at exit"


def test_a_report_runs_quietly_over_ipc(tmp_path, sample_db):
    """No TCP port for the kernel (IPC sockets in a private folder), so no transport warning."""
    import shutil

    db = tmp_path / "c.duckdb"
    shutil.copy(sample_db, db)
    p = subprocess.run([sys.executable, "-m", "workbench", "report", "--client", "Quiet", "--out", str(tmp_path / "r"),
                        "--db", str(db), "--no-pdf"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "IPKernelApp" not in p.stderr and "without encryption" not in p.stderr, p.stderr


def test_shutting_down_a_kernel_sends_no_interrupt():
    """jupyter_client SIGINTs a kernel before its shutdown_request; that raced the kernel's last reply
    and printed "KeyboardInterrupt caught in kernel" (seen in CI). Ours skips it while shutting down."""
    import asyncio

    from workbench.report.render import _ipc_kernel_manager

    km = _ipc_kernel_manager()()
    km.shutting_down = True
    asyncio.run(km._async_interrupt_kernel())  # no kernel and no error: the interrupt was skipped
    km.shutting_down = False
    try:
        asyncio.run(km._async_interrupt_kernel())
    except RuntimeError as e:
        assert "No kernel is running" in str(e)
    else:
        raise AssertionError("an interrupt outside shutdown must reach the kernel")
