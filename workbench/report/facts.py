"""What each notebook and report section shows: the facts, gathered from the database.

Their HTML is `sections.py`; their charts `charts.py`.

The notebooks stay thin by calling these functions; nothing here starts a kernel or imports
papermill/nbconvert, so it is cheap to import inside a kernel. Data functions return plain
dicts and small DataFrames (aggregated in DuckDB); `*_html` functions turn them into HTML
fragments (in `sections.py`) styled by `CSS` (inline, system fonts: the report never fetches anything).

Prices: every figure here is priced with the database's own price book (`workbench prices --db D
--prices FILE` sets it; `cost.pricing.ensure_price_book`). A `prices` parameter (the report's, the
notebooks') prices that run only: `projection` remembers it for the connection, so the pilot
profile's "today" priced later in the same run uses it too, and the database's book is restored
after each use. The bundled sample pilot's database has `data/prices.yaml` (its negotiated
discounts) set as its book, so notebook 01, notebook 02, the report and `workbench project`
all show the same "today" for it.

Optional sections degrade gracefully: with no readiness module, no checklist or no eval tables
the section says "not assessed" / "no eval runs" instead of failing the report.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .. import __version__
from ..config import resource
from ..cost.scenario import DAYS_PER_MONTH  # noqa: E402  (one definition of "monthly")
from ..errors import WorkbenchError
from .format import (
    _nonempty,
    _paths,
    mult,
    num,
    pct,
    records,
    sha256_file,
    table_exists,
)

DATA = resource("data")  # the bundled data/, checklists/ (see `workbench.config.resource`)
ROOT = DATA.parent  # the bundle's root: the checkout, or workbench/_bundled in a wheel
DEFAULT_CHECKLIST = resource("checklists", "production-readiness.yaml")
HEADLINE_MULTIPLIERS = (10.0, 50.0, 100.0)
RECOMMEND_AT = 10.0
QUALITY_BUDGET = 0.02  # the recommended scenario's golden-set score may not drop by more (95% confidence)


# ---------------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------------


def sample_db() -> Path:
    """The bundled sample pilot in a cached database (built once, atomically)."""
    from ..demo import PRICES, SAMPLE, sample_logs

    files = sample_logs() + [SAMPLE / "outcomes.csv"]
    book = sha256_file(PRICES) if PRICES.exists() else "list"  # the sample's price book is part of the key
    key = hashlib.sha256(("|".join(f"{p.name}:{p.stat().st_size}" for p in files) + f"|book:{book}").encode()
                         ).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench"
    target = cache / f"sample-{__version__}-{key}.duckdb"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    from ..api import Workbench

    tmp = Path(tempfile.mkdtemp(dir=cache)) / "sample.duckdb"
    with Workbench(tmp) as wb:
        if PRICES.exists():  # the sample pilot's negotiated discounts are its book, before ingest prices it
            from ..cost.pricing import set_price_book

            with wb.connect(write=True) as con:
                set_price_book(con, PRICES, set_by="sample pilot")
        wb.ingest(sample_logs())
        wb.load_outcomes(SAMPLE / "outcomes.csv")
    os.replace(tmp, target)
    tmp.parent.rmdir() if not any(tmp.parent.iterdir()) else None
    return target


def resolve_db(db: str | os.PathLike | None = "") -> Path:
    """`db` if given, else $WORKBENCH_DB, else the bundled sample pilot (cached)."""
    if _nonempty(db):
        return Path(db)
    if os.environ.get("WORKBENCH_DB"):
        return Path(os.environ["WORKBENCH_DB"])
    return sample_db()


def open_workbench(db: str | os.PathLike | None = "", logs=(), outcomes: str | None = "", read_only: bool = True):
    """The database (see `resolve_db`) as a Workbench, ingesting `logs` and loading `outcomes`
    first if given. Read-only (notebook and report kernels never hold the file for writing)
    unless there is something to load, or `read_only=False` (a report that runs an eval suite
    stores its results). The Workbench holds no connection: use `with wb.connect() as con:`."""
    from ..api import Workbench

    path = resolve_db(db)
    wb = Workbench(path, read_only=read_only and not _paths(logs) and not _nonempty(outcomes))
    if _paths(logs):
        wb.ingest(_paths(logs))
    if _nonempty(outcomes):
        wb.load_outcomes(outcomes)
    with wb.connect() as con:
        empty = not con.execute("SELECT count(*) FROM calls").fetchall()[0][0]
    if empty:
        raise WorkbenchError(f"{path}: no calls in this database; give `logs` to ingest, or a database that has some")
    return wb


# ---------------------------------------------------------------------------------------------
# Pilot profile
# ---------------------------------------------------------------------------------------------


def window(con) -> dict:
    first, last, seconds = con.execute("SELECT min(ts), max(ts), epoch(max(ts)) - epoch(min(ts)) FROM calls").fetchall()[0]
    days = max((seconds or 0) / 86400, 1 / 24)
    return {"first_call": first, "last_call": last, "days": days, "monthly_factor": DAYS_PER_MONTH / days}


def daily_volume(con) -> pd.DataFrame:
    return con.execute(
        "SELECT CAST(date_trunc('day', ts) AS DATE) AS day, coalesce(feature, '(untagged)') AS feature, "
        "count(*) AS calls FROM calls WHERE ts IS NOT NULL GROUP BY ALL ORDER BY 1, 2"
    ).df()


def _tok(n: float) -> str:
    return f"{n / 1000:g}k" if n >= 1000 else f"{n:g}"


def token_histogram(con) -> pd.DataFrame:
    df = con.execute(
        """
        WITH t AS (SELECT 'input' AS kind, input_tokens AS n FROM calls
                   UNION ALL SELECT 'output', output_tokens FROM calls)
        SELECT kind, CASE WHEN n <= 0 THEN -1 ELSE floor(log2(n))::INT END AS b, count(*) AS calls
        FROM t GROUP BY ALL ORDER BY 1, 2
        """
    ).df()
    df["bucket_lo"] = df["b"].map(lambda b: 0 if b < 0 else 2 ** b)
    df["bucket_label"] = df["b"].map(lambda b: "0" if b < 0 else f"{_tok(2 ** b)}-{_tok(2 ** (b + 1))}")
    return df.drop(columns=["b"])


def latency_table(con) -> pd.DataFrame:
    from ..ingest.summary import summary

    s = summary(con, "model").df()
    long = s.melt(id_vars=["model"], value_vars=["latency_p50_ms", "latency_p95_ms", "latency_p99_ms"],
                  var_name="percentile", value_name="latency_ms")
    long["percentile"] = long["percentile"].str.extract(r"(p\d+)")[0]
    return long


def cost_today(con, by: str = "feature") -> pd.DataFrame:
    """Today's monthly cost (observed cost per day x 30.4375) by feature or model; needs the price book."""
    col = {"feature": "coalesce(feature, '(untagged)')", "model": "coalesce(model, '(none)')"}[by]
    mf = window(con)["monthly_factor"]
    return con.execute(
        f"SELECT {col} AS {by}, fsum(cost_usd) * ? AS monthly_cost_usd, count(*) AS calls, "
        f"count(*) FILTER (cost_usd IS NULL) AS unpriced_calls FROM priced_calls GROUP BY ALL ORDER BY 2 DESC NULLS LAST",
        [mf],
    ).df()


