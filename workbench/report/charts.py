"""Altair chart builders shared by the notebooks, the widgets and the client report.

Every builder takes plain data (a pandas DataFrame, or the dict `project()` returns) and
returns an `alt.Chart`, so a chart looks the same in JupyterLab, in Voila and in the static
report. The data each chart needs comes from `workbench.report.facts` (small, pre-aggregated in
DuckDB, far below Altair's 5,000-row limit). `use_output()` picks how charts leave the kernel:
SVG (vl-convert) or Vega-Lite specs for the offline HTML report (no script, no CDN), or interactive.
"""

from __future__ import annotations

from .._imports import skip_slow_format_checkers

skip_slow_format_checkers()

import altair as alt  # noqa: E402
import pandas as pd  # noqa: E402

PALETTE = ["#1f4e79", "#2e86ab", "#f18f01", "#c73e1d", "#3b8b5a", "#6c4f9c", "#8d99ae", "#e0a458"]
WIDTH = 620
HEIGHT = 240
MONEY = "$,.0f"


def theme() -> dict:
    """A quiet, print-friendly theme (system fonts only: nothing fetched)."""
    font = "Helvetica, Arial, sans-serif"
    return {
        "config": {
            "font": font,
            "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": HEIGHT},
            "range": {"category": PALETTE},
            "axis": {"labelColor": "#333", "titleColor": "#333", "gridColor": "#e6e6e6", "domainColor": "#999",
                     "labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": "normal"},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": "normal", "orient": "bottom"},
            "title": {"fontSize": 14, "fontWeight": "normal", "anchor": "start", "color": "#1f2933"},
        }
    }


def spec_bundle(spec: dict, **_) -> dict:
    """The `spec` renderer: the Vega-Lite spec under its standard MIME type.

    Altair's own "mimetype" renderer names it `application/vnd.vegalite.v6.json` (a dot where
    the JSON suffix needs `+`), which nbformat then refuses to save as JSON."""
    import re

    m = re.search(r"/vega-lite/v(\d+)", str(spec.get("$schema", "")))
    return {f"application/vnd.vegalite.v{m[1] if m else 6}+json": spec, "text/plain": "<Vega-Lite chart>"}


def _register() -> None:
    if hasattr(alt, "theme") and hasattr(alt.theme, "register"):  # Altair >= 5.5
        alt.theme.register("workbench", enable=True)(theme)
    else:  # pragma: no cover
        alt.themes.register("workbench", theme)
        alt.themes.enable("workbench")
    if "workbench-spec" not in alt.renderers.names():
        alt.renderers.register("workbench-spec", spec_bundle)


CHART_OUTPUTS = ("svg", "spec", "interactive")


def use_output(mode: str = "svg") -> None:
    """How charts leave the kernel.

    - `svg`: drawn as inline SVG here (vl-convert): offline anywhere (notebooks, Voila, reports);
    - `spec`: Vega-Lite specs (the `application/vnd.vegalite` MIME type), which `workbench.report`
      draws as SVG in its own process while the kernel goes on (see `workbench.report.svg`);
    - `interactive`: Altair's default renderer (HTML that loads vega from a CDN).

    With `svg`, vl-convert's engine (about half a second to start) is warmed up in a background
    thread, so it starts while the notebook computes its first figures.
    """
    if mode not in CHART_OUTPUTS:
        raise ValueError(f"chart output must be one of {', '.join(CHART_OUTPUTS)}, not {mode!r}")
    _register()
    alt.renderers.enable({"svg": "svg", "spec": "workbench-spec", "interactive": "default"}[mode])
    if mode == "svg":
        import threading

        def warm():
            try:
                import vl_convert

                vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{}]}})
            except Exception:  # the real render will report any problem
                pass

        threading.Thread(target=warm, daemon=True, name="vl-convert-warmup").start()


def use_static(static: bool = True) -> None:
    """`use_output("svg")`, or Altair's interactive default when `static` is false."""
    use_output("svg" if static else "interactive")


def _empty(message: str) -> alt.Chart:
    return (alt.Chart(pd.DataFrame({"text": [message]})).mark_text(size=13, color="#666")
            .encode(text="text:N").properties(width=WIDTH, height=60))


# ---------------------------------------------------------------------------------------------
# Pilot profile
# ---------------------------------------------------------------------------------------------


