"""One price book per database (issue 13, items 4-6): the store is priced at ingest; the book set
with `workbench prices --db D --prices F` prices every later command, the Python API and the report
alike; a one-off `--prices` leaves the database's book as it was; the logged-cost check is at list
price with the discounted comparison beside it; scenarios that cannot be right say so.

The pilot used throughout (hand-computed, rates from litellm's map):
    20 calls, one every 12 hours from 2026-10-01 00:00 UTC -> window 9.5 days, F = 30.4375 / 9.5
    even calls: gpt-4o-2024-08-06, feature support_chat, prompt v1, 1,000 in / 100 out
                list 1000 x 2.5e-6 + 100 x 1e-5 = 0.0035 per call
    odd calls:  gpt-4o-mini-2024-07-18, feature ticket_triage, prompt v2, 1,000 in / 100 out
                list 1000 x 0.15e-6 + 100 x 0.6e-6 = 0.00021 per call
    the source logged the list price, except one mini call logged at 0.00042 (twice list)
    overrides BOOK: 20% off gpt-4o-2024-08-06 -> 0.0028 per gpt-4o call
    overrides OTHER: 50% off gpt-4o-2024-08-06 -> 0.00175 per gpt-4o call
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import duckdb
import pytest
from test_pipeline import run_cli

from workbench import WorkbenchError

F = 30.4375 / 9.5
GPT4O, MINI = 0.0035, 0.00021
LIST_TOTAL = 10 * GPT4O + 10 * MINI  # 0.0371
BOOK_TOTAL = 10 * 0.0028 + 10 * MINI  # 0.0301
OTHER_TOTAL = 10 * 0.00175 + 10 * MINI  # 0.0196
BOOK = "discounts:\n  models:\n    gpt-4o-2024-08-06: 0.2\n"
OTHER = "discounts:\n  models:\n    gpt-4o-2024-08-06: 0.5\n"


def write_pilot(path, start=0, n=20):
    t0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
    lines = ["call_id,ts,provider,model,feature,prompt_version,input_tokens,output_tokens,cost_usd"]
    for k in range(start, start + n):
        ts = (t0 + timedelta(hours=12 * k)).isoformat()
        if k % 2 == 0:
            lines.append(f"c{k},{ts},openai,gpt-4o-2024-08-06,support_chat,v1,1000,100,{GPT4O}")
        else:
            logged = 2 * MINI if k == 1 else MINI
            lines.append(f"c{k},{ts},openai,gpt-4o-mini-2024-07-18,ticket_triage,v2,1000,100,{logged}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def pilot(tmp_path):
    """(db, book.yaml, other.yaml): the pilot ingested through the CLI, no book set yet."""
    db = tmp_path / "pilot.duckdb"
    p = run_cli("ingest", write_pilot(tmp_path / "calls.csv"), "--db", db, "--format", "csv", "--json")
    assert p.returncode == 0, p.stderr
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "other.yaml").write_text(OTHER)
    return db, tmp_path / "book.yaml", tmp_path / "other.yaml"


def plain_total(db) -> tuple:
    """What any DuckDB client sees: no workbench code involved."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FILTER (price_status = 'priced'), count(*), fsum(cost_usd) "
                           "FROM priced_calls").fetchall()[0]
    finally:
        con.close()


def today_cli(db, *extra):
    p = run_cli("project", "--db", db, "--multipliers", "1", "--json", *extra)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    return doc["scenarios"][0]["multipliers"][0]["monthly_cost_usd"], doc, p


# --- item 4: priced when opened, one book per database --------------------------------------


def test_ingest_prices_the_store(pilot):
    db, _, _ = pilot
    priced, calls, total = plain_total(db)
    # no book set: litellm's list prices; 10 x 0.0035 + 10 x 0.00021 = 0.0371
    assert (priced, calls) == (20, 20) and total == pytest.approx(LIST_TOTAL)


