"""What each notebook and report section shows: facts from the database, and their HTML.

The notebooks stay thin by calling these functions; nothing here starts a kernel or imports
papermill/nbconvert, so it is cheap to import inside a kernel. Data functions return plain
dicts and small DataFrames (aggregated in DuckDB); `*_html` functions turn them into HTML
fragments styled by `CSS` (inline, system fonts: the report never fetches anything).

Optional sections degrade gracefully: with no readiness module, no checklist or no eval tables
the section says "not assessed" / "no eval runs" instead of failing the report.
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from . import __version__
from .errors import WorkbenchError
from .styles import CSS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
DEFAULT_CHECKLIST = ROOT / "checklists" / "production-readiness.yaml"
HEADLINE_MULTIPLIERS = (10.0, 50.0, 100.0)
RECOMMEND_AT = 10.0
from .scenarios import DAYS_PER_MONTH  # noqa: E402  (one definition of "monthly")

# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def usd(x: float | None, digits: int | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if digits is None:
        digits = 0 if abs(x) >= 100 else 2
    return f"-${abs(x):,.{digits}f}" if x < 0 else f"${x:,.{digits}f}"


def pct(x: float | None, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x * 100:.{digits}f}%"


def num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.0f}"


def mult(m: float) -> str:
    return f"{m:g}x"


def _nonempty(x) -> bool:
    return x not in (None, "", [], ())


def _paths(xs: str | os.PathLike | Iterable | None) -> list[str]:
    if not _nonempty(xs):
        return []
    if isinstance(xs, (str, os.PathLike)):
        xs = [xs]
    return [str(Path(x)) for x in xs if _nonempty(x)]


def sha256_file(path: str | os.PathLike) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def table_exists(con, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'", [name]
    ).fetchall()[0][0])


def records(con, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


# ---------------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------------


def sample_db() -> Path:
    """The bundled sample pilot in a cached database (built once, atomically)."""
    from .demo import SAMPLE, sample_logs

    files = sample_logs() + [SAMPLE / "outcomes.csv"]
    key = hashlib.sha256("|".join(f"{p.name}:{p.stat().st_size}" for p in files).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench"
    target = cache / f"sample-{__version__}-{key}.duckdb"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    from .api import Workbench

    tmp = Path(tempfile.mkdtemp(dir=cache)) / "sample.duckdb"
    with Workbench(tmp) as wb:
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


def open_workbench(db: str | os.PathLike | None = "", logs=(), outcomes: str | None = "", read_only: bool = False):
    """Open the database (see `resolve_db`), ingesting `logs` and loading `outcomes` first if given."""
    from .api import Workbench

    path = resolve_db(db)
    if read_only and not _paths(logs) and not _nonempty(outcomes):
        return Workbench(path, read_only=True)
    wb = Workbench(path)
    if _paths(logs):
        wb.ingest(_paths(logs))
    if _nonempty(outcomes):
        wb.load_outcomes(outcomes)
    if not wb.con.execute("SELECT count(*) FROM calls").fetchall()[0][0]:
        wb.close()
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
    from .summary import summary

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


def ensure_prices(con, prices: str | None = None) -> None:
    from .pricing import build_price_book

    if not con.execute("SELECT count(*) FROM price_books").fetchall()[0][0] or _nonempty(prices):
        build_price_book(con, prices or None)


def pilot_profile(con) -> dict:
    """Volume, tokens, latency and today's cost: what the pilot looks like."""
    from .summary import overview, summary

    ensure_prices(con)
    return {
        "overview": overview(con),
        "window": window(con),
        "by_feature": summary(con, "feature").df(),
        "by_model": summary(con, "model").df(),
        "daily": daily_volume(con),
        "tokens": token_histogram(con),
        "latency": latency_table(con),
        "cost_feature": cost_today(con, "feature"),
        "cost_model": cost_today(con, "model"),
    }


# ---------------------------------------------------------------------------------------------
# Cost scenarios
# ---------------------------------------------------------------------------------------------


