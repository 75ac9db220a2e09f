"""The cheapest routing that holds quality: per feature, which share of which input sizes to which
candidate model, under a quality budget measured on the golden set (`quality.py`).

In: a Projector (today's profile and the price book), a QualityTable (eval runs per feature x
model), candidate models and a budget. Out: the chosen routing as a Scenario (and YAML the user
can edit and re-run with `workbench project`), its monthly cost at the chosen multiplier, the
quality change per feature, and the cost/quality frontier.

How: API cost is linear in each share of traffic moved, and the budget is per feature, so the
search splits by feature. For each candidate the whole profile is priced once at the candidate's
rates; an option (feature, candidate, input sizes up to bin k, share s) then costs a lookup in
cumulative sums, and its quality change is s x the paired change of that feature's cases up to
the same input size. Each feature takes its cheapest option that keeps the budget; the result
is checked by evaluating the scenario with the engine (the same figure `workbench project`
gives). The frontier is the lower convex hull of cost against quality, traced by trading the two
at a sweep of prices per point of quality (each feature's best option at each price).

Budget: `max_drop` — no feature's score may drop by more than this with `confidence` (the lower
end of its interval at or above -max_drop; a change with no interval, n < 2, cannot prove it);
`min_score` — the lower end of each feature's expected score after routing at or above this.
Moved traffic that no golden case covers is never routed (it cannot be shown to hold quality).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import WorkbenchError
from .quality import QualityTable, combine, model_family
from .scenario import BASELINE, BIN_EDGES, Match, RoutingRule, Scenario

SHARES = (0.25, 0.5, 0.75, 1.0)


@dataclass
class Option:
    feature: str
    target: str
    max_bin: int | None  # None: every input size
    share: float
    saving: float  # monthly USD at the multiplier
    change: dict  # the feature's own score change: delta, low, high, n
    weight: float  # the feature's share of all calls (to turn its change into the whole traffic's)

    def holds(self, max_drop: float | None, min_score: float | None, today_score: float | None) -> bool:
        low = self.change.get("low")
        if low is None:
            return False
        if max_drop is not None and low < -max_drop - 1e-12:
            return False
        if min_score is not None and (today_score is None or today_score + low < min_score - 1e-12):
            return False
        return True


def _edge(max_bin: int | None) -> int | None:
    return None if max_bin is None else int(BIN_EDGES[max_bin - 1])


class Optimizer:
    """Options per feature, worked out once; `best(budget)` and `frontier()` are cheap after."""

    def __init__(self, projector, quality: QualityTable, candidates: list[str], multiplier: float = 10.0,
                 shares=SHARES, by_input_size: bool = True):
        if quality.empty:
            raise WorkbenchError("no eval runs with golden cases per feature in this database: run "
                                 "`workbench eval SUITE` with the candidate models first (cases carry "
                                 "`feature:<name>` tags, or the suite names its `feature:`)")
        self.projector, self.quality, self.multiplier = projector, quality, float(multiplier)
        self.candidates = list(dict.fromkeys(candidates))
        self.today = projector.priced(BASELINE)
        self.notes: list[str] = []
        self.options: dict[str, list[Option]] = {}
        self._build(shares, by_input_size)

    # -- options -----------------------------------------------------------------------------

    def _alt_cost(self, target: str) -> pd.Series | None:
        """Every profile row's cost had it been sent to `target` (standard rates, no multiplier)."""
        from .engine import price_rows

        res = self.projector.rates.resolution(None, target)
        if res.price_key is None or res.pricing_basis == "self_hosted":
            why = "has no price" if res.price_key is None else "is self-hosted (capacity steps: project it as a scenario)"
            self.notes.append(f"candidate {target!r} {why}: left out")
            return None
        keys = ["feature", "provider", "model", "prompt_version", "tier", "rate_period", "rate_multiplier", "bin", "day"]
        qty = ["calls", "input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens",
               "output_tokens", "reasoning_tokens"]
        alt = self.today[keys + qty].copy()
        alt["model"], alt["provider"], alt["rate_period"], alt["rate_multiplier"] = target, None, "standard", 1.0
        alt = self.projector.rates.attach(alt)
        return pd.Series(price_rows(alt).to_numpy(), index=self.today.index)

    def _build(self, shares, by_input_size: bool) -> None:
        t, mf = self.today, self.projector.profile.monthly_factor * self.multiplier
        total = float(t["calls"].sum()) or 1.0
        feature_calls = t.groupby("feature")["calls"].sum()
        covered = self.quality.features()
        for f in sorted(set(t["feature"]) - covered):
            self.notes.append(f"feature {f!r} has no golden cases: it stays as today")
        for target in self.candidates:
            alt = self._alt_cost(target)
            if alt is None:
                continue
            if not any(model_family(target) == m for m in self.quality.models()):
                self.notes.append(f"candidate {target!r} has no eval run: left out")
                continue
            frame = t.assign(alt=alt, cost=t["cost"])
            for feature in sorted(covered & set(t["feature"])):
                part = frame[frame["feature"] == feature]
                bins = sorted(part["bin"].unique()) if by_input_size else []
                for max_bin in [*bins[:-1], None]:
                    rows = part if max_bin is None else part[part["bin"] <= max_bin]
                    if rows.empty or rows["alt"].isna().any() or rows["cost"].isna().any():
                        continue
                    per_source = rows.groupby("model")["calls"].sum()
                    changes = []
                    for source, calls in per_source.items():
                        ch = self.quality.change(feature, source, target, _edge(max_bin))
                        if ch is None:
                            break
                        changes.append((float(calls) / float(feature_calls[feature]), ch))
                    else:
                        saving_1 = float((rows["cost"] - rows["alt"]).sum()) * mf
                        for s in shares:
                            scaled = [(w * s, c) for w, c in changes]
                            self.options.setdefault(feature, []).append(Option(
                                feature, target, max_bin, float(s), saving_1 * s,
                                combine(scaled, self.quality.confidence), float(feature_calls[feature]) / total))
                        continue
                    self.notes.append(f"{feature!r} -> {target!r}: the model it uses today has no eval run on its "
                                      "cases, so moving it cannot be evaluated")
                    break
        self.notes = list(dict.fromkeys(self.notes))

    def today_score(self, feature: str) -> float | None:
        """The feature's mean golden-set score on the models it uses today (call-weighted)."""
        part = self.today[self.today["feature"] == feature].groupby("model")["calls"].sum()
        got = [(c, self.quality.scores.get((feature, model_family(m)))) for m, c in part.items()]
        got = [(c, float(s.mean())) for c, s in got if s is not None and len(s)]
        return sum(c * s for c, s in got) / sum(c for c, _ in got) if got else None

    # -- choosing ----------------------------------------------------------------------------

    def best(self, max_drop: float | None = 0.02, min_score: float | None = None) -> dict[str, Option]:
        """Per feature, the option with the largest saving that keeps the budget (none: as today)."""
        out = {}
        for feature, opts in self.options.items():
            ok = [o for o in opts if o.saving > 0 and o.holds(max_drop, min_score, self.today_score(feature))]
            if ok:
                out[feature] = max(ok, key=lambda o: (o.saving, o.share, -(o.max_bin or 99)))
        return out

    def scenario(self, chosen: dict[str, Option], name: str = "optimized routing") -> Scenario:
        rules = [RoutingRule(name=f"{o.feature}: {o.share:.0%}" + ("" if o.max_bin is None else f" up to {_edge(o.max_bin):,} input tokens")
                             + f" -> {o.target}",
                             match=Match(feature=[o.feature], max_input_tokens=_edge(o.max_bin)),
                             share=o.share, to=o.target)
                 for o in sorted(chosen.values(), key=lambda o: o.feature)]
        return Scenario(name=name, routing=rules, description="The cheapest per-feature routing that keeps the "
                        "quality budget on the golden set (workbench optimize); edit and re-run with workbench project.")

    def frontier(self, points: int = 60) -> list[dict]:
        """(monthly cost, quality change over all traffic) along the lower convex hull."""
        base = self._base_cost()
        seen, out = set(), []
        top = max((o.saving / max(-o.change["delta"] * o.weight, 1e-9) for opts in self.options.values()
                   for o in opts if o.change["delta"] < 0), default=1.0)
        for lam in [0.0, *np.geomspace(max(top, 1.0) * 1e-4, max(top, 1.0) * 10, points), math.inf]:
            pick = {}
            for feature, opts in self.options.items():
                def value(o):
                    q = o.change["delta"] * o.weight
                    return (q if lam == math.inf else o.saving + lam * q)
                cand = max(opts, key=value)
                if value(cand) > (0.0 if lam != math.inf else -1e-15) and cand.saving > 0:
                    pick[feature] = cand
            key = tuple(sorted((f, o.target, o.max_bin, o.share) for f, o in pick.items()))
            if key in seen:
                continue
            seen.add(key)
            out.append({"monthly_cost_usd": base - sum(o.saving for o in pick.values()),
                        "quality_delta": sum(o.change["delta"] * o.weight for o in pick.values()),
                        "routes": [{"feature": o.feature, "to": o.target, "share": o.share,
                                    "max_input_tokens": _edge(o.max_bin)} for o in pick.values()]})
        return sorted(out, key=lambda p: p["monthly_cost_usd"])

    def _base_cost(self) -> float:
        t = self.today
        return float(t["cost"].sum()) * self.projector.profile.monthly_factor * self.multiplier


