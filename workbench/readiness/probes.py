"""Evidence probes: SQL over `calls` and the eval tables that let the logs speak for a checklist item.

Each probe is one function `probe(con) -> ProbeResult` registered under a name that a checklist
item refers to with `probe: NAME`. A probe runs SQL only (no Python loop over calls) and returns

- `outcome`: `met` / `partial` / `not_met` / `insufficient_evidence`;
- `figures`: the numbers it found (a dict, JSON-serialisable; counts only, never raw prompt text);
- `sql`: the exact SQL it ran (the evidence artifact, re-runnable in any DuckDB client);
- `min_n` and `n`: the minimum sample the verdict needs and the sample it had. Below `min_n`
  the outcome is `insufficient_evidence`: absence of evidence is never `not_met`;
- `finding`: one line in plain words, e.g. "49% of 20,225 calls carry a session id".
- `criterion`: what `met` means for this probe (used by the improvement plan).

The eval probes read `eval_runs` (migration 0005) and return `insufficient_evidence` when the
table does not exist or holds no runs. "Production" calls are those whose `environment` is
prod / production / prd / live, or NULL (untagged traffic is assumed to be production).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import duckdb

MET, PARTIAL, NOT_MET, INSUFFICIENT = "met", "partial", "not_met", "insufficient_evidence"
OUTCOMES = (MET, PARTIAL, NOT_MET, INSUFFICIENT)

PROD = "coalesce(lower(environment), 'prod') IN ('prod', 'production', 'prd', 'live')"
# Coverage thresholds shared by the "field is logged" probes.
COVER_MET, COVER_PARTIAL = 0.95, 0.50


@dataclass
class ProbeResult:
    name: str
    outcome: str
    finding: str
    figures: dict[str, Any] = field(default_factory=dict)
    sql: str = ""
    min_n: int = 0
    n: int = 0
    criterion: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Probe:
    name: str
    criterion: str
    min_n: int
    fn: Callable[[duckdb.DuckDBPyConnection, "Probe"], ProbeResult]

    def run(self, con: duckdb.DuckDBPyConnection) -> ProbeResult:
        res = self.fn(con, self)
        res.name, res.min_n, res.criterion = self.name, self.min_n, self.criterion
        return res


PROBES: dict[str, Probe] = {}


def _register(name: str, criterion: str, min_n: int):
    def deco(fn):
        PROBES[name] = Probe(name, criterion, min_n, fn)
        return fn

    return deco


def run_probe(con: duckdb.DuckDBPyConnection, name: str) -> ProbeResult:
    """Run one registered probe by name."""
    return PROBES[name].run(con)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def _row(con, sql: str) -> dict:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    return dict(zip(names, row)) if row else {}


def _rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def table_exists(con, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'",
        [name]).fetchone()[0])


def _pct(x) -> str:
    if x is None:
        return "n/a"
    p = 100 * x
    return f"{p:.0f}%" if p == 0 or p >= 1 or p == 100 else f"{p:.1f}%"


def _n(x) -> str:
    return f"{int(x or 0):,}"


def _ms(x) -> str:
    return "n/a" if x is None else f"{x:,.0f} ms"


def _by_share(share: float | None, met: float = COVER_MET, partial: float = COVER_PARTIAL) -> str:
    if share is None:
        return INSUFFICIENT
    return MET if share >= met else PARTIAL if share >= partial else NOT_MET


def _round(d: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def _insufficient(sql: str, n: int, finding: str, figures: dict | None = None) -> ProbeResult:
    return ProbeResult("", INSUFFICIENT, finding, _round(figures or {}), sql.strip(), n=n)


def _coverage(con, p: Probe, column: str, label: str, extra: str = "") -> ProbeResult:
    sql = f"""
SELECT count(*) AS calls,
       count(nullif(trim(CAST({column} AS VARCHAR)), '')) AS with_value,
       count(nullif(trim(CAST({column} AS VARCHAR)), '')) / nullif(count(*), 0) AS share,
       count(DISTINCT {column}) AS distinct_values{extra}
