"""Quality beside cost: what a routing scenario gives up, measured on the client's golden set.

In: the eval runs in the database (`eval_runs`, `eval_results`: the latest finished run per suite x
model) and the workload profile. Out: per feature x model the mean score with its interval and n;
per routing rule and per scenario the expected change in quality of the traffic it moves, paired
against the model that traffic uses today; "not evaluated" (never a guess) for moved traffic no
golden case covers.

Which feature a golden case stands for: its tag `feature:<name>`, else a tag equal to a feature in
the logs, else the suite's `feature:` (one golden set per feature). Which model a run stands for:
the suite model's `price_as` (a stub or a private deployment priced as a real model), else its
model string; a logged model and a run's model are the same when their names match after the
provider prefix and a date or version suffix are dropped (`gpt-4o-2024-08-06` is `gpt-4o`).

The statistics are the gate's: a case's score is the suite's weighted case score (an error counts
0); a change is the mean of paired per-case differences (cases both models answered), its
interval Student's t on those differences (none below n = 2). Moving a share s of a feature's
traffic from A to B changes that traffic's expected score by s x mean(B - A); a scenario's change
is the call-weighted sum over what it moves, its variance the weighted sum of the parts'.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_DATE = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{3}|-latest|-v\d+(:\d+)?)$")


def model_family(name: str | None) -> str:
    """The name a logged model and an eval run's model are matched by (see the module docstring)."""
    if not name:
        return ""
    base = str(name).lower().rsplit("/", 1)[-1]
    for _ in range(2):  # `...-20250929` then `-v1:0`
        base = _DATE.sub("", base)
    return base


def t_quantile(confidence: float, df: int) -> float:
    """Two-sided Student t quantile (scipy when installed, else a Cornish-Fisher expansion,
    within 1e-3 of the exact value for df >= 2)."""
    p = 0.5 + confidence / 2
    try:
        from scipy.stats import t

        return float(t.ppf(p, df))
    except ImportError:  # pragma: no cover - scipy is a dev dependency
        from statistics import NormalDist

        z = NormalDist().inv_cdf(p)
        g1 = (z**3 + z) / 4
        g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
        g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
        return z + g1 / df + g2 / df**2 + g3 / df**3


# ---------------------------------------------------------------------------------------------
# Golden-set scores
# ---------------------------------------------------------------------------------------------


def case_scores(con, suite: str | None = None) -> pd.DataFrame:
    """One row per (suite, feature, model, case): its score and input tokens, from the latest
    finished run of each suite x model. Empty when there are no runs (or no tables yet)."""
    cols = ["suite", "model", "family", "feature", "case_id", "score", "input_tokens"]
    try:
        df = con.execute(
            """
            WITH latest AS (
                SELECT run_id, suite, coalesce(config ->> '$.model.price_as', config ->> '$.model.model', model) AS model,
                       config ->> '$.feature' AS suite_feature,
                       row_number() OVER (PARTITION BY suite, model ORDER BY started_at DESC, run_id DESC) AS k
                FROM eval_runs WHERE status = 'finished' AND (? IS NULL OR suite = ?)
            )
            SELECT l.suite, l.model, l.suite_feature, r.case_id, r.tags, coalesce(r.score, 0) AS score,
                   r.input_tokens
            FROM latest l JOIN eval_results r USING (run_id) WHERE l.k = 1
            """,
            [suite, suite],
        ).df()
        logged = {f for (f,) in con.execute("SELECT DISTINCT feature FROM calls WHERE feature IS NOT NULL").fetchall()}
    except Exception as exc:  # no eval tables in a database from elsewhere
        if "does not exist" in str(exc):
            return pd.DataFrame(columns=cols)
        raise
    if df.empty:
        return pd.DataFrame(columns=cols)

    def feature_of(tags, suite_feature):
        tags = list(tags) if tags is not None else []
        tagged = [t.split(":", 1)[1] for t in tags if isinstance(t, str) and t.startswith("feature:")]
        if tagged:
            return tagged[0]
        named = [t for t in tags if t in logged]
        return named[0] if named else suite_feature

    df["feature"] = [feature_of(t, f) for t, f in zip(df["tags"], df["suite_feature"])]
    df["family"] = df["model"].map(model_family)
    return df[df["feature"].notna()][cols].reset_index(drop=True)


@dataclass
class Change:
    """An expected change in score with its interval (None: no interval, n < 2)."""

    delta: float
    low: float | None
    high: float | None
    n: int
    var: float  # of delta (for combining); NaN when n < 2

    def as_dict(self) -> dict:
        return {"delta": self.delta, "low": self.low, "high": self.high, "n": self.n}