def volume_over_time(daily: pd.DataFrame, title: str = "Calls per day, by feature") -> alt.Chart:
    """`daily`: day, feature, calls (from `sections.daily_volume`)."""
    if daily is None or daily.empty:
        return _empty("no calls")
    return (alt.Chart(daily, title=title).mark_area(opacity=0.85)
            .encode(x=alt.X("day:T", title=None),
                    y=alt.Y("sum(calls):Q", title="calls", stack="zero"),
                    color=alt.Color("feature:N", title="feature"),
                    tooltip=["day:T", "feature:N", "calls:Q"])
            .properties(width=WIDTH, height=HEIGHT))


def token_distribution(hist: pd.DataFrame, title: str = "Tokens per call") -> alt.Chart:
    """`hist`: kind (input/output), bucket_lo, bucket_label, calls (from `sections.token_histogram`)."""
    if hist is None or hist.empty:
        return _empty("no calls")
    order = hist.sort_values("bucket_lo")["bucket_label"].drop_duplicates().tolist()
    return (alt.Chart(hist, title=title).mark_bar()
            .encode(x=alt.X("bucket_label:N", sort=order, title="tokens per call (log2 buckets)"),
                    y=alt.Y("calls:Q", title="calls"),
                    color=alt.Color("kind:N", title=None),
                    xOffset="kind:N",
                    tooltip=["kind:N", "bucket_label:N", "calls:Q"])
            .properties(width=WIDTH, height=HEIGHT))


def latency_percentiles(lat: pd.DataFrame, title: str = "Latency percentiles by model (successful calls)") -> alt.Chart:
    """`lat`: model, percentile (p50/p95/p99), latency_ms (from `sections.latency_table`)."""
    if lat is None or lat.empty or lat["latency_ms"].isna().all():
        return _empty("no latency logged")
    lat = lat.dropna(subset=["latency_ms"])
    return (alt.Chart(lat, title=title).mark_bar()
            .encode(y=alt.Y("model:N", title=None, sort="-x"),
                    x=alt.X("latency_ms:Q", title="latency (ms)"),
                    color=alt.Color("percentile:N", title=None, sort=["p50", "p95", "p99"]),
                    yOffset=alt.YOffset("percentile:N", sort=["p50", "p95", "p99"]),
                    tooltip=["model:N", "percentile:N", alt.Tooltip("latency_ms:Q", format=",.0f")])
            .properties(width=WIDTH - 140))


def cost_by(costs: pd.DataFrame, by: str = "feature", title: str | None = None) -> alt.Chart:
    """`costs`: <by>, monthly_cost_usd (today's mix; from `sections.cost_today`)."""
    if costs is None or costs.empty:
        return _empty("no priced calls")
    return (alt.Chart(costs, title=title or f"Monthly cost today, by {by}").mark_bar(color=PALETTE[0])
            .encode(y=alt.Y(f"{by}:N", title=None, sort="-x"),
                    x=alt.X("monthly_cost_usd:Q", title="USD per month", axis=alt.Axis(format=MONEY)),
                    tooltip=[f"{by}:N", alt.Tooltip("monthly_cost_usd:Q", format="$,.2f")])
            .properties(width=WIDTH - 140))


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def scenario_frame(projection: dict) -> pd.DataFrame:
    """scenario, multiplier, monthly_cost_usd, p10_usd, p90_usd, priced (no unpriced models)."""
    rows = []
    for s in projection.get("scenarios", []):
        for m in s["multipliers"]:
            rows.append({"scenario": s["scenario"], "multiplier": float(m["multiplier"]),
                         "label": f"{m['multiplier']:g}x", "monthly_cost_usd": m["monthly_cost_usd"],
                         "p10_usd": m.get("p10_usd"), "p90_usd": m.get("p90_usd"),
                         "priced": not s.get("unpriced")})
    return pd.DataFrame(rows)


def scenario_costs(projection: dict, title: str = "Monthly cost per scenario at each volume multiplier") -> alt.Chart:
    """Grouped bars: one group per multiplier, one bar per scenario, P10-P90 whiskers where known."""
    df = scenario_frame(projection)
    if df.empty:
        return _empty("no scenarios projected")
    order = df.drop_duplicates("label").sort_values("multiplier")["label"].tolist()
    scen = df["scenario"].drop_duplicates().tolist()
    base = alt.Chart(df).encode(
        x=alt.X("label:N", sort=order, title="volume"),
        xOffset=alt.XOffset("scenario:N", sort=scen),
        color=alt.Color("scenario:N", sort=scen, title="scenario"),
    )
    bars = base.mark_bar().encode(
        y=alt.Y("monthly_cost_usd:Q", title="USD per month", axis=alt.Axis(format=MONEY)),
        tooltip=["scenario:N", "label:N", alt.Tooltip("monthly_cost_usd:Q", format="$,.0f")])
    layers = [bars]
    if df["p10_usd"].notna().any():
        layers.append(base.mark_rule(color="#333").encode(y="p10_usd:Q", y2="p90_usd:Q"))
    return alt.layer(*layers, title=title).properties(width=WIDTH, height=HEIGHT)


