"""ipywidgets explorers: the finance cost explorer and the architects' checklist entry.

    from workbench.explore.widgets import cost_explorer
    cost_explorer(db="pilot.duckdb")     # in JupyterLab or Voila (prices: the database's book)

The explorer builds the workload profile ONCE (`Workbench.projector`), closes the database
(so several Voila visitors can open the same file), and re-evaluates a scenario assembled from
the controls on every change (`Projector.evaluate`, tens of milliseconds). The monthly figure
sits in `<span class="wb-monthly">` inside a widget with the CSS class `wb-result` (stable
hooks for browser tests); the pure functions `explorer_scenario` and `explorer_figures` serve
the widget, the tests and papermill alike.
"""

from __future__ import annotations

import html
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..report.format import esc, pct, usd

# Cheaper targets worth offering for routing (shown only when the price book knows them).
ROUTING_CANDIDATES = [
    ("openai", "gpt-4o-mini"), ("openai", "gpt-4.1-mini"), ("openai", "gpt-4.1-nano"), ("openai", "gpt-5-mini"),
    ("anthropic", "claude-haiku-4-5-20251001"), ("anthropic", "claude-3-5-haiku-20241022"),
    ("gemini", "gemini-2.0-flash"), ("gemini", "gemini-2.5-flash"),
]
ALL = "(all features)"


@dataclass
class ExplorerState:
    """The explorer's controls as plain values."""

    multiplier: float = 10.0
    routing_share: float = 0.0
    routing_target: str = ""          # "provider/model" or "model"
    routing_feature: str = ALL
    prompt_cache_read_share: float | None = None   # None: as logged
    semantic_cache_hit_rate: float = 0.0
    batch_share: float = 0.0
    batch_feature: str = ALL

    def as_dict(self) -> dict:
        return asdict(self)


def explorer_scenario(state: ExplorerState, name: str = "explorer"):
    """The Scenario the controls describe (validated by the scenario model)."""
    from ..cost.scenario import Match, PromptCache, RoutingRule, Scenario

    routing = []
    if state.routing_share > 0 and state.routing_target:
        provider, _, model = state.routing_target.rpartition("/") if "/" in state.routing_target else ("", "", state.routing_target)
        match = Match() if state.routing_feature in (ALL, "", None) else Match(feature=[state.routing_feature])
        routing.append(RoutingRule(name=f"{state.routing_share:.0%} to {model}", match=match,
                                   share=state.routing_share, to=model, provider=provider or None))
    pc = PromptCache() if state.prompt_cache_read_share is None else PromptCache(read_share=float(state.prompt_cache_read_share))
    tiers = {}
    if state.batch_share > 0:
        tiers = {("*" if state.batch_feature in (ALL, "", None) else state.batch_feature): {"batch": float(state.batch_share)}}
    parts = []
    if state.semantic_cache_hit_rate:
        parts.append(f"semantic cache {state.semantic_cache_hit_rate:.0%}")
    if routing:
        parts.append(routing[0].name)
    if state.prompt_cache_read_share is not None:
        parts.append(f"prompt-cache reads {state.prompt_cache_read_share:.0%}")
    if tiers:
        parts.append(f"batch {state.batch_share:.0%}")
    return Scenario(name=name, description="; ".join(parts) or "today's mix", routing=routing, prompt_cache=pc,
                    semantic_cache_hit_rate=float(state.semantic_cache_hit_rate), tiers=tiers)


def explorer_figures(projector, state: ExplorerState) -> dict:
    """Monthly cost for the controls' scenario at the chosen multiplier, beside today's mix."""
    sc = explorer_scenario(state)
    r = projector.evaluate(sc, [float(state.multiplier)], bootstrap=0)
    m = r["multipliers"][0]
    return {"scenario": sc.description, "multiplier": float(state.multiplier),
            "monthly_cost_usd": m["monthly_cost_usd"], "baseline_monthly_cost_usd": m["baseline_monthly_cost_usd"],
            "savings_usd": m["savings_usd"], "savings_pct": m["savings_pct"], "cost_per_call_usd": m["cost_per_call_usd"],
            "monthly_calls": m["monthly_calls"], "by_model": m.get("by_model", []), "self_hosted": m.get("self_hosted", {}),
            "unpriced": r.get("unpriced", [])}