def projection(con, scenarios=(), multipliers=(1, 10, 50, 100), prices: str | None = "") -> dict:
    """`project()` with 1x and the headline multipliers always included."""
    from .projection import project

    ms = sorted({float(m) for m in (multipliers or ())} | {1.0, *HEADLINE_MULTIPLIERS})
    # the tornado chart is worked out for the recommended scenario only (it prices dozens of variants)
    return project(con, _paths(scenarios), ms, prices or None, sensitivity_at=RECOMMEND_AT,
                   sensitivity_for=lambda results: recommend({"scenarios": results}).get("scenario"))


def _at(s: dict, m: float) -> dict | None:
    return next((x for x in s["multipliers"] if abs(float(x["multiplier"]) - m) < 1e-9), None)


def recommend(proj: dict, at: float = RECOMMEND_AT) -> dict:
    """The cheapest scenario at `at`x among those with every model priced (baseline included)."""
    scen = proj.get("scenarios", [])
    priced = [s for s in scen if not s.get("unpriced")]
    excluded = [s["scenario"] for s in scen if s.get("unpriced")]
    how = (f"the scenario with the lowest projected monthly cost at {mult(at)} volume among the "
           f"{len(priced)} scenario(s) whose models all have a price (today's mix included)")
    if excluded:
        how += f"; excluded because some of their traffic has no price, so their totals would be understated: {', '.join(excluded)}"
    if not priced:
        return {"scenario": None, "how": "no scenario has every model priced; add prices in the overrides file",
                "excluded": excluded}
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
    }


# ---------------------------------------------------------------------------------------------
# Readiness
# ---------------------------------------------------------------------------------------------


def readiness(con, checklist: str | None = "", answers: str | None = "", store: bool = True) -> dict:
    """The readiness assessment as a dict (`Assessment.as_dict()`), or why there is none."""
    path = Path(checklist) if _nonempty(checklist) else DEFAULT_CHECKLIST
    try:
        from .checklist import assess
    except ImportError:
        return {"status": "not_assessed", "reason": "the readiness module (workbench.checklist) is not available"}
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
        from .evals import cost_quality, run_suite
    except ImportError:
        return {"status": "no_runs", "reason": "the eval runner (workbench.evals) is not available"}
    if _nonempty(suite):
        if stub:
            from .evals.stub_server import StubServer

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
        {"assumption": "Prices", "value": f"price book {prov.get('price_book_version', 'n/a')}",
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
                     "value": f"{num(lc.get('disagreeing'))} of {num(lc.get('compared'))} calls differ by more than "
                              f"{pct(lc.get('tolerance'))} from the cost the source logged",
                     "source": "pilot logs vs price book"})
    for s in proj.get("scenarios", []):
        if s["scenario"] != "baseline":
            rows.append({"assumption": f"Scenario {s['scenario']}", "value": s.get("description") or "",
                         "source": Path(s["file"]).name if s.get("file") else "built in"})
    return rows


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
# HTML
# ---------------------------------------------------------------------------------------------


def style_html() -> str:
    return f"<style>{CSS}</style>"


def wrap(inner: str) -> str:
    return f'<div class="wb">{inner}</div>'


_NUMERIC = ("usd", "usd4", "pct", "num", "ms", "raw3")


def table_html(rows: list[dict] | pd.DataFrame, columns: list[tuple[str, str, str]] | None = None,
               max_rows: int = 50) -> str:
    """columns: (key, header, kind) with kind in text/usd/pct/num/ms/raw."""
    if isinstance(rows, pd.DataFrame):
        rows = rows.to_dict("records")
    if not rows:
        return '<p class="wb-note">none</p>'
    columns = columns or [(k, k.replace("_", " "), "text") for k in rows[0]]
    fmt = {"usd": usd, "pct": pct, "num": num, "ms": lambda v: "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.0f} ms",
           "text": esc, "raw": lambda v: "" if v is None else str(v),
           "raw3": lambda v: "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}",
           "usd4": lambda v: usd(v, 4)}
    head = "".join(f'<th class="{"n" if k in _NUMERIC else ""}">{esc(h)}</th>' for _, h, k in columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="{"n" if k in _NUMERIC else ""}">{fmt[k](r.get(c))}</td>'
                         for c, _, k in columns) + "</tr>"
        for r in rows[:max_rows])
    more = f'<p class="wb-note">{len(rows) - max_rows} more rows not shown</p>' if len(rows) > max_rows else ""
    return f'<table class="wb-t"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}'


