"""`workbench project`, `prices` and `outcomes` from the command line: JSON shape, provenance, exit codes."""

import json

from test_pipeline import run_cli
from test_scenarios import FACTOR, MINI_CALL, fill


def test_project_json_records_provenance_and_window(tmp_path, con):
    fill(con)
    con.close()
    db = tmp_path / "test.duckdb"
    sc = tmp_path / "cheap.yaml"
    sc.write_text("name: cheap\nsemantic_cache_hit_rate: 0.5\n")
    p = run_cli("project", "--db", db, "--scenario", sc, "--multipliers", "1,10", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    prov = doc["provenance"]
    assert prov["price_book_version"].startswith("litellm-") and len(prov["data_fingerprint"]) == 64
    assert set(prov["scenario_hashes"]) == {"baseline", "cheap"}
    assert "30.4375" in doc["window"]["how"]
    base, cheap = doc["scenarios"]
    assert base["multipliers"][1]["monthly_cost_usd"] == 10 * 20 * MINI_CALL * FACTOR
    assert abs(cheap["multipliers"][0]["savings_pct"] - 0.5) < 1e-9
    again = json.loads(run_cli("project", "--db", db, "--scenario", sc, "--multipliers", "1,10", "--json").stdout)
    assert again["scenarios"] == doc["scenarios"]  # the same figures tomorrow


def test_project_errors_exit_2(tmp_path, con):
    fill(con)
    con.close()
    db = tmp_path / "test.duckdb"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nrouting: [{share: 2, to: x}]\n")
    p = run_cli("project", "--db", db, "--scenario", bad)
    assert p.returncode == 2 and "bad.yaml" in p.stderr and "routing.0.share" in p.stderr
    p = run_cli("project", "--db", db, "--multipliers", "ten")
    assert p.returncode == 2
    p = run_cli("project", "--db", tmp_path / "missing.duckdb")  # a reader never creates the file
    assert p.returncode == 2 and "no database at" in p.stderr and "workbench ingest" in p.stderr
    assert not (tmp_path / "missing.duckdb").exists()
    from workbench import store

    store.connect(tmp_path / "empty.duckdb").close()
    p = run_cli("project", "--db", tmp_path / "empty.duckdb")
    assert p.returncode == 2 and "no calls" in p.stderr


def test_prices_explains_resolution(tmp_path):
    p = run_cli("prices", "gpt-4o-2024-11-20", "no-such-model", "--json")
    assert p.returncode == 0, p.stderr
    known, unknown = json.loads(p.stdout)
    assert known["priced"] and known["price_key"] in ("gpt-4o-2024-11-20", "gpt-4o")
    assert not unknown["priced"] and "unpriced" in unknown["message"]


def test_outcomes_need_an_id_column(tmp_path, con):
    con.close()
    f = tmp_path / "o.csv"
    f.write_text("who,outcome\n1,resolved\n")
    p = run_cli("outcomes", f, "--db", tmp_path / "test.duckdb")
    assert p.returncode == 2 and "correlation_id" in p.stderr


def test_assess_cli_json_and_history(tmp_path, con):
    from pathlib import Path

    fill(con)
    con.close()
    db = tmp_path / "test.duckdb"
    root = Path(__file__).resolve().parents[1]
    p = run_cli("assess", "--db", db, "--answers", root / "data" / "answers.yaml", "--json", cwd=root)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["verdict"] in ("ready", "conditionally ready", "not ready") and doc["sections"] and doc["plan"]
    run_cli("assess", "--db", db, "--json", cwd=root)
    hist = json.loads(run_cli("assess", "--db", db, "--history", "--json", cwd=root).stdout)
    assert len(hist) == 2
    cmp = run_cli("assess", "--db", db, "--compare", "1", "2", cwd=root)
    assert cmp.returncode == 0 and "Assessment 1 -> 2" in cmp.stdout
    bad = tmp_path / "answers.yaml"
    bad.write_text("answers:\n  eval-01: {status: na}\n")
    p = run_cli("assess", "--db", db, "--answers", bad, cwd=root)
    assert p.returncode == 2 and "eval-01" in p.stderr and "Traceback" not in p.stderr


def test_eval_cli_gate_fails_with_exit_1(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    suite = root / "data" / "evals" / "support_suite.yaml"
    db = tmp_path / "ev.duckdb"
    first = run_cli("eval", suite, "--db", db, "--stub", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["gate_passed"]
    worse = run_cli("eval", suite, "--db", db, "--stub", "--prompt", root / "data/evals/prompts/support_v2_terse.yaml")
    assert worse.returncode == 1, worse.stderr
    assert "FAIL" in worse.stdout and "regressed:" in worse.stdout
    bad = tmp_path / "suite.yaml"
    bad.write_text("name: x\n")
    p = run_cli("eval", bad, "--db", db)
    assert p.returncode == 2 and "suite.yaml" in p.stderr and "Traceback" not in p.stderr


def test_report_cli_renders_and_rejects_bad_input(tmp_path, sample_db):
    out = tmp_path / "reports"
    p = run_cli("report", "--client", "Acme", "--out", out, "--db", sample_db, "--no-pdf", "--json")
    assert p.returncode == 0, p.stderr
    made = json.loads(p.stdout)
    html = open(made["html"]).read()
    assert "Acme" in html and "Executive summary" in html
    assert run_cli("report", "--out", out).returncode == 2  # no --client
    p = run_cli("report", "--client", "B", "--out", out, "--db", tmp_path / "missing.duckdb")
    assert p.returncode == 2 and "no database" in p.stderr and "Traceback" not in p.stderr