FROM calls"""
    f = _row(con, sql)
    n = f["calls"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, f"only {_n(n)} calls logged (need {p.min_n}) to judge {label} coverage", f)
    out = _by_share(f["share"])
    finding = f"{_pct(f['share'])} of {_n(n)} calls carry {label} ({_n(f['distinct_values'])} distinct)"
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


# ---------------------------------------------------------------------------------------------
# call-log probes
# ---------------------------------------------------------------------------------------------

@_register("latency_coverage", "at least 95% of calls carry latency_ms, so p50/p95/p99 are trustworthy", 30)
def _latency_coverage(con, p):
    sql = """
SELECT count(*) AS calls,
       count(latency_ms) AS with_latency,
       count(latency_ms) / nullif(count(*), 0) AS share,
       quantile_cont(latency_ms, 0.50) AS p50_ms,
       quantile_cont(latency_ms, 0.95) AS p95_ms,
       quantile_cont(latency_ms, 0.99) AS p99_ms,
       count(ttft_ms) / nullif(count(*), 0) AS ttft_share
FROM calls"""
    f = _row(con, sql)
    n = f["calls"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, f"only {_n(n)} calls logged (need {p.min_n}) to judge latency", f)
    finding = (f"{_pct(f['share'])} of {_n(n)} calls carry a latency; p50 {_ms(f['p50_ms'])}, "
               f"p95 {_ms(f['p95_ms'])}, p99 {_ms(f['p99_ms'])}")
    return ProbeResult("", _by_share(f["share"]), finding, _round(f), sql.strip(), n=n)


@_register("session_coverage", "at least 95% of calls carry a session id, so tokens and cost per session are trackable", 30)
def _session_coverage(con, p):
    sql = """
WITH s AS (
    SELECT session_id, sum(input_tokens + output_tokens) AS tokens, sum(logged_cost_usd) AS cost_usd
    FROM calls WHERE nullif(trim(session_id), '') IS NOT NULL GROUP BY session_id)
SELECT (SELECT count(*) FROM calls) AS calls,
       (SELECT count(nullif(trim(session_id), '')) FROM calls) AS with_session,
       (SELECT count(nullif(trim(session_id), '')) FROM calls) / nullif((SELECT count(*) FROM calls), 0) AS share,
       (SELECT count(*) FROM s) AS sessions,
       (SELECT quantile_cont(tokens, 0.5) FROM s) AS tokens_per_session_p50,
       (SELECT quantile_cont(tokens, 0.95) FROM s) AS tokens_per_session_p95,
       (SELECT quantile_cont(cost_usd, 0.95) FROM s) AS cost_per_session_p95_usd"""
    f = _row(con, sql)
    n = f["calls"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, f"only {_n(n)} calls logged (need {p.min_n}) to judge session coverage", f)
    finding = f"{_pct(f['share'] or 0)} of {_n(n)} calls carry a session id ({_n(f['sessions'])} sessions)"
    return ProbeResult("", _by_share(f["share"] or 0), finding, _round(f), sql.strip(), n=n)


@_register("prompt_version_coverage", "at least 95% of calls carry a prompt version", 30)
def _prompt_version_coverage(con, p):
    return _coverage(con, p, "prompt_version", "a prompt version")


@_register("feature_tag_coverage", "at least 95% of calls carry a feature tag, so cost is attributable", 30)
def _feature_tag_coverage(con, p):
    return _coverage(con, p, "feature", "a feature tag",
                     extra=",\n       sum(logged_cost_usd) FILTER (WHERE feature IS NULL) AS untagged_cost_usd")


@_register("environment_tagging", "at least 95% of calls carry an environment tag", 30)
def _environment_tagging(con, p):
    return _coverage(con, p, "environment", "an environment tag",
                     extra=f",\n       count(*) FILTER (WHERE environment IS NOT NULL AND NOT ({PROD})) AS non_prod_calls")


@_register("step_latency", "at least 95% of calls carry a trace id and a latency, and multi-step traces are linked", 30)
def _step_latency(con, p):
    sql = """