def kpis_html(items: list[tuple[str, str]]) -> str:
    return '<div class="wb-kpis">' + "".join(
        f'<div class="wb-kpi"><div class="v">{v}</div><div class="l">{esc(l)}</div></div>' for l, v in items) + "</div>"


def _verdict_class(verdict: str | None) -> str:
    v = (verdict or "").lower()
    if any(w in v for w in ("not ready", "not_ready", "fail", "block")):
        return "bad"
    if any(w in v for w in ("conditional", "partial", "caveat", "with_")):
        return "warn"
    if any(w in v for w in ("ready", "pass", "go")):
        return "ok"
    return "na"


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


def header_html(client: str, proj: dict | None = None) -> str:
    w = (proj or {}).get("window", {})
    sub = f"AI pilot readiness and cost report &middot; generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    if w.get("first_call"):
        sub += f" &middot; pilot window {esc(str(w['first_call'])[:10])} to {esc(str(w['last_call'])[:10])}"
    return wrap(f'<h1>{esc(client)}</h1><div class="wb-sub">{sub}</div>')


def executive_summary_html(client: str, proj: dict, rec: dict, ready: dict, ev: dict) -> str:
    parts = ['<h2 id="executive-summary">Executive summary</h2>']
    verdict = ready.get("verdict") if ready.get("status") == "assessed" else None
    vtxt = verdict or {"not_assessed": "not assessed", "error": "assessment failed"}.get(ready.get("status"), "not assessed")
    parts.append(f'<p>Readiness verdict: <span class="wb-badge {_verdict_class(verdict)}">{esc(str(vtxt).replace("_", " "))}</span></p>')
    if rec.get("scenario"):
        f = rec["figures"]
        items = [("today, current mix", usd(rec.get("today_usd")))]
        for m in HEADLINE_MULTIPLIERS:
            if m in f:
                items.append((f"{mult(m)} volume, {rec['scenario']}", usd(f[m]["monthly_cost_usd"])))
        parts.append("<h3>Monthly cost</h3>" + kpis_html(items))
        at = f.get(rec["at"]) or {}
        parts.append(
            f"<p>Recommended scenario: <b>{esc(rec['scenario'])}</b>"
            + (f" &mdash; {esc(rec['description'])}" if rec.get("description") else "")
            + (f" At {mult(rec['at'])} it saves {usd(at.get('savings_usd'))} a month ({pct(at.get('savings_pct'))}) against today's mix at the same volume."
               if at.get("savings_usd") else "")
            + "</p>"
            f'<p class="wb-note">How chosen: {esc(rec["how"])}.'
            + (f" At {mult(rec['differs_at_top']['multiplier'])} the cheapest would be {esc(rec['differs_at_top']['scenario'])}."
               if rec.get("differs_at_top") else "")
            + "</p>")
    else:
        parts.append(f'<p class="wb-note">No recommendation: {esc(rec.get("how"))}</p>')
    gaps = top_gaps(ready)
    parts.append("<h3>Top gaps</h3>")
    if gaps:
        parts.append("<ol>" + "".join(f"<li>{esc(g)}</li>" for g in gaps) + "</ol>")
    else:
        parts.append('<p class="wb-note">' + ("none found" if ready.get("status") == "assessed"
                                             else "readiness not assessed") + "</p>")
    parts.append("<h3>Evals</h3><p>" + esc(eval_headline(ev)) + "</p>")
    return wrap("".join(parts))


def eval_headline(ev: dict) -> str:
    if ev.get("status") not in ("ran", "stored"):
        return "No eval runs."
    n = len(ev.get("runs") or [])
    verb = "ran now" if ev["status"] == "ran" else "latest stored runs"
    gate = "every run passed its regression gate" if ev.get("gate_passed") else "the regression gate FAILED for at least one run"
    return f"Suite {ev.get('suite')}: {n} model run(s) ({verb}); {gate}."