def result_html(fig: dict) -> str:
    save = fig["savings_usd"]
    tone = "#1f6f3a" if save > 0.5 else ("#a61b1b" if save < -0.5 else "#52606d")
    rows = sorted(fig["by_model"], key=lambda r: -(r.get("cost") or 0))
    table = "".join(
        f"<tr><td>{esc((r.get('provider') or '') + '/' + str(r.get('model')))}</td>"
        f"<td style='text-align:right'>{r.get('calls', 0):,.0f}</td>"
        f"<td style='text-align:right'>{usd(r.get('cost')) if r.get('price_key') is not None else 'unpriced'}</td></tr>"
        for r in rows if (r.get("calls") or 0) > 0.5)
    hosted = "".join(f"<div>{esc(n)}: {h['replicas']} replica(s), {h['gpus']} GPU(s), {usd(h['monthly_cost_usd'])}/month</div>"
                     for n, h in fig["self_hosted"].items())
    unpriced = ("<div style='color:#a61b1b'>Unpriced (excluded): " + esc(", ".join(str(u.get("model")) for u in fig["unpriced"]))
                + "</div>") if fig["unpriced"] else ""
    return (
        "<div class='wb-result-inner' style='font-family:Helvetica,Arial,sans-serif'>"
        f"<div style='font-size:13px;color:#52606d'>Monthly cost at {fig['multiplier']:g}x volume</div>"
        f"<div style='font-size:30px;font-weight:600;color:#102a43'><span class='wb-monthly' id='wb-monthly'>"
        f"{usd(fig['monthly_cost_usd'], 0)}</span></div>"
        f"<div style='font-size:13px'>today's mix at the same volume: <span class='wb-baseline'>{usd(fig['baseline_monthly_cost_usd'], 0)}</span>"
        f" &middot; <span class='wb-savings' style='color:{tone}'>saving {usd(save, 0)} ({pct(fig['savings_pct'])})</span>"
        f" &middot; {fig['monthly_calls']:,.0f} calls/month, {usd(fig['cost_per_call_usd'], 4)} per call</div>"
        f"<div style='font-size:12px;color:#52606d;margin-top:4px'>{esc(fig['scenario'])}</div>{hosted}{unpriced}"
        "<table style='margin-top:8px;font-size:12.5px;border-collapse:collapse'>"
        "<tr><th style='text-align:left'>model</th><th style='text-align:right'>calls/month</th>"
        f"<th style='text-align:right'>USD/month</th></tr>{table}</table></div>"
    )


def _targets(projector) -> list[tuple[str, str]]:
    """(label, value) for the routing target dropdown: logged models and priced cheaper candidates."""
    rows = projector.profile.rows[["provider", "model"]].drop_duplicates()
    seen, out = set(), []
    pairs = [(p if isinstance(p, str) else "", m) for p, m in rows.itertuples(index=False)] + ROUTING_CANDIDATES
    pairs += [("", name) for name in getattr(projector.book, "self_hosted", {})]
    for provider, model in pairs:
        value = f"{provider}/{model}" if provider else model
        if value in seen or not model:
            continue
        try:
            ok = projector.book.resolve(model, provider or None).price_key is not None
        except Exception:
            ok = False
        if ok:
            seen.add(value)
            out.append((value, value))
    return sorted(out)