WITH t AS (SELECT trace_id, count(*) AS steps FROM calls WHERE trace_id IS NOT NULL GROUP BY trace_id)
SELECT (SELECT count(*) FROM calls) AS calls,
       (SELECT count(*) FROM calls WHERE trace_id IS NOT NULL AND latency_ms IS NOT NULL) AS traced_with_latency,
       (SELECT count(*) FROM calls WHERE trace_id IS NOT NULL AND latency_ms IS NOT NULL)
           / nullif((SELECT count(*) FROM calls), 0) AS share,
       (SELECT count(*) FROM t) AS traces,
       (SELECT count(*) FROM t WHERE steps > 1) AS multi_step_traces,
       (SELECT max(steps) FROM t) AS max_steps,
       (SELECT quantile_cont(latency_ms, 0.95) FROM calls WHERE trace_id IS NOT NULL) AS step_p95_ms"""
    f = _row(con, sql)
    n = f["calls"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, f"only {_n(n)} calls logged (need {p.min_n}) to judge step tracing", f)
    out = _by_share(f["share"])
    if out == MET and not f["multi_step_traces"]:
        out = PARTIAL
    finding = (f"{_pct(f['share'])} of {_n(n)} calls carry a trace id and a latency; "
               f"{_n(f['multi_step_traces'])} traces have more than one step")
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


@_register("fallback_seen", "a different model or provider succeeded after an error in the same trace", 5)
def _fallback_seen(con, p):
    sql = """
WITH e AS (SELECT trace_id, ts, provider, model FROM calls WHERE status = 'error' AND trace_id IS NOT NULL),
     fb AS (SELECT DISTINCT e.trace_id
            FROM e JOIN calls s ON s.trace_id = e.trace_id AND s.ts > e.ts AND s.status = 'ok'
             AND (s.model IS DISTINCT FROM e.model OR s.provider IS DISTINCT FROM e.provider))
SELECT (SELECT count(DISTINCT trace_id) FROM e) AS error_traces,
       (SELECT count(*) FROM fb) AS fallback_traces,
       (SELECT count(*) FROM calls WHERE status = 'error' AND trace_id IS NULL) AS untraced_errors,
       (SELECT count(DISTINCT provider) FROM calls) AS providers,
       (SELECT count(DISTINCT model) FROM calls) AS models"""
    f = _row(con, sql)
    n = f["error_traces"] or 0
    if f["fallback_traces"]:
        return ProbeResult("", MET, f"{_n(f['fallback_traces'])} of {_n(n)} failed traces succeeded on another model "
                           "or provider", _round(f), sql.strip(), n=n)
    if n < p.min_n:
        return _insufficient(sql, n, f"only {_n(n)} traces with an error (need {p.min_n}) and no fallback seen", f)
    return ProbeResult("", NOT_MET, f"no fallback seen: none of {_n(n)} failed traces succeeded on another model "
                       f"or provider ({f['providers']} provider(s) in the logs)", _round(f), sql.strip(), n=n)


@_register("retry_backoff", "in at least 80% of traces with two or more retries of the same model, the gap grows (back-off)", 5)
def _retry_backoff(con, p):
    sql = """
WITH o AS (
    SELECT trace_id, ts, status, provider, model,
           lag(status) OVER w AS prev_status, lag(model) OVER w AS prev_model,
           lag(provider) OVER w AS prev_provider,
           epoch(ts - lag(ts) OVER w) * 1000 - coalesce(lag(latency_ms) OVER w, 0) AS gap_ms
    FROM calls WHERE trace_id IS NOT NULL
    WINDOW w AS (PARTITION BY trace_id ORDER BY ts)),
r AS (SELECT trace_id, ts, gap_ms, lag(gap_ms) OVER (PARTITION BY trace_id ORDER BY ts) AS prev_gap_ms
      FROM o WHERE prev_status = 'error' AND model IS NOT DISTINCT FROM prev_model
                AND provider IS NOT DISTINCT FROM prev_provider),
t AS (SELECT trace_id, count(*) AS retries,
             count(prev_gap_ms) AS pairs,
             count(*) FILTER (WHERE prev_gap_ms IS NOT NULL AND gap_ms <= prev_gap_ms * 1.2) AS flat_pairs
      FROM r GROUP BY trace_id)
