"""Offline means offline: `workbench demo` and `workbench report --pdf` connect to nothing but
the loopback. Every connect() of the whole process tree is recorded with strace (one file per
process, so no line is split); Chromium runs in a network namespace of its own, where its start-up
probes of public resolvers fail before any packet leaves, and those attempts must all have failed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system chromium"),
]

_CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_INET6?), .*?(?:inet_addr\(\"([^\"]+)\"\)|"
                      r"inet_pton\(AF_INET6, \"([^\"]+)\")[^}]*\}, \d+\)\s+=\s+(-?\d+)")
_CHILD = re.compile(r"^(?:clone3?|vfork|fork)\(.*\)\s+=\s+(\d+)", re.M)
_EXEC = re.compile(r'^execve\("([^"]+)"', re.M)


def _loopback(addr: str) -> bool:
    return addr.startswith("127.") or addr in ("::1", "::ffff:127.0.0.1")


def traced(cmd: list[str], tmp_path: Path) -> list[dict]:
    """Run `cmd` under strace; every AF_INET/AF_INET6 connect with its process, address, result,
    and whether the process descends from `unshare` (inside the isolated network namespace)."""
    out = tmp_path / "trace"
    out.mkdir()
    p = subprocess.run(["strace", "-f", "-ff", "-qq", "-e", "trace=connect,execve,clone,clone3,fork,vfork",
                        "-o", str(out / "t"), *cmd], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    children: dict[int, list[int]] = {}
    isolated_roots: set[int] = set()
    texts = {}
    for f in out.iterdir():
        pid = int(f.name.rsplit(".", 1)[1])
        text = f.read_text(errors="replace")
        texts[pid] = text
        children[pid] = [int(c) for c in _CHILD.findall(text)]
        if any(Path(e).name == "unshare" for e in _EXEC.findall(text)):
            isolated_roots.add(pid)
    isolated: set[int] = set()
    stack = list(isolated_roots)
    while stack:
        pid = stack.pop()
        if pid not in isolated:
            isolated.add(pid)
            stack.extend(children.get(pid, []))
    found = []
    for pid, text in texts.items():
        for fam, v4, v6, ret in _CONNECT.findall(text):
            found.append({"pid": pid, "addr": v4 or v6, "ok": int(ret) == 0, "isolated": pid in isolated})
    return found


def off_machine(connects: list[dict]) -> list[dict]:
    """Attempts that could have left the machine: to a non-loopback address, outside the
    isolated namespace or, inside it, one that did not fail."""
    return [c for c in connects if not _loopback(c["addr"]) and (not c["isolated"] or c["ok"])]


def test_report_with_pdf_connects_only_to_the_loopback(tmp_path):
    from workbench.demo import sample_logs

    cmd = [sys.executable, "-m", "workbench", "report", "--client", "Offline Test", "--out", str(tmp_path / "r"),
           "--pdf", *[a for p in sample_logs() for a in ("--logs", str(p))],
           "--scenario", str(ROOT / "data" / "scenarios" / "cache_heavy.yaml")]
    connects = traced(cmd, tmp_path)
    assert list((tmp_path / "r").glob("*.pdf")), "the PDF was printed"
    assert any(c["isolated"] for c in connects), "the trace saw chromium, in its own network namespace"
    assert not off_machine(connects), off_machine(connects)


def test_demo_connects_only_to_the_loopback(tmp_path):
    connects = traced([sys.executable, "-m", "workbench", "demo", "--out", str(tmp_path / "demo")], tmp_path)
    assert not off_machine(connects), off_machine(connects)
    assert any(_loopback(c["addr"]) for c in connects), "the evals reach the stub model on the loopback"