def paired(a: pd.Series, b: pd.Series, confidence: float = 0.95, max_input_tokens: float | None = None,
           tokens: pd.Series | None = None) -> Change | None:
    """Mean of b - a over the cases both have (indexed by case_id), with Student's t interval."""
    d = (b - a).dropna()
    if tokens is not None and max_input_tokens is not None:
        d = d[tokens.reindex(d.index).fillna(0) <= max_input_tokens]
    n = len(d)
    if n == 0:
        return None
    mean = float(d.mean())
    if n < 2:
        return Change(mean, None, None, n, math.nan)
    var = float(d.var(ddof=1)) / n
    half = t_quantile(confidence, n - 1) * math.sqrt(var)
    return Change(mean, mean - half, mean + half, n, var)


@dataclass
class QualityTable:
    """Per feature x model family: the cases' scores (index case_id), for paired comparisons."""

    scores: dict[tuple[str, str], pd.Series] = field(default_factory=dict)
    tokens: dict[tuple[str, str], pd.Series] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # family -> a model name as run
    confidence: float = 0.95

    @classmethod
    def from_db(cls, con, suite: str | None = None, confidence: float = 0.95) -> "QualityTable":
        df = case_scores(con, suite)
        q = cls(confidence=confidence)
        for (feature, family), part in df.groupby(["feature", "family"]):
            part = part.drop_duplicates("case_id", keep="last").set_index("case_id")
            q.scores[(feature, family)] = part["score"].astype(float)
            q.tokens[(feature, family)] = part["input_tokens"].astype(float)
            q.names[family] = part["model"].iloc[0]
        return q

    @property
    def empty(self) -> bool:
        return not self.scores

    def features(self) -> set[str]:
        return {f for f, _ in self.scores}

    def models(self, feature: str | None = None) -> set[str]:
        return {m for f, m in self.scores if feature is None or f == feature}

    def summary(self) -> list[dict]:
        """Per feature x model: mean score, its t interval and n."""
        out = []
        for (feature, family), s in sorted(self.scores.items()):
            n = len(s)
            mean = float(s.mean())
            half = t_quantile(self.confidence, n - 1) * float(s.std(ddof=1)) / math.sqrt(n) if n >= 2 else None
            out.append({"feature": feature, "model": self.names.get(family, family), "mean_score": mean,
                        "low": None if half is None else mean - half, "high": None if half is None else mean + half,
                        "n": n})
        return out

    def change(self, feature: str, source: str | None, target: str | None,
               max_input_tokens: float | None = None) -> Change | None:
        """Paired change in score when `feature`'s traffic moves from model `source` to `target`
        (names as logged or as run); None when either has no scores on that feature's cases."""
        a, b = self.scores.get((feature, model_family(source))), self.scores.get((feature, model_family(target)))
        if a is None or b is None:
            return None
        if model_family(source) == model_family(target):
            return Change(0.0, 0.0, 0.0, len(a), 0.0)
        return paired(a, b, self.confidence, max_input_tokens, self.tokens.get((feature, model_family(source))))


# ---------------------------------------------------------------------------------------------
# A scenario's quality
# ---------------------------------------------------------------------------------------------


def combine(parts: list[tuple[float, Change]], confidence: float) -> dict:
    """Weighted sum of changes (weights: shares of the traffic), interval from the summed variances."""
    delta = sum(w * c.delta for w, c in parts)
    n = sum(c.n for _, c in parts)
    if not parts or any(math.isnan(c.var) for _, c in parts):
        return {"delta": delta, "low": None, "high": None, "n": n}
    var = sum(w * w * c.var for w, c in parts)
    dof = max(min(c.n for _, c in parts) - 1, 1)  # conservative: the smallest part's
    half = t_quantile(confidence, dof) * math.sqrt(var)
    return {"delta": delta, "low": delta - half, "high": delta + half, "n": n}


def moved_traffic(today: pd.DataFrame, routed: pd.DataFrame) -> pd.DataFrame:
    """What each routing rule moved: feature, source model, target model, input-size bin, calls.

    `today` is the profile's rows, `routed` the same after `engine.apply_levers` with only the
    routing lever (rows carry `routed_by`; moved rows keep the source in `from_model`)."""
    moved = routed[routed["routed_by"].notna()]
    return moved.groupby(["routed_by", "feature", "from_model", "model", "bin"], dropna=False)["calls"].sum().reset_index()


