"""`workbench project`: scenarios x multipliers over the profile, with provenance and outcomes.

Every projection records what it stands on — price-book version, scenario hashes, data
fingerprint, workbench version — so a figure can be reproduced tomorrow.

Prices: the database's own price book (`workbench prices --db D --prices FILE` sets it; see
`pricing.ensure_price_book`) unless `overrides` names another file, which prices this run only:
the database's book is restored when the projection is done (`pricing.priced_with`). What was
used is `provenance.price_book` (scope `database` or `this run`, the file, its sha256, notes).

A scenario whose routing sends traffic `to:` a model the book cannot price is refused
(WorkbenchError naming the scenario file, the rule and the model, and what to do): its totals
would leave that traffic out and read as a saving. With `refuse_unpriced=False` (the report and
the notebooks, so one bad file does not blank a client's report) such a scenario is left out of
`scenarios` and listed under `refused` (file, scenario, messages) and in `warnings` instead. Other checks (`match:` values no call has)
are warnings: per scenario under `warnings`, all of them under the document's `warnings`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .. import __version__
from ..errors import WorkbenchError
from .engine import Projector
from .evidence import lever_sources
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
            sensitivity_for: Callable[[list[dict]], str | None] | None = None,
            refuse_unpriced: bool = True) -> dict:
    """Project monthly cost for each scenario file (and today's mix) at each multiplier.

    The sensitivity ranking (at `sensitivity_at`x) is worked out for every scenario, or, with
    `sensitivity_for`, only for the one it names given the results (it prices dozens of variants)."""
    from .pricing import priced_with

    with priced_with(con, overrides or None) as used:
        return _project(con, used, scenario_paths, multipliers, sensitivity_at, sensitivity_for, refuse_unpriced)


def unpriced_targets(projector: Projector, loaded: list[tuple[Scenario, str | None]]) -> list[dict]:
    """Per scenario that routes traffic to a model with no price: file, scenario, warnings."""
    out = []
    for sc, path in loaded:
        ws = [dict(w, file=path) for w in projector.check(sc) if w["kind"] == "unpriced_target"]
        if ws:
            out.append({"file": path, "scenario": sc.name, "warnings": ws,
                        "message": "; ".join(w["message"] for w in ws)})
    return out


def refuse_unpriced_targets(projector: Projector, loaded: list[tuple[Scenario, str | None]]) -> None:
    """Raise when a scenario routes traffic to a model with no price (see the module docstring)."""
    problems = [f"{r['file'] or 'scenario ' + repr(r['scenario'])}: {w['where']}: {w['message']}"
                for r in unpriced_targets(projector, loaded) for w in r["warnings"]]
    if problems:
        raise WorkbenchError(
            "\n".join(problems) + "\nA scenario that routes traffic to a model with no price cannot be projected; "
            "check the spelling with `workbench prices MODEL`, or add the model to the overrides file and make it "
            "the database's book with `workbench prices --db DB --prices FILE`"
        )


def _project(con, used: dict, scenario_paths, multipliers, sensitivity_at, sensitivity_for,
             refuse_unpriced: bool = True) -> dict:
    from .book import load_price_book
    from .pricing import logged_cost_disagreement, unpriced

    book = load_price_book(used["overrides_path"])
    profile = build_profile(con)
    projector = Projector(profile, book)
    loaded = [(load_scenario(p), str(p)) for p in scenario_paths]
    refused: list[dict] = []
    if refuse_unpriced:
        refuse_unpriced_targets(projector, loaded)
    else:
        refused = unpriced_targets(projector, loaded)
        loaded = [(sc, p) for sc, p in loaded if sc.name not in {r["scenario"] for r in refused}]
    # today's mix always comes first, unless a file already defines the baseline
    scenarios: list[tuple[Scenario, str | None]] = (
        [] if any(sc.name == BASELINE.name for sc, _ in loaded) else [(BASELINE, None)]
    ) + loaded
    results = []
    for sc, path in scenarios:
        r = projector.evaluate(sc, multipliers)
        r["file"] = path
        r["levers"] = lever_sources(sc, profile.levers)
        for w in r["warnings"]:
            w["file"] = path
        if sensitivity_at and sensitivity_for is None:
            r["sensitivity"] = projector.sensitivity(sc, sensitivity_at)
        results.append(r)
    if sensitivity_at and sensitivity_for is not None:
        chosen = sensitivity_for(results)
        for (sc, _), r in zip(scenarios, results):
            if r["scenario"] == chosen:
                r["sensitivity"] = projector.sensitivity(sc, sensitivity_at)
    _add_quality(con, projector, scenarios, results, multipliers)
    outcomes = cost_per_outcome(con)
    per_outcome = _scale_outcomes(outcomes, results)
    return _plain({
        "provenance": {
            "workbench_version": __version__,
            "price_book_version": book.version,
            "litellm_version": book.litellm_version,
            "price_map_sha256": book.map_sha256,
            "price_book": {k: (str(used[k]) if k == "set_at" and used.get(k) is not None else used.get(k))
                           for k in ("scope", "overrides_file", "overrides_sha256", "book_version",
                                     "database_book", "set_at", "notes")},
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
        "refused": refused,
        "warnings": [w for r in refused for w in r["warnings"]] + [w for r in results for w in r["warnings"]],
    })


def _add_quality(con, projector: Projector, scenarios, results: list[dict], multipliers) -> None:
    """Each result's `quality`: what its routing gives up on the golden set (`quality.py`), and a
    `headline` sentence: "saves $X/month at 10x; quality -0.02 [-0.05, +0.01] on 40 cases"."""
    from .quality import QualityTable, scenario_quality

    table = QualityTable.from_db(con)
    at = 10.0 if 10.0 in [float(m) for m in multipliers] else float(list(multipliers)[-1])
    for (sc, _), r in zip(scenarios, results):
        if table.empty and sc.routing:
            q = {"status": "not_evaluated", "delta": None, "low": None, "high": None, "n_cases": 0,
                 "message": "quality not evaluated: no eval runs with golden cases per feature in this database "
                            "(run `workbench eval SUITE` with today's and the target models)"}
        else:
            q = scenario_quality(projector, sc, table)
        r["quality"] = q
        m = next((x for x in r["multipliers"] if float(x["multiplier"]) == at), None)
        if m is not None and sc.routing:
            verb = "saves" if m["savings_usd"] >= 0 else "adds"
            r["headline"] = f"{verb} ${abs(m['savings_usd']):,.0f}/month at {at:g}x; {q['message']}"


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