SELECT (SELECT count(*) FROM calls WHERE status = 'error') AS error_calls,
       (SELECT count(*) FROM r) AS retries,
       (SELECT count(*) FROM t) AS traces_with_retry,
       (SELECT count(*) FROM t WHERE pairs > 0) AS traces_with_repeated_retry,
       (SELECT count(*) FROM t WHERE pairs > 0 AND flat_pairs = 0) AS traces_with_growing_gaps,
       (SELECT median(gap_ms) FROM r WHERE prev_gap_ms IS NULL) AS first_retry_gap_ms_p50,
       (SELECT median(gap_ms) FROM r WHERE prev_gap_ms IS NOT NULL) AS later_retry_gap_ms_p50"""
    f = _row(con, sql)
    n = f["traces_with_repeated_retry"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, f"{_n(f['retries'])} retries seen but only {_n(n)} traces retried the same model "
                             f"twice or more (need {p.min_n}) to see whether gaps grow", f)
    share = f["traces_with_growing_gaps"] / n
    f["growing_share"] = share
    out = _by_share(share, 0.8, 0.3)
    finding = (f"retry gaps grow in {_pct(share)} of {_n(n)} repeatedly retried traces (first retry after "
               f"{_ms(f['first_retry_gap_ms_p50'])}, later ones after {_ms(f['later_retry_gap_ms_p50'])})")
    if out == NOT_MET:
        finding = "no back-off visible: " + finding
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


@_register("failure_recovery", "at least 90% of failed traces end in a successful call, for every error type seen 5+ times", 10)
def _failure_recovery(con, p):
    sql = """
WITH last AS (SELECT trace_id, arg_max(status, ts) AS final_status FROM calls
              WHERE trace_id IS NOT NULL GROUP BY trace_id),
     e AS (SELECT DISTINCT c.trace_id, coalesce(c.error_type, 'unknown') AS error_type, l.final_status
           FROM calls c JOIN last l USING (trace_id) WHERE c.status = 'error'),
     per AS (SELECT error_type, count(*) AS traces, count(*) FILTER (WHERE final_status = 'ok') AS recovered
             FROM e GROUP BY error_type)
SELECT (SELECT count(DISTINCT trace_id) FROM e) AS error_traces,
       (SELECT count(DISTINCT trace_id) FROM e WHERE final_status = 'ok') AS recovered_traces,
       (SELECT count(*) FROM per) AS error_types,
       (SELECT count(*) FROM per WHERE traces >= 5 AND recovered < 0.9 * traces) AS weak_error_types,
       (SELECT string_agg(error_type || ' ' || recovered || '/' || traces, ', ' ORDER BY traces DESC) FROM per)
           AS recovered_by_type"""
    f = _row(con, sql)
    n = f["error_traces"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, f"only {_n(n)} traces with an error (need {p.min_n}) to judge failure handling", f)
    share = f["recovered_traces"] / n
    f["recovered_share"] = share
    out = _by_share(share, 0.9, 0.5)
    if out == MET and f["weak_error_types"]:
        out = PARTIAL
    finding = f"{_pct(share)} of {_n(n)} failed traces ended in success (by error type: {f['recovered_by_type']})"
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


@_register("prompt_caching", "at least 20% of input tokens of cacheable calls (1,024+ input tokens) are cache reads", 30)
def _prompt_caching(con, p):
    sql = """
SELECT count(*) AS cacheable_calls,
       sum(input_tokens) AS input_tokens,
       sum(cache_read_tokens) AS cache_read_tokens,
       sum(cache_read_tokens) / nullif(sum(input_tokens), 0) AS cache_read_share,
       count(*) FILTER (WHERE cache_read_tokens > 0 OR cache_write_tokens > 0) AS calls_using_cache