def cost_explorer(db: str | os.PathLike | None = "", prices: str | os.PathLike | None = "", projector=None,
                  state: ExplorerState | None = None):
    """The finance cost explorer (an ipywidgets VBox). `.figures()` on it returns the current numbers."""
    import ipywidgets as W

    from ..api import Workbench
    from ..report.facts import resolve_db

    if projector is None:
        prices = prices or None  # the database's own price book
        with Workbench(resolve_db(db)) as wb:
            projector = wb.projector(str(prices) if prices else None)
    st = state or ExplorerState()
    features = [ALL] + sorted(projector.profile.rows["feature"].unique())
    targets = _targets(projector)
    if not st.routing_target and targets:
        st.routing_target = next((v for _, v in targets if "mini" in v or "haiku" in v), targets[0][1])
    style = {"description_width": "190px"}
    layout = W.Layout(width="520px")
    volume = W.FloatLogSlider(value=st.multiplier, base=10, min=0, max=3, step=0.05, description="Volume multiplier",
                              readout_format=".3g", style=style, layout=layout, continuous_update=False)
    r_share = W.FloatSlider(value=st.routing_share, min=0, max=1, step=0.05, description="Routing share",
                            readout_format=".0%", style=style, layout=layout, continuous_update=False)
    r_target = W.Dropdown(options=targets, value=st.routing_target if targets else None, description="Route to model",
                          style=style, layout=layout)
    r_feature = W.Dropdown(options=features, value=st.routing_feature, description="Route traffic of", style=style,
                           layout=layout)
    pc_logged = W.Checkbox(value=st.prompt_cache_read_share is None, description="Prompt cache: as logged",
                           style=style, indent=False)
    pc_share = W.FloatSlider(value=st.prompt_cache_read_share or 0.5, min=0, max=0.95, step=0.05,
                             description="Prompt-cache read share", readout_format=".0%", style=style, layout=layout,
                             continuous_update=False, disabled=st.prompt_cache_read_share is None)
    semantic = W.FloatSlider(value=st.semantic_cache_hit_rate, min=0, max=0.9, step=0.05,
                             description="Semantic-cache hit rate", readout_format=".0%", style=style, layout=layout,
                             continuous_update=False)
    batch = W.FloatSlider(value=st.batch_share, min=0, max=1, step=0.05, description="Batch share",
                          readout_format=".0%", style=style, layout=layout, continuous_update=False)
    b_feature = W.Dropdown(options=features, value=st.batch_feature, description="Batch traffic of", style=style,
                           layout=layout)
    result = W.HTML(layout=W.Layout(min_height="120px"))
    result.add_class("wb-result")
    error = W.HTML()
    controls = {"multiplier": volume, "routing_share": r_share, "routing_target": r_target,
                "routing_feature": r_feature, "semantic_cache_hit_rate": semantic, "batch_share": batch,
                "batch_feature": b_feature}

    def current() -> ExplorerState:
        return ExplorerState(
            multiplier=volume.value, routing_share=r_share.value, routing_target=r_target.value or "",
            routing_feature=r_feature.value, prompt_cache_read_share=None if pc_logged.value else pc_share.value,
            semantic_cache_hit_rate=semantic.value, batch_share=batch.value, batch_feature=b_feature.value)

    box_state = {"figures": None}

    def update(_=None):
        pc_share.disabled = pc_logged.value
        try:
            fig = explorer_figures(projector, current())
        except Exception as exc:  # an impossible combination: say so, keep the last figure
            error.value = f"<div style='color:#a61b1b'>{html.escape(str(exc))}</div>"
            return
        error.value = ""
        box_state["figures"] = fig
        result.value = result_html(fig)

    for w in (*controls.values(), pc_logged, pc_share):
        w.observe(update, names="value")
    update()
    title = W.HTML("<div style='font:600 16px Helvetica,Arial,sans-serif;color:#1f4e79;margin-bottom:6px'>"
                   "Cost explorer</div><div style='font:12px Helvetica,Arial,sans-serif;color:#52606d'>"
                   "Levers apply in order: semantic cache, routing, prompt caching, batch. Monthly = observed "
                   "cost per day x 30.4375 x volume.</div>")
    left = W.VBox([volume, W.HTML("<b>Routing</b>"), r_feature, r_target, r_share, W.HTML("<b>Caching</b>"),
                   semantic, pc_logged, pc_share, W.HTML("<b>Batch</b>"), b_feature, batch])
    box = W.VBox([title, W.HBox([left, W.VBox([result, error], layout=W.Layout(margin="0 0 0 24px"))])])
    box.add_class("wb-explorer")
    box.controls, box.result, box.state = controls, result, current
    box.figures = lambda: box_state["figures"]
    box.projector = projector
    return box


# ---------------------------------------------------------------------------------------------
# Checklist entry (architects): answers YAML
# ---------------------------------------------------------------------------------------------


def checklist_available() -> bool:
    try:
        from ..readiness import checklist  # noqa: F401
    except ImportError:
        return False
    return True