def optimize(projector, quality: QualityTable, candidates: list[str], max_drop: float | None = 0.02,
             min_score: float | None = None, multiplier: float = 10.0, shares=SHARES,
             by_input_size: bool = True) -> dict:
    """The cheapest routing that keeps the budget, checked with the engine; see the module docstring."""
    from .quality import scenario_quality

    if max_drop is None and min_score is None:
        raise WorkbenchError("give a quality budget: max_drop (e.g. 0.02) and/or min_score")
    opt = Optimizer(projector, quality, candidates, multiplier, shares, by_input_size)
    chosen = opt.best(max_drop, min_score)
    sc = opt.scenario(chosen)
    res = projector.evaluate(sc, [multiplier], bootstrap=0)["multipliers"][0]
    predicted = opt._base_cost() - sum(o.saving for o in chosen.values())
    q = scenario_quality(projector, sc, quality)
    frontier = opt.frontier()
    chosen_point = {"monthly_cost_usd": res["monthly_cost_usd"], "quality_delta": q.get("delta") or 0.0}
    return {
        "scenario": sc, "multiplier": multiplier,
        "budget": {"max_drop": max_drop, "min_score": min_score, "confidence": quality.confidence},
        "monthly_cost_usd": res["monthly_cost_usd"], "baseline_monthly_cost_usd": res["baseline_monthly_cost_usd"],
        "savings_usd": res["savings_usd"], "savings_pct": res["savings_pct"],
        "predicted_monthly_cost_usd": predicted, "quality": q,
        "by_feature": [{"feature": f, "today_score": opt.today_score(f),
                        **({"to": o.target, "share": o.share, "max_input_tokens": _edge(o.max_bin),
                            "monthly_saving_usd": o.saving, **{k: o.change[k] for k in ("delta", "low", "high", "n")}}
                           if (o := chosen.get(f)) else {"to": None})}
                       for f in sorted(set(opt.today["feature"]))],
        "frontier": frontier, "chosen": chosen_point, "notes": opt.notes,
    }


def scenario_yaml(sc: Scenario) -> str:
    """The scenario as YAML that `load_scenario` reads back (defaults left out)."""
    import yaml

    return yaml.safe_dump(sc.model_dump(exclude_defaults=True, mode="json"), sort_keys=False, allow_unicode=True)