def scenario_quality(projector, sc, quality: QualityTable) -> dict:
    """The expected change in quality of the traffic `sc` moves (see the module docstring).

    Returns {status: evaluated | partly_evaluated | not_evaluated | no_routing, delta, low, high,
    n_cases, share_of_traffic_moved, share_moved_evaluated, by_rule: [...], by_feature: [...],
    not_evaluated: [...], message}."""
    from .engine import apply_levers
    from .scenario import BIN_EDGES

    if not sc.routing:
        return {"status": "no_routing", "delta": 0.0, "low": 0.0, "high": 0.0, "n_cases": 0,
                "message": "moves no traffic: quality as today"}
    routing_only = sc.model_copy(update={"semantic_cache_hit_rate": 0.0, "tiers": {}, "retry_overhead": "logs"})
    routed = apply_levers(projector.profile, routing_only)
    total = float(projector.profile.rows["calls"].sum()) or 1.0
    moved = moved_traffic(projector.profile.rows, routed)
    parts, missing, by_rule, by_feature = [], [], {}, {}
    edges = np.array(BIN_EDGES + (10**9,), dtype=float)
    for (rule, feature, source, target), grp in moved.groupby(["routed_by", "feature", "from_model", "model"], dropna=False):
        calls = float(grp["calls"].sum())
        cap = float(edges[int(grp["bin"].max()) - 1])  # the cases that stand for the moved input sizes
        ch = quality.change(feature, source, target, None if cap >= 10**9 else cap)
        row = {"rule": rule, "feature": feature, "from": source, "to": target, "calls_share": calls / total}
        if ch is None:
            missing.append({**row, "reason": _why_missing(quality, feature, source, target)})
            continue
        parts.append((calls / total, ch))
        by_rule.setdefault(rule, []).append((calls / total, ch))
        by_feature.setdefault(feature, []).append((calls / total, ch))
    moved_share = float(moved["calls"].sum()) / total
    covered = sum(w for w, _ in parts)
    conf = quality.confidence
    if not parts:
        return {"status": "not_evaluated", "delta": None, "low": None, "high": None, "n_cases": 0,
                "share_of_traffic_moved": moved_share, "share_moved_evaluated": 0.0, "not_evaluated": missing,
                "by_rule": [], "by_feature": [],
                "message": "not evaluated: no golden case covers the traffic this scenario moves "
                           f"({'; '.join(sorted({m['reason'] for m in missing}))})"}
    total_change = combine(parts, conf)
    feature_calls = projector.profile.rows.groupby("feature")["calls"].sum()
    out = {
        "status": "evaluated" if not missing else "partly_evaluated",
        **{k: total_change[k] for k in ("delta", "low", "high")}, "n_cases": total_change["n"],
        "share_of_traffic_moved": moved_share, "share_moved_evaluated": covered / moved_share if moved_share else 1.0,
        "by_rule": [{"rule": r, **combine(p, conf)} for r, p in by_rule.items()],
        # per feature: the change in that feature's own mean score (weights: shares of its calls)
        "by_feature": [{"feature": f, **combine([(w * total / float(feature_calls[f]), c) for w, c in p], conf)}
                       for f, p in by_feature.items()],
        "not_evaluated": missing,
    }
    out["message"] = quality_words(out)
    return out


def _why_missing(q: QualityTable, feature, source, target) -> str:
    if feature not in q.features():
        return f"no golden case for feature {feature!r}"
    have = q.models(feature)
    lacking = [m for m in (source, target) if model_family(m) not in have]
    return f"no eval run of {', '.join(repr(m) for m in lacking)} on {feature!r}'s cases"


def quality_words(qd: dict) -> str:
    """'quality -0.020 [-0.050, +0.010] on 40 cases' (plus what is not evaluated)."""
    if qd.get("status") == "no_routing":
        return qd.get("message", "")
    if qd.get("delta") is None:
        return qd.get("message") or "quality not evaluated"
    ci = (f" [{qd['low']:+.3f}, {qd['high']:+.3f}]" if qd.get("low") is not None else " (no interval: 1 case)")
    words = f"quality {qd['delta']:+.3f}{ci} on {qd['n_cases']} cases"
    if qd.get("status") == "partly_evaluated":
        words += f"; {1 - qd['share_moved_evaluated']:.0%} of the moved traffic not evaluated"
    return words


def quality_cell(qd: dict | None, as_today: str = "–") -> str:
    """The short form for a table cell: '-0.023 [-0.068, +0.023] n=4', 'not evaluated' or `as_today`."""
    qd = qd or {}
    if qd.get("status") in (None, "no_routing"):
        return as_today
    if qd.get("delta") is None:
        return "not evaluated"
    ci = f" [{qd['low']:+.3f}, {qd['high']:+.3f}]" if qd.get("low") is not None else ""
    return f"{qd['delta']:+.3f}{ci} n={qd.get('n_cases')}"

