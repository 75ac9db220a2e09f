"""The price book in the database: `build_price_book` snapshots it (tables `price_books`, `prices`,
`price_resolution`, `price_rates`, `price_self_hosted`, view `priced_calls`); `explain`, `unpriced`,
`logged_cost_disagreement` and `current_book` read it back.

The per-call arithmetic is one SQL view over an ASOF join on the context band (rates from
`rates.py`, names resolved by `book.py`): no Python loop ever touches calls.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .book import PriceBookInfo, load_price_book
from .pricemap import _num

_RATE_COLS = ("price_key", "service_tier", "above_input_tokens", "input_rate", "output_rate", "reasoning_rate",
              "cache_read_rate", "cache_write_rate", "cache_write_1h_rate", "rate_source")


def _insert(con, table: str, rows: list[tuple]) -> None:
    """Bulk insert (column order = table order) through one Arrow scan, not row by row."""
    if not rows:
        return
    import pyarrow as pa

    described = con.execute(f"DESCRIBE {table}").fetchall()  # (name, type, ...)
    names = [d[0] for d in described]
    arrays = [pa.array(c, type=pa.string() if d[1] in ("VARCHAR", "JSON") else None)
              for d, c in zip(described, zip(*rows))]
    _rows = pa.table(arrays, names=names)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute(f"INSERT INTO {table} SELECT * FROM _rows")


def build_price_book(con, overrides_path: str | Path | None = None) -> PriceBookInfo:
    """Resolve every distinct (provider, model) in `calls`, expand rates, snapshot the book.

    Replaces the current book (price_resolution, price_rates, prices, price_self_hosted)
    in one transaction and appends a row to price_books. Re-run after ingesting new models
    or changing the overrides; `priced_calls` shows such calls as 'not_resolved' until then.
    """
    book = load_price_book(overrides_path)
    pairs = con.execute("SELECT DISTINCT provider, model FROM calls").fetchall()
    resolutions = [book.resolve(model, provider) for provider, model in pairs]
    used = sorted({r.price_key for r in resolutions if r.price_key})
    snapshot_keys = sorted(set(used) | {k for k in book.sources} | {f"self_hosted/{n}" for n in book.self_hosted})
    rate_rows = [tuple(row[c] if c != "price_key" else key for c in _RATE_COLS)
                 for key in used for row in book.rates(key)]
    price_rows = []
    for key in snapshot_keys:
        if key.startswith("self_hosted/"):
            entry = asdict(book.self_hosted[key[len("self_hosted/"):]])
            price_rows.append((book.version, key, "self_hosted", entry.get("provider"), "self_hosted", 0.0, 0.0,
                               json.dumps(entry)))
        else:
            e = book.entries[key]
            price_rows.append((book.version, key, book.source(key), e.get("litellm_provider"), e.get("mode"),
                               _num(e, "input_cost_per_token"), _num(e, "output_cost_per_token"),
                               json.dumps(e, default=str)))
    now = datetime.now(timezone.utc)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("price_resolution", "price_rates", "prices", "price_self_hosted"):
            con.execute(f"DELETE FROM {table}")
        _insert(con, "price_resolution",
                [(r.provider, r.model, r.price_key, r.match_rule, r.pricing_basis, r.discount, r.discount_source,
                  book.version) for r in resolutions])
        _insert(con, "price_rates", rate_rows)
        _insert(con, "prices", price_rows)
        _insert(con, "price_self_hosted",
                [(s.name, s.provider, s.gpu_hourly_usd, s.gpus_per_replica, s.throughput_tokens_per_s,
                  s.target_utilization, s.min_replicas, book.version) for s in book.self_hosted.values()])
        con.execute(
            "INSERT INTO price_books VALUES (?, ?, ?, ?, ?, ?, ?)",
            [book.version, book.litellm_version, book.map_sha256, book.map_entries, book.overrides_path,
             book.overrides_sha256, now],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    priced = sum(1 for r in resolutions if r.price_key)
    return PriceBookInfo(
        book_version=book.version, litellm_version=book.litellm_version, map_sha256=book.map_sha256,
        map_entries=book.map_entries, overrides_path=book.overrides_path, overrides_sha256=book.overrides_sha256,
        pairs=len(resolutions), priced_pairs=priced, unpriced_pairs=len(resolutions) - priced, price_keys=len(used),
    )


# ---------------------------------------------------------------------------------------
# Inspection
# ---------------------------------------------------------------------------------------

_COST_FIELD = re.compile(r"cost|tiered_pricing")


def explain(model: str, provider: str | None = None, overrides_path: str | Path | None = None) -> dict:
    """How a model name resolves and the rates it gets (for `workbench prices MODEL`)."""
    book = load_price_book(overrides_path)
    r = book.resolve(model, provider)
    out: dict[str, Any] = {
        "model": model,
        "provider": provider,
        "priced": r.price_key is not None,
        "price_key": r.price_key,
        "match_rule": r.match_rule,
        "pricing_basis": r.pricing_basis,
        "discount": r.discount,
        "discount_source": r.discount_source,
        "tried": r.tried,
        "book_version": book.version,
    }
    if r.price_key is None:
        out["message"] = (
            f"no price for {model!r}: calls to it stay unpriced (cost NULL). Add it to the overrides file "
            "under models (with input_cost_per_token / output_cost_per_token), aliases or self_hosted."
        )
        return out
    if r.pricing_basis == "self_hosted":
        out["self_hosted"] = asdict(book.self_hosted[r.price_key[len("self_hosted/"):]])
        out["source"] = "self_hosted"
    else:
        entry = book.entries[r.price_key]
        out["source"] = book.source(r.price_key)
        out["litellm_provider"] = entry.get("litellm_provider")
        out["entry_prices"] = {k: v for k, v in entry.items() if _COST_FIELD.search(k)}
    out["rates"] = book.rates(r.price_key)
    return out


def explain_logged(con, overrides_path: str | Path | None = None) -> list[dict]:
    """`explain` for every (provider, model) pair in `calls` (for `workbench prices --db`)."""
    build_price_book(con, overrides_path)
    pairs = con.execute("SELECT DISTINCT provider, model FROM calls ORDER BY ALL").fetchall()
    return [explain(m, p, overrides_path) for p, m in pairs if m]


def unpriced(con) -> list[dict]:
    """Models whose calls carry no price (or were not resolved yet), with their volume."""
    cur = con.execute(
        """
        SELECT provider, model, price_status, count(*) AS calls,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               fsum(logged_cost_usd) AS logged_cost_usd
        FROM priced_calls
        WHERE price_key IS NULL
        GROUP BY ALL
        ORDER BY calls DESC, provider, model
        """
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def logged_cost_disagreement(con, tolerance: float = 0.01) -> dict:
    """Compare our cost with the cost the source logged.

    A call disagrees when |cost_usd - logged_cost_usd| > tolerance x max(|logged|, |cost|)
    (relative; a tiny absolute epsilon absorbs float noise). Only calls with both a logged
    cost and a computed cost are compared; logged-but-unpriced calls are counted apart.
    """
    cur = con.execute(
        """
        WITH t AS (
            SELECT *, abs(cost_delta_vs_logged) > ? * greatest(abs(logged_cost_usd), abs(cost_usd)) + 1e-12
                   AS disagrees
            FROM priced_calls WHERE logged_cost_usd IS NOT NULL
        )
        SELECT count(*) AS calls_with_logged_cost,
               count(*) FILTER (cost_usd IS NOT NULL) AS compared,
               count(*) FILTER (cost_usd IS NULL) AS logged_but_unpriced,
               count(*) FILTER (disagrees) AS disagreeing,
               fsum(logged_cost_usd) FILTER (cost_usd IS NOT NULL) AS logged_total_usd,
               fsum(cost_usd) AS computed_total_usd
        FROM t
        """,
        [tolerance],
    )
    names = [d[0] for d in cur.description]
    res = dict(zip(names, cur.fetchone()))
    res["tolerance"] = tolerance
    res["share_disagreeing"] = res["disagreeing"] / res["compared"] if res["compared"] else None
    cur = con.execute(
        """
        SELECT provider, model, count(*) AS compared,
               count(*) FILTER (abs(cost_delta_vs_logged) > ? * greatest(abs(logged_cost_usd), abs(cost_usd)) + 1e-12)
                   AS disagreeing,
               fsum(logged_cost_usd) AS logged_usd, fsum(cost_usd) AS computed_usd
        FROM priced_calls WHERE logged_cost_usd IS NOT NULL AND cost_usd IS NOT NULL
        GROUP BY ALL HAVING disagreeing > 0 ORDER BY disagreeing DESC, provider, model
        """,
        [tolerance],
    )
    names = [d[0] for d in cur.description]
    res["by_model"] = [dict(zip(names, row)) for row in cur.fetchall()]
    return res


def current_book(con) -> dict | None:
    """The most recent price_books row (what priced_calls is priced with), or None."""
    cur = con.execute("SELECT * FROM price_books ORDER BY built_at DESC LIMIT 1")
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None
