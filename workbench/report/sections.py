"""Each report section as an HTML fragment, from the facts that `facts.py` gathers.

Notebooks reach everything through this one module (`from workbench.report import sections as S`):
the facts and formatting helpers are re-exported here, so a notebook needs a single name.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

# One name for notebooks: the facts and helpers, re-exported.
from .facts import (  # noqa: E402, F401
    DATA,
    DEFAULT_CHECKLIST,
    HEADLINE_MULTIPLIERS,
    RECOMMEND_AT,
    ROOT,
    _at,
    assumptions,
    cost_today,
    daily_volume,
    default_prices,
    default_scenarios,
    ensure_prices,
    eval_charts,
    eval_cost_quality_frame,
    eval_metrics_frame,
    evals,
    latency_table,
    open_workbench,
    pilot_profile,
    projection,
    projector,
    provenance,
    readiness,
    recommend,
    resolve_db,
    sample_db,
    summary_bundle,
    token_histogram,
    top_gaps,
    window,
)
from .format import esc, mult, num, pct, records, sha256_file, table_exists, usd  # noqa: E402, F401
from .styles import CSS

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
            + _quality_sentence(rec)
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


def _quality_sentence(rec: dict) -> str:
    """What the recommended routing gives up on the golden set, and what was left out for quality."""
    q = rec.get("quality") or {}
    out = ""
    if q.get("status") == "evaluated":
        out = f" On the golden set its quality holds: {esc(q.get('message'))}."
    elif q.get("status") in ("partly_evaluated", "not_evaluated"):
        out = f' <b>Its quality is not yet shown:</b> {esc(q.get("message"))}. Run the golden set before adopting it.'
    for f in rec.get("quality_failed") or []:
        out += (f" {esc(f['scenario'])} would save {usd(f.get('savings_usd'))} a month but is not recommended: "
                f"{esc(f.get('message'))}, more than the budget allows.")
    return out


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
    from ..cost.quality import quality_cell

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
        r["quality"] = quality_cell(s.get("quality"), as_today="as today")
        rows.append(r)
    cols = [("scenario", "scenario", "text")] + [(mult(m), mult(m), "usd") for m in ms] + [
        ("savings", f"saving at {mult(RECOMMEND_AT)}", "pct"), ("quality", "quality on the golden set", "text"),
        ("unpriced", "unpriced models", "text")]
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
