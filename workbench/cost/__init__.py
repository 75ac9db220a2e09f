"""Cost: price every call, then project monthly cost under routing scenarios.

In: `calls` (from ingest), litellm's bundled price map + the user's overrides (YAML), scenario
files, outcomes (session -> business outcome). Out: the price book in the database (`price_books`,
`prices`, `price_resolution`, `price_rates`, the view `priced_calls`), the workload profile, and
projections (monthly cost per scenario x multiplier x model, savings, ranges, sensitivity).

    pricemap.py   the map and the overrides, read from disk (never litellm itself, never the network)
    book.py       the merged book and name resolution (alias, provider prefix, dated snapshot, ...)
    rates.py      one entry -> its rates per tier and context band (litellm's rules)
    pricing.py    the book snapshotted into DuckDB; unpriced models; logged-cost checks
    scenario.py   scenario files (the levers) and what "monthly" means
    profile.py    `calls` aggregated once into the workload profile
    engine.py     the levers applied to the profile, priced per multiplier (`Projector`)
    projection.py the `workbench project` document: book + profile + scenarios, with provenance
    outcomes.py   session -> outcome, for cost per outcome
"""

from __future__ import annotations

from .._imports import lazy_exports

_EXPORTS = {
    **dict.fromkeys(["litellm_map_path", "load_overrides", "SelfHostedModel"], ".pricemap"),
    **dict.fromkeys(["PriceBook", "PriceBookInfo", "Resolution", "load_price_book"], ".book"),
    **dict.fromkeys(["expand_rates"], ".rates"),
    **dict.fromkeys(["book_setting", "build_price_book", "current_book", "ensure_price_book", "explain",
                     "explain_logged", "logged_cost_disagreement", "priced_with", "set_price_book", "unpriced"],
                    ".pricing"),
    **dict.fromkeys(["BASELINE", "DAYS_PER_MONTH", "DEFAULT_MULTIPLIERS", "Match", "PromptCache", "RoutingRule",
                     "Scenario", "load_scenario"], ".scenario"),
    **dict.fromkeys(["Profile", "build_profile"], ".profile"),
    **dict.fromkeys(["Projector", "RateTable", "apply_levers"], ".engine"),
    **dict.fromkeys(["project"], ".projection"),
    **dict.fromkeys(["load_outcomes"], ".outcomes"),
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
