"""Client reports: one offline HTML with every section; batches survive a broken client."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
HTTP_REF = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def rendered(sample_db, tmp_path_factory):
    from workbench.report import render_report

    out = tmp_path_factory.mktemp("report")
    db = out / "client.duckdb"
    shutil.copy(sample_db, db)
    scenarios = [DATA / "scenarios" / "route_small_model.yaml", DATA / "scenarios" / "cache_heavy.yaml"]
    res = render_report("Acme <Support>", out, db=db, scenarios=scenarios, answers=DATA / "answers.yaml",
                        prices=DATA / "prices.yaml", pdf=False)
    return res, Path(res["html"]).read_text()


def test_report_has_every_section(rendered):
    res, html = rendered
    for anchor in ("executive-summary", "pilot-profile", "cost-scenarios", "readiness", "evals", "assumptions",
                   "provenance"):
        assert f'id="{anchor}"' in html, anchor
    assert "Acme &lt;Support&gt;" in html  # escaped client name
    assert "Recommended scenario" in html and "How chosen" in html
    assert "Improvement plan" in html and "Verdict" in html
    assert "no eval runs" in html  # graceful: the database has none
    s = res["summary"]
    assert s["recommended"] in ("baseline", "route-simple-to-small", "cache-heavy")
    assert set(s["monthly_usd"]) == {"10x", "50x", "100x"} and s["monthly_today_usd"] > 0


def test_report_states_its_provenance(rendered):
    from importlib.metadata import version

    from workbench import __version__

    res, html = rendered
    prov = html[html.index('id="provenance"'):]
    assert __version__ in prov and version("litellm") in prov
    assert res["summary"]["provenance"]["data_fingerprint"] in prov
    assert "route_small_model.yaml" in prov and "answers.yaml" in prov
    assert "generated at" in prov


def test_report_is_self_contained_and_hides_code(rendered):
    res, html = rendered
    assert not HTTP_REF.findall(html)
    assert "<script src" not in html and "<link" not in html.lower().replace("<link rel=\"icon\"", "")
    assert 'class="jp-InputArea' not in html and "S.open_workbench" not in html  # code hidden
    assert "injected-parameters" not in html and "In&nbsp;[" not in html
    assert html.count("data:image/svg+xml") >= 5  # charts inline, offline
    nb = Path(res["notebook"])
    assert nb.exists() and nb.parent == Path(res["html"]).parent  # the audit trail beside the HTML
    assert "S.open_workbench" in nb.read_text()


def test_invalid_parameters_rejected_before_any_kernel(monkeypatch, tmp_path):
    import papermill

    from workbench.errors import WorkbenchError
    from workbench.report import REPORT_NOTEBOOK, execute

    def boom(*a, **k):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", boom)
    with pytest.raises(WorkbenchError, match="unknown parameter.*clinet"):
        execute(REPORT_NOTEBOOK, {"clinet": "Acme"}, cwd=tmp_path)
    with pytest.raises(WorkbenchError, match="multipliers must be list"):
        execute(REPORT_NOTEBOOK, {"client": "Acme", "multipliers": "10,50"}, cwd=tmp_path)
    with pytest.raises(WorkbenchError, match="eval_stub must be bool"):
        execute(REPORT_NOTEBOOK, {"eval_stub": "yes"}, cwd=tmp_path)


def test_batch_with_a_broken_client(sample_db, tmp_path):
    from workbench.report import format_summary, run_batch

    for name in ("a.duckdb", "b.duckdb"):
        shutil.copy(sample_db, tmp_path / name)
    (tmp_path / "broken.yaml").write_text("name: broken\nrouting:\n  - {share: 2.0, to: gpt-4o-mini}\n")
    shutil.copy(DATA / "scenarios" / "cache_heavy.yaml", tmp_path / "cache_heavy.yaml")
    (tmp_path / "clients.yaml").write_text(
        "clients:\n"
        "  - {name: Good One, db: a.duckdb, scenarios: [cache_heavy.yaml]}\n"
        "  - {name: Broken, db: b.duckdb, scenarios: [broken.yaml]}\n"
        "  - {name: Missing Data, db: nowhere.duckdb}\n"
    )
    out = tmp_path / "out"
    summary = run_batch(tmp_path / "clients.yaml", out, workers=2)
    by = {r["client"]: r for r in summary["clients"]}
    assert (summary["ok"], summary["failed"]) == (1, 2)
    assert by["Good One"]["status"] == "ok" and Path(by["Good One"]["html"]).exists()
    broken = by["Broken"]
    assert broken["status"] == "failed" and "broken.yaml" in broken["error"]
    assert Path(broken["notebook"]).exists()  # the partial notebook, with papermill's error banner
    assert "papermill-error-cell-tag" in Path(broken["notebook"]).read_text()
    assert Path(broken["error_file"]).exists()
    assert by["Missing Data"]["status"] == "failed" and "no database" in by["Missing Data"]["error"]
    saved = json.loads((out / "batch-summary.json").read_text())
    assert saved["failed"] == 2
    table = format_summary(summary)
    assert "Good One" in table and "failed" in table


def test_clients_file_paths_are_relative_to_it():
    from workbench.report import load_clients

    clients = load_clients(DATA / "clients.yaml")
    assert len(clients) >= 2
    for c in clients:
        for p in c["logs"] + c["scenarios"]:
            assert Path(p).is_absolute() and Path(p).exists(), p
        assert c["prices"] and Path(c["prices"]).exists()
