"""Issue 15, fixes 1, 2 and 7: faulty servers through litellm's real HTTP path (429, 500, 503 once,
malformed JSON, no `choices`, empty bodies and answers, a server that never answers, a refused
connection), runs where every call fails, and the response cache keyed on the endpoint."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from conftest import rows
from test_evals import CASES, make_suite, server, stub  # noqa: F401 - shared fixtures
from workbench.evals import run_suite
from workbench.evals.stub_server import StubServer


def marked(marker: str, n: int = 1) -> list[dict]:
    return [dict(c, input=c["input"] + f" [[stub:{marker}]]") for c in CASES[:n]] + CASES[n:]


def results(con, run_id=None) -> dict[str, dict]:
    where = f" WHERE run_id = '{run_id}'" if run_id else ""
    return {r["case_id"]: r for r in rows(con, "SELECT * FROM eval_results" + where)}


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("marker, etype, attempts, calls", [
    ("429", "rate_limit", 3, 3),
    ("500", "server", 3, 3),
    ("503x1", None, 2, 2),  # 503 once, then an answer
    ("malformed", "malformed_response", 3, 3),
    ("malformedx1", None, 2, 2),
    ("nochoices", "malformed_response", 3, 3),
    ("emptychoices", "malformed_response", 3, 3),
    ("emptybody", "empty_response", 3, 3),
    ("emptyanswer", "empty_response", 3, 3),
])
def test_faulty_replies_are_typed_retried_and_recorded(con, server, make_suite, marker, etype, attempts, calls):
    run = run_suite(con, make_suite(marked(marker), gate={"max_error_rate": 0.5})).runs[0]
    got = results(con)["refund"]
    assert server.count() == calls + len(CASES) - 1
    assert got["error_type"] == etype and got["attempts"] == attempts
    assert all(r["error"] is None for cid, r in results(con).items() if cid != "refund")
    if etype:
        assert run.n_errors == 1 and got["score"] == 0 and got["output"] is None
        assert run.errors == [{"case_id": "refund", "error_type": etype, "attempts": attempts, "error": got["error"]}]
    else:
        assert run.n_errors == 0 and got["score"] == 1.0


def test_a_server_that_never_answers_times_out(con, server, make_suite):
    suite = make_suite(marked("hang"), timeout_s=0.2, retries={"max_attempts": 2, "base_delay_s": 0},
                       gate={"max_error_rate": 0.5})
    run = run_suite(con, suite).runs[0]
    got = results(con)["refund"]
    assert got["error_type"] == "timeout" and got["attempts"] == 2 and run.n_errors == 1


def test_connection_refused_is_typed_connection(con, make_suite):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    suite = make_suite(CASES[:2], models=[{"model": "openai/stub-good", "api_base": url, "api_key": "sk-test"}],
                       retries={"max_attempts": 2, "base_delay_s": 0})
    run = run_suite(con, suite).runs[0]
    assert {r["error_type"] for r in results(con).values()} == {"connection"}
    assert all(r["attempts"] == 2 for r in results(con).values())
    assert not run.passed and "no case was answered: all 2 calls failed (connection 2)" in run.gate.reason


# ---------------------------------------------------------------------------------------------
# Fix 1: a run where every call fails never passes and never becomes the baseline
# ---------------------------------------------------------------------------------------------


def test_all_failed_run_fails_without_baseline_and_is_never_the_baseline(con, server, make_suite):
    bad = make_suite(marked("500", n=len(CASES)))
    first = run_suite(con, bad).runs[0]
    assert first.n_errors == 6 and not first.passed and first.gate.baseline_run_id is None
    assert "no case was answered: all 6 calls failed (server 6)" in first.gate.reason
    assert con.execute("SELECT passed FROM eval_runs WHERE run_id = ?", [first.run_id]).fetchone()[0] is False
    # the next bad run is not compared with (and does not pass against) the failed one
    second = run_suite(con, bad).runs[0]
    assert second.gate.baseline_run_id is None and not second.passed
    # a good run is then compared with nothing, passes, and is the next baseline
    good = run_suite(con, make_suite(name="good.yaml")).runs[0]
    assert good.passed and good.gate.baseline_run_id is None
    third = run_suite(con, bad).runs[0]
    assert third.gate.baseline_run_id == good.run_id and not third.passed


def test_partial_errors_fail_by_default_and_pass_under_an_allowed_rate(con, server, make_suite):
    run = run_suite(con, make_suite(marked("400"))).runs[0]  # one case in six has no answer
    assert not run.passed and "error rate 1/6 > max_error_rate 0.0" in run.gate.reason
    assert "invalid_request 1" in run.gate.reason
    ok = run_suite(con, make_suite(marked("400"), name="lenient.yaml", gate={"max_error_rate": 0.2})).runs[0]
    assert ok.passed


def test_cli_names_each_failed_case_with_type_attempts_and_message(tmp_path, make_suite):
    from workbench.cli import cli

    url = f"http://127.0.0.1:{closed_port()}/v1"
    suite = make_suite(CASES[:2], models=[{"model": "openai/stub-good", "api_base": url, "api_key": "sk-test"}],
                       retries={"max_attempts": 1, "base_delay_s": 0})
    res = CliRunner().invoke(cli, ["eval", str(suite), "--db", str(tmp_path / "w.duckdb")])
    assert res.exit_code == 1, res.output
    assert "FAIL — no case was answered: all 2 calls failed (connection 2)" in res.output
    assert "error: refund: connection after 1 attempt(s): " in res.output
    assert "error: password: connection after 1 attempt(s): " in res.output and "Connection error" in res.output
    js = CliRunner().invoke(cli, ["eval", str(suite), "--db", str(tmp_path / "w.duckdb"), "--json"])
    assert js.exit_code == 1 and '"error_type": "connection"' in js.output


# ---------------------------------------------------------------------------------------------
# Fix 2: the cache is keyed on the endpoint; empty answers are never cached
# ---------------------------------------------------------------------------------------------


def test_another_endpoint_is_called_not_replayed(con, server, make_suite):
    first = run_suite(con, make_suite()).runs[0]
    assert first.http_calls == 6
    with StubServer(set_env=False) as other:
        moved = make_suite(models=[{"model": "openai/stub-good", "api_base": other.url, "api_key": "sk-test"}],
                           name="moved.yaml")
        run = run_suite(con, moved).runs[0]
        assert other.count() == 6 and run.n_cached == 0  # the new endpoint answered every case
        # the same endpoint with a trailing slash and another key: replayed
        again = make_suite(models=[{"model": "openai/stub-good", "api_base": other.url + "/",
                                    "api_key": "sk-rotated"}], name="again.yaml")
        assert run_suite(con, again).runs[0].n_cached == 6 and other.count() == 6
    stored = con.execute("SELECT string_agg(request, '') FROM eval_cache").fetchone()[0]
    assert "127.0.0.1" not in stored and "sk-" not in stored and '"endpoint"' in stored


def test_parameters_and_tools_change_the_key(con, server, make_suite):
    run_suite(con, make_suite(CASES[:1]))
    hot = make_suite(CASES[:1], params={"temperature": 0.7}, name="hot.yaml")
    assert run_suite(con, hot).runs[0].n_cached == 0
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    tooled = make_suite(CASES[:1], params={"temperature": 0.7, "tools": tools}, name="tools.yaml")
    assert run_suite(con, tooled).runs[0].n_cached == 0
    assert server.count() == 3


def test_empty_answers_are_not_cached(con, server, make_suite):
    suite = make_suite(marked("emptyanswer"), retries={"max_attempts": 1, "base_delay_s": 0},
                       gate={"max_error_rate": 0.5})
    run_suite(con, suite)
    assert con.execute("SELECT count(*) FROM eval_cache").fetchone()[0] == 5
    assert con.execute("SELECT count(*) FROM eval_cache WHERE response->>'content' = ''").fetchone()[0] == 0
    server.reset()
    run_suite(con, suite)
    assert server.count() == 1  # the empty answer is asked again; the five answers are replays
