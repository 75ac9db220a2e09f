"""Generate the bundled sample pilot: 30 days of a customer-support assistant's LLM calls.

What the data is
----------------
A synthetic but realistic pilot of "Acme Support Assistant", 2026-10-02 .. 2026-10-31 (UTC),
about 20,000 LLM calls, as a consultant would receive it from a client. Nothing in it comes
from real users. Five features:

- ``support_chat``: multi-turn customer conversations (2-8 calls per session) on Anthropic
  ``claude-sonnet-4-5-20250929`` behind a LiteLLM proxy. A ~3.4k-token system prompt (tools
  included) is prompt-cached: cache writes when the cache is cold (nights, first turns),
  cache reads for the system prompt and the conversation so far. Falls back to OpenAI
  ``gpt-4o-2024-08-06`` after repeated errors. Prompt ``support-answer-v3`` becomes
  ``support-answer-v4`` (longer system prompt, shorter answers, better resolution rate) on
  Monday 2026-10-19 10:00 UTC, after a week on staging.
- ``ticket_triage``: short JSON classification of incoming tickets on ``gpt-4o-mini-2024-07-18``
  (fallback ``claude-haiku-4-5-20251001``). ``triage-v2`` (2026-10-13) adds few-shot examples:
  the prompt crosses 1,024 tokens, so OpenAI's automatic prompt caching starts to show.
- ``kb_answer``: RAG over the help centre on ``gpt-4o-2024-08-06`` (fallback
  ``claude-sonnet-4-5-20250929``), 4k-12k token contexts. Instrumented with OpenTelemetry
  instead of the proxy: each trace has one retrieval span and one chat span per attempt.
  ``kb-rag-v2`` (2026-10-22) reranks and sends fewer chunks.
- ``nightly_summary``: a nightly job (from 01:05 UTC) summarising the previous day's tickets
  on ``claude-haiku-4-5-20251001``; its shared 4.6k-token instructions are cached with the
  1-hour TTL (one 1-hour cache write per night). Not latency-sensitive: a batch candidate.
- ``pii_redaction``: a small, sensitive feature (``gpt-4o-mini``, OpenAI only by contract, so
  no fallback), tagged ``data_class:restricted``.

Traffic follows a business-hours cycle (peak 09:00-16:00 UTC, quiet nights, weekends ~40%) with
~25% growth over the month. Environment is ``prod`` plus a little ``staging``. About 2-4% of
calls fail (429 rate limits that cluster at peak, timeouts, 500s, and an Anthropic incident on
2026-10-21 13:50-15:10 UTC with 529 "overloaded" errors); the application retries each failed
call as a new call in the same trace after 1 s, 2 s, 4 s, and after two consecutive failures
``support_chat``, ``kb_answer`` and ``ticket_triage`` fall back to the other provider. Token
counts are log-normal; latency is time-to-first-token plus output tokens over the model's
throughput, slower at peak. Streaming features (support_chat, kb_answer) have a real TTFT;
for the others LiteLLM logs ``completionStartTime == endTime``, as it does for non-streaming
calls. No model here emits reasoning tokens (all outputs are reasoning-free; the buckets are
present and zero).

Files (``data/sample/``)
------------------------
- ``litellm_spendlogs.jsonl.gz``: LiteLLM proxy ``LiteLLM_SpendLogs`` rows as JSONL (every
  feature but kb_answer). ``prompt_tokens`` is OpenAI-style for both providers (includes cache
  reads and writes); cache buckets are in ``metadata.usage_object``; ``spend`` is the list-price
  cost from litellm's bundled price map (rates copied below, checked against the installed map
  when it is found); feature, prompt version, trace id and environment are in
  ``metadata.spend_logs_metadata``; failures carry ``metadata.error_information``.
  Planted defects, so that the quarantine has something to show: 3 malformed JSON lines (a
  truncated record, two records glued on one line, a stray log line of the export job), 2 rows
  with a negative token count, 1 row with a non-numeric token count ("1,770"), and 20 exact
  duplicate rows (an overlapping export around 2026-10-16 00:00 UTC).
- ``otel_spans.jsonl.gz``: OTLP/JSON, one ``ExportTraceServiceRequest`` per line (as the
  Collector's file exporter writes them), for kb_answer. Current GenAI semantic-convention
  names (``gen_ai.provider.name``, ``gen_ai.usage.input_tokens`` including cache tokens,
  ``gen_ai.usage.cache_read.input_tokens``...), 64-bit ints as decimal strings, hex ids, plus
  ``app.feature``, ``app.prompt_version``, ``user.id`` and resource ``service.name`` /
  ``deployment.environment.name``.
- ``outcomes.csv``: one row per prod support_chat session: ``session_id`` (the correlation id),
  ``outcome`` (resolved / escalated / abandoned), ``value_usd`` (12.00 saved per resolved
  ticket), ``closed_at``.

Regenerate
----------
    python data/generate_sample.py            # writes data/sample/
    python data/generate_sample.py --out DIR  # elsewhere

Standard library only; everything flows from one ``random.Random(SEED)`` and gzip headers
carry ``mtime=0``, so two runs give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.util
import io
import json
import math
import random
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

SEED = 20261031
UTC = timezone.utc
START = datetime(2026, 10, 2, tzinfo=UTC)  # day 1 of the pilot (a Friday)
DAYS = 30  # .. 2026-10-31 inclusive
START_MS = int(START.timestamp() * 1000)
DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# List prices (USD per token) from litellm 1.106.2's model_prices_and_context_window_backup.json.
# Copied, not read at run time, so the output never depends on the installed litellm;
# `check_prices()` compares them with the installed map and warns on a difference.
PRICES = {
    "gpt-4o-2024-08-06": {
        "input_cost_per_token": 2.5e-06, "cache_read_input_token_cost": 1.25e-06,
        "output_cost_per_token": 1e-05,
    },
    "gpt-4o-mini-2024-07-18": {
        "input_cost_per_token": 1.5e-07, "cache_read_input_token_cost": 7.5e-08,
        "output_cost_per_token": 6e-07,
    },
    "claude-sonnet-4-5-20250929": {
        "input_cost_per_token": 3e-06, "cache_read_input_token_cost": 3e-07,
        "cache_creation_input_token_cost": 3.75e-06, "cache_creation_input_token_cost_above_1hr": 6e-06,
        "output_cost_per_token": 1.5e-05,
    },
    "claude-haiku-4-5-20251001": {
        "input_cost_per_token": 1e-06, "cache_read_input_token_cost": 1e-07,
        "cache_creation_input_token_cost": 1.25e-06, "cache_creation_input_token_cost_above_1hr": 2e-06,
        "output_cost_per_token": 5e-06,
    },
}
PROVIDER = {
    "gpt-4o-2024-08-06": "openai", "gpt-4o-mini-2024-07-18": "openai",
    "claude-sonnet-4-5-20250929": "anthropic", "claude-haiku-4-5-20251001": "anthropic",
}
# What the application asks for (OTel gen_ai.request.model) vs. the dated snapshot served.
REQUEST_ALIAS = {
    "gpt-4o-2024-08-06": "gpt-4o", "gpt-4o-mini-2024-07-18": "gpt-4o-mini",
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-5", "claude-haiku-4-5-20251001": "claude-haiku-4-5",
}
# Latency model: base time to first token (ms), prefill (uncached input tokens/s), decode tokens/s.
SPEED = {
    "gpt-4o-2024-08-06": (420, 25_000, 72),
    "gpt-4o-mini-2024-07-18": (330, 40_000, 95),
    "claude-sonnet-4-5-20250929": (780, 22_000, 58),
    "claude-haiku-4-5-20251001": (450, 45_000, 120),
}

# Relative traffic by UTC hour (the client's agents and customers are mostly in Europe).
HOUR_WEIGHT = [0.12, 0.08, 0.07, 0.07, 0.08, 0.12, 0.25, 0.50, 0.85, 1.00, 1.00, 0.95,
               0.80, 0.90, 1.00, 0.95, 0.85, 0.60, 0.40, 0.30, 0.25, 0.20, 0.17, 0.14]
WEEKEND_FACTOR = 0.40
INCIDENT = (datetime(2026, 10, 21, 13, 50, tzinfo=UTC), datetime(2026, 10, 21, 15, 10, tzinfo=UTC))
INCIDENT_MS = tuple(int(t.timestamp() * 1000) for t in INCIDENT)


def at(month_day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(2026, 10, month_day, hour, minute, tzinfo=UTC).timestamp() * 1000)


PROMPT_VERSIONS = {  # feature -> [(effective from ms, prod version, staging version)]
    "support_chat": [(0, "support-answer-v3", "support-answer-v3"),
                     (at(12, 9), "support-answer-v3", "support-answer-v4"),
                     (at(19, 10), "support-answer-v4", "support-answer-v5-rc1")],
    "ticket_triage": [(0, "triage-v1", "triage-v1"), (at(9, 14), "triage-v1", "triage-v2"),
                      (at(13, 9), "triage-v2", "triage-v2")],
    "kb_answer": [(0, "kb-rag-v1", "kb-rag-v1"), (at(19, 8), "kb-rag-v1", "kb-rag-v2"),
                  (at(22, 9, 30), "kb-rag-v2", "kb-rag-v2")],
    "nightly_summary": [(0, "nightly-summary-v1", "nightly-summary-v1")],
    "pii_redaction": [(0, "pii-redact-v2", "pii-redact-v2")],
}

SUPPORT_SYSTEM = {"support-answer-v3": 3_352, "support-answer-v4": 4_018, "support-answer-v5-rc1": 4_105}
SUPPORT_OUT_MEDIAN = {"support-answer-v3": 175, "support-answer-v4": 148, "support-answer-v5-rc1": 140}
TRIAGE_PROMPT = {"triage-v1": 716, "triage-v2": 1_372}
KB_SYSTEM = 1_463
KB_CHUNKS = {"kb-rag-v1": 8, "kb-rag-v2": 5}
NIGHTLY_PREFIX = 4_612
PII_PROMPT = 384

# LiteLLM virtual keys (stored hashed), their owners and teams.
KEYS = {
    "support-bot-prod": ("svc-support-bot", "team-cx-platform", "cx-platform", "10.42.3.17"),
    "triage-worker-prod": ("svc-triage", "team-cx-platform", "cx-platform", "10.42.3.41"),
    "nightly-jobs-prod": ("svc-nightly", "team-cx-analytics", "cx-analytics", "10.42.7.5"),
    "pii-redactor-prod": ("svc-pii-redactor", "team-trust-safety", "trust-safety", "10.42.9.12"),
    "cx-staging": ("dev-cx-platform", "team-cx-platform", "cx-platform", "10.52.0.23"),
}
MODEL_GROUP = {  # (feature, model) -> LiteLLM model_group (the public alias the app calls)
    ("support_chat", "claude-sonnet-4-5-20250929"): "support-primary",
    ("support_chat", "gpt-4o-2024-08-06"): "support-fallback",
    ("ticket_triage", "gpt-4o-mini-2024-07-18"): "triage",
    ("ticket_triage", "claude-haiku-4-5-20251001"): "triage-fallback",
    ("nightly_summary", "claude-haiku-4-5-20251001"): "summarizer",
    ("pii_redaction", "gpt-4o-mini-2024-07-18"): "pii-redactor",
}
API_BASE = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com/v1/messages"}


# ----------------------------------------------------------------------------------------
# Random helpers (all draws go through one Random instance, in a fixed order)
# ----------------------------------------------------------------------------------------

class Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def lognormal(self, median: float, sigma: float, lo: float = 1, hi: float = 1e9) -> int:
        return int(round(min(hi, max(lo, median * math.exp(self.rng.gauss(0.0, sigma))))))

    def poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 40:
            return max(0, int(round(self.rng.gauss(lam, math.sqrt(lam)))))
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def token(self, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def choice_weighted(self, items, weights):
        return self.rng.choices(items, weights=weights, k=1)[0]


def is_weekend(t_ms: int) -> bool:
    return datetime.fromtimestamp(t_ms / 1000, UTC).weekday() >= 5


def growth(t_ms: int) -> float:
    return 1.0 + 0.25 * (t_ms - START_MS) / (DAYS * DAY_MS)


def load(t_ms: int) -> float:
    """Platform load relative to a weekday peak hour at the start of the month."""
    h = datetime.fromtimestamp(t_ms / 1000, UTC).hour
    return HOUR_WEIGHT[h] * (WEEKEND_FACTOR if is_weekend(t_ms) else 1.0) * growth(t_ms)


def arrivals(g: Gen, per_weekday: float, hours=range(24), weights=None, weekend=WEEKEND_FACTOR,
             weekdays_only=False) -> list[int]:
    """Arrival times (ms) over the pilot: Poisson counts per hour, uniform within the hour."""
    weights = weights or HOUR_WEIGHT
    total_w = sum(weights[h] for h in hours)
    out = []
    for d in range(DAYS):
        day0 = START_MS + d * DAY_MS
        wk = is_weekend(day0)
        if wk and weekdays_only:
            continue
        for h in hours:
            t0 = day0 + h * HOUR_MS
            lam = per_weekday * weights[h] / total_w * (weekend if wk else 1.0) * growth(t0)
            for _ in range(g.poisson(lam)):
                out.append(t0 + g.rng.randrange(HOUR_MS))
    out.sort()
    return out


def prompt_version(feature: str, t_ms: int, env: str) -> str:
    chosen = PROMPT_VERSIONS[feature][0]
    for entry in PROMPT_VERSIONS[feature]:
        if t_ms >= entry[0]:
            chosen = entry
    return chosen[1] if env == "prod" else chosen[2]


class Customers:
    """A pool of end users with a skewed activity distribution (a few heavy users)."""

    def __init__(self, g: Gen, n: int):
        self.ids = [f"cus_{g.token(10)}" for _ in range(n)]
        self.weights = [1.0 / (i + 8) ** 0.9 for i in range(n)]
        self.g = g

    def pick(self) -> str:
        return self.g.choice_weighted(self.ids, self.weights)


# ----------------------------------------------------------------------------------------
# Calls: one dict per LLM call; attempts of one user action share a trace id
# ----------------------------------------------------------------------------------------

ERROR_TEXT = {
    ("rate_limit", "openai"): ("429", "RateLimitError",
        "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for {m} in organization "
        "org-acme on tokens per min (TPM): Limit 2000000, Used 1994310, Requested 7214. Please try again in 170ms."),
    ("rate_limit", "anthropic"): ("429", "RateLimitError",
        "litellm.RateLimitError: AnthropicException - {{\"type\":\"error\",\"error\":{{\"type\":\"rate_limit_error\","
        "\"message\":\"This request would exceed the rate limit for your organization of 2,000,000 input tokens per "
        "minute.\"}}}}"),
    ("timeout", "openai"): ("408", "Timeout",
        "litellm.Timeout: APITimeoutError - Request timed out. Error_str: Request timed out. LiteLLM Retried: 0 times"),
    ("timeout", "anthropic"): ("408", "Timeout",
        "litellm.Timeout: AnthropicException - Connection timed out after {s} seconds."),
    ("server", "openai"): ("500", "InternalServerError",
        "litellm.InternalServerError: InternalServerError: OpenAIException - The server had an error while "
        "processing your request. Sorry about that!"),
    ("server", "anthropic"): ("500", "InternalServerError",
        "litellm.InternalServerError: AnthropicException - {{\"type\":\"error\",\"error\":{{\"type\":\"api_error\","
        "\"message\":\"Internal server error\"}}}}"),
    ("overloaded", "anthropic"): ("529", "InternalServerError",
        "litellm.InternalServerError: AnthropicException - {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\","
        "\"message\":\"Overloaded\"}}}}"),
}


def draw_error(g: Gen, provider: str, t_ms: int, prev_error: str | None, long_call: bool) -> str | None:
    """The error class of one attempt, or None when it succeeds."""
    r = g.rng.random()
    if provider == "anthropic" and INCIDENT_MS[0] <= t_ms < INCIDENT_MS[1]:
        if r < 0.45:
            return "overloaded"
        r = g.rng.random()
    if prev_error == "rate_limit":  # rate limits come in bursts
        p_rl, p_to, p_sv = 0.33, 0.004, 0.004
    elif prev_error in ("server", "overloaded"):
        p_rl, p_to, p_sv = 0.01, 0.004, 0.20
    elif prev_error == "timeout":
        p_rl, p_to, p_sv = 0.01, 0.10, 0.01
    else:
        p_rl = 0.021 * load(t_ms) ** 2
        p_to = 0.007 if long_call else 0.0035
        p_sv = 0.005
    if r < p_rl:
        return "rate_limit"
    if r < p_rl + p_to:
        return "timeout"
    if r < p_rl + p_to + p_sv:
        return "server"
    return None


def error_latency(g: Gen, err: str, timeout_s: int) -> int:
    if err == "rate_limit":
        return g.lognormal(160, 0.5, 40, 2_000)
    if err == "timeout":
        return timeout_s * 1000 + g.rng.randrange(5, 60)
    if err == "overloaded":
        return g.lognormal(900, 0.6, 150, 8_000)
    return g.lognormal(1_800, 0.7, 200, 20_000)


def ok_timing(g: Gen, model: str, t_ms: int, uncached_in: int, cached_in: int, out: int) -> tuple[int, int]:
    """(ttft_ms, latency_ms) of a successful call."""
    base, prefill, tps = SPEED[model]
    slow = 1.0 + 0.18 * load(t_ms)
    ttft = base * math.exp(g.rng.gauss(0, 0.28)) * slow + uncached_in / prefill * 1000 + cached_in / prefill * 100
    gen = out / tps * 1000 * math.exp(g.rng.gauss(0, 0.15)) * slow
    ttft = int(round(ttft))
    return ttft, ttft + int(round(gen)) + g.rng.randrange(15, 60)


def run_trace(g: Gen, t_ms: int, primary: str, fallback: str | None, long_call: bool, timeout_s: int,
              max_attempts: int = 4) -> list[dict]:
    """Attempts of one user action: retries after 1 s, 2 s, 4 s; a fallback after two failures.

    Returns attempt skeletons: model, start, and error class (None = success; the caller fills
    tokens and timing for the successful one).
    """
    attempts, model, prev_err, fails_on_model, backoff = [], primary, None, 0, 1000
    t = t_ms
    for n in range(max_attempts):
        err = draw_error(g, PROVIDER[model], t, prev_err, long_call)
        a = {"model": model, "start": t, "error": err, "attempt": n}
        attempts.append(a)
        if err is None:
            break
        a["latency"] = error_latency(g, err, timeout_s)
        end = t + a["latency"]
        prev_err = err
        fails_on_model += 1
        if fallback and model == primary and fails_on_model >= 2 and err != "timeout":
            model, prev_err, fails_on_model = fallback, None, 0
            t = end + g.rng.randrange(20, 120)  # the router falls back at once
        else:
            t = end + backoff + g.rng.randrange(0, 50)
            backoff *= 2
    return attempts


def new_call(g: Gen, feature: str, env: str, a: dict, trace_id: str, version: str, user: str | None,
             session: str | None, n_attempts: int) -> dict:
    model = a["model"]
    return {
        "feature": feature, "env": env, "model": model, "provider": PROVIDER[model], "start": a["start"],
        "error": a["error"], "attempt": a["attempt"], "fallback": a["attempt"] > 0 and model != a.get("primary"),
        "trace_id": trace_id, "prompt_version": version, "user": user, "session": session,
        "latency": a.get("latency"), "ttft": None, "input": 0, "cache_read": 0, "cache_write": 0,
        "cache_write_1h": 0, "output": 0, "finish": None, "n_attempts": n_attempts,
    }


def fill_ok(g: Gen, c: dict, uncached_in: int, cache_read: int, cache_write: int, out: int,
            max_tokens: int, cache_write_1h: int = 0) -> None:
    finish = "stop"
    if out >= max_tokens:
        out, finish = max_tokens, "length"
    c.update(input=uncached_in + cache_read + cache_write, cache_read=cache_read, cache_write=cache_write,
             cache_write_1h=cache_write_1h, output=out, finish=finish)
    c["ttft"], c["latency"] = ok_timing(g, c["model"], c["start"], uncached_in + cache_write, cache_read, out)


def openai_cached(prefix_tokens: int, warm: bool) -> int:
    """OpenAI caches prompts of 1,024+ tokens, in 128-token steps of the shared prefix."""
    if not warm or prefix_tokens < 1024:
        return 0
    return prefix_tokens // 128 * 128


def trace_calls(g: Gen, feature: str, env: str, t_ms: int, primary: str, fallback: str | None,
                version: str, user: str | None, session: str | None, long_call: bool, timeout_s: int,
                max_attempts: int = 4) -> list[dict]:
    attempts = run_trace(g, t_ms, primary, fallback, long_call, timeout_s, max_attempts)
    trace_id = g.uuid4()
    calls = []
    for a in attempts:
        a["primary"] = primary
        calls.append(new_call(g, feature, env, a, trace_id, version, user, session, len(attempts)))
    return calls


# ----------------------------------------------------------------------------------------
# Features
# ----------------------------------------------------------------------------------------

def gen_support_chat(g: Gen, customers: Customers) -> tuple[list[dict], list[dict]]:
    """Sessions of 2-8 turns; returns (calls, sessions)."""
    starts = [(t, "prod") for t in arrivals(g, 78)]
    starts += [(t, "staging") for t in arrivals(g, 2.2, hours=range(8, 18), weekdays_only=True)]
    starts.sort()
    calls, sessions = [], []
    turns_dist = ([2, 3, 4, 5, 6, 7, 8], [18, 22, 20, 15, 11, 8, 6])
    for t0, env in starts:
        sid = f"chat_{g.token(16, '0123456789abcdef')}"
        user = customers.pick() if env == "prod" else f"qa_{g.rng.randrange(1, 6)}"
        n_turns = g.choice_weighted(*turns_dist)
        version = prompt_version("support_chat", t0, env)
        sess = {"session": sid, "env": env, "start": t0, "version": version, "turns": 0, "failed": False,
                "end": t0, "calls": []}
        t, history = t0, 0
        for k in range(n_turns):
            user_msg = g.lognormal(42, 0.65, 4, 900)
            tool = g.lognormal(340, 0.5, 60, 2_500) if g.rng.random() < 0.35 else 0
            tcalls = trace_calls(g, "support_chat", env, t, "claude-sonnet-4-5-20250929", "gpt-4o-2024-08-06",
                                 version, user, sid, long_call=False, timeout_s=60)
            out = 0
            for c in tcalls:
                c["turn"], c["history"], c["new"] = k, history, user_msg + tool + 7
                if c["error"] is None:
                    out = g.lognormal(SUPPORT_OUT_MEDIAN[version], 0.5, 12, 2_000)
                    c["planned_out"] = out
            calls.extend(tcalls)
            sess["calls"].extend(tcalls)
            sess["turns"] = k + 1
            last = tcalls[-1]
            if last["error"] is not None:  # the user saw an error
                sess["failed"] = True
                sess["end"] = last["start"] + last["latency"]
                break
            history += user_msg + tool + 7 + out + 4
            # latency is only known after the cache pass; estimate the turn's end for the next turn
            est = SPEED[last["model"]][0] + out / SPEED[last["model"]][2] * 1000
            t = last["start"] + int(est) + g.lognormal(38_000, 0.75, 6_000, 1_200_000)
            sess["end"] = t
        sessions.append(sess)

    # Cache pass, in time order: Anthropic's 5-minute cache for the system prompt (shared by all
    # sessions) and the conversation prefix (per session); OpenAI's automatic prefix cache.
    sys_last: dict[tuple, int] = {}
    sess_state: dict[str, tuple] = {}
    for c in sorted(calls, key=lambda c: c["start"]):
        if c["error"] is not None:
            continue
        system = SUPPORT_SYSTEM[c["prompt_version"]]
        key = (c["model"], c["prompt_version"], c["env"])
        total = system + c["history"] + c["new"]
        prev = sess_state.get(c["session"])
        sys_warm = key in sys_last and c["start"] - sys_last[key] < 300_000
        sess_warm = prev is not None and prev[0] == c["model"] and c["start"] - prev[1] < 300_000
        if c["provider"] == "anthropic":
            uncached = g.rng.randrange(3, 10)
            read = prev[2] if sess_warm else (system if sys_warm else 0)
            write = total - uncached - read
            fill_ok(g, c, uncached, read, write, c["planned_out"], 1024)
            cached_prefix = total - uncached
        else:
            prefix = prev[2] if sess_warm else system
            read = openai_cached(prefix, sys_warm or sess_warm)
            fill_ok(g, c, total - read, read, 0, c["planned_out"], 1024)
            cached_prefix = total
        sys_last[key] = c["start"]
        sess_state[c["session"]] = (c["model"], c["start"] + c["latency"], cached_prefix)
    return calls, sessions


def gen_ticket_triage(g: Gen, customers: Customers) -> list[dict]:
    starts = [(t, "prod") for t in arrivals(g, 198)]
    starts += [(t, "staging") for t in arrivals(g, 5, hours=range(8, 18), weekdays_only=True)]
    starts.sort()
    calls, last_warm = [], {}
    for t, env in starts:
        version = prompt_version("ticket_triage", t, env)
        tcalls = trace_calls(g, "ticket_triage", env, t, "gpt-4o-mini-2024-07-18", "claude-haiku-4-5-20251001",
                             version, customers.pick() if env == "prod" else "qa_triage", None,
                             long_call=False, timeout_s=30)
        for c in tcalls:
            if c["error"] is None:
                prompt, ticket = TRIAGE_PROMPT[version], g.lognormal(260, 0.65, 20, 6_000)
                out = g.lognormal(27, 0.35, 8, 160)
                if c["provider"] == "openai":
                    key = (version, env)
                    warm = key in last_warm and t - last_warm[key] < 420_000
                    read = openai_cached(prompt, warm)
                    last_warm[key] = t
                    fill_ok(g, c, prompt + ticket - read, read, 0, out, 256)
                else:  # the fallback sends no cache_control: no Anthropic caching
                    fill_ok(g, c, prompt + ticket, 0, 0, out, 256)
        calls.extend(tcalls)
    return calls


def gen_kb_answer(g: Gen, customers: Customers) -> list[dict]:
    starts = [(t, "prod") for t in arrivals(g, 108)]
    starts += [(t, "staging") for t in arrivals(g, 2.5, hours=range(8, 18), weekdays_only=True)]
    starts.sort()
    agents = [f"agt_{g.token(6)}" for _ in range(38)]
    calls, last_warm = [], {}
    for t, env in starts:
        version = prompt_version("kb_answer", t, env)
        if env == "staging":
            user = "qa_kb"
        else:
            user = g.rng.choice(agents) if g.rng.random() < 0.3 else customers.pick()
        retrieval_ms = g.lognormal(95, 0.45, 25, 1_500)
        top_k = KB_CHUNKS[version]
        tcalls = trace_calls(g, "kb_answer", env, t + retrieval_ms + g.rng.randrange(3, 25),
                             "gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929", version, user, None,
                             long_call=True, timeout_s=45)
        tcalls[0]["retrieval"] = (t, retrieval_ms, top_k)
        question = g.lognormal(38, 0.5, 6, 400)
        context = sum(g.lognormal(640, 0.35, 120, 2_400) for _ in range(top_k))
        total = KB_SYSTEM + context + question
        for c in tcalls:
            if c["error"] is None:
                out = g.lognormal(255, 0.55, 20, 2_000)
                if c["provider"] == "openai":
                    key = (version, env)
                    warm = key in last_warm and c["start"] - last_warm[key] < 420_000
                    last_warm[key] = c["start"]
                    faq = warm and g.rng.random() < 0.06  # the same popular question again
                    read = openai_cached(total - question if faq else KB_SYSTEM, warm)
                    fill_ok(g, c, total - read, read, 0, out, 1200)
                else:
                    fill_ok(g, c, total, 0, 0, out, 1200)
        calls.extend(tcalls)
    return calls


def gen_nightly_summary(g: Gen, triage_per_day: dict[int, int]) -> list[dict]:
    calls = []
    model = "claude-haiku-4-5-20251001"
    for d in range(DAYS):
        day0 = START_MS + d * DAY_MS
        n = max(8, int(round(triage_per_day.get(d - 1, 150) / 11 * (0.9 + 0.2 * g.rng.random()))))
        t = day0 + HOUR_MS + 5 * 60_000 + g.rng.randrange(0, 40_000)
        version = prompt_version("nightly_summary", t, "prod")
        cache_until = None  # the 1-hour cached instructions
        for i in range(n):
            tcalls = trace_calls(g, "nightly_summary", "prod", t, model, None, version, None, None,
                                 long_call=True, timeout_s=120)
            for c in tcalls:
                c["batch_index"] = i
                if c["error"] is None:
                    content = g.lognormal(13_500, 0.45, 2_000, 90_000)
                    out = g.lognormal(720, 0.35, 150, 3_000)
                    if cache_until is not None and c["start"] < cache_until:
                        fill_ok(g, c, content, NIGHTLY_PREFIX, 0, out, 4096)
                    else:
                        fill_ok(g, c, content, 0, NIGHTLY_PREFIX, out, 4096, cache_write_1h=NIGHTLY_PREFIX)
                    cache_until = c["start"] + HOUR_MS  # a hit refreshes the TTL
            calls.extend(tcalls)
            last = tcalls[-1]
            t = last["start"] + last["latency"] + g.rng.randrange(300, 2_500)
    return calls


def gen_pii_redaction(g: Gen, customers: Customers) -> list[dict]:
    calls = []
    for t in arrivals(g, 21, hours=range(6, 20)):
        version = prompt_version("pii_redaction", t, "prod")
        tcalls = trace_calls(g, "pii_redaction", "prod", t, "gpt-4o-mini-2024-07-18", None, version,
                             customers.pick(), None, long_call=False, timeout_s=30)
        for c in tcalls:
            if c["error"] is None:
                text = g.lognormal(520, 0.7, 40, 8_000)
                out = int(text * (0.88 + 0.1 * g.rng.random()))
                fill_ok(g, c, PII_PROMPT + text, 0, 0, out, 8192)
        calls.extend(tcalls)
    return calls


# ----------------------------------------------------------------------------------------
# Cost (list price) and writers
# ----------------------------------------------------------------------------------------

def cost(c: dict) -> float:
    if c["error"] is not None:
        return 0.0
    p = PRICES[c["model"]]
    w1h = c["cache_write_1h"]
    w5m = c["cache_write"] - w1h
    uncached = c["input"] - c["cache_read"] - c["cache_write"]
    return (uncached * p["input_cost_per_token"]
            + c["cache_read"] * p["cache_read_input_token_cost"]
            + w5m * p.get("cache_creation_input_token_cost", p["input_cost_per_token"])
            + w1h * p.get("cache_creation_input_token_cost_above_1hr", p["input_cost_per_token"])
            + c["output"] * p["output_cost_per_token"])


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def usage_object(c: dict) -> dict | None:
    if c["error"] is not None:
        return None
    u = {
        "completion_tokens": c["output"], "prompt_tokens": c["input"], "total_tokens": c["input"] + c["output"],
        "completion_tokens_details": {"accepted_prediction_tokens": 0, "audio_tokens": 0, "reasoning_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }
    if c["provider"] == "openai":
        u["prompt_tokens_details"] = {"audio_tokens": 0, "cached_tokens": c["cache_read"]}
    else:
        u["prompt_tokens_details"] = {
            "cached_tokens": c["cache_read"], "cache_creation_tokens": c["cache_write"],
            "cache_creation_token_details": {"ephemeral_5m_input_tokens": c["cache_write"] - c["cache_write_1h"],
                                             "ephemeral_1h_input_tokens": c["cache_write_1h"]},
        }
        u["cache_creation_input_tokens"] = c["cache_write"]
        u["cache_read_input_tokens"] = c["cache_read"]
    return u


FEATURE_KEY = {"support_chat": "support-bot-prod", "ticket_triage": "triage-worker-prod",
               "nightly_summary": "nightly-jobs-prod", "pii_redaction": "pii-redactor-prod"}


def spendlog_row(g: Gen, c: dict, key_hash: dict, model_ids: dict) -> dict:
    alias = FEATURE_KEY[c["feature"]] if c["env"] == "prod" else "cx-staging"
    owner, team_id, team_alias, ip = KEYS[alias]
    ok = c["error"] is None
    provider = c["provider"]
    end = c["start"] + c["latency"]
    streaming = c["feature"] == "support_chat"
    tags = [f"feature:{c['feature']}", f"env:{c['env']}"]
    if c["feature"] == "pii_redaction":
        tags.append("data_class:restricted")
    slm = {"feature": c["feature"], "prompt_version": c["prompt_version"], "trace_id": c["trace_id"],
           "environment": c["env"]}
    if c["feature"] == "nightly_summary":
        slm["job"] = "nightly-ticket-digest"
    err_info = None
    if not ok:
        code, cls, msg = ERROR_TEXT[(c["error"], provider)]
        err_info = {"error_code": code, "error_class": cls, "llm_provider": provider, "traceback": "",
                    "error_message": msg.format(m=c["model"], s=60 if c["feature"] != "nightly_summary" else 120)}
    group = MODEL_GROUP[(c["feature"], c["model"])]
    metadata = {
        "user_api_key": key_hash[alias], "user_api_key_alias": alias, "user_api_key_team_id": team_id,
        "user_api_key_org_id": "org-acme", "user_api_key_user_id": owner, "user_api_key_team_alias": team_alias,
        "spend_logs_metadata": slm, "requester_ip_address": ip, "applied_guardrails": [],
        "batch_models": None, "usage_object": usage_object(c),
        "model_map_information": {"model_map_key": c["model"], "model_map_value": None},
        "additional_usage_values": {}, "status": "success" if ok else "failure",
        "error_information": err_info,
        "attempted_retries": 0, "max_retries": 0,
        "litellm_overhead_time_ms": round(2 + 6 * g.rng.random(), 3),
    }
    return {
        "request_id": f"chatcmpl-{g.uuid4()}" if ok else g.uuid4(),
        "call_type": "acompletion",
        "api_key": key_hash[alias],
        "spend": cost(c),
        "total_tokens": c["input"] + c["output"],
        "prompt_tokens": c["input"],
        "completion_tokens": c["output"],
        "startTime": iso(c["start"]),
        "endTime": iso(end),
        "completionStartTime": (iso(c["start"] + c["ttft"]) if streaming else iso(end)) if ok else None,
        "request_duration_ms": c["latency"],
        "model": c["model"],
        "model_id": model_ids[(group, c["model"])],
        "model_group": group,
        "custom_llm_provider": provider,
        "api_base": API_BASE[provider],
        "user": owner,
        "metadata": metadata,
        "cache_hit": "False",
        "cache_key": "Cache OFF",
        "request_tags": tags,
        "team_id": team_id,
        "organization_id": "org-acme",
        "end_user": c["user"],
        "requester_ip_address": ip,
        "session_id": c["session"],
        "status": "success" if ok else "failure",
        "messages": {},
        "response": {},
        "proxy_server_request": {},
        "mcp_namespaced_tool_name": None,
        "agent_id": None,
    }


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def plant_defects(g: Gen, rows: list[dict]) -> tuple[list[str], dict]:
    """Serialize rows to lines, planting realistic defects. Returns (lines, what was planted)."""
    lines = [dumps(r) for r in rows]
    # Candidate rows for corruption: successful triage / PII rows away from the file's start
    # (the first record is what format detection looks at) and from the duplicated block.
    dup_at = next(i for i, r in enumerate(rows) if r["startTime"] >= "2026-10-16T00:00:00.000Z")
    cands = [i for i, r in enumerate(rows)
             if r["status"] == "success" and r["model_group"] in ("triage", "pii-redactor")
             and 100 < i < len(rows) - 100 and abs(i - dup_at) > 60]
    picked = g.rng.sample(cands, 6)
    while any(abs(a - b) < 3 for a in picked for b in picked if a != b):
        picked = g.rng.sample(cands, 6)
    planted = {"malformed": [], "negative": [], "non_numeric": [], "duplicates": 20}

    # 1. a line truncated mid-record (the exporter was killed while writing)
    i = picked[0]
    lines[i] = lines[i][: len(lines[i]) * 3 // 5]
    # 2. two records on one line (a concurrent writer lost a newline)
    i = picked[1]
    lines[i] = lines[i] + lines[i + 1]
    lines[i + 1] = None
    # 3. a log line from the export job that ended up in the file (not JSON at all)
    i = picked[2]
    stamp = rows[i]["startTime"][:19].replace("T", " ")
    lines[i] = [f"{stamp},512 WARNING spend_logs_export: batch 212 upload slow, retrying (1/3)", lines[i]]
    planted["malformed"] = [rows[j]["request_id"] for j in picked[:2]] + [rows[picked[1] + 1]["request_id"]]

    # 4-5. negative token counts (a sign bug in an export transform)
    for j, field in zip(picked[3:5], ["completion_tokens", "prompt_tokens"]):
        r = json.loads(lines[j])
        r[field] = -r[field]
        r["metadata"]["usage_object"][field] = r[field]
        lines[j] = dumps(r)
        planted["negative"].append(r["request_id"])
    # 6. a non-numeric token count (a spreadsheet round trip with thousands separators)
    j = picked[5]
    r = json.loads(lines[j])
    bad = f"{r['prompt_tokens']:,}" if r["prompt_tokens"] >= 1000 else f"{r['prompt_tokens']} tokens"
    r["prompt_tokens"] = bad
    r["metadata"]["usage_object"]["prompt_tokens"] = bad
    lines[j] = dumps(r)
    planted["non_numeric"].append(r["request_id"])

    # 7. an overlapping export: the 20 rows before 2026-10-16 00:00 UTC appear twice
    lines[dup_at:dup_at] = lines[dup_at - 20: dup_at]
    lines = [y for x in lines if x is not None for y in (x if isinstance(x, list) else [x])]
    return lines, planted


def attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}}}
    return {"key": key, "value": {"stringValue": value}}


OTEL_ERROR = {  # (error, provider) -> (error.type, status message, HTTP status)
    ("rate_limit", "openai"): ("openai.RateLimitError", "Error code: 429 - Rate limit reached for gpt-4o", 429),
    ("timeout", "openai"): ("openai.APITimeoutError", "Request timed out.", None),
    ("server", "openai"): ("openai.InternalServerError", "Error code: 500 - The server had an error", 500),
    ("rate_limit", "anthropic"): ("anthropic.RateLimitError", "Error code: 429 - rate_limit_error", 429),
    ("timeout", "anthropic"): ("anthropic.APITimeoutError", "Request timed out.", None),
    ("server", "anthropic"): ("anthropic.InternalServerError", "Error code: 500 - api_error", 500),
    ("overloaded", "anthropic"): ("anthropic.InternalServerError", "Error code: 529 - overloaded_error", 529),
}
SCOPE = {
    "openai": {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.2b0"},
    "anthropic": {"name": "opentelemetry.instrumentation.anthropic", "version": "0.47.3"},
    "retrieval": {"name": "kb_assistant.retrieval", "version": "3.8.1"},
}


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
BASE58 = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789"


def nanos(g: Gen, ms: int) -> str:
    return str(ms * 1_000_000 + g.rng.randrange(1_000_000))


def otel_trace_spans(g: Gen, calls: list[dict]) -> list[tuple[str, dict]]:
    """(scope key, span) pairs of one kb_answer trace."""
    trace_hex = calls[0]["trace_id"].replace("-", "")
    t, dur, top_k = calls[0]["retrieval"]
    first = calls[0]
    common = [attr("app.feature", "kb_answer"), attr("app.prompt_version", first["prompt_version"])]
    out = [("retrieval", {
        "traceId": trace_hex, "spanId": g.hex(64), "parentSpanId": "", "name": "retrieval help-center-v7",
        "kind": 3, "startTimeUnixNano": nanos(g, t), "endTimeUnixNano": nanos(g, t + dur),
        "attributes": [attr("gen_ai.operation.name", "retrieval"),
                       attr("gen_ai.data_source.id", "help-center-v7"),
                       attr("gen_ai.request.top_k", float(top_k)),
                       attr("db.system.name", "qdrant"), *common],
        "status": {"code": 0},
    })]
    for c in calls:
        provider, model = c["provider"], c["model"]
        attrs = [
            attr("gen_ai.operation.name", "chat"),
            attr("gen_ai.provider.name", provider),
            attr("gen_ai.request.model", REQUEST_ALIAS[model]),
            attr("gen_ai.request.max_tokens", 1200),
            attr("gen_ai.request.temperature", 0.2),
            attr("gen_ai.request.stream", True),
            attr("server.address", "api.openai.com" if provider == "openai" else "api.anthropic.com"),
            attr("server.port", 443),
        ]
        status = {"code": 0}
        if c["error"] is None:
            if provider == "openai":
                rid = f"chatcmpl-{g.token(29, ALNUM)}"
            else:
                rid = f"msg_01{g.token(22, BASE58)}"
            attrs += [
                attr("gen_ai.response.model", model),
                attr("gen_ai.response.id", rid),
                attr("gen_ai.response.finish_reasons", [c["finish"] if provider == "openai" else
                                                        {"stop": "end_turn", "length": "max_tokens"}[c["finish"]]]),
                attr("gen_ai.usage.input_tokens", c["input"]),
                attr("gen_ai.usage.output_tokens", c["output"]),
                attr("gen_ai.usage.cache_read.input_tokens", c["cache_read"]),
            ]
            if provider == "anthropic":
                attrs.append(attr("gen_ai.usage.cache_creation.input_tokens", c["cache_write"]))
            attrs.append(attr("gen_ai.response.time_to_first_chunk", round(c["ttft"] / 1000, 3)))
        else:
            etype, msg, http = OTEL_ERROR[(c["error"], provider)]
            attrs.append(attr("error.type", etype))
            if http:
                attrs.append(attr("http.response.status_code", http))
            status = {"code": 2, "message": msg}
        attrs += [attr("user.id", c["user"]), *common]
        out.append((provider, {
            "traceId": trace_hex, "spanId": g.hex(64), "parentSpanId": "",
            "name": f"chat {REQUEST_ALIAS[model]}", "kind": 3,
            "startTimeUnixNano": nanos(g, c["start"]), "endTimeUnixNano": nanos(g, c["start"] + c["latency"]),
            "attributes": attrs, "status": status,
        }))
    return out


def otel_lines(g: Gen, kb_calls: list[dict]) -> list[str]:
    traces: dict[str, list[dict]] = {}
    for c in kb_calls:
        traces.setdefault(c["trace_id"], []).append(c)
    ordered = sorted(traces.values(), key=lambda cs: cs[0]["retrieval"][0])
    resource = {
        env: {"attributes": [attr("service.name", "kb-assistant"), attr("service.version", "3.8.1"),
                             attr("service.instance.id", inst),
                             attr("deployment.environment.name", env),
                             attr("telemetry.sdk.name", "opentelemetry"), attr("telemetry.sdk.language", "python"),
                             attr("telemetry.sdk.version", "1.38.0")]}
        for env, inst in (("prod", "kb-assistant-7d9f8b6c5-x2lqp"), ("staging", "kb-assistant-stg-0"))
    }
    lines, i = [], 0
    while i < len(ordered):
        # The batch span processor flushes every 5 s: traces that end close together share a request.
        batch = [ordered[i]]
        env = ordered[i][0]["env"]
        t_first = ordered[i][0]["retrieval"][0]
        i += 1
        while (i < len(ordered) and ordered[i][0]["env"] == env
               and ordered[i][0]["retrieval"][0] - t_first < 5_000):
            batch.append(ordered[i])
            i += 1
        by_scope: dict[str, list] = {"retrieval": [], "openai": [], "anthropic": []}
        for calls in batch:
            for scope, span in otel_trace_spans(g, calls):
                by_scope[scope].append(span)
        scope_spans = [{"scope": SCOPE[s], "spans": spans} for s, spans in by_scope.items() if spans]
        lines.append(dumps({"resourceSpans": [{"resource": resource[env], "scopeSpans": scope_spans}]}))
    return lines


def write_gz(path: Path, lines: list[str]) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(("\n".join(lines) + "\n").encode("utf-8"))
    path.write_bytes(buf.getvalue())


def outcomes(g: Gen, sessions: list[dict]) -> list[list[str]]:
    rows = []
    for s in sessions:
        if s["env"] != "prod":
            continue
        if s["failed"]:
            outcome = "abandoned" if g.rng.random() < 0.7 else "escalated"
        else:
            better = s["version"] != "support-answer-v3"
            p_esc = 0.09 + 0.035 * (s["turns"] - 2) - (0.04 if better else 0.0)
            p_ab = 0.13 - (0.03 if better else 0.0)
            r = g.rng.random()
            outcome = "escalated" if r < p_esc else "abandoned" if r < p_esc + p_ab else "resolved"
        closed = s["end"] + g.lognormal(90_000, 0.8, 5_000, 3_600_000)
        rows.append([s["session"], outcome, "12.00" if outcome == "resolved" else "0.00",
                     datetime.fromtimestamp(closed / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")])
    return rows


def check_prices() -> None:
    """Warn (stderr) when the installed litellm's price map disagrees with PRICES."""
    try:
        spec = importlib.util.find_spec("litellm")  # locates the package without importing it
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        print("note: litellm not installed; prices not checked", file=sys.stderr)
        return
    path = Path(list(spec.submodule_search_locations)[0]) / "model_prices_and_context_window_backup.json"
    if not path.exists():
        print(f"note: {path} not found; prices not checked", file=sys.stderr)
        return
    book = json.loads(path.read_text())
    for model, rates in PRICES.items():
        entry = book.get(model)
        if entry is None:
            print(f"warning: {model} is not in {path}", file=sys.stderr)
            continue
        for k, v in rates.items():
            if entry.get(k) != v:
                print(f"warning: {model} {k} is {entry.get(k)} in the installed price map, {v} here",
                      file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "sample")
    args = ap.parse_args(argv)
    check_prices()
    g = Gen(SEED)
    customers = Customers(g, 2_400)
    key_hash = {a: hashlib.sha256(f"sk-{a}-{g.token(24)}".encode()).hexdigest() for a in KEYS}
    model_ids = {(grp, m): hashlib.sha256(f"{grp}/{m}".encode()).hexdigest() for (_, m), grp in
                 ((k, v) for k, v in MODEL_GROUP.items())}

    support, sessions = gen_support_chat(g, customers)
    triage = gen_ticket_triage(g, customers)
    kb = gen_kb_answer(g, customers)
    per_day: dict[int, int] = {}
    for c in triage:
        if c["env"] == "prod" and c["attempt"] == 0:
            d = (c["start"] - START_MS) // DAY_MS
            per_day[d] = per_day.get(d, 0) + 1
    nightly = gen_nightly_summary(g, per_day)
    pii = gen_pii_redaction(g, customers)

    proxy_calls = sorted(support + triage + nightly + pii, key=lambda c: (c["start"], c["trace_id"]))
    rows = [spendlog_row(g, c, key_hash, model_ids) for c in proxy_calls]
    lines, planted = plant_defects(g, rows)
    args.out.mkdir(parents=True, exist_ok=True)
    write_gz(args.out / "litellm_spendlogs.jsonl.gz", lines)
    olines = otel_lines(g, kb)
    write_gz(args.out / "otel_spans.jsonl.gz", olines)
    with open(args.out / "outcomes.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["session_id", "outcome", "value_usd", "closed_at"])
        w.writerows(outcomes(g, sessions))

    n_err = sum(c["error"] is not None for c in proxy_calls + kb)
    print(f"litellm_spendlogs.jsonl.gz: {len(lines)} lines ({len(proxy_calls)} calls; defects: "
          f"3 malformed lines (losing {len(planted['malformed'])} records), {len(planted['negative'])} negative, "
          f"{len(planted['non_numeric'])} non-numeric, {planted['duplicates']} duplicates)", file=sys.stderr)
    print(f"otel_spans.jsonl.gz: {len(olines)} export requests ({len(kb)} chat spans, "
          f"{len({c['trace_id'] for c in kb})} traces)", file=sys.stderr)
    print(f"outcomes.csv: {sum(s['env'] == 'prod' for s in sessions)} sessions; "
          f"calls {len(proxy_calls) + len(kb)}, errors {n_err} "
          f"({100 * n_err / (len(proxy_calls) + len(kb)):.1f}%)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