# connection -> the `prices` file this run was given (the report's parameter): see the module docstring
_RUN_PRICES: dict[int, tuple[object, str]] = {}


def _run_prices(con) -> str | None:
    entry = _RUN_PRICES.get(id(con))
    return entry[1] if entry and entry[0] is con else None


def ensure_prices(con, prices: str | None = None) -> None:
    """`prices` given: price this run (this connection) with it; else make sure the database's own
    book is in force. Never changes the database's book (that is `workbench prices --db --prices`)."""
    from ..cost.pricing import ensure_price_book

    if _nonempty(prices):
        _RUN_PRICES[id(con)] = (con, str(prices))
    else:
        _RUN_PRICES.pop(id(con), None)
        ensure_price_book(con)


def pilot_profile(con, prices: str | None = "") -> dict:
    """Volume, tokens, latency and today's cost: what the pilot looks like (priced as `projection`
    priced this run: the database's book, or the run's `prices`)."""
    from ..cost.pricing import priced_with
    from ..ingest.summary import overview, summary

    with priced_with(con, prices if _nonempty(prices) else _run_prices(con)):
        cost_feature, cost_model = cost_today(con, "feature"), cost_today(con, "model")
    return {
        "overview": overview(con),
        "window": window(con),
        "by_feature": summary(con, "feature").df(),
        "by_model": summary(con, "model").df(),
        "daily": daily_volume(con),
        "tokens": token_histogram(con),
        "latency": latency_table(con),
        "cost_feature": cost_feature,
        "cost_model": cost_model,
    }


