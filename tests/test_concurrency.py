"""Many users, one file: a process that finds the database held waits a bounded time, says who
holds it, and goes on as soon as the holder lets go (or fails with what to do)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from workbench import store
from workbench.errors import WorkbenchError


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


def _calls(wb) -> int:
    return wb.sql("SELECT count(*) FROM calls").fetchall()[0][0]


def test_an_open_workbench_never_blocks_the_cli_and_sees_new_calls(tmp_path, sample_db):
    """A notebook's `Workbench(db)` stays open while a colleague runs `workbench ingest` and
    `workbench summary` from a terminal: neither waits, and the notebook's next call sees the calls."""
    import shutil

    from workbench import Workbench
    from workbench.demo import SAMPLE

    db = tmp_path / "pilot.duckdb"
    shutil.copy(sample_db, db)
    wb = Workbench(db)  # left open, as in a notebook
    before = _calls(wb)
    assert wb.summary(by="model")["calls"].sum() == before
    import gzip

    new = tmp_path / "new_spendlogs.jsonl"
    lines = gzip.decompress((SAMPLE / "litellm_spendlogs.jsonl.gz").read_bytes()).decode().splitlines()[:5]
    new.write_text("\n".join(line.replace('"request_id":"', '"request_id":"new-') for line in lines) + "\n")
    for args in (("ingest", new, "--db", db), ("summary", "--db", db, "--json")):
        p = _cli(*args, env={"WORKBENCH_LOCK_WAIT": "0"})  # any wait at all would fail the command
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and "being used by" not in err, err
    assert _calls(wb) == before + 5  # the same object, its next call: the new calls are there
    # and a read-only Workbench (explorer and report kernels) never takes the file for writing
    ro = Workbench(db, read_only=True)
    with pytest.raises(WorkbenchError, match="read-only"):
        ro.load_outcomes(SAMPLE / "outcomes.csv")
    with ro.connect() as con, store.connect(db, read_only=True) as other:  # readers share the file
        assert con.execute("SELECT current_setting('access_mode')").fetchone()[0] == "read_only"
        assert other.execute("SELECT count(*) FROM calls").fetchone()[0] == before + 5


def test_one_run_prices_live_in_memory_not_in_the_file(tmp_path, sample_db):
    """`--prices` for one run (a report, a projection) on a read-only connection: priced in TEMP
    tables only that connection sees; the file and every other reader keep the database's book."""
    import shutil

    from workbench.cost.pricing import current_book, priced_with
    from workbench.demo import PRICES  # the sample's negotiated discounts; sample_db is at list price

    db = tmp_path / "pilot.duckdb"
    shutil.copy(sample_db, db)
    with store.connect(db, read_only=True) as con, store.connect(db, read_only=True) as other:
        book = current_book(con)["book_version"]
        today = "SELECT round(sum(cost_usd), 6) FROM priced_calls"
        stored = con.execute(today).fetchone()[0]
        with priced_with(con, PRICES) as used:
            assert used["scope"] == "this run" and current_book(con)["book_version"] != book
            assert con.execute(today).fetchone()[0] < stored  # the discounts, this run only
            assert other.execute(today).fetchone()[0] == stored  # another reader: the database's book
        assert current_book(con)["book_version"] == book and con.execute(today).fetchone()[0] == stored


def test_a_reader_prices_with_an_up_to_date_book_without_writing(tmp_path, sample_db):
    """A read-only kernel on a database whose stored book is behind (new models since): it prices
    with the book built in memory, and the file stays as it was until a writer brings it up to date."""
    import shutil

    from workbench.cost.pricing import ensure_price_book

    db = tmp_path / "pilot.duckdb"
    shutil.copy(sample_db, db)
    with store.connect(db) as con:
        con.execute("DELETE FROM price_resolution WHERE model = (SELECT min(model) FROM calls)")
    unresolved = "SELECT count(*) FROM priced_calls WHERE price_status = 'not_resolved'"
    with store.connect(db, read_only=True) as con:
        assert con.execute(unresolved).fetchone()[0] > 0
        assert ensure_price_book(con)["rebuilt"]
        assert con.execute(unresolved).fetchone()[0] == 0
    with store.connect(db, read_only=True) as con:
        assert con.execute(unresolved).fetchone()[0] > 0  # nothing was written