def profile_html(prof: dict) -> str:
    o, w = prof["overview"], prof["window"]
    cf = prof["cost_feature"]
    parts = ['<h2 id="pilot-profile">Pilot profile</h2>', kpis_html([
        ("calls", num(o["calls"])),
        ("days observed", f"{w['days']:.1f}"),
        ("error rate", pct(o["errors"] / o["calls"] if o["calls"] else None, 1)),
        ("monthly cost today", usd(cf["monthly_cost_usd"].sum(skipna=True) if len(cf) else None)),
        ("files ingested", num(o["files_ingested"])),
        ("quarantined records", num(o["rows_quarantined"])),
    ])]
    parts.append("<h3>By feature</h3>" + table_html(prof["by_feature"], [
        ("feature", "feature", "text"), ("calls", "calls", "num"), ("input_tokens", "input tokens", "num"),
        ("output_tokens", "output tokens", "num"), ("error_rate", "error rate", "pct"),
        ("latency_p50_ms", "p50", "ms"), ("latency_p95_ms", "p95", "ms")]))
    parts.append("<h3>By model</h3>" + table_html(prof["by_model"], [
        ("model", "model", "text"), ("calls", "calls", "num"), ("input_tokens", "input tokens", "num"),
        ("cache_read_tokens", "cache reads", "num"), ("output_tokens", "output tokens", "num"),
        ("error_rate", "error rate", "pct"), ("latency_p95_ms", "p95", "ms")]))
    return wrap("".join(parts))


def scenarios_html(proj: dict, rec: dict) -> str:
    parts = ['<h2 id="cost-scenarios">Cost scenarios</h2>',
             f'<p class="wb-note">{esc(proj.get("window", {}).get("how", ""))}.</p>']
    ms = [float(x["multiplier"]) for x in proj["scenarios"][0]["multipliers"]] if proj.get("scenarios") else []
    rows = []
    for s in proj.get("scenarios", []):
        r = {"scenario": s["scenario"] + (" (recommended)" if s["scenario"] == rec.get("scenario") else ""),
             "unpriced": "yes" if s.get("unpriced") else ""}
        for m in ms:
            r[mult(m)] = (_at(s, m) or {}).get("monthly_cost_usd")
        at = _at(s, RECOMMEND_AT) or {}
        r["savings"] = at.get("savings_pct")
        rows.append(r)
    cols = [("scenario", "scenario", "text")] + [(mult(m), mult(m), "usd") for m in ms] + [
        ("savings", f"saving at {mult(RECOMMEND_AT)}", "pct"), ("unpriced", "unpriced models", "text")]
    parts.append(table_html(rows, cols))
    descr = [{"scenario": s["scenario"], "description": s.get("description", ""),
              "file": Path(s["file"]).name if s.get("file") else "(built in)"} for s in proj.get("scenarios", [])]
    parts.append("<h3>What each scenario changes</h3>" + table_html(descr))
    hosted = [(s["scenario"], s["break_even"]) for s in proj.get("scenarios", []) if s.get("break_even")]
    for name, be in hosted:
        parts.append(f'<p class="wb-note">{esc(name)}: self-hosting breaks even at '
                     f'{mult(be["multiplier"]) if be.get("multiplier") else "no multiplier up to 10,000x"}'
                     f'{"" if be.get("multiplier") else " (" + esc(be.get("note", "")) + ")"}.</p>')
    if proj.get("unpriced_models"):
        parts.append("<h3>Unpriced models (excluded from totals)</h3>" + table_html(proj["unpriced_models"], [
            ("provider", "provider", "text"), ("model", "model", "text"), ("calls", "calls", "num")]))
    cpo = proj.get("cost_per_outcome_today") or []
    if cpo:
        parts.append("<h3>Cost per business outcome today</h3>" + table_html(cpo, [
            ("outcome", "outcome", "text"), ("outcomes", "outcomes", "num"), ("cost_usd", "cost", "usd"),
            ("cost_per_outcome_usd", "cost per outcome", "usd")]))
    return wrap("".join(parts))