FROM calls WHERE input_tokens >= 1024"""
    f = _row(con, sql)
    n = f["cacheable_calls"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, f"only {_n(n)} calls with 1,024+ input tokens (need {p.min_n})", f)
    share = float(f["cache_read_share"] or 0)
    out = MET if share >= 0.2 else PARTIAL if share >= 0.01 else NOT_MET
    finding = f"{_pct(share)} of input tokens in {_n(n)} cacheable calls are cache reads"
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


# Prompt-like keys anywhere inside `attributes` whose string values are scanned for PII.
_PROMPT_KEY = (r'(^|\.|")(messages|prompt|prompts|input|inputs|input_messages|content|system_prompt|'
               r'system_instructions|query|question|gen_ai\.prompt|gen_ai\.input\.messages|input\.value)("|\.|\[|$)')
# Cheap text prefilter so json_tree only walks attributes that may hold prompt text.
_PREFILTER = (r'"(gen_ai\.|llm\.)?(messages|prompt|prompts|input|inputs|input_messages|content|system_prompt|'
              r'system_instructions|query|question|input\.messages|input\.value)"')
PII_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "phone": r"(\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}",
    "ssn": r"\b[0-8]\d{2}-\d{2}-\d{4}\b",  # US social security number (no 9xx area)
    "card": r"\b(\d[ -]?){12,18}\d\b",  # a candidate; counted only when it passes the Luhn check
}


def _pii_match(name: str, rx: str) -> str:
    if name == "card":
        return f"coalesce(list_bool_or(list_transform(regexp_extract_all(text, '{rx}'), lambda m: wb_luhn(m))), false)"
    return f"regexp_matches(text, '{rx}')"


@_register("pii_in_prompts", "no email, phone, SSN or card-number pattern in stored prompt text "
           "(counts only, never printed)", 20)
def _pii_in_prompts(con, p):
    hits = ",\n       ".join(
        f"count(DISTINCT call_id) FILTER (WHERE {_pii_match(name, rx)}) AS {name}_calls"
        for name, rx in PII_PATTERNS.items())
    any_hit = " OR ".join(_pii_match(name, rx) for name, rx in PII_PATTERNS.items())
    sql = f"""
WITH t AS (
    SELECT c.call_id, CAST(j.value ->> '$' AS VARCHAR) AS text
    FROM calls c, json_tree(c.attributes) j
    WHERE regexp_matches(CAST(c.attributes AS VARCHAR), '{_PREFILTER}') AND j.type = 'VARCHAR'
      AND regexp_matches(lower(j.fullkey), '{_PROMPT_KEY}'))
SELECT count(DISTINCT call_id) AS calls_with_prompt_text,
       {hits},
       count(DISTINCT call_id) FILTER (WHERE {any_hit}) AS calls_with_pii
FROM t"""
    f = _row(con, sql)
    n = f["calls_with_prompt_text"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, f"prompt text is stored for only {_n(n)} calls (need {p.min_n}): "
                             "nothing to scan for PII", f)
    k = f["calls_with_pii"] or 0
    if k:
        kinds = ", ".join(f"{name} in {_n(f[name + '_calls'])}" for name in PII_PATTERNS if f[name + "_calls"])
        return ProbeResult("", NOT_MET, f"PII patterns found in the stored prompts of {_n(k)} of {_n(n)} calls "
                           f"({kinds}); values not shown", _round(f), sql.strip(), n=n)
    return ProbeResult("", MET, f"no email, phone, SSN or card pattern in the stored prompts of {_n(n)} calls",
                       _round(f), sql.strip(), n=n)


# Versions whose first production call comes at least a day after the log window opens were
# introduced during the window; older ones were already live and say nothing about rollout.
_INTRODUCED = f"""
WITH w AS (SELECT min(ts) AS start FROM calls),
     firsts AS (
         SELECT prompt_version, any_value(feature) AS feature,
                min(ts) FILTER (WHERE {PROD}) AS first_prod,
                min(ts) FILTER (WHERE NOT ({PROD})) AS first_nonprod
         FROM calls WHERE prompt_version IS NOT NULL GROUP BY prompt_version),
     intro AS (SELECT f.* FROM firsts f, w WHERE f.first_prod > w.start + INTERVAL 1 DAY)"""


@_register("staged_rollout", "each prompt version introduced in production took under half of its feature's traffic on its first day", 1)
def _staged_rollout(con, p):
    sql = _INTRODUCED + f""",
     day1 AS (
         SELECT i.prompt_version,
                count(*) FILTER (WHERE c.prompt_version = i.prompt_version) / count(*) AS day1_share
         FROM intro i JOIN calls c ON c.feature IS NOT DISTINCT FROM i.feature AND {PROD.replace('environment', 'c.environment')}
              AND c.ts >= i.first_prod AND c.ts < i.first_prod + INTERVAL 1 DAY
         GROUP BY i.prompt_version)
