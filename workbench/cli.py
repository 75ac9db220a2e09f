"""Command line: a thin shell over the library.

Parse arguments, call the library, print a table for people or one JSON document (`--json`)
for machines. Imports stay inside the commands so `workbench --help` answers instantly.
Exit codes: 0 ok, 1 a gate or check failed, 2 usage or input error.
"""

from __future__ import annotations

import json
import sys

import click

from . import __version__
from .config import resource
from .errors import WorkbenchError

DB_HELP = "DuckDB file (default: $WORKBENCH_DB or ./workbench.duckdb)."


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=flag)
        out[key.strip()] = value.strip()
    return out


def _emit_json(doc) -> None:
    click.echo(json.dumps(doc, indent=2, default=str))


def _table(rows: list[dict], title: str | None = None, columns: list[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from rich.markup import escape

    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=escape(title) if title else None, title_justify="left", show_lines=False)
    for c in columns:
        numeric = bool(rows) and isinstance(rows[0].get(c), (int, float))
        table.add_column(escape(_safe(c)), justify="right" if numeric else "left")
    for r in rows:
        # Values are data, never markup: a model named `[/]` or `[link=…]` prints as written.
        table.add_row(*(escape(_safe(_fmt(r.get(c)))) for c in columns))
    # Off a terminal rich assumes 80 columns and would squeeze the table: give it room instead.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0, 9), *range(11, 32), 127]}


def _safe(s: str) -> str:
    """Text from the data as the terminal should show it: control characters (ANSI escapes that
    would recolour, move the cursor or retitle the terminal) shown as `\\x1b`, never obeyed."""
    return str(s).translate(_CONTROL)


def _echo(text: str, err: bool = False) -> None:
    click.echo(_safe(text), err=err)


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 1 else f"{v:,.1f}"
    return str(v)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="workbench")