def readiness_html(ready: dict) -> str:
    parts = ['<h2 id="readiness">Readiness</h2>']
    st = ready.get("status")
    if st != "assessed":
        label = "assessment failed" if st == "error" else "not assessed"
        parts.append(f'<p><span class="wb-badge {"bad" if st == "error" else "na"}">{label}</span> '
                     f'<span class="wb-note">{esc(ready.get("reason"))}</span></p>')
        return wrap("".join(parts))
    verdict = ready.get("verdict")
    cl = ready.get("checklist") or {}
    parts.append(f'<p>Verdict: <span class="wb-badge {_verdict_class(verdict)}">{esc(str(verdict).replace("_", " "))}</span> '
                 f'<span class="wb-note">{esc("; ".join(map(str, ready.get("verdict_reasons") or [])))}</span></p>')
    if cl:
        parts.append(f'<p class="wb-note">Checklist: {esc(cl.get("title") or cl.get("id"))} v{esc(cl.get("version"))}; '
                     f'answers: {esc(Path(str((ready.get("answers") or {}).get("path") or "none")).name)} '
                     f'({num((ready.get("answers") or {}).get("answered"))} answered).</p>')
    o = ready.get("overall") or {}
    if o:
        parts.append(kpis_html([("weighted score", pct((o.get("weighted") or 0) / 100)),
                                ("of attainable", pct((o.get("vs_attainable") or 0) / 100)),
                                ("weakest section", esc(o.get("weakest_section") or "n/a")),
                                ("open high-severity", num(o.get("open_high"))),
                                ("contradictions", num(o.get("contradictions")))]))
    scores = section_scores(ready)
    if not scores.empty:
        raw = {r.get("title") or r.get("id"): r for r in ready.get("sections") or [] if isinstance(r, dict)}
        rows = [{"section": r["section"], "score": r["score"], "open": (raw.get(r["section"]) or {}).get("open"),
                 "gate": "yes" if (raw.get(r["section"]) or {}).get("gate") else ""} for r in scores.to_dict("records")]
        parts.append("<h3>Section scores</h3>" + table_html(rows, [("section", "section", "text"), ("score", "score", "pct"),
                                                                    ("open", "open items", "num"), ("gate", "gating", "text")]))
    contra = ready.get("contradictions") or []
    if contra:
        parts.append("<h3>Contradictions between answers and logs</h3><ul>"
                     + "".join(f"<li>{esc(c if isinstance(c, str) else c.get('text') or c)}</li>" for c in contra) + "</ul>")
    plan = ready.get("plan") or []
    parts.append("<h3>Improvement plan</h3>")
    if plan and isinstance(plan[0], dict):
        parts.append(table_html(plan, [("stage", "stage", "text"), ("severity", "severity", "text"), ("id", "item", "text"),
                                       ("title", "what", "text"), ("finding", "finding", "text"),
                                       ("guidance", "action", "text"), ("owner", "owner", "text"), ("due", "due", "text")],
                                max_rows=100))
    elif plan:
        parts.append("<ol>" + "".join(f"<li>{esc(p)}</li>" for p in plan) + "</ol>")
    else:
        parts.append('<p class="wb-note">nothing to improve</p>')
    return wrap("".join(parts))


def section_scores(ready: dict) -> pd.DataFrame:
    raw = ready.get("sections") or ready.get("section_scores") or []
    if isinstance(raw, dict):
        raw = [dict(v, section=k) if isinstance(v, dict) else {"section": k, "score": v} for k, v in raw.items()]
    rows = [{"section": r.get("title") or r.get("section") or r.get("name") or r.get("id"), "score": r.get("score")}
            for r in raw if isinstance(r, dict) and isinstance(r.get("score"), (int, float))]
    df = pd.DataFrame(rows, columns=["section", "score"])
    if not df.empty and df["score"].max() > 1:  # percentages
        df["score"] = df["score"] / 100
    return df