SELECT count(*) AS introduced_versions,
       count(*) FILTER (WHERE day1_share < 0.5) AS gradual,
       string_agg(prompt_version || ' ' || CAST(round(100 * day1_share) AS INTEGER) || '%', ', ' ORDER BY prompt_version)
           AS day1_share_by_version
FROM day1"""
    f = _row(con, sql)
    n = f["introduced_versions"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, "no prompt version was introduced in production during the logged window", f)
    g = f["gradual"] or 0
    out = MET if g == n else PARTIAL if g else NOT_MET
    finding = (f"{_n(g)} of {_n(n)} prompt versions introduced in production were rolled out gradually "
               f"(share of their feature's traffic on day one: {f['day1_share_by_version']})")
    if out == NOT_MET:
        finding = "no staged rollout: " + finding
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


@_register("staging_before_prod", "every prompt version introduced in production was first seen outside production", 1)
def _staging_before_prod(con, p):
    sql = _INTRODUCED + """
SELECT count(*) AS introduced_versions,
       count(*) FILTER (WHERE first_nonprod < first_prod) AS staged_first,
       string_agg(prompt_version, ', ' ORDER BY prompt_version) FILTER (WHERE first_nonprod IS NULL OR first_nonprod >= first_prod)
           AS straight_to_prod
FROM intro"""
    f = _row(con, sql)
    n = f["introduced_versions"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, "no prompt version was introduced in production during the logged window", f)
    s = f["staged_first"] or 0
    out = MET if s == n else PARTIAL if s else NOT_MET
    finding = f"{_n(s)} of {_n(n)} prompt versions introduced in production ran in a non-production environment first"
    if f["straight_to_prod"]:
        finding += f" (straight to production: {f['straight_to_prod']})"
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


# ---------------------------------------------------------------------------------------------
# eval-run probes (table eval_runs from migration 0005; absent -> insufficient_evidence)
# ---------------------------------------------------------------------------------------------

def _no_eval_table(sql: str) -> ProbeResult:
    return _insufficient(sql, 0, "no eval_runs table in this database: no eval runs recorded")


@_register("eval_runs_exist", "a recorded eval run over a golden set of at least 20 cases", 1)
def _eval_runs_exist(con, p):
    sql = """
SELECT count(*) AS runs, count(DISTINCT suite) AS suites, count(DISTINCT suite_hash) AS suite_versions,
       count(*) FILTER (WHERE passed) AS passed_runs, max(n_cases) AS max_cases, max(started_at) AS latest_run
FROM eval_runs"""
    if not table_exists(con, "eval_runs"):
        return _no_eval_table(sql)
    f = _row(con, sql)
    f["latest_run"] = str(f["latest_run"]) if f["latest_run"] is not None else None
    n = f["runs"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, "the eval_runs table holds no runs", f)
    out = MET if (f["max_cases"] or 0) >= 20 else PARTIAL
    finding = (f"{_n(n)} eval runs over {_n(f['suites'])} suite(s) ({_n(f['suite_versions'])} suite versions), "
               f"largest {_n(f['max_cases'])} cases")
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


@_register("eval_automated", "at least half of the eval runs are triggered automatically (ci or schedule)", 1)
def _eval_automated(con, p):
    sql = """
SELECT count(*) AS runs,
       count(*) FILTER (WHERE lower("trigger") IN ('ci', 'schedule')) AS automated_runs,
       count(*) FILTER (WHERE lower("trigger") = 'ci') AS ci_runs,
       max(started_at) FILTER (WHERE lower("trigger") IN ('ci', 'schedule')) AS latest_automated