# ---------------------------------------------------------------------------------------------
# Cost scenarios
# ---------------------------------------------------------------------------------------------


def projection(con, scenarios=(), multipliers=(1, 10, 50, 100), prices: str | None = "") -> dict:
    """`project()` with 1x and the headline multipliers always included."""
    from ..cost.projection import project

    ensure_prices(con, prices)  # remembered for this connection: the profile's "today" uses the same prices
    ms = sorted({float(m) for m in (multipliers or ())} | {1.0, *HEADLINE_MULTIPLIERS})
    # the tornado chart is worked out for the recommended scenario only (it prices dozens of variants)
    # a scenario routing to a model with no price is left out and named (`refused`), not fatal to the report
    return project(con, _paths(scenarios), ms, _run_prices(con) or None, sensitivity_at=RECOMMEND_AT,
                   refuse_unpriced=False,
                   sensitivity_for=lambda results: recommend({"scenarios": results}).get("scenario"))


def _at(s: dict, m: float) -> dict | None:
    return next((x for x in s["multipliers"] if abs(float(x["multiplier"]) - m) < 1e-9), None)


def quality_holds(s: dict, max_drop: float = QUALITY_BUDGET) -> bool | None:
    """True: the scenario moves no traffic, or its quality change's lower end is at or above
    -max_drop on the golden set; False: it is below; None: not (fully) evaluated."""
    q = s.get("quality") or {}
    if q.get("status") in (None, "no_routing"):
        return True
    if q.get("status") != "evaluated" or q.get("low") is None:
        return None
    return q["low"] >= -max_drop - 1e-12


def recommend(proj: dict, at: float = RECOMMEND_AT, max_drop: float = QUALITY_BUDGET) -> dict:
    """The cheapest scenario at `at`x among those with every model priced (baseline included) whose
    quality holds: a scenario whose quality change on the golden set may be worse than -max_drop
    (the lower end of its interval) is left out and listed with its saving (`quality_failed`); one
    whose moved traffic no golden case covers stays eligible, flagged (`quality_not_evaluated`)."""
    scen = proj.get("scenarios", [])
    priced = [s for s in scen if not s.get("unpriced")]
    excluded = [s["scenario"] for s in scen if s.get("unpriced")] + [r["scenario"] for r in proj.get("refused") or []]
    failed = [s for s in priced if quality_holds(s, max_drop) is False]
    priced = [s for s in priced if quality_holds(s, max_drop) is not False]
    how = (f"the scenario with the lowest projected monthly cost at {mult(at)} volume among the "
           f"{len(priced)} scenario(s) whose models all have a price and whose quality holds on the golden set "
           f"(no drop worse than {max_drop:g} at 95% confidence; today's mix included)")
    if excluded:
        how += f"; excluded because some of their traffic has no price, so their totals would be understated: {', '.join(excluded)}"
    if failed:
        how += f"; excluded because their quality may drop by more than {max_drop:g}: {', '.join(s['scenario'] for s in failed)}"
    quality_failed = [{"scenario": s["scenario"], "savings_usd": (_at(s, at) or s["multipliers"][-1]).get("savings_usd"),
                       "message": (s.get("quality") or {}).get("message")} for s in failed]
    if not priced:
        return {"scenario": None, "how": "no scenario has every model priced; add prices in the overrides file",
                "excluded": excluded, "quality_failed": quality_failed}
    best = min(priced, key=lambda s: (_at(s, at) or s["multipliers"][-1])["monthly_cost_usd"])
    top = max(float(x["multiplier"]) for x in best["multipliers"])
    best_top = min(priced, key=lambda s: (_at(s, top) or s["multipliers"][-1])["monthly_cost_usd"])
    baseline = next((s for s in scen if s["scenario"] == "baseline"), scen[0])
    return {
        "scenario": best["scenario"], "description": best.get("description", ""), "file": best.get("file"),
        "how": how, "excluded": excluded, "at": at,
        "today_usd": (_at(baseline, 1.0) or {}).get("monthly_cost_usd"),
        "figures": {float(x["multiplier"]): x for x in best["multipliers"]},
        "differs_at_top": None if best_top is best else {"multiplier": top, "scenario": best_top["scenario"]},
        "sensitivity": best.get("sensitivity") or [],
        "quality": best.get("quality"), "quality_failed": quality_failed,
        "quality_not_evaluated": quality_holds(best, max_drop) is None,
    }