def test_the_book_set_on_a_database_gives_one_today_everywhere(pilot):
    import hashlib

    from workbench.api import Workbench
    from workbench.report import facts

    db, book, _ = pilot
    p = run_cli("prices", "--db", db, "--prices", book, "--json")
    assert p.returncode == 0, p.stderr
    assert "price book set" in p.stderr and "book.yaml" in p.stderr
    # the setting: file, its sha256, the map version
    con = duckdb.connect(str(db), read_only=True)
    path, sha, text, litellm = con.execute("SELECT overrides_path, overrides_sha256, overrides_text, litellm_version "
                                           "FROM price_book_setting").fetchall()[0]
    con.close()
    assert path == str(book.resolve()) and sha == hashlib.sha256(book.read_bytes()).hexdigest() and text == BOOK
    assert litellm and litellm != "unknown"
    # any DuckDB client: 10 x 0.0028 + 10 x 0.00021 = 0.0301
    assert plain_total(db)[2] == pytest.approx(BOOK_TOTAL)

    expected = BOOK_TOTAL * F  # 0.0301 x 30.4375 / 9.5 = $0.0964388 a month
    cli, doc, _ = today_cli(db)
    assert cli == pytest.approx(expected)
    assert doc["provenance"]["price_book"]["scope"] == "database"
    assert doc["provenance"]["price_book"]["overrides_sha256"] == sha

    with Workbench(db) as wb:
        api = wb.project([], multipliers=(1,))["scenarios"][0]["multipliers"][0]["monthly_cost_usd"]
        assert wb.priced_calls().aggregate("fsum(cost_usd)").fetchall()[0][0] == pytest.approx(BOOK_TOTAL)
        assert wb.price_book()["overrides_file"] == str(book.resolve())
    assert api == pytest.approx(expected)

    wb = facts.open_workbench(str(db))
    try:
        proj = facts.projection(wb.con, [], [1], "")  # the report with no `prices`: the database's book
        report_today = facts.recommend(proj)["today_usd"]
        notebook_today = facts.pilot_profile(wb.con)["cost_feature"]["monthly_cost_usd"].sum()  # notebook 01
    finally:
        wb.close()
    assert report_today == pytest.approx(expected) and notebook_today == pytest.approx(expected)


def test_one_off_prices_price_that_run_only(pilot):
    db, book, other = pilot
    assert run_cli("prices", "--db", db, "--prices", book).returncode == 0
    once, doc, p = today_cli(db, "--prices", other)
    assert once == pytest.approx(OTHER_TOTAL * F)  # 0.0196 x F
    assert doc["provenance"]["price_book"]["scope"] == "this run" and "for this run only" in p.stderr
    # the database's book is back for every other client and command
    assert plain_total(db)[2] == pytest.approx(BOOK_TOTAL)
    assert today_cli(db)[0] == pytest.approx(BOOK_TOTAL * F)
    # the same file as the book is the book, not a one-off
    assert today_cli(db, "--prices", book)[1]["provenance"]["price_book"]["scope"] == "database"


def test_report_with_a_one_off_prices_keeps_profile_and_projection_together(pilot):
    from workbench.report import facts

    db, book, other = pilot
    assert run_cli("prices", "--db", db, "--prices", book).returncode == 0
    wb = facts.open_workbench(str(db))
    try:
        proj = facts.projection(wb.con, [], [1], str(other))
        today = facts.recommend(proj)["today_usd"]
        profile_today = facts.pilot_profile(wb.con)["cost_feature"]["monthly_cost_usd"].sum()
        assert "for this report only" in next(r["value"] for r in facts.assumptions(proj) if r["assumption"] == "Prices")
    finally:
        wb.close()
    assert today == pytest.approx(OTHER_TOTAL * F) and profile_today == pytest.approx(OTHER_TOTAL * F)
    assert plain_total(db)[2] == pytest.approx(BOOK_TOTAL)


def test_book_survives_its_file_changing_or_vanishing(pilot):
    db, book, _ = pilot
    assert run_cli("prices", "--db", db, "--prices", book).returncode == 0
    book.write_text(OTHER)  # edited after it was set: the stored copy still prices
    today, _, p = today_cli(db)
    assert today == pytest.approx(BOOK_TOTAL * F)
    assert "changed since it was set" in p.stderr and "stored in the database" in p.stderr
    book.unlink()
    today, _, p = today_cli(db)
    assert today == pytest.approx(BOOK_TOTAL * F) and "is gone" in p.stderr
    book.write_text(OTHER)
    assert run_cli("prices", "--db", db, "--prices", book).returncode == 0  # re-set: the new content is the book
    assert today_cli(db)[0] == pytest.approx(OTHER_TOTAL * F)
    assert run_cli("prices", "--db", db, "--no-overrides").returncode == 0  # back to list prices
    assert plain_total(db)[2] == pytest.approx(LIST_TOTAL)