FROM eval_runs"""
    if not table_exists(con, "eval_runs"):
        return _no_eval_table(sql)
    f = _row(con, sql)
    f["latest_automated"] = str(f["latest_automated"]) if f["latest_automated"] is not None else None
    n = f["runs"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, "the eval_runs table holds no runs", f)
    a = f["automated_runs"] or 0
    out = MET if a >= 0.5 * n else PARTIAL if a else NOT_MET
    finding = f"{_n(a)} of {_n(n)} eval runs were triggered automatically ({_n(f['ci_runs'])} by CI)"
    if not a:
        finding = "evals run by hand only: " + finding
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


@_register("eval_gate_before_prod", "a passing eval run of the prompt version finished before its first production call", 1)
def _eval_gate_before_prod(con, p):
    sql = f"""
WITH v AS (SELECT prompt_version, min(ts) AS first_prod FROM calls
           WHERE prompt_version IS NOT NULL AND {PROD} GROUP BY prompt_version),
     g AS (SELECT v.prompt_version,
                  EXISTS (SELECT 1 FROM eval_runs r WHERE r.prompt_version = v.prompt_version AND r.passed
                          AND coalesce(r.finished_at, r.started_at) < v.first_prod) AS gated
           FROM v)
SELECT count(*) AS prod_versions,
       count(*) FILTER (WHERE gated) AS gated_versions,
       string_agg(prompt_version, ', ' ORDER BY prompt_version) FILTER (WHERE NOT gated) AS ungated,
       (SELECT count(*) FROM eval_runs) AS eval_runs
FROM g"""
    if not table_exists(con, "eval_runs"):
        return _no_eval_table(sql)
    f = _row(con, sql)
    n = f["prod_versions"] or 0
    if not f["eval_runs"]:
        return _insufficient(sql, 0, "the eval_runs table holds no runs", f)
    if n < p.min_n:
        return _insufficient(sql, n, "no production call carries a prompt version", f)
    g = f["gated_versions"] or 0
    out = MET if g == n else PARTIAL if g >= 0.5 * n else NOT_MET
    finding = f"{_n(g)} of {_n(n)} production prompt versions had a passing eval run before their first production call"
    if f["ungated"]:
        finding += f"; shipped without one: {f['ungated']}"
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)


@_register("eval_regression_baseline", "every suite has a previous run to compare with and its latest run did not regress (mean score drop > 0.02)", 1)
def _eval_regression_baseline(con, p):
    sql = """
WITH r AS (SELECT suite, started_at, mean_score, passed,
                  lag(mean_score) OVER (PARTITION BY suite ORDER BY started_at) AS prev_score,
                  row_number() OVER (PARTITION BY suite ORDER BY started_at DESC) AS recency
           FROM eval_runs WHERE mean_score IS NOT NULL),
     latest AS (SELECT * FROM r WHERE recency = 1)
SELECT (SELECT count(*) FROM eval_runs) AS runs,
       count(*) AS suites,
       count(*) FILTER (WHERE prev_score IS NOT NULL) AS suites_with_baseline,
       count(*) FILTER (WHERE mean_score < prev_score - 0.02) AS regressed_suites,
       count(*) FILTER (WHERE NOT coalesce(passed, false)) AS latest_failed
FROM latest"""
    if not table_exists(con, "eval_runs"):
        return _no_eval_table(sql)
    f = _row(con, sql)
    n = f["runs"] or 0
    if n < p.min_n:
        return _insufficient(sql, n, "the eval_runs table holds no runs", f)
    s, b, bad = f["suites"] or 0, f["suites_with_baseline"] or 0, (f["regressed_suites"] or 0)
    out = NOT_MET if b == 0 else MET if (b == s and not bad) else PARTIAL
    finding = f"{_n(b)} of {_n(s)} eval suites have a previous run to compare with; {_n(bad)} regressed in their latest run"
    return ProbeResult("", out, finding, _round(f), sql.strip(), n=n)
