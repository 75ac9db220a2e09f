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
    from workbench.report.render import render_report

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
    nb = Path(res["notebook"])
    assert nb.exists() and nb.parent == Path(res["html"]).parent  # the audit trail beside the HTML
    assert "S.open_workbench" in nb.read_text()


def test_charts_are_drawn_beside_the_kernel_and_kept_with_their_specs(rendered):
    """The kernel emits Vega-Lite specs; the HTML has each as inline SVG (and no spec, which would
    need vega's scripts); the audit notebook keeps spec and SVG side by side."""
    res, html = rendered
    outputs = [o for c in json.loads(Path(res["notebook"]).read_text())["cells"] for o in c.get("outputs", [])]
    charts = [o for o in outputs if "application/vnd.vegalite.v6+json" in o.get("data", {})]
    assert len(charts) >= 8
    assert all("".join(o["data"]["image/svg+xml"]).lstrip().startswith("<svg") for o in charts)
    assert html.count('class="jp-RenderedSVG') == len(charts)
    assert "vega-lite/v6" not in html and "vegaEmbed" not in html and "cdn.jsdelivr" not in html


def test_export_draws_specs_nobody_drew_and_refuses_scripts_that_fetch():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from workbench import WorkbenchError
    from workbench.report.render import to_html

    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json", "mark": "bar",
            "data": {"values": [{"a": "x", "b": 3}, {"a": "y", "b": 5}]},
            "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}
    chart = new_output("display_data", data={"application/vnd.vegalite.v6+json": spec, "text/plain": "<chart>"})
    html = to_html(new_notebook(cells=[new_code_cell("chart", outputs=[chart])]), "t")
    assert html.count('class="jp-RenderedSVG') == 1 and "vega-lite/v6" not in html
    # Altair's HTML renderer loads vega with import("https://..."): no src or href shows it
    cdn = new_output("display_data", data={"text/html": '<div id="v"></div><script type="module">'
                                                        'import("https://cdn.jsdelivr.net/npm/vega@6")</script>'})
    with pytest.raises(WorkbenchError, match="fetch from the network"):
        to_html(new_notebook(cells=[new_code_cell("chart", outputs=[cdn])]), "t")


def test_invalid_parameters_rejected_before_any_kernel(monkeypatch, tmp_path):
    import papermill

    from workbench.errors import WorkbenchError
    from workbench.report.render import REPORT_NOTEBOOK, execute

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
    from workbench.report.batch import format_summary, run_batch

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
    from workbench.report.batch import load_clients

    clients = load_clients(DATA / "clients.yaml")
    assert len(clients) >= 2
    for c in clients:
        for p in c["logs"] + c["scenarios"]:
            assert Path(p).is_absolute() and Path(p).exists(), p
        assert c["prices"] and Path(c["prices"]).exists()