# ---------------------------------------------------------------------------------------------
# Readiness
# ---------------------------------------------------------------------------------------------


def readiness(con, checklist: str | None = "", answers: str | None = "", store: bool = True) -> dict:
    """The readiness assessment as a dict (`Assessment.as_dict()`), or why there is none."""
    path = Path(checklist) if _nonempty(checklist) else DEFAULT_CHECKLIST
    try:
        from ..readiness.scoring import assess
    except ImportError:
        return {"status": "not_assessed", "reason": "the readiness module (workbench.readiness) is not available"}
    if not path.is_file():
        return {"status": "not_assessed", "reason": f"no checklist file ({path.name} not found)"}
    try:
        result = assess(con, str(path), str(answers) if _nonempty(answers) else None, store=store).as_dict()
    except WorkbenchError as exc:
        return {"status": "error", "reason": str(exc)}
    result.setdefault("status", "assessed")
    result["checklist_file"] = str(path)
    result["answers_file"] = str(answers) if _nonempty(answers) else None
    return result


# ---------------------------------------------------------------------------------------------
# Evals
# ---------------------------------------------------------------------------------------------


def evals(con, suite: str | None = "", stub: bool = False) -> dict:
    """Run `suite` when given (workbench.evals.run_suite), else the latest stored runs; or why there are none.

    `stub`: serve the run from the bundled offline stub model server (the sample suites point at it).
    Returns {status: ran | stored | no_runs, suite, gate_passed, runs: [...], cost_quality: [...]}.
    """
    try:
        from ..evals import cost_quality, run_suite
    except ImportError:
        return {"status": "no_runs", "reason": "the eval runner (workbench.evals) is not available"}
    if _nonempty(suite):
        if stub:
            from ..evals.stub_server import StubServer

            with StubServer():
                rep = run_suite(con, str(suite), backoff_base=0)
        else:
            rep = run_suite(con, str(suite))
        d = rep.as_dict()
        runs = [_run_row(r) for r in d.get("runs", [])]
        ids = [r["run_id"] for r in runs]
        out = {"status": "ran", "suite": d.get("suite"), "suite_file": str(suite), "gate_passed": d.get("gate_passed"),
               "runs": runs}
    else:
        if not table_exists(con, "eval_runs"):
            return {"status": "no_runs", "reason": "no eval runs in this database"}
        latest = con.execute("SELECT suite FROM eval_runs WHERE status = 'finished' ORDER BY finished_at DESC LIMIT 1").fetchall()
        if not latest:
            return {"status": "no_runs", "reason": "no finished eval runs in this database"}
        name = latest[0][0]
        rows = records(con, """
            SELECT run_id, model, prompt_version, n_cases, n_errors, mean_score, pass_rate, cost_usd, p95_latency_ms,
                   passed, baseline_run_id, gate ->> '$.reason' AS gate_reason, finished_at
            FROM eval_runs WHERE suite = ? AND status = 'finished'
            QUALIFY row_number() OVER (PARTITION BY model ORDER BY finished_at DESC) = 1 ORDER BY model""", [name])
        runs = [dict(r, finished_at=str(r["finished_at"])) for r in rows]
        ids = [r["run_id"] for r in runs]
        out = {"status": "stored", "suite": name, "gate_passed": all(r.get("passed") is not False for r in runs),
               "runs": runs}
    try:
        cq = cost_quality(con, run_ids=ids) if ids else None
        out["cost_quality"] = [] if cq is None else [
            {k: (None if isinstance(v, float) and (math.isnan(v) or math.isinf(v)) else v) for k, v in r.items()}
            for r in cq.to_dict("records")]
    except Exception as exc:  # the chart is a nicety; the table above carries the result
        out["cost_quality"], out["cost_quality_error"] = [], str(exc)
    return out