def checklist_entry(checklist_path: str | os.PathLike | None = None, answers_path: str | os.PathLike = "answers.yaml",
                    existing: str | os.PathLike | None = None):
    """A form with one row per checklist item (status, evidence, owner, notes); "Save" writes the answers YAML.

    Answers loaded from `existing` keep their other fields (due, reason, approver); the file is
    validated against the checklist before it is written.
    """
    import ipywidgets as W

    from ..readiness.checklist import load_answers, load_checklist
    from ..report.facts import DEFAULT_CHECKLIST

    cl = load_checklist(checklist_path or DEFAULT_CHECKLIST)
    prior = _answers_map(load_answers(existing, cl)) if existing and Path(existing).exists() else {}
    statuses = answer_statuses()
    unanswered = "(unanswered)"
    rows, fields = [], {}
    for section, item in _items(cl):
        a = prior.get(item.id, {})
        ev = a.get("evidence")
        st = W.Dropdown(options=[unanswered] + statuses, value=a.get("status") if a.get("status") in statuses else unanswered,
                        layout=W.Layout(width="120px"))
        evidence = W.Text(value="; ".join(ev) if isinstance(ev, list) else (ev or ""),
                          placeholder="evidence (links, documents; separate with ;)", layout=W.Layout(width="300px"))
        owner = W.Text(value=a.get("owner") or "", placeholder="owner", layout=W.Layout(width="140px"))
        notes = W.Text(value=a.get("notes") or "", placeholder="notes", layout=W.Layout(width="200px"))
        fields[item.id] = (st, evidence, owner, notes)
        rows.append(W.HBox([W.HTML(f"<div style='width:330px;font-size:12.5px'><b>{esc(item.id)}</b> {esc(item.title)}"
                                   f" <span style='color:#8a6d00'>{esc(item.severity)}</span></div>"),
                            st, evidence, owner, notes]))
    out_path = W.Text(value=str(answers_path), description="Answers file", layout=W.Layout(width="520px"))
    save = W.Button(description="Save answers", button_style="primary")
    msg = W.HTML()

    def collect() -> dict:
        answers = {}
        for item_id, (st, evidence, owner, notes) in fields.items():
            if st.value == unanswered:
                continue
            entry = {k: v for k, v in prior.get(item_id, {}).items() if v not in (None, "", [])}
            entry["status"] = st.value
            for key, value in (("evidence", [e.strip() for e in evidence.value.split(";") if e.strip()]),
                               ("owner", owner.value.strip()), ("notes", notes.value.strip())):
                if value:
                    entry[key] = value
                else:
                    entry.pop(key, None)
            answers[item_id] = entry
        return {"checklist": cl.id, "answers": answers}

    def on_save(_=None):
        data = collect()
        try:
            path = write_answers(data, out_path.value, cl)
        except Exception as exc:
            msg.value = f"<span class='wb-error' style='color:#a61b1b'>{html.escape(str(exc))}</span>"
            return
        msg.value = f"<span class='wb-saved'>saved {len(data['answers'])} answer(s) to {html.escape(str(path))}</span>"

    save.on_click(on_save)
    box = W.VBox([W.HTML(f"<b>{esc(cl.title)}</b> <span style='color:#52606d'>v{esc(cl.version)}</span>"), *rows,
                  W.HBox([out_path, save]), msg])
    box.add_class("wb-checklist")
    box.fields, box.collect, box.save, box.message = fields, collect, on_save, msg
    return box


def _items(cl) -> list:
    items = cl.items
    return items() if callable(items) else items


def answer_statuses() -> list[str]:
    """The statuses the answers model accepts (read from workbench.readiness.checklist where it says)."""
    from ..readiness import checklist as C

    for name in ("ANSWER_STATUSES", "STATUSES"):
        v = getattr(C, name, None)
        if v:
            return list(v)
    return ["met", "partial", "not_met", "na"]


def _answers_map(answers) -> dict:
    data = answers.model_dump(mode="json") if hasattr(answers, "model_dump") else dict(answers)
    items = data.get("answers", data)
    if isinstance(items, list):
        return {a.get("id") or a.get("item"): a for a in items}
    return dict(items)


def write_answers(data: dict, path: str | os.PathLike, checklist=None) -> Path:
    """Validate (against the checklist when given) and write the answers YAML."""
    import yaml

    from ..readiness.checklist import validate_answers

    validate_answers(data, checklist, source=str(path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Answers written by the workbench checklist entry widget\n"
                    + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path
