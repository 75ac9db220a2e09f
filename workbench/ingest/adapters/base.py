"""What a format adapter is.

An adapter is data, not code that loops over rows: a sniffing predicate that looks at the
first record of a file, and one SQL SELECT that maps raw records to canonical columns.
The pipeline (`workbench.ingest.pipeline`) does everything the formats share: framing the
file into records, token arithmetic and validation, quarantine, dedupe, atomic insert.

The SELECT reads the relation `records(line BIGINT, raw VARCHAR, j JSON)`: one row per
record (a JSONL line, a JSON-array element, a CSV/Parquet row turned into a JSON object).
`extract()` builds the usual first step (one parse per record, many fields out).
It may expand a record into several rows (an OTLP export request holds many spans); it must
output `line` and `raw` (the record text kept for quarantine), and any of the columns in
`ADAPTER_COLUMNS`. Columns it leaves out are NULL.

Token columns are the provider's raw values as text (`*_raw`), so that the pipeline can say
"non-numeric" or "negative" in a quarantine reason; the adapter's `input_includes_cache`
and `output_includes_reasoning` flags tell the pipeline the provider's convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

# Columns an adapter SELECT may produce (besides `line` and `raw`).
ADAPTER_COLUMNS: dict[str, str] = {
    "call_id": "VARCHAR",
    "response_id": "VARCHAR",  # the provider's response id (chatcmpl-…, msg_…): shared by layers that log one call
    "ts": "TIMESTAMPTZ",
    "ts_raw": "VARCHAR",  # the timestamp as written, to report unparseable ones
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "service_tier": "VARCHAR",
    "input_raw": "VARCHAR",
    "cache_read_raw": "VARCHAR",
    "cache_write_raw": "VARCHAR",  # all cache writes (5m + 1h)
    "cache_write_1h_raw": "VARCHAR",  # the 1-hour part of the cache writes
    "output_raw": "VARCHAR",
    "reasoning_raw": "VARCHAR",
    "latency_ms": "DOUBLE",
    "ttft_ms": "DOUBLE",
    "status": "VARCHAR",
    "error_type": "VARCHAR",
    "finish_reason": "VARCHAR",
    "session_id": "VARCHAR",
    "trace_id": "VARCHAR",
    "user_id": "VARCHAR",
    "feature": "VARCHAR",
    "prompt_version": "VARCHAR",
    "environment": "VARCHAR",
    "logged_cost_usd": "DOUBLE",
    "attributes": "JSON",
    "skip_reason": "VARCHAR",  # set when the record is not an LLM call (quarantined with this reason)
}

Sample = dict[str, Any]


@dataclass(frozen=True)
class Options:
    """What the user said on the command line: `--set key=value` and `--map canonical=source`."""

    set: dict[str, str] = field(default_factory=dict)
    map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Adapter:
    name: str  # the `--format` value
    source_format: str  # the value stored in calls.source_format (adapters of one family share it)
    description: str
    # The SELECT over `records`; a callable builds it from the user's options (generic formats).
    select: str | Callable[[Options], str]
    sniff: Callable[[Sample], bool] = field(default=lambda s: False)
    input_includes_cache: bool = True
    output_includes_reasoning: bool = True
    # How records are framed: "json" (JSONL, JSON array or one JSON document), "csv", "parquet",
    # or "any" (whatever the file is).
    framing: str = "json"
    # `--set` keys the user must give (traces that name no model).
    requires: tuple[str, ...] = ()
    # Extra `--set` keys this adapter understands beyond the settable columns (e.g. a time origin).
    set_keys: tuple[str, ...] = ()
    # True when the SELECT reads records only through `extract()` and emits one row per record:
    # then JSONL lines reach it unvalidated (a malformed line comes out with NULL fields and the
    # pipeline names it), which saves a full JSON parse per line. The rows must also come out
    # in the order of the records, none dropped (projections only: no WHERE, join or window),
    # because the pipeline then numbers lines by position. Adapters that call JSON functions on
    # `j` directly, filter, or expand records must say False.
    tolerates_malformed: bool = True
    # Extra hint printed when a required --set key is missing.
    hint: str = ""


def sql_for(adapter: Adapter, options: Options) -> str:
    return adapter.select(options) if callable(adapter.select) else adapter.select


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def extract(fields: dict[str, str], source: str = "records") -> str:
    """SELECT line, raw, j plus one VARCHAR column per JSON path.

    `j ->> path` parses the record again for every field; one `json_extract_string` with a
    list of paths parses it once, which makes ingest several times faster on wide records.
    Objects and arrays come back as JSON text; a malformed record gives NULLs (see
    `Adapter.tolerates_malformed`). The `json_valid` guard costs a second, cheaper parse but
    keeps malformed lines from raising inside the extraction: `try()` recovers from an error
    by re-running the whole vector row by row, which, with a bad line in every vector, made
    a dirty file 1.5x slower to read.
    """
    paths = ", ".join(sql_str(p) for p in fields.values())
    cols = ", ".join(f"x[{i}] AS {name}" for i, name in enumerate(fields, 1))
    guarded = f"try(CASE WHEN json_valid(j) THEN json_extract_string(j, [{paths}]) END)"
    sql = f"SELECT line, raw, j, {cols} FROM (SELECT line, raw, j, {guarded} AS x FROM {source})"
    if source == "records":
        EXTRACTIONS[sql] = dict(fields)  # lets the fast path read these fields straight from the file
    return sql


# extract() SQL -> its fields, for `workbench.ingest.fastpath`.
EXTRACTIONS: dict[str, dict[str, str]] = {}


def dig(sample: Any, *path: str) -> Any:
    """sample[path[0]][path[1]]... or None: for sniffers."""
    for key in path:
        if not isinstance(sample, dict):
            return None
        sample = sample.get(key)
    return sample