def cli() -> None:
    """Readiness assessment and cost modelling for generative-AI pilots.

    \b
    Typical flow:
      workbench ingest logs/ --db pilot.duckdb
      workbench summary --db pilot.duckdb --by feature
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--db", help=DB_HELP)
@click.option("--format", "fmt", help="Skip sniffing and read every file as this format (see `workbench formats`).")
@click.option("--set", "set_", multiple=True, metavar="KEY=VALUE",
              help="Set a field on every record, e.g. --set model=gpt-4o --set provider=azure.")
@click.option("--map", "map_", multiple=True, metavar="FIELD=COLUMN",
              help="Generic CSV/JSONL/Parquet: canonical field from a source column, e.g. --map input_tokens=prompt_tok.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: large inputs on a terminal).")
def ingest(paths, db, fmt, set_, map_, as_json, progress) -> None:
    """Ingest log files, directories or globs (plain or .gz) into the database.

    Each file is atomic, duplicates (re-ingests, overlapping exports) are skipped, and rows
    that cannot be used go to the `quarantine` table with the reason:
    read = accepted + duplicates + quarantined, per file.
    """
    from . import store
    from .ingest import Options, ingest_paths

    options = Options(set=_pairs(set_, "--set"), map=_pairs(map_, "--map"))
    con = store.connect(db)
    report = ingest_paths(con, paths, fmt, options, progress)
    if as_json:
        _emit_json(report.as_dict())
    else:
        rows = [
            {"file": r.path, "format": r.format, "read": r.rows_read, "accepted": r.rows_accepted,
             "duplicates": r.rows_duplicate, "quarantined": r.rows_quarantined}
            for r in report.results
        ]
        if rows:
            _table(rows, title="Ingested")
        for r in report.results:
            name = r.path.rsplit('/', 1)[-1]
            for reason, n in r.reasons.items():
                _echo(f"  quarantined {n:,} from {name}: {reason}")
            if r.rows_duplicate_other_source:
                click.echo(f"  {r.rows_duplicate_other_source:,} of the duplicates in {name} were already logged by "
                           "another source (same provider response id)")
            if r.redactions:
                click.echo(f"  redacted credentials (API keys, tokens) in {r.redactions:,} records of {name}")
        if report.results:
            t = report.totals()
            click.echo(
                f"total: read {t['rows_read']:,} = accepted {t['rows_accepted']:,} + duplicates "
                f"{t['rows_duplicate']:,} + quarantined {t['rows_quarantined']:,}"
            )
    for path, message in report.errors:
        _echo(f"error: {path}: {message}" if not message.startswith(path) else f"error: {message}", err=True)
    if report.errors:
        sys.exit(2)


@cli.command()
@click.option("--db", help=DB_HELP)
@click.option("--by", type=click.Choice(["model", "feature", "day", "provider", "prompt_version"]), default="model",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def summary(db, by, as_json) -> None:
    """Calls, token buckets, error rate and latency p50/p95/p99 per model, feature or day."""
    from . import store
    from .ingest.summary import overview, summary as summarize

    con = store.connect(db, read_only=True)
    rel = summarize(con, by)
    cols = rel.columns
    rows = [dict(zip(cols, r)) for r in rel.fetchall()]
    head = overview(con)
    if as_json:
        _emit_json({"by": by, "overview": head, "rows": rows})
        return
    window = f"{head['first_call'] or '?'} .. {head['last_call'] or '?'}"
    click.echo(
        f"{head['calls']:,} calls ({head['errors']:,} errors) from {head['files_ingested']} file(s), {window}; "
        f"{head['rows_quarantined']:,} rows in quarantine, {head['rows_duplicate']:,} duplicates skipped"
    )
    if not rows:
        click.echo("no calls yet: run `workbench ingest PATH` first")
        return
    short = {"input_tokens": "input", "cache_read_tokens": "cache read", "cache_write_tokens": "cache write",
             "output_tokens": "output", "reasoning_tokens": "reasoning", "error_rate": "error rate",
             "latency_p50_ms": "p50 ms", "latency_p95_ms": "p95 ms", "latency_p99_ms": "p99 ms"}
    _table([{short.get(k, k): v for k, v in r.items()} for r in rows], title=f"Calls by {by}")


def _multipliers(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {text!r}", param_hint="--multipliers")
    if not values or any(v <= 0 for v in values):
        raise click.BadParameter("multipliers must be positive numbers, e.g. 10,50,100", param_hint="--multipliers")
    return values


@cli.command()
@click.option("--db", help=DB_HELP)
@click.option("--scenario", "scenarios", multiple=True, metavar="FILE", help="Scenario YAML (repeatable); today's mix is always shown.")
@click.option("--multipliers", default="1,10,50,100", show_default=True, help="Volume multiples of the observed traffic.")
@click.option("--prices", "prices_file", metavar="FILE",
              help="Price overrides YAML for this run only (default: the database's price book, set with "
                   "`workbench prices --db DB --prices FILE`; the database's book stays as it was).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def project(db, scenarios, multipliers, prices_file, as_json) -> None:
    """Monthly cost at each volume multiple, for today's mix and each scenario.

    Priced with the database's price book. A scenario that routes traffic to a model with no
    price is refused (exit 2); a match on a feature, model or prompt version no call has is a
    warning naming the closest existing values."""
    from . import store
    from .cost.projection import project as run
    from .cost.quality import quality_cell

    mults = _multipliers(multipliers)
    con = store.connect(db, read_only=True)  # a reader: --prices lives in this connection's memory
    result = run(con, list(scenarios), mults, prices_file, sensitivity_at=mults[len(mults) // 2])
    for note in result["provenance"]["price_book"]["notes"]:
        _echo(f"note: {note}", err=True)
    if as_json:
        _emit_json(result)
        return
    w, p = result["window"], result["provenance"]
    click.echo(w["how"])
    rows = []
    for s in result["scenarios"]:
        row = {"scenario": s["scenario"]}
        for m in s["multipliers"]:
            row[f"{m['multiplier']:g}x $/month"] = round(m["monthly_cost_usd"], 2)
        last = s["multipliers"][-1]
        row["savings"] = f"{last['savings_pct']:.1%}" if last["savings_pct"] is not None else "–"
        if last["p10_usd"] is not None:
            row[f"P10–P90 at {last['multiplier']:g}x"] = f"{last['p10_usd']:,.0f}–{last['p90_usd']:,.0f}"
        row["quality"] = quality_cell(s.get("quality"))
        if result["warnings"]:
            row["check"] = (f"WARNING x{len(s['warnings'])}: see below" if s["warnings"] else "ok")
        rows.append(row)
    _table(rows, title="Projected monthly cost (USD)")
    for s in result["scenarios"]:
        if s.get("headline"):
            click.echo(f"{s['scenario']}: {s['headline']}")
    for w in result["warnings"]:
        _echo(f"WARNING: {w['message']}" + (f" [{w['file']}: {w['where']}]" if w.get("file") else ""), err=True)
    for s in result["scenarios"]:
        if s.get("break_even"):
            be = s["break_even"]
            if be.get("multiplier"):
                click.echo(f"{s['scenario']}: self-hosting breaks even against the API at {be['multiplier']:g}x today's volume")
            else:
                click.echo(f"{s['scenario']}: self-hosting never breaks even here: {be.get('note')}")
        if s.get("sensitivity") and s["scenario"] != "baseline":
            top = ", ".join(f"{x['lever']} (${x['swing_usd']:,.0f})" for x in s["sensitivity"][:3])
            click.echo(f"{s['scenario']}: most sensitive to {top}")
    for u in result["unpriced_models"]:
        click.echo(f"WARNING: {u['calls']:,} calls to {u.get('provider') or '?'}/{u.get('model')} have no price "
                   f"({u.get('price_status')}); they are excluded from every total above", err=True)
    lc = result["logged_cost_check"]
    if lc.get("compared"):
        click.echo(f"logged cost check: {lc['summary']}")
    pb = p["price_book"]
    which = (f"this run only: {pb['overrides_file']}" if pb["scope"] == "this run" else pb["database_book"])
    click.echo(f"price book {p['price_book_version']} ({which}); data {p['data_fingerprint'][:16]}; "
               f"workbench {p['workbench_version']}")


@cli.command()
@click.argument("models", nargs=-1)
@click.option("--provider", help="Provider the calls were made through (e.g. azure, bedrock).")
@click.option("--prices", "prices_file", metavar="FILE",
              help="Price overrides YAML. With --db (or no MODELS): make it the database's price book, which "
                   "every later command, notebook and report uses.")
@click.option("--no-overrides", is_flag=True,
              help="With --db: make litellm's list prices (no overrides) the database's price book.")
@click.option("--db", help=DB_HELP + " Without MODELS: list how every logged model resolves.")
@click.option("--json", "as_json", is_flag=True)
def prices(models, provider, prices_file, no_overrides, db, as_json) -> None:
    """Explain how a model name resolves in the price book and what it costs.

    \b
    workbench prices --db D --prices overrides.yaml   sets D's price book (file, sha256, map version)
    workbench prices --db D                           shows D's price book and its models
    workbench prices MODEL [--prices F]               a name against the map (+ F), no database"""
    from .cost.pricing import ensure_price_book, explain, explain_logged, set_price_book

    if prices_file and no_overrides:
        raise click.UsageError("give --prices FILE or --no-overrides, not both")
    if models and not db and no_overrides:
        raise click.UsageError("--no-overrides sets a database's price book: give --db")
    con = None
    if db or not models:
        from . import store

        con = store.connect(db)
        if prices_file or no_overrides:
            set_price_book(con, prices_file or None, set_by="workbench prices")
        used = ensure_price_book(con)
        _echo(f"{'price book set' if prices_file or no_overrides else 'price book'} of {store.resolve_db_path(db)}: "
              f"{used['database_book']}", err=True)
        for note in used["notes"]:
            _echo(f"note: {note}", err=True)
        prices_file = used["overrides_path"]  # the file this database prices with (a stored copy if it changed)
    if models:
        docs = [explain(m, provider, prices_file) for m in models]
    else:
        docs = explain_logged(con, prices_file)
    if as_json:
        _emit_json(docs)
        return
    rows = []
    for d in docs:
        rate = lambda k: (d.get("entry_prices") or {}).get(k)  # noqa: E731
        key = d.get("price_key") or (f"FREE PER MAP — verify ({d.get('map_key')})" if d.get("status") == "free_per_map"
                                     else "UNPRICED")
        rows.append({"model": d["model"], "provider": d.get("provider"), "price key": key,
                     "rule": d.get("match_rule"),
                     "$/1M in": _per_m(rate("input_cost_per_token")), "$/1M out": _per_m(rate("output_cost_per_token")),
                     "$/1M cache read": _per_m(rate("cache_read_input_token_cost"))})
    _table(rows, title="Price book")
    from .cost.book import load_price_book
    from .cost.pricemap import map_date

    book = load_price_book(prices_file)
    day, what = map_date(book.map_path)
    _echo(f"price map: litellm {book.litellm_version}, dated {day} ({what}); book {book.version}")
    for d in docs:
        if d.get("note"):
            _echo(f"note: {d['model']}: {d['note']}", err=True)
    if any(not d.get("priced") for d in docs):
        click.echo("unpriced models are excluded from cost totals; add them to a --prices file (models: or aliases:)", err=True)


def _per_m(v):
    """USD per token -> "$ per 1M tokens" to its significant digits, at least cents ($1.25,
    $0.075, $15.00, $0.00002): ten significant digits absorb float noise (1.25e-6 x 1e6 =
    1.2499999999999998), then trailing zeros beyond the cents go; never scientific notation."""
    if v is None:
        return None
    from decimal import Decimal

    text = format(Decimal(f"{float(v) * 1e6:.10g}"), "f")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.rstrip('0').ljust(2, '0')}"


@cli.command()
@click.argument("path")
@click.option("--db", help=DB_HELP)
def outcomes(path, db) -> None:
    """Load business outcomes (session or correlation id -> outcome, value) for cost per outcome."""
    from . import store
    from .cost.outcomes import load_outcomes

    n = load_outcomes(store.connect(db), path)
    click.echo(f"loaded {n:,} outcomes from {path}")


DEFAULT_CHECKLIST = ("checklists", "production-readiness.yaml")  # bundled: found from any directory


@cli.command()
@click.option("--checklist", callback=lambda _c, _p, v: str(resource(*DEFAULT_CHECKLIST)) if v is None else v,
              metavar="FILE",
              help="Checklist YAML (or an AWS Well-Architected custom-lens JSON). "
                   "Default: the bundled checklists/production-readiness.yaml.")
@click.option("--answers", metavar="FILE", help="Answers YAML: status, evidence, owner, due per item.")
@click.option("--db", help=DB_HELP)
@click.option("--compare", nargs=2, type=int, metavar="ID_A ID_B", help="Compare two stored assessments instead.")
@click.option("--history", is_flag=True, help="List stored assessments.")
@click.option("--export-lens", metavar="FILE", help="Also write the checklist as an AWS Well-Architected custom lens (JSON).")
@click.option("--fail-on-not-ready", is_flag=True, help="Exit 1 when the verdict is 'not ready' (for CI).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def assess(checklist, answers, db, compare, history, export_lens, fail_on_not_ready, as_json) -> None:
    """Production-readiness review: answers checked against evidence in the logs and eval runs."""
    from . import store
    from .readiness import assess as run, compare as diff, list_assessments, load_checklist, write_wa_lens

    con = store.connect(db)
    if history:
        rows = list_assessments(con)
        _emit_json(rows) if as_json else _table(rows, title="Assessments")
        return
    if compare:
        c = diff(con, *compare)
        _emit_json(c.as_dict()) if as_json else click.echo(c.to_text())
        return
    if export_lens:
        click.echo(f"wrote {write_wa_lens(load_checklist(checklist), export_lens)}", err=True)
    a = run(con, checklist, answers)
    if as_json:
        _emit_json(a.as_dict())
    else:
        click.echo(a.to_text())
        click.echo(f"\nstored as assessment {a.assessment_id}; compare with `workbench assess --compare A B`")
    if fail_on_not_ready and a.verdict == "not ready":
        sys.exit(1)


@cli.command(name="eval")
@click.argument("suite")
@click.option("--db", help=DB_HELP)
@click.option("--baseline", default="latest", show_default=True,
              help="Run id to gate against, `latest` (latest passing run of the same suite and model) or `none`.")
@click.option("--prompt", "prompt", metavar="FILE", help="Use this prompt file instead of the suite's (try a change).")
@click.option("--no-cache", is_flag=True, help="Call the models even when a cached response exists.")
@click.option("--stub", is_flag=True, help="Serve the suite's models from the local stub server (offline demo/tests).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--junit", "junit", metavar="FILE",
              help="Also write JUnit XML: one test case per golden case and per gate (for CI test reports).")
def eval_(suite, db, baseline, prompt, no_cache, stub, as_json, junit) -> None:
    """Run an eval suite through LiteLLM, store every result, gate regressions (exit 1 on failure)."""
    from . import store
    from .evals import run_suite

    con = store.connect(db)
    report = run_suite(con, suite, baseline=None if baseline == "none" else baseline,
                       use_cache=not no_cache, progress=None if as_json else True, prompt=prompt, stub=stub)
    if junit:
        report.write_junit(con, junit)
    if as_json:
        _emit_json(report.as_dict())
    else:
        _table(report.rows(), title=f"Eval suite {report.suite}")
        click.echo("\n".join(report.verdict_lines()))
    if not report.gate_passed:
        sys.exit(1)


@cli.command()
@click.option("--client", help="Client name (title of the report, file names).")
@click.option("--out", required=True, metavar="DIR", help="Folder for the HTML, the executed notebook (and PDF).")
@click.option("--db", help=DB_HELP)
@click.option("--logs", multiple=True, metavar="PATH", help="Pilot logs to ingest into a fresh database instead of --db.")
@click.option("--scenario", "scenarios", multiple=True, metavar="FILE")
@click.option("--answers", metavar="FILE")
@click.option("--suite", metavar="FILE", help="Eval suite to run for the report.")
@click.option("--stub", is_flag=True, help="Run the suite against the local stub server (offline).")
@click.option("--prices", "prices_file", metavar="FILE")
@click.option("--checklist", metavar="FILE")
@click.option("--outcomes", metavar="FILE")
@click.option("--multipliers", default="1,10,50,100", show_default=True)
@click.option("--pdf/--no-pdf", default=None, help="Also print a PDF (default: when a system Chromium exists).")
@click.option("--batch", metavar="CLIENTS.yaml", help="Render every client of a clients file (see data/clients.yaml).")
@click.option("--workers", type=int, help="Batch: clients rendered at once (default: the core count).")
@click.option("--json", "as_json", is_flag=True)
def report(client, out, db, logs, scenarios, answers, suite, stub, prices_file, checklist, outcomes, multipliers,
           pdf, batch, workers, as_json) -> None:
    """Render a client report (self-contained HTML, code hidden) with papermill, or a batch of them."""
    from .report import ReportError, format_summary, render_report, run_batch

    if batch:
        summary = run_batch(batch, out, workers)
        _emit_json(summary) if as_json else click.echo(format_summary(summary))
        if summary["failed"]:
            sys.exit(1)
        return
    if not client:
        raise click.UsageError("give --client NAME (or --batch CLIENTS.yaml)")
    try:
        made = render_report(client, out, db=db, logs=list(logs), scenarios=list(scenarios), answers=answers,
                             suite=suite, prices=prices_file, checklist=checklist, outcomes=outcomes,
                             multipliers=_multipliers(multipliers), eval_stub=stub, pdf=pdf)
    except ReportError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if as_json:
        _emit_json(made)
    else:
        for key in ("html", "pdf", "notebook", "db"):
            if made.get(key):
                click.echo(f"{key}: {made[key]}")


@cli.command()
@click.option("--port", default=8866, show_default=True)
@click.option("--db", help=DB_HELP + " Default: the bundled sample pilot.")
def serve(port, db) -> None:
    """Serve the finance cost explorer (Voila) on http://127.0.0.1:PORT."""
    from .explore.serve import serve as run

    click.echo(f"cost explorer on http://127.0.0.1:{port}/ (Ctrl-C to stop)", err=True)
    run(port, db)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def formats(as_json) -> None:
    """List the log formats `ingest --format` accepts."""
    from .ingest.adapters import all_adapters

    rows = [{"format": a.name, "reads": a.description,
             "needs": " ".join(f"--set {k}=..." for k in a.requires)} for a in all_adapters()]
    if as_json:
        _emit_json(rows)
    else:
        _table(rows, title="Formats (detected automatically; override with --format)")