def _flatten(rows: list) -> list[dict]:
    out = []
    for r in rows:
        if isinstance(r, dict):
            out.append({k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in r.items()
                        if not isinstance(v, dict) and k not in ("sql",)})
        else:
            out.append({"item": r})
    return out


def evals_html(ev: dict) -> str:
    parts = ['<h2 id="evals">Eval results</h2>']
    if ev.get("status") not in ("ran", "stored"):
        parts.append(f'<p><span class="wb-badge na">no eval runs</span> <span class="wb-note">{esc(ev.get("reason"))}</span></p>')
        return wrap("".join(parts))
    badge = '<span class="wb-badge ok">gate passed</span>' if ev.get("gate_passed") else '<span class="wb-badge bad">gate failed</span>'
    parts.append(f"<p>{badge} {esc(eval_headline(ev))}</p>")
    rows = [dict(r, gate="pass" if r.get("passed") else ("FAIL" if r.get("passed") is False else "")) for r in ev["runs"]]
    parts.append(table_html(rows, [
        ("model", "model", "text"), ("prompt_version", "prompt", "text"), ("n_cases", "cases", "num"),
        ("n_errors", "errors", "num"), ("mean_score", "mean score", "raw3"), ("pass_rate", "pass rate", "pct"),
        ("cost_usd", "cost", "usd4"), ("p95_latency_ms", "p95", "ms"), ("gate", "gate", "text"),
        ("gate_reason", "gate detail", "text")]))
    cq = ev.get("cost_quality") or []
    if cq:
        parts.append("<h3>Cost vs quality</h3>" + table_html(cq, [
            ("model", "model", "text"), ("mean_score", "quality", "raw3"), ("cost_per_case_usd", "cost per case", "usd4"),
            ("cost_per_correct_usd", "cost per correct answer", "usd4"), ("p95_latency_ms", "p95", "ms"),
            ("dominated", "dominated", "text")]))
    return wrap("".join(parts))


def assumptions_html(rows: list[dict]) -> str:
    return wrap('<h2 id="assumptions">Assumptions register</h2>' + table_html(rows, [
        ("assumption", "assumption", "text"), ("value", "value", "text"), ("source", "source", "text")]))


def provenance_html(prov: dict) -> str:
    rows = [
        ("client", prov.get("client")), ("workbench version", prov.get("workbench_version")),
        ("litellm version", prov.get("litellm_version")), ("price book / price-map version", prov.get("price_book_version")),
        ("price map sha256", prov.get("price_map_sha256")), ("data fingerprint (sha256 of ingested files)", prov.get("data_fingerprint")),
        ("generated at (UTC)", prov.get("generated_at")), ("python", prov.get("python")),
    ]
    inner = '<h2 id="provenance">Provenance</h2><table class="wb-t"><tbody>' + "".join(
        f'<tr><th>{esc(k)}</th><td class="wb-mono">{esc(v)}</td></tr>' for k, v in rows) + "</tbody></table>"
    files = [{"kind": "scenario", "file": f["file"], "sha256": f["sha256"]} for f in prov.get("scenario_files", [])]
    files += prov.get("inputs", [])
    files += [{"kind": f"logs ({f['format']}, {f['rows_accepted']:,} calls)", "file": f["path"], "sha256": f["sha256"]}
              for f in prov.get("ingested_files", [])]
    if files:
        inner += "<h3>Input files</h3>" + table_html(files, [("kind", "kind", "text"), ("file", "file", "text"),
                                                               ("sha256", "sha256", "text")], max_rows=200)
    return wrap(inner)


# ---------------------------------------------------------------------------------------------
# Notebook helpers
# ---------------------------------------------------------------------------------------------


def default_scenarios() -> list[str]:
    """The bundled sample scenarios (data/scenarios/*.yaml)."""
    return [str(p) for p in sorted((DATA / "scenarios").glob("*.yaml"))]


def default_prices() -> str:
    p = DATA / "prices.yaml"
    return str(p) if p.exists() else ""


def projector(wb, prices: str | None = ""):
    """A Projector (profile built once) for the widgets; the database can be closed afterwards."""
    return wb.projector(prices or None)


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