def _run_row(r: dict) -> dict:
    g = r.get("gate") or {}
    return {"run_id": r.get("run_id"), "model": r.get("model"), "prompt_version": r.get("prompt_version"),
            "n_cases": r.get("n_cases"), "n_errors": r.get("n_errors"), "mean_score": r.get("mean_score"),
            "pass_rate": r.get("pass_rate"), "cost_usd": r.get("cost_usd"), "p95_latency_ms": r.get("p95_latency_ms"),
            "passed": r.get("passed", g.get("passed")), "baseline_run_id": g.get("baseline_run_id"),
            "gate_reason": g.get("reason")}


# ---------------------------------------------------------------------------------------------
# Assumptions and provenance
# ---------------------------------------------------------------------------------------------


def assumptions(proj: dict, profile: dict | None = None) -> list[dict]:
    """Every assumption a figure in the report rests on, with where it comes from."""
    w = proj.get("window", {})
    prov = proj.get("provenance", {})
    rows = [
        {"assumption": "Monthly volume", "value": w.get("how", ""), "source": "pilot logs"},
        {"assumption": "Volume multipliers",
         "value": ", ".join(mult(float(m["multiplier"])) for m in (proj["scenarios"][0]["multipliers"] if proj.get("scenarios") else [])),
         "source": "report parameters; API cost scales linearly, self-hosted capacity in whole replicas"},
        {"assumption": "Token mix per call", "value": "as observed in the pilot, per feature x model x prompt version x input-size bin",
         "source": "pilot logs"},
        {"assumption": "Prices", "value": f"price book {prov.get('price_book_version', 'n/a')}"
                                          + _book_words(prov.get("price_book") or {}),
         "source": "litellm's bundled price map (read from disk) plus the overrides file"},
        {"assumption": "Unpriced models",
         "value": ", ".join(f"{u.get('model')} ({num(u.get('calls'))} calls)" for u in proj.get("unpriced_models", [])) or "none",
         "source": "excluded from totals, never counted as $0"},
        {"assumption": "Range", "value": "P10-P90 by bootstrap over days where the logs span at least 7 days",
         "source": "pilot logs"},
    ]
    lc = proj.get("logged_cost_check") or {}
    if lc.get("compared"):
        rows.append({"assumption": "Logged cost cross-check",
                     "value": lc.get("summary") or (
                         f"{num(lc.get('disagreeing'))} of {num(lc.get('compared'))} calls differ by more than "
                         f"{pct(lc.get('tolerance'))} from the cost the source logged"),
                     "source": "pilot logs vs price book at list price (a source cannot know negotiated discounts)"})
    for w in proj.get("warnings") or []:
        label = "left out: routes traffic to a model with no price" if w.get("kind") == "unpriced_target" else "check"
        rows.append({"assumption": f"Scenario {w.get('scenario')} ({label})", "value": w.get("message", ""),
                     "source": Path(w["file"]).name if w.get("file") else "scenario"})
    for s in proj.get("scenarios", []):
        if s["scenario"] != "baseline":
            rows.append({"assumption": f"Scenario {s['scenario']}", "value": s.get("description") or "",
                         "source": Path(s["file"]).name if s.get("file") else "built in"})
    return rows


def _book_words(pb: dict) -> str:
    if not pb:
        return ""
    if pb.get("scope") == "this run":
        return f", priced with {Path(str(pb.get('overrides_file'))).name} for this report only (the database's book: {pb.get('database_book')})"
    return f", this database's book: {pb.get('database_book')}"


def provenance(proj: dict | None, scenarios=(), checklist=None, answers=None, suite=None, con=None,
               client: str | None = None) -> dict:
    prov = dict((proj or {}).get("provenance", {}))
    out = {
        "client": client,
        "workbench_version": __version__,
        "litellm_version": prov.get("litellm_version"),
        "price_book_version": prov.get("price_book_version"),
        "price_map_sha256": prov.get("price_map_sha256"),
        "data_fingerprint": prov.get("data_fingerprint"),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "scenario_files": [{"file": str(p), "sha256": sha256_file(p)} for p in _paths(scenarios)],
        "inputs": [{"kind": k, "file": str(p), "sha256": sha256_file(p)}
                   for k, p in (("checklist", checklist), ("answers", answers), ("suite", suite)) if _nonempty(p)],
    }
    if con is not None:
        out["ingested_files"] = records(con, "SELECT path, sha256, format, rows_accepted FROM ingests ORDER BY ingest_id")
    return out


