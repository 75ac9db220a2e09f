"""The price book in the database: `build_price_book` snapshots it (tables `price_books`, `prices`,
`price_resolution`, `price_rates`, `price_self_hosted`, view `priced_calls`); `explain`, `unpriced`,
`logged_cost_disagreement` and `current_book` read it back.

One book per database: `set_price_book` records the overrides file (path, sha256, its text, the
map version) in `price_book_setting`; `ensure_price_book` keeps `priced_calls` priced with it
(ingest and every command call it; a read-only connection whose stored book is out of date
prices with one built in memory); `priced_with` prices one run with other overrides, in TEMP
tables that only its connection sees. The logged-cost check compares at list price (what a source can
know), with the discounted comparison beside it.

The per-call arithmetic is one SQL view over an ASOF join on the context band (rates from
`rates.py`, names resolved by `book.py`): no Python loop ever touches calls.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
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


def _insert_lists(con, table: str, rows: list[tuple]) -> None:
    """Bulk insert (column order = table order) as one INSERT of unnested column lists: as fast
    as an Arrow scan for these sizes, without importing pyarrow and pandas (ingest prices too)."""
    if not rows:
        return
    names = [d[0] for d in con.execute(f"DESCRIBE {table}").fetchall()]
    cols = [list(c) for c in zip(*rows)]
    picks = ", ".join(f"unnest(${i + 1})" for i in range(len(cols)))
    con.execute(f"INSERT INTO {table} ({', '.join(names[:len(cols)])}) SELECT * FROM (SELECT {picks})", cols)


_BOOK_TABLES = ("price_resolution", "price_rates", "prices", "price_self_hosted", "price_books")


def build_price_book(con, overrides_path: str | Path | None = None, *,
                     recorded_path: str | None = None, temporary: bool = False) -> PriceBookInfo:
    """Resolve every distinct (provider, model) in `calls`, expand rates, snapshot the book.

    Replaces the current book (price_resolution, price_rates, prices, price_self_hosted)
    in one transaction and appends a row to price_books. Re-run after ingesting new models
    or changing the overrides; `priced_calls` shows such calls as 'not_resolved' until then
    (`workbench ingest` re-prices with the database's book itself: `ensure_price_book`).
    `recorded_path` names the overrides in `price_books` when the file read is a stored copy.
    Rows go in as one list-unnest INSERT per table (no pyarrow/pandas: ingest stays light).

    `temporary` builds the book in this connection's TEMP tables of the same names instead,
    which `priced_calls` reads before the stored ones: a one-run book, or a read-only
    connection's up-to-date one, without writing to the file (`drop_temporary_book` ends it).
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
    if temporary:
        for table in _BOOK_TABLES:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS FROM main.{table} LIMIT 0")
    con.execute("BEGIN TRANSACTION")
    try:
        for table in _BOOK_TABLES[:-1]:
            con.execute(f"DELETE FROM {table}")
        _insert_lists(con, "price_resolution",
                [(r.provider, r.model, r.price_key, r.match_rule, r.pricing_basis, r.discount, r.discount_source,
                  book.version) for r in resolutions])
        _insert_lists(con, "price_rates", rate_rows)
        _insert_lists(con, "prices", price_rows)
        _insert_lists(con, "price_self_hosted",
                [(s.name, s.provider, s.gpu_hourly_usd, s.gpus_per_replica, s.throughput_tokens_per_s,
                  s.target_utilization, s.min_replicas, book.version) for s in book.self_hosted.values()])
        con.execute(
            "INSERT INTO price_books VALUES (?, ?, ?, ?, ?, ?, ?)",
            [book.version, book.litellm_version, book.map_sha256, book.map_entries, recorded_path or book.overrides_path,
             book.overrides_sha256, now],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    priced = sum(1 for r in resolutions if r.price_key)
    return PriceBookInfo(
        book_version=book.version, litellm_version=book.litellm_version, map_sha256=book.map_sha256,
        map_entries=book.map_entries, overrides_path=recorded_path or book.overrides_path, overrides_sha256=book.overrides_sha256,
        pairs=len(resolutions), priced_pairs=priced, unpriced_pairs=len(resolutions) - priced, price_keys=len(used),
    )


# ---------------------------------------------------------------------------------------
# Inspection
# ---------------------------------------------------------------------------------------

_COST_FIELD = re.compile(r"cost|tiered_pricing")


def explain(model: str, provider: str | None = None, overrides_path: str | Path | None = None) -> dict:
    """How a model name resolves and the rates it gets (for `workbench prices MODEL`).

    `status` is priced | self_hosted | free_per_map | unpriced; `match_rule` names the rule that
    fired (book.py's module docstring lists them in order) and `note` says what to verify (a
    first_party_fallback, a fine-tune priced at its base, a $0 map entry). A free_per_map entry
    is not a price: `price_key` is None, its 0 rates are under `map_entry_prices` (not
    `entry_prices`, so no table reads them as a price) and `message` says what to do."""
    book = load_price_book(overrides_path)
    r = book.resolve(model, provider)
    status = ("free_per_map" if r.pricing_basis == "free_per_map" else "unpriced" if r.price_key is None
              else "self_hosted" if r.pricing_basis == "self_hosted" else "priced")
    out: dict[str, Any] = {
        "model": model,
        "provider": provider,
        "priced": r.price_key is not None,
        "status": status,
        "price_key": r.price_key,
        "match_rule": r.match_rule,
        "pricing_basis": r.pricing_basis,
        "discount": r.discount,
        "discount_source": r.discount_source,
        "tried": r.tried,
        "book_version": book.version,
    }
    if r.note:
        out["note"] = r.note
    if status == "free_per_map":
        entry = book.entries[r.map_key]
        out.update(map_key=r.map_key, free_kind=r.free_kind, source=book.source(r.map_key),
                   litellm_provider=entry.get("litellm_provider"),
                   map_entry_prices={k: v for k, v in entry.items() if _COST_FIELD.search(k)},
                   message=f"{model!r}: {r.note}. Its calls stay out of every total (cost NULL) until then.")
        return out
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
    """`explain` for every (provider, model) pair in `calls` (for `workbench prices --db`), with
    each pair's volume (`calls`, `input_tokens`, `output_tokens`: one GROUP BY), so a
    free_per_map or unpriced model shows what it carries."""
    build_price_book(con, overrides_path)
    pairs = con.execute(
        "SELECT provider, model, count(*), sum(input_tokens), sum(output_tokens) FROM calls "
        "WHERE model IS NOT NULL GROUP BY ALL ORDER BY provider, model").fetchall()
    return [{**explain(m, p, overrides_path), "calls": n, "input_tokens": i, "output_tokens": o}
            for p, m, n, i, o in pairs]


def _book_in_force(con):
    """The PriceBook `priced_calls` is priced with now (the latest build), or None if its overrides
    cannot be read back (then `unpriced` leaves out the map key of free_per_map rows)."""
    cur = current_book(con)
    if cur is None:
        return None
    path = cur.get("overrides_path")
    try:
        if path and not Path(path).is_file():  # a stored copy ("<path> (stored copy, sha256 …)")
            path = _setting_source(book_setting(con))[0]
        book = load_price_book(path)
    except Exception:  # noqa: BLE001 - a label for people, never a reason to fail the listing
        return None
    return book if book.version == cur["book_version"] else None


def unpriced(con) -> list[dict]:
    """Models whose calls carry no price (or were not resolved yet), with their volume.

    price_status: 'unpriced' (no entry), 'not_resolved' (no book built for it yet) or
    'free_per_map': the map's entry has every token rate at 0 (a local runtime, an
    instance-hour service, a per-clip media model, a free tier), which is a finding, not a
    price: cost NULL, excluded from every total like an unpriced model. Those rows also carry
    `map_key`, `free_kind`, `match_rule` and a `note` ("free per the price map — verify: ...",
    pointing self-hosted and instance-hour models to `self_hosted:` in the overrides).
    One GROUP BY over `priced_calls`; the note comes from re-resolving the few distinct pairs."""
    cur = con.execute(
        """
        SELECT provider, model,
               CASE WHEN pricing_basis = 'free_per_map' THEN 'free_per_map' ELSE price_status END AS price_status,
               count(*) AS calls,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               fsum(logged_cost_usd) AS logged_cost_usd,
               any_value(match_rule) AS match_rule
        FROM priced_calls
        WHERE price_key IS NULL
        GROUP BY ALL
        ORDER BY calls DESC, provider, model
        """
    )
    names = [d[0] for d in cur.description]
    out = []
    book = None
    for row in cur.fetchall():
        d = dict(zip(names, row))
        rule = d.pop("match_rule")
        if d["price_status"] == "free_per_map":
            book = book or _book_in_force(con)
            r = book.resolve(d["model"], d["provider"]) if book else None
            d.update(match_rule=rule, map_key=r.map_key if r else None, free_kind=r.free_kind if r else None,
                     note=r.note if r and r.note else "free per the price map — verify: every token rate of its "
                     "map entry is 0; list it under `self_hosted:` (or give its rates under `models:`) in the overrides")
        out.append(d)
    return out


def logged_cost_disagreement(con, tolerance: float = 0.01) -> dict:
    """Compare the cost the source logged with ours: at LIST price first, discounted beside it.

    A source logs what it could know: the provider's list price (LiteLLM, Langfuse, OpenRouter and
    Helicone compute it from a public price map), never the client's negotiated discount. So the
    headline check compares `logged_cost_usd` with `list_cost_usd` (our cost before discounts):
    `disagreeing`, `share_disagreeing`, `computed_total_usd` and `by_model` are at list price
    (`basis: list`). The comparison with the discounted `cost_usd` (what the client pays) sits
    beside it under `discounted`, where `explained_by_discount` counts the calls that agree at list
    price and differ only because of the discount (not an error of the source or of ours).

    A call disagrees when |ours - logged| > tolerance x max(|logged|, |ours|) + 1e-12 (relative;
    the epsilon absorbs float noise). Only calls with both a logged cost and a computed cost are
    compared; logged-but-unpriced calls are counted apart. One SQL pass over `priced_calls`.
    """
    cur = con.execute(
        """
        WITH t AS (
            SELECT provider, model, logged_cost_usd, list_cost_usd, cost_usd, discount,
                   abs(list_cost_usd - logged_cost_usd) > $tol * greatest(abs(logged_cost_usd), abs(list_cost_usd))
                       + 1e-12 AS list_disagrees,
                   abs(cost_usd - logged_cost_usd) > $tol * greatest(abs(logged_cost_usd), abs(cost_usd))
                       + 1e-12 AS net_disagrees
            FROM priced_calls WHERE logged_cost_usd IS NOT NULL
        )
        SELECT count(*) AS calls_with_logged_cost,
               count(*) FILTER (cost_usd IS NOT NULL) AS compared,
               count(*) FILTER (cost_usd IS NULL) AS logged_but_unpriced,
               count(*) FILTER (list_disagrees) AS disagreeing,
               fsum(logged_cost_usd) FILTER (cost_usd IS NOT NULL) AS logged_total_usd,
               fsum(list_cost_usd) FILTER (cost_usd IS NOT NULL) AS computed_total_usd,
               count(*) FILTER (net_disagrees) AS net_disagreeing,
               fsum(cost_usd) AS net_total_usd,
               count(*) FILTER (net_disagrees AND NOT list_disagrees) AS explained_by_discount,
               count(*) FILTER (cost_usd IS NOT NULL AND discount > 0) AS discounted_calls
        FROM t
        """,
        {"tol": tolerance},
    )
    names = [d[0] for d in cur.description]
    row = dict(zip(names, cur.fetchall()[0]))
    share = (lambda n: n / row["compared"] if row["compared"] else None)  # noqa: E731
    by_model = """
        SELECT provider, model, count(*) AS compared,
               count(*) FILTER (abs({ours} - logged_cost_usd) > $tol * greatest(abs(logged_cost_usd), abs({ours}))
                                + 1e-12) AS disagreeing,
               fsum(logged_cost_usd) AS logged_usd, fsum({ours}) AS computed_usd
        FROM priced_calls WHERE logged_cost_usd IS NOT NULL AND cost_usd IS NOT NULL
        GROUP BY ALL HAVING disagreeing > 0 ORDER BY disagreeing DESC, provider, model
        """

    def models(ours: str) -> list[dict]:
        c = con.execute(by_model.format(ours=ours), {"tol": tolerance})
        cols = [d[0] for d in c.description]
        return [dict(zip(cols, r)) for r in c.fetchall()]

    res = {k: row[k] for k in ("calls_with_logged_cost", "compared", "logged_but_unpriced", "disagreeing",
                               "logged_total_usd", "computed_total_usd")}
    res.update(tolerance=tolerance, basis="list", share_disagreeing=share(row["disagreeing"]),
               by_model=models("list_cost_usd"))
    res["discounted"] = {
        "disagreeing": row["net_disagreeing"], "share_disagreeing": share(row["net_disagreeing"]),
        "computed_total_usd": row["net_total_usd"], "explained_by_discount": row["explained_by_discount"],
        "calls_with_a_discount": row["discounted_calls"], "by_model": models("cost_usd"),
    }
    res["summary"] = _logged_cost_summary(res)
    return res


def _logged_cost_summary(d: dict) -> str | None:
    """One plain sentence for people (the CLI and the report's assumptions use it)."""
    if not d.get("compared"):
        return None
    tol = f"{d['tolerance']:.0%}" if d["tolerance"] >= 0.01 else f"{d['tolerance']:.1%}"
    text = (f"at list price (what the source could know) {d['disagreeing']:,} of {d['compared']:,} calls "
            f"({d['share_disagreeing']:.1%}) differ by more than {tol} from the cost the source logged "
            f"(logged ${d['logged_total_usd'] or 0:,.2f} vs list ${d['computed_total_usd'] or 0:,.2f})")
    n = d["discounted"]
    if n["calls_with_a_discount"]:
        text += (f"; at the negotiated prices {n['disagreeing']:,} ({n['share_disagreeing']:.1%}) differ "
                 f"(${n['computed_total_usd'] or 0:,.2f}), {n['explained_by_discount']:,} of them only by the "
                 "discount, which the source cannot know")
    return text


def current_book(con) -> dict | None:
    """The most recent price_books row (what priced_calls is priced with), or None."""
    cur = con.execute("SELECT * FROM price_books ORDER BY built_at DESC, rowid DESC LIMIT 1")
    rows = cur.fetchall()
    return dict(zip([d[0] for d in cur.description], rows[0])) if rows else None


# ---------------------------------------------------------------------------------------
# One price book per database
# ---------------------------------------------------------------------------------------
#
# `set_price_book` records which overrides file the database is priced with (its path, sha256,
# its text, and the price map's litellm version and sha256: table `price_book_setting`, migration
# 0008); no row means litellm's list prices with no overrides. `ensure_price_book` makes the
# tables `priced_calls` reads hold that book (rebuilding only when it is not the book in force, the
# installed litellm changed, or some logged (provider, model) has no resolution yet): ingest, every
# command, the Python API and the notebooks call it. The file changing or vanishing after it was
# set changes nothing: the stored copy is priced, with a note saying so. `priced_with` prices one
# run with other overrides and restores the database's book afterwards.


def book_setting(con) -> dict | None:
    """The database's price book as set (`price_book_setting`), or None: list prices, no overrides."""
    import duckdb

    try:
        cur = con.execute("SELECT * FROM price_book_setting ORDER BY set_at DESC LIMIT 1")
    except duckdb.CatalogException:  # a database from before migration 0008, opened read-only
        return None
    rows = cur.fetchall()
    return dict(zip([d[0] for d in cur.description], rows[0])) if rows else None


def set_price_book(con, overrides_path: str | Path | None = None, *, set_by: str = "api") -> PriceBookInfo:
    """Make `overrides_path` (None: no overrides, litellm's list prices) this database's price book.

    The file is validated and the book built first (errors name the file and the field), then the
    setting is recorded with the file's content, so later runs price the same book even if the file
    changes or vanishes."""
    path = Path(overrides_path).resolve() if overrides_path else None
    text = None
    if path is not None:
        if not path.is_file():
            from ..errors import WorkbenchError

            raise WorkbenchError(f"{overrides_path}: no such overrides file")
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")  # re-encodes to the same bytes: the stored copy has the same sha256
        except UnicodeDecodeError:
            from ..errors import WorkbenchError

            raise WorkbenchError(f"{overrides_path}: an overrides file must be UTF-8 text") from None
    info = build_price_book(con, path)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM price_book_setting")
        con.execute("INSERT INTO price_book_setting VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [str(path) if path else None, info.overrides_sha256, text, info.litellm_version,
                     info.map_sha256, info.book_version, datetime.now(timezone.utc), set_by])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return info


def describe_setting(setting: dict | None) -> str:
    if not setting or not setting.get("overrides_path"):
        return "litellm's list prices, no overrides"
    when = setting["set_at"].strftime("%Y-%m-%d") if hasattr(setting.get("set_at"), "strftime") else setting.get("set_at")
    return f"{setting['overrides_path']} (sha256 {str(setting['overrides_sha256'])[:12]}, set {when})"


def _sha256_file(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _setting_source(setting: dict | None) -> tuple[str | None, str | None, list[str]]:
    """(file to read, name to record in price_books, notes) for the database's book."""
    if not setting or not setting.get("overrides_path"):
        return None, None, []
    import os
    import tempfile

    path, want = Path(setting["overrides_path"]), setting["overrides_sha256"]
    if path.is_file():
        now = _sha256_file(path)
        if now == want:
            return str(path), None, []
        notes = [f"{path} changed since it was set as this database's price book ({describe_setting(setting)}; "
                 f"sha256 {now[:12]} now): pricing with the copy stored in the database. "
                 f"`workbench prices --db DB --prices {path}` makes the new version the book"]
    else:
        notes = [f"{path}, this database's overrides file, is gone: pricing with the copy stored in the database "
                 f"({describe_setting(setting)})"]
    if setting.get("overrides_text") is None:
        from ..errors import WorkbenchError

        raise WorkbenchError(notes[0].split(": pricing")[0] + ", and the database holds no copy of it: "
                             "set the book again with `workbench prices --db DB --prices FILE`")
    copy = Path(tempfile.gettempdir()) / "workbench-price-books" / want[:16] / path.name
    if not copy.is_file() or _sha256_file(copy) != want:
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_name(f".{copy.name}.{os.getpid()}")
        tmp.write_text(setting["overrides_text"], encoding="utf-8")
        os.replace(tmp, copy)
    return str(copy), f"{path} (stored copy, sha256 {want[:12]})", notes


def _litellm_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def drop_temporary_book(con) -> None:
    """Back to the stored book after `build_price_book(..., temporary=True)`."""
    for table in _BOOK_TABLES:
        con.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _read_only(con) -> bool:
    return con.execute("SELECT current_setting('access_mode')").fetchall()[0][0] == "read_only"


def _unresolved_pairs(con) -> int:
    return con.execute(
        """SELECT count(*) FROM (SELECT DISTINCT provider, model FROM calls) c
           WHERE NOT EXISTS (SELECT 1 FROM price_resolution r
                             WHERE r.provider IS NOT DISTINCT FROM c.provider AND r.model IS NOT DISTINCT FROM c.model)"""
    ).fetchall()[0][0]


def ensure_price_book(con) -> dict:
    """Make `priced_calls` price with the database's own book; rebuild only when needed.

    Rebuilds when no book was built yet, when the book in force is not the database's (a one-off
    run that did not finish, another overrides file), when the installed litellm changed, or when
    a logged (provider, model) has no resolution yet (new calls). Cheap otherwise: no map is read.
    Returns what was priced with: scope 'database', the overrides file as set and the file read
    (the stored copy when the file changed or vanished), book version, and notes for people."""
    setting = book_setting(con)
    read_path, recorded, notes = _setting_source(setting)
    want_sha = setting["overrides_sha256"] if setting else None
    cur = current_book(con)
    stale = (cur is None or cur["overrides_sha256"] != want_sha or cur["litellm_version"] != _litellm_version()
             or _unresolved_pairs(con) > 0)
    rebuilt = False
    if stale:
        # a read-only connection prices with the book built in memory (nothing written to the file)
        build_price_book(con, read_path, recorded_path=recorded, temporary=_read_only(con))
        cur, rebuilt = current_book(con), True
    if setting and cur and cur["map_sha256"] != setting["map_sha256"]:
        notes.append(f"this database's price book was set with the price map of litellm {setting['litellm_version']} "
                     f"(sha256 {setting['map_sha256'][:12]}); the installed litellm {cur['litellm_version']} "
                     f"(map {cur['map_sha256'][:12]}) is priced instead, and list prices may have moved. "
                     "`workbench prices --db DB --prices FILE` (or --no-overrides) accepts the new map")
    return {
        "scope": "database", "book_set": setting is not None,
        "overrides_file": setting.get("overrides_path") if setting else None,
        "overrides_path": read_path, "overrides_sha256": want_sha,
        "book_version": cur["book_version"] if cur else None,
        "database_book": describe_setting(setting), "set_at": setting.get("set_at") if setting else None,
        "rebuilt": rebuilt, "notes": notes,
    }


@contextmanager
def priced_with(con, overrides: str | Path | None = None):
    """`priced_calls` priced for the length of one run; yields what it was priced with (see
    `ensure_price_book`; `overrides_path` is the file to load the PriceBook from).

    `overrides` None, empty, or a file with the same content as the database's book: the database's
    book. Any other file prices this run only (scope 'this run'), in this connection's TEMP
    tables (dropped on exit, also on error): nothing is written to the file, so it works on a
    read-only connection, and a one-off `--prices` never changes what other commands, notebooks,
    reports and DuckDB clients see, during the run or after. Making a file the book is
    `set_price_book`."""
    if overrides and Path(overrides).is_file():
        setting = book_setting(con)
        if setting and setting.get("overrides_path") and setting["overrides_sha256"] == _sha256_file(Path(overrides)):
            overrides = None
    if not overrides:
        yield ensure_price_book(con)
        return
    setting = book_setting(con)
    # in this connection's TEMP tables: other connections, and the file, keep the database's book
    info = build_price_book(con, overrides, temporary=True)  # an invalid file fails here
    try:
        yield {
            "scope": "this run", "book_set": setting is not None, "overrides_file": str(overrides),
            "overrides_path": str(overrides), "overrides_sha256": info.overrides_sha256,
            "book_version": info.book_version, "database_book": describe_setting(setting),
            "set_at": None, "rebuilt": True,
            "notes": [f"priced with {overrides} for this run only; this database's price book stays "
                      f"{describe_setting(setting)} (`workbench prices --db DB --prices {overrides}` makes "
                      f"{Path(overrides).name} the book)"],
        }
    finally:
        drop_temporary_book(con)