def scenario_lines(projection: dict, title: str = "Monthly cost vs volume (log scales)") -> alt.Chart:
    """Lines across multipliers, log-log: where self-hosted capacity steps, the line bends."""
    df = scenario_frame(projection)
    if df.empty:
        return _empty("no scenarios projected")
    return (alt.Chart(df, title=title).mark_line(point=True)
            .encode(x=alt.X("multiplier:Q", scale=alt.Scale(type="log"), title="volume multiplier"),
                    y=alt.Y("monthly_cost_usd:Q", scale=alt.Scale(type="log"), title="USD per month",
                            axis=alt.Axis(format=MONEY)),
                    color=alt.Color("scenario:N", title="scenario"),
                    tooltip=["scenario:N", "multiplier:Q", alt.Tooltip("monthly_cost_usd:Q", format="$,.0f")])
            .properties(width=WIDTH, height=HEIGHT))


def sensitivity(rows: list[dict], title: str = "What moves the monthly cost (tornado)") -> alt.Chart:
    """`rows`: lever, low_usd, high_usd (a scenario's `sensitivity` list)."""
    df = pd.DataFrame(rows or [])
    if df.empty:
        return _empty("no sensitivity computed")
    return (alt.Chart(df, title=title).mark_bar(color=PALETTE[1])
            .encode(y=alt.Y("lever:N", sort=alt.EncodingSortField("swing_usd", order="descending"), title=None),
                    x=alt.X("low_usd:Q", title="USD per month", axis=alt.Axis(format=MONEY)), x2="high_usd:Q",
                    tooltip=["lever:N", alt.Tooltip("low_usd:Q", format="$,.0f"),
                             alt.Tooltip("high_usd:Q", format="$,.0f")])
            .properties(width=WIDTH - 180))


# ---------------------------------------------------------------------------------------------
# Readiness and evals
# ---------------------------------------------------------------------------------------------


def section_scores(scores: pd.DataFrame, title: str = "Readiness by section") -> alt.Chart:
    """`scores`: section, score (0..1)."""
    if scores is None or scores.empty:
        return _empty("not assessed")
    return (alt.Chart(scores, title=title).mark_bar()
            .encode(y=alt.Y("section:N", title=None, sort="x"),
                    x=alt.X("score:Q", title="score", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
                    color=alt.Color("score:Q", scale=alt.Scale(domain=[0, 0.5, 1], range=["#c73e1d", "#f1c40f", "#3b8b5a"]),
                                    legend=None),
                    tooltip=["section:N", alt.Tooltip("score:Q", format=".0%")])
            .properties(width=WIDTH - 180))


def cost_vs_quality(points: pd.DataFrame, title: str = "Cost vs quality") -> alt.Chart:
    """`points`: label (model / variant), cost_usd (per item or per 1k calls), quality (0..1 or score)."""
    if points is None or points.empty:
        return _empty("no eval runs")
    base = alt.Chart(points, title=title).encode(
        x=alt.X("cost_usd:Q", title="cost per call (USD)", axis=alt.Axis(format="$,.4f")),
        y=alt.Y("quality:Q", title="quality score"),
    )
    return (base.mark_circle(size=120, color=PALETTE[0]).encode(tooltip=list(points.columns))
            + base.mark_text(align="left", dx=8, fontSize=11).encode(text="label:N")
            ).properties(width=WIDTH - 120, height=HEIGHT)


def metric_bars(metrics: pd.DataFrame, title: str = "Eval metrics") -> alt.Chart:
    """`metrics`: run (label), metric, value."""
    if metrics is None or metrics.empty:
        return _empty("no eval runs")
    return (alt.Chart(metrics, title=title).mark_bar()
            .encode(y=alt.Y("metric:N", title=None), x=alt.X("value:Q", title="mean score"),
                    color=alt.Color("run:N", title="run"), yOffset="run:N",
                    tooltip=["run:N", "metric:N", alt.Tooltip("value:Q", format=".3f")])
            .properties(width=WIDTH - 180))