# ---------------------------------------------------------------------------------------------
# Notebook helpers
# ---------------------------------------------------------------------------------------------


def default_scenarios() -> list[str]:
    """The bundled sample scenarios (data/scenarios/*.yaml)."""
    return [str(p) for p in sorted((DATA / "scenarios").glob("*.yaml"))]


def default_prices() -> str:
    """Empty: the database's own price book (`workbench prices --db D --prices FILE` sets it; the
    bundled sample's is data/prices.yaml). A notebook given no `prices` must not impose the
    sample's overrides on another database."""
    return ""


def projector(wb, prices: str | None = ""):
    """A Projector (profile built once) for the widgets; it holds no connection. Priced with the
    database's book, or with `prices` (this run only)."""
    return wb.projector(prices if _nonempty(prices) else None)


def eval_charts(ev: dict) -> list:
    """Charts for the eval section (none when there are no runs)."""
    from . import charts

    if ev.get("status") in (None, "no_runs", "error"):
        return []
    out = []
    metrics = eval_metrics_frame(ev)
    if not metrics.empty:
        out.append(charts.metric_bars(metrics))
    points = eval_cost_quality_frame(ev)
    if not points.empty:
        out.append(charts.cost_vs_quality(points))
    return out


def eval_metrics_frame(ev: dict) -> pd.DataFrame:
    rows = [{"run": f"{r.get('model')} ({r.get('prompt_version') or '-'})", "metric": m, "value": r.get(k)}
            for r in ev.get("runs") or [] for m, k in (("mean score", "mean_score"), ("pass rate", "pass_rate"))
            if r.get(k) is not None]
    return pd.DataFrame(rows, columns=["run", "metric", "value"])


def eval_cost_quality_frame(ev: dict) -> pd.DataFrame:
    rows = [{"label": r.get("model"), "cost_usd": r.get("cost_per_case_usd"), "quality": r.get("mean_score")}
            for r in ev.get("cost_quality") or [] if r.get("cost_per_case_usd") is not None and r.get("mean_score") is not None]
    return pd.DataFrame(rows, columns=["label", "cost_usd", "quality"])


def top_gaps(ready: dict, n: int = 5) -> list[str]:
    """The first items of the improvement plan (or failing items) as one-line strings."""
    if ready.get("status") not in (None, "assessed"):
        return []
    plan = ready.get("plan") or []
    out = []
    for p in plan[:n]:
        if isinstance(p, dict):
            out.append(p.get("title") or p.get("action") or p.get("item") or p.get("text") or str(p))
        else:
            out.append(str(p))
    if not out:
        for it in ready.get("items") or []:
            if isinstance(it, dict) and str(it.get("status") or it.get("outcome") or "").lower() in ("not_met", "fail", "gap"):
                out.append(it.get("title") or it.get("text") or it.get("id") or str(it))
            if len(out) >= n:
                break
    return out


def summary_bundle(client: str, proj: dict, rec: dict, ready: dict, ev: dict, prov: dict) -> dict:
    """A machine-readable summary of the report (kept in the executed notebook, read by the batch)."""
    import json

    figures = rec.get("figures") or {}
    data = {
        "client": client,
        "recommended": rec.get("scenario"),
        "recommended_how": rec.get("how"),
        "monthly_today_usd": rec.get("today_usd"),
        "monthly_usd": {mult(m): (figures.get(m) or {}).get("monthly_cost_usd") for m in HEADLINE_MULTIPLIERS},
        "verdict": ready.get("verdict") if ready.get("status") == "assessed" else ready.get("status"),
        "top_gaps": top_gaps(ready),
        "evals": ev.get("status"),
        "eval_gate_passed": ev.get("gate_passed") if ev.get("status") in ("ran", "stored") else None,
        "provenance": {k: prov.get(k) for k in ("workbench_version", "litellm_version", "price_book_version",
                                                "data_fingerprint", "generated_at")},
    }
    data = json.loads(json.dumps(data, default=str))
    return {"application/vnd.workbench.summary+json": data, "text/plain": json.dumps(data)[:200]}
