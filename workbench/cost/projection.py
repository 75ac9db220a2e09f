"""`workbench project`: scenarios x multipliers over the profile, with provenance and outcomes.

Every projection records what it stands on — price-book version, scenario hashes, data
fingerprint, workbench version — so a figure can be reproduced tomorrow.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .. import __version__
from .engine import Projector
from .profile import build_profile
from .scenario import BASELINE, DEFAULT_MULTIPLIERS, Scenario, load_scenario


def cost_per_outcome(con) -> list[dict]:
    """Today's cost per business outcome, where an outcomes table links sessions to outcomes."""
    if not con.execute("SELECT count(*) FROM outcomes").fetchone()[0]:
        return []
    return [
        dict(zip(("outcome", "outcomes", "value_usd", "cost_usd", "cost_per_outcome_usd"), r))
        for r in con.execute(
            """
            WITH s AS (SELECT session_id, fsum(cost_usd) AS cost FROM priced_calls
                       WHERE session_id IS NOT NULL GROUP BY 1)
            SELECT o.outcome, count(*), fsum(o.value_usd), fsum(s.cost), fsum(s.cost) / count(*)
            FROM outcomes o LEFT JOIN s ON s.session_id = o.correlation_id
            GROUP BY 1 ORDER BY 2 DESC
            """
        ).fetchall()
    ]


def project(con, scenario_paths: list[str | Path] = (), multipliers=DEFAULT_MULTIPLIERS,
            overrides: str | Path | None = None, sensitivity_at: float | None = 10.0,
            sensitivity_for: Callable[[list[dict]], str | None] | None = None) -> dict:
    """Project monthly cost for each scenario file (and today's mix) at each multiplier.

    The sensitivity ranking (at `sensitivity_at`x) is worked out for every scenario, or, with
    `sensitivity_for`, only for the one it names given the results (it prices dozens of variants)."""
    from .book import load_price_book
    from .pricing import build_price_book, logged_cost_disagreement, unpriced

    info = build_price_book(con, overrides)
    book = load_price_book(overrides)
    profile = build_profile(con)
    projector = Projector(profile, book)
    loaded = [(load_scenario(p), str(p)) for p in scenario_paths]
    # today's mix always comes first, unless a file already defines the baseline
    scenarios: list[tuple[Scenario, str | None]] = (
        [] if any(sc.name == BASELINE.name for sc, _ in loaded) else [(BASELINE, None)]
    ) + loaded
    results = []
    for sc, path in scenarios:
        r = projector.evaluate(sc, multipliers)
        r["file"] = path
        if sensitivity_at and sensitivity_for is None:
            r["sensitivity"] = projector.sensitivity(sc, sensitivity_at)
        results.append(r)
    if sensitivity_at and sensitivity_for is not None:
        chosen = sensitivity_for(results)
        for (sc, _), r in zip(scenarios, results):
            if r["scenario"] == chosen:
                r["sensitivity"] = projector.sensitivity(sc, sensitivity_at)
    outcomes = cost_per_outcome(con)
    per_outcome = _scale_outcomes(outcomes, results)
    return _plain({
        "provenance": {
            "workbench_version": __version__,
            "price_book_version": info.book_version,
            "litellm_version": info.litellm_version,
            "price_map_sha256": info.map_sha256,
            "data_fingerprint": profile.fingerprint,
            "scenario_hashes": {r["scenario"]: r["scenario_hash"] for r in results},
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
        "window": {
            "first_call": profile.first, "last_call": profile.last,
            "days": round(profile.window_days, 3), "monthly_factor": round(profile.monthly_factor, 4),
            "how": f"monthly = observed cost per day over the {profile.window_days:.2f}-day window "
                   f"(first to last call) x 30.4375 days, then x the volume multiplier",
        },
        "calls_observed": profile.calls,
        "unpriced_models": unpriced(con),
        "logged_cost_check": logged_cost_disagreement(con),
        "cost_per_outcome_today": outcomes,
        "cost_per_outcome_method": per_outcome,
        "scenarios": results,
    })


def _scale_outcomes(outcomes: list[dict], results: list[dict]) -> str | None:
    """Add `cost_per_outcome_usd` to every scenario x multiplier.

    Outcomes grow with volume like calls do, so a scenario's cost per outcome is today's cost per
    outcome (all outcomes) x the scenario's monthly cost / today's mix's monthly cost at 1x."""
    n = sum(o["outcomes"] for o in outcomes)
    cost = sum(o["cost_usd"] or 0 for o in outcomes)
    if not n:
        return None
    today = cost / n
    base = next(r for r in results if r["scenario"] == "baseline")
    base_1x = {m["multiplier"]: m["baseline_monthly_cost_usd"] / m["multiplier"] for m in base["multipliers"]}
    for r in results:
        for m in r["multipliers"]:
            ref = base_1x.get(m["multiplier"]) or m["baseline_monthly_cost_usd"] / m["multiplier"]
            m["cost_per_outcome_usd"] = today * (m["monthly_cost_usd"] / m["multiplier"]) / ref if ref else None
    return ("today's cost per outcome (calls of the sessions linked to an outcome / outcomes) x the scenario's "
            "monthly cost per unit of volume / today's mix's")


def _plain(obj):
    """numpy scalars -> Python numbers, so the result serialises as JSON."""
    import numpy as np

    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