def test_book_set_before_ingest_prices_new_calls(tmp_path, con):
    from workbench.cost.pricing import set_price_book
    from workbench.ingest import ingest_paths

    (tmp_path / "book.yaml").write_text(BOOK)
    set_price_book(con, tmp_path / "book.yaml")
    r = ingest_paths(con, [write_pilot(tmp_path / "a.csv", 0, 10)], "csv", progress=False)
    assert r.price_book["rebuilt"] and "book.yaml" in r.price_book["database_book"]
    # 5 gpt-4o at 0.0028 + 5 mini at 0.00021 = 0.01505
    assert con.execute("SELECT fsum(cost_usd) FROM priced_calls").fetchall()[0][0] == pytest.approx(0.01505)
    ingest_paths(con, [write_pilot(tmp_path / "b.csv", 10, 10)], "csv", progress=False)
    assert con.execute("SELECT fsum(cost_usd), count(*) FILTER (price_status <> 'priced') FROM priced_calls"
                       ).fetchall()[0] == (pytest.approx(BOOK_TOTAL), 0)


# --- item 5: logged cost at list price -----------------------------------------------------


def test_logged_cost_check_is_at_list_price_with_the_discount_beside_it(pilot):
    from workbench import store
    from workbench.cost.pricing import logged_cost_disagreement

    db, book, _ = pilot
    assert run_cli("prices", "--db", db, "--prices", book).returncode == 0
    con = store.connect(db)
    d = logged_cost_disagreement(con)
    con.close()
    # at list: only c1 (logged 0.00042 vs 0.00021) differs -> 1 of 20
    assert (d["basis"], d["compared"], d["disagreeing"]) == ("list", 20, 1)
    assert d["share_disagreeing"] == pytest.approx(0.05)
    assert d["logged_total_usd"] == pytest.approx(LIST_TOTAL + MINI)  # 0.03731
    assert d["computed_total_usd"] == pytest.approx(LIST_TOTAL)  # 0.0371
    # discounted: the 10 gpt-4o calls (0.0028 vs logged 0.0035) and c1 -> 11 of 20, 10 only by the discount
    n = d["discounted"]
    assert (n["disagreeing"], n["explained_by_discount"], n["calls_with_a_discount"]) == (11, 10, 10)
    assert n["share_disagreeing"] == pytest.approx(0.55) and n["computed_total_usd"] == pytest.approx(BOOK_TOTAL)
    assert [m["model"] for m in d["by_model"]] == ["gpt-4o-mini-2024-07-18"]
    assert "at list price" in d["summary"] and "only by the discount" in d["summary"]
    p = run_cli("project", "--db", db, "--multipliers", "1")
    assert p.returncode == 0, p.stderr
    assert "1 of 20 calls (5.0%)" in p.stdout and "11 (55.0%)" in p.stdout


# --- item 6: scenarios that cannot be right ------------------------------------------------


