"""The bundled sample pilot: it ingests cleanly, its counts reconcile, and every model in it is
priced exactly as litellm's own calculator prices it."""

import os
from pathlib import Path

import pytest

from workbench import cost as pricing
from workbench.ingest import ingest_paths

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def sample_con(tmp_path_factory):
    from workbench import store

    con = store.connect(tmp_path_factory.mktemp("sample") / "s.duckdb")
    report = ingest_paths(con, sorted(SAMPLE.glob("*.jsonl.gz")), progress=False)
    assert report.ok, report.errors
    pricing.build_price_book(con)
    return con, report


def test_sample_ingests_and_reconciles(sample_con):
    con, report = sample_con
    for r in report.results:
        assert r.rows_read == r.rows_accepted + r.rows_duplicate + r.rows_quarantined
    t = report.totals()
    assert t["rows_duplicate"] == 20  # the planted overlapping export
    reasons = con.execute("SELECT regexp_replace(reason, ':.*', ''), count(*) FROM quarantine GROUP BY 1").fetchall()
    assert dict(reasons)["malformed JSON"] == 3
    features = {f for (f,) in con.execute("SELECT DISTINCT feature FROM calls").fetchall()}
    assert {"support_chat", "ticket_triage", "kb_answer", "nightly_summary", "pii_redaction"} <= features
    providers = {p for (p,) in con.execute("SELECT DISTINCT provider FROM calls").fetchall()}
    assert {"openai", "anthropic"} <= providers


def test_every_sample_model_priced_like_litellm(sample_con):
    con, _ = sample_con
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    assert not con.execute("SELECT count(*) FROM priced_calls WHERE price_status <> 'priced'").fetchone()[0]
    models = [m for (m,) in con.execute("SELECT DISTINCT price_key FROM priced_calls WHERE status = 'ok' ORDER BY 1").fetchall()]
    assert len(models) >= 4
    for key in models:
        calls = con.execute(
            """SELECT input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_usd FROM priced_calls
               WHERE price_key = ? AND service_tier = 'default' AND cache_write_1h_tokens = 0 AND status = 'ok'
               ORDER BY call_id LIMIT 25""", [key]).fetchall()
        assert calls, key
        for inp, cr, cw, out, cost in calls:
            p, c = litellm.cost_per_token(model=key, prompt_tokens=inp, completion_tokens=out,
                                          cache_read_input_tokens=cr, cache_creation_input_tokens=cw)
            assert cost == pytest.approx(p + c, rel=1e-9), key


def test_logged_spend_agrees_with_our_prices(sample_con):
    con, _ = sample_con
    d = pricing.logged_cost_disagreement(con)
    assert d["compared"] > 10_000 and d["share_disagreeing"] < 0.01, d