@cli.command()
@click.option("--out", default="out/demo", show_default=True, help="Folder for the demo database and report.")
@click.option("--json", "as_json", is_flag=True)
def demo(out, as_json) -> None:
    """Run the whole flow on the bundled sample pilot (offline)."""
    from pathlib import Path

    from .demo import run_demo

    made = run_demo(Path(out))
    if as_json:
        _emit_json(made)
        return
    t, o = made["ingest"]["totals"], made["overview"]
    click.echo(
        f"ingested {len(made['ingest']['files'])} sample files: read {t['rows_read']:,} = accepted "
        f"{t['rows_accepted']:,} + duplicates {t['rows_duplicate']:,} + quarantined {t['rows_quarantined']:,}"
    )
    click.echo(f"{o['calls']:,} calls from {o['first_call']} to {o['last_call']}")
    rows = [{"scenario": s["scenario"], **{f"{m['multiplier']:g}x $/month": round(m["monthly_cost_usd"], 2)
                                          for m in s["multipliers"]}} for s in made["projection"]["scenarios"]]
    _table(rows, title="Projected monthly cost of the sample pilot (USD)")
    for name, rep in made["evals"].items():
        click.echo(f"evals ({name}): " + "; ".join(f"{r['model']} score {r['score']:.3f} {'pass' if r['gate'] == 'pass' else 'FAIL'}"
                                                  for r in rep))
    a = made["assessment"]
    click.echo(f"readiness: {a['verdict'].upper()} ({a['overall']['open_high']} high-severity items open, "
               f"{len(a['contradictions'])} answers contradicted by the logs)")
    click.echo(f"database: {made['db']}  (try: workbench summary --db {made['db']} --by feature)")
    for name, path in made["files"].items():
        click.echo(f"{name}: {path}")
    click.echo(f"\nThe demo report: {made['files']['report']}")


