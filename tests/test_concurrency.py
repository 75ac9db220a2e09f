"""Many users, one file: a process that finds the database held waits a bounded time, says who
holds it, and goes on as soon as the holder lets go (or fails with what to do)."""

from __future__ import annotations

import os
import subprocess
import sys

from workbench import store


def _cli(*args, env=None, **kw):
    return subprocess.Popen([sys.executable, "-m", "workbench", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, **kw)


def test_a_held_database_names_its_holder_and_fails_after_the_wait(tmp_path):
    db = tmp_path / "pilot.duckdb"
    holder = store.connect(db)
    try:
        p = _cli("summary", "--db", db, env={"WORKBENCH_LOCK_WAIT": "0.3"})
        out, err = p.communicate(timeout=60)
        assert p.returncode == 2 and "Traceback" not in err
        lines = err.strip().splitlines()
        assert lines[0].startswith("pilot.duckdb is being used by") and f"(PID {os.getpid()})" in lines[0]
        assert lines[-1].startswith("error:") and "wait for it to finish, or close it" in lines[-1]
    finally:
        holder.close()


def test_a_waiting_command_goes_on_once_the_holder_lets_go(tmp_path):
    db = tmp_path / "pilot.duckdb"
    store.connect(db).close()
    holder = store.connect(db)
    p = _cli("summary", "--db", db, "--json", env={"WORKBENCH_LOCK_WAIT": "60"})
    first = p.stderr.readline()  # blocks until the command says it is waiting: no sleep, no polling
    assert "is being used by" in first
    holder.close()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert '"overview"' in out


def test_outcomes_dedupe_by_content(tmp_path):
    """The same outcomes file loaded from another path (a copy) replaces, never double-counts;
    an overlapping export adds only its new rows."""
    import shutil

    from workbench.cost.outcomes import load_outcomes

    con = store.connect(tmp_path / "o.duckdb")
    a = tmp_path / "outcomes.csv"
    a.write_text("session_id,outcome,value_usd\ns1,resolved,10\ns2,resolved,10\ns3,escalated,\n")
    copy = tmp_path / "elsewhere" / "outcomes.csv"
    copy.parent.mkdir()
    shutil.copy(a, copy)
    assert load_outcomes(con, a) == 3
    assert load_outcomes(con, copy) == 3
    assert load_outcomes(con, a) == 3
    assert con.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 3
    overlap = tmp_path / "next_week.csv"
    overlap.write_text("session_id,outcome,value_usd\ns3,escalated,\ns4,resolved,12\n")
    load_outcomes(con, overlap)
    assert con.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 4