def test_match_on_values_no_call_has_warns_with_the_closest(pilot, tmp_path):
    db, book, _ = pilot
    assert run_cli("prices", "--db", db, "--prices", book).returncode == 0
    sc = tmp_path / "typos.yaml"
    sc.write_text(
        "name: typos\n"
        "routing:\n"
        "  - {name: faq to mini, match: {feature: suport_chat}, share: 1.0, to: gpt-4o-mini-2024-07-18}\n"
        "  - {match: {model: gpt-4o-mni}, share: 0.5, to: gpt-4o-mini-2024-07-18}\n"
        "  - {match: {prompt_version: v3}, share: 0.5, to: gpt-4o-mini-2024-07-18}\n"
        "  - {match: {feature: support_chat, model: gpt-4o-mini-2024-07-18}, share: 0.5, to: gpt-4o-2024-08-06}\n"
        "tiers:\n  ticket_triag: {batch: 0.5}\n"
    )
    p = run_cli("project", "--db", db, "--scenario", sc, "--multipliers", "1", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    typos = doc["scenarios"][1]
    by_where = {w["where"]: w for w in typos["warnings"]}
    assert by_where["routing[0].match.feature"]["closest"] == ["support_chat"]
    assert "gpt-4o-mini-2024-07-18" in by_where["routing[1].match.model"]["closest"]
    assert by_where["routing[2].match.prompt_version"]["closest"] == ["v1", "v2"]  # none close: all of them
    assert "no call has them together" in by_where["routing[3].match"]["message"]
    assert by_where["tiers.ticket_triag"]["closest"] == ["ticket_triage"]
    assert len(doc["warnings"]) == 5 and all(w["file"] == str(sc) for w in doc["warnings"])
    # nothing matched, nothing moved: today's figure, a 0% saving
    assert typos["multipliers"][0]["savings_pct"] == pytest.approx(0.0)
    table = run_cli("project", "--db", db, "--scenario", sc, "--multipliers", "1")
    assert table.returncode == 0
    assert "WARNING x5" in table.stdout
    assert "suport_chat" in table.stderr and "closest existing: 'support_chat'" in table.stderr

    from workbench.api import Workbench
    from workbench.cost.scenario import Scenario

    with Workbench(db) as wb:
        assert len(wb.project([sc], multipliers=(1,))["warnings"]) == 5
        right = Scenario(name="right", routing=[{"match": {"feature": "support_chat"}, "share": 1.0,
                                                 "to": "gpt-4o-mini-2024-07-18"}])
        r = wb.projector().evaluate(right, [1], bootstrap=0)
    # the control: 20 mini calls = 0.0042 against 0.0301 -> saving 1 - 0.0042 / 0.0301 = 86.05%
    assert r["warnings"] == [] and r["multipliers"][0]["savings_pct"] == pytest.approx(1 - 20 * MINI / BOOK_TOTAL)


def test_routing_to_a_model_with_no_price_is_refused(pilot, tmp_path):
    db, _, _ = pilot
    sc = tmp_path / "nowhere.yaml"
    sc.write_text("name: nowhere\nrouting:\n  - {name: half to mini, share: 0.5, to: gpt-4o-mini-2024-07-1}\n")
    p = run_cli("project", "--db", db, "--scenario", sc)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    for part in ("nowhere.yaml", "routing[0].to", "half to mini", "'gpt-4o-mini-2024-07-1'", "cannot price",
                 "closest priced names", "gpt-4o-mini-2024-07-18", "overrides file"):
        assert part in p.stderr, part

    from workbench.api import Workbench
    from workbench.cost.scenario import load_scenario

    with Workbench(db) as wb:
        with pytest.raises(WorkbenchError, match="nowhere.yaml"):
            wb.project([sc])
        # the Projector (explorer, notebooks) lists it loudly instead: unpriced, never $0
        r = wb.projector().evaluate(load_scenario(sc), [1], bootstrap=0)
    assert [w["kind"] for w in r["warnings"]] == ["unpriced_target"] and r["unpriced"][0]["calls"] == pytest.approx(10)
    # the priced half: 10 x (0.0035 + 0.00021) / 2 = 0.01855 -> monthly 0.01855 x F
    assert r["multipliers"][0]["monthly_cost_usd"] == pytest.approx(LIST_TOTAL / 2 * F)


def test_report_leaves_out_a_scenario_routed_to_no_price_and_says_so(pilot, tmp_path):
    from workbench.report import facts

    db, _, _ = pilot
    bad = tmp_path / "nowhere.yaml"
    bad.write_text("name: nowhere\nrouting:\n  - {share: 0.5, to: gpt-4o-mini-2024-07-1}\n")
    good = tmp_path / "cache.yaml"
    good.write_text("name: cache\nsemantic_cache_hit_rate: 0.5\n")
    wb = facts.open_workbench(str(db))
    try:
        proj = facts.projection(wb.con, [bad, good], [1], "")
    finally:
        wb.close()
    assert [s["scenario"] for s in proj["scenarios"]] == ["baseline", "cache"]
    assert proj["refused"][0]["scenario"] == "nowhere" and proj["refused"][0]["file"] == str(bad)
    rec = facts.recommend(proj)
    # list prices (no book set): today 0.0371 x F; cache halves it -> 0.01855 x F at 10x x 10
    assert rec["scenario"] == "cache" and "nowhere" in rec["excluded"] and "nowhere" in rec["how"]
    assert rec["today_usd"] == pytest.approx(LIST_TOTAL * F)
    rows = facts.assumptions(proj)
    assert any("left out" in r["assumption"] and "gpt-4o-mini-2024-07-1" in r["value"] for r in rows)