def _skip_exit_collection() -> None:
    """The command is done and the process is about to end: freeze the garbage collector's
    view of every object now alive, so the interpreter's final collection does not walk them
    (papermill, nbconvert, jsonschema and pandas leave a million objects: 0.1 s of a report's
    exit). atexit handlers still run and objects are still released as usual; only cycles
    left unclosed would not be finalized, and the commands close what they open."""
    import gc

    gc.freeze()


# What an interrupted command leaves behind, in one line.
_INTERRUPTED = {
    "eval": "interrupted: the cases finished so far are stored; run the same command again to resume",
    "report": "interrupted: no report was finished (a partial notebook may remain in the output folder)",
    "assess": "interrupted: no assessment was stored",
    "demo": "interrupted: the demo stopped; run it again to start over",
}


def _interrupted_line(argv: list[str]) -> str:
    command = next((a for a in argv if not a.startswith("-")), "")
    if command == "ingest":
        from .ingest import pipeline

        done = pipeline.files_committed
        if pipeline.file_in_progress is not None:
            return (f"interrupted: {pipeline.file_in_progress} was rolled back"
                    + (f"; the {done} file(s) before it are stored" if done else ""))
        return f"interrupted: the {done} file(s) ingested so far are stored" if done else "interrupted: nothing was ingested"
    return _INTERRUPTED.get(command, "interrupted: nothing was changed")


def main(argv: list[str] | None = None) -> None:
    import signal

    args = list(sys.argv[1:] if argv is None else argv)
    interrupted = []

    def on_sigint(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        _run(args, interrupted)
    finally:
        signal.signal(signal.SIGINT, previous)  # main() may run inside a notebook or a test
    _skip_exit_collection()
    sys.exit(0)


def _run(args: list[str], interrupted: list) -> None:
    try:
        cli.main(args=args, prog_name="workbench", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo(_interrupted_line(args), err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except WorkbenchError as exc:
        _echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except BaseException:
        # Ctrl-C reaches DuckDB, papermill or a kernel channel as their own errors ("Query
        # interrupted", ZMQ): after an interrupt, any of them is the interrupt, said in one line.
        if interrupted:
            click.echo(_interrupted_line(args), err=True)
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
