"""Model calls for the eval runner: litellm on first use, retries with back-off, the response cache,
error classes and pricing of each call's usage (see `runner.py` for the flow)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import time
from dataclasses import dataclass
from typing import Any

from .suite import SECRET_KEYS, ModelSpec

# Never part of the cache key: they do not change the answer (credentials, client behaviour, labels).
_NON_KEY_PARAMS = {"api_key", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                   "vertex_credentials", "timeout", "max_retries", "num_retries", "metadata", "user", "price_as",
                   "name", "stream_options"}
# Part of the key, but hashed on their own so that the stored request shows no endpoint or header.
_ENDPOINT_PARAMS = (SECRET_KEYS - _NON_KEY_PARAMS) | {"extra_body", "organization", "api_type"}
# Header names that carry credentials (left out of the key: rotating a key keeps the cache).
_AUTH_HEADER = re.compile(r"authorization|api[-_]?key|cookie|token|secret", re.I)


def _litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


# ---------------------------------------------------------------------------------------------
# One LLM call: cache, retries, timeout, usage, price
# ---------------------------------------------------------------------------------------------


@dataclass
class CallResult:
    content: str = ""
    logprobs: Any = None
    input_tokens: int | None = None
    cache_read_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    price_key: str | None = None
    latency_ms: float | None = None
    cached: bool = False
    attempts: int = 0
    error: str | None = None
    error_type: str | None = None


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (litellm wraps openai's error, which wraps httpx's / aiohttp's)."""
    out: list[BaseException] = []
    while exc is not None and len(out) < 10 and all(exc is not e for e in out):
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def classify_error(exc: BaseException) -> tuple[str, bool]:
    """(error_type, retryable) for an exception raised by litellm / openai / asyncio.

    The whole cause chain is read: litellm reports a refused connection as an
    InternalServerError (500) whose cause is openai's APIConnectionError."""
    chain = _chain(exc)
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__.lower()
    names = " ".join(type(e).__name__.lower() for e in chain)
    text = " ".join(str(e) for e in chain)
    if isinstance(exc, asyncio.TimeoutError) or "timeout" in name or status in (408, 504):
        return "timeout", True
    if status == 429 or "ratelimit" in name:
        return "rate_limit", True
    if (any(isinstance(e, ConnectionError) for e in chain) or "connecterror" in names or "apiconnectionerror" in names or "connection" in name
            or "Connection error" in text):
        return "connection", True
    if isinstance(exc, EmptyResponse) or "Expecting value: line 1 column 1 (char 0)" in text:
        return "empty_response", True
    if (isinstance(exc, MalformedResponse) or "jsondecodeerror" in names or "no 'choices'" in text
            or re.search(r"(Unterminated|Expecting|Extra data|Invalid control).*line \d+ column \d+", text)):
        return "malformed_response", True
    if isinstance(status, int) and status >= 500 or "internalserver" in name or "serviceunavailable" in name:
        return "server", True
    if status in (401, 403) or "authentication" in name or "permission" in name:
        return "auth", False
    if status == 404 or "notfound" in name:
        return "not_found", False
    if "contextwindow" in name:
        return "context_length", False
    if "contentpolicy" in name:
        return "content_filter", False
    if status in (400, 422) or "badrequest" in name:
        return "invalid_request", False
    return "other", False


class MalformedResponse(Exception):
    """A 200 response without a usable choice (no `choices`, an empty list, no message)."""


class EmptyResponse(Exception):
    """A 200 response whose answer is empty (no text, no tool call): never cached, never scored."""


class Pricer:
    """Per-response cost from the workbench price book (cached resolution per model)."""

    def __init__(self):
        self._book = None
        self._resolved: dict[str, Any] = {}

    def resolve(self, name: str):
        if name not in self._resolved:
            from ..cost.book import load_price_book

            if self._book is None:
                self._book = load_price_book()
            res = self._book.resolve(name)
            self._resolved[name] = (res, self._book.rates(res.price_key) if res.price_key else None)
        return self._resolved[name]

    def cost(self, name: str, input_tokens, cache_read, output_tokens, reasoning) -> tuple[float | None, str | None]:
        if input_tokens is None and output_tokens is None:
            return None, None
        res, bands = self.resolve(name)
        if not res.price_key or not bands:
            return None, None
        inp, cr = int(input_tokens or 0), int(cache_read or 0)
        out, rs = int(output_tokens or 0), int(reasoning or 0)
        default = [b for b in bands if b["service_tier"] == "default"] or bands
        band = max((b for b in default if b["above_input_tokens"] < inp), key=lambda b: b["above_input_tokens"],
                   default=default[0])
        cost = (max(inp - cr, 0) * band["input_rate"] + cr * band["cache_read_rate"]
                + max(out - rs, 0) * band["output_rate"] + rs * band["reasoning_rate"])
        return cost * (1 - (res.discount or 0)), res.price_key


class Caller:
    """Calls one model (a ModelSpec) with caching and retries."""

    def __init__(self, con, spec: ModelSpec, *, base_params: dict, timeout_s: float, retries, use_cache: bool,
                 pricer: Pricer, backoff_base: float | None = None):
        self.con, self.spec = con, spec
        self.kwargs = {**base_params, **spec.kwargs}
        self.timeout_s = timeout_s
        self.retries = retries
        self.base_delay = retries.base_delay_s if backoff_base is None else backoff_base
        self.use_cache = use_cache
        self.pricer = pricer
        self.price_name = spec.price_as or spec.model
        self.http_calls = 0

    def cache_key(self, messages: list[dict], params: dict, epoch: int = 0) -> tuple[str, dict]:
        """sha256 of everything that changes the answer: model, endpoint (api_base, api_version, ...),
        messages, generation parameters, tools. The stored request keeps the endpoint as a hash."""
        merged = {**self.kwargs, **params}
        public = {k: v for k, v in merged.items() if k not in _NON_KEY_PARAMS and k not in _ENDPOINT_PARAMS}
        endpoint = {}
        for k in sorted(_ENDPOINT_PARAMS & set(merged)):
            v = merged[k]
            if k == "extra_headers" and isinstance(v, dict):
                v = {h: x for h, x in v.items() if not _AUTH_HEADER.search(str(h))}
            if k in ("api_base", "base_url") and isinstance(v, str):
                v = v.rstrip("/")
            endpoint[k] = v
        ep = hashlib.sha256(json.dumps(endpoint, sort_keys=True, default=str).encode()).hexdigest()[:16]
        request = {"model": self.spec.model, "endpoint": ep if endpoint else None, "messages": messages,
                   "params": public}
        if epoch:  # repeats (epochs) are separate answers; epoch 0 keeps the key of a single run
            request["epoch"] = epoch
        blob = json.dumps(request, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest(), request

    def _price(self, r: CallResult) -> CallResult:
        r.cost_usd, r.price_key = self.pricer.cost(self.price_name, r.input_tokens, r.cache_read_tokens,
                                                   r.output_tokens, r.reasoning_tokens)
        return r

    async def __call__(self, messages: list[dict], params: dict | None = None, epoch: int = 0) -> CallResult:
        params = params or {}
        key, request = self.cache_key(messages, params, epoch)
        if self.use_cache:
            row = self.con.execute("SELECT response FROM eval_cache WHERE cache_key = ?", [key]).fetchone()
            data = json.loads(row[0]) if row else None
            if data and str(data.get("content") or "").strip():  # an empty answer is never replayed
                self.con.execute("UPDATE eval_cache SET hits = hits + 1 WHERE cache_key = ?", [key])
                usage = data.get("usage") or {}
                return self._price(CallResult(
                    content=data.get("content") or "", logprobs=data.get("logprobs"),
                    input_tokens=usage.get("input_tokens"), cache_read_tokens=usage.get("cache_read_tokens"),
                    output_tokens=usage.get("output_tokens"), reasoning_tokens=usage.get("reasoning_tokens"),
                    latency_ms=data.get("latency_ms"), cached=True, attempts=0))
        litellm = _litellm()
        kwargs = {**self.kwargs, **params}
        kwargs.setdefault("max_retries", 0)  # our back-off is the only retry loop
        attempts = 0
        last_exc: BaseException | None = None
        for attempt in range(self.retries.max_attempts):
            attempts += 1
            t0 = time.perf_counter()
            try:
                self.http_calls += 1
                resp = await asyncio.wait_for(
                    litellm.acompletion(model=self.spec.model, messages=messages, timeout=self.timeout_s, **kwargs),
                    timeout=self.timeout_s * 1.5 + 1,
                )
                parsed = _parse(resp)
            except Exception as exc:  # noqa: BLE001 - every provider error is recorded on the case
                last_exc = exc
                etype, retryable = classify_error(exc)
                if not retryable or attempt + 1 >= self.retries.max_attempts:
                    msg = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else type(exc).__name__
                    return CallResult(error=f"{type(exc).__name__}: {msg}", error_type=etype, attempts=attempts)
                delay = min(self.retries.max_delay_s, self.base_delay * (2 ** attempt))
                if delay > 0:
                    await asyncio.sleep(delay * (0.5 + random.random() / 2))
                continue
            latency = (time.perf_counter() - t0) * 1000
            return self._price(self._store(key, request, parsed, latency, attempts))
        raise AssertionError(f"unreachable: {last_exc}")  # pragma: no cover

    def _store(self, key: str, request: dict, data: dict, latency_ms: float, attempts: int) -> CallResult:
        """Cache a good answer (never an error nor an empty one: those raise in `_parse`)."""
        data = {**data, "latency_ms": latency_ms}
        self.con.execute(
            "INSERT OR REPLACE INTO eval_cache (cache_key, model, request, response, created_at, hits) VALUES (?, ?, ?, ?, now(), 0)",
            [key, self.spec.model, json.dumps(request, default=str), json.dumps(data, default=str)],
        )
        return CallResult(content=data["content"], logprobs=data["logprobs"], latency_ms=latency_ms,
                          attempts=attempts, **data["usage"])


def _parse(resp) -> dict:
    """content, logprobs, usage of a litellm response; raises MalformedResponse / EmptyResponse.
    A reply made only of tool calls is kept as their JSON (so scorers can read it)."""
    choices = getattr(resp, "choices", None)
    if not choices:
        raise MalformedResponse("the response has no choices")
    choice = choices[0]
    message = getattr(choice, "message", None)
    if message is None:
        raise MalformedResponse("the response's first choice has no message")
    content = getattr(message, "content", None) or ""
    if not isinstance(content, str):
        content = json.dumps(content, default=str)
    if not content.strip():
        calls = getattr(message, "tool_calls", None)
        if calls:
            content = json.dumps([c.model_dump() if hasattr(c, "model_dump") else c for c in calls], default=str)
        else:
            reason = getattr(choice, "finish_reason", None)
            raise EmptyResponse(f"the model returned an empty answer (finish_reason {reason!r})")
    lp = getattr(choice, "logprobs", None)
    if lp is not None and hasattr(lp, "model_dump"):
        lp = lp.model_dump()
    usage = getattr(resp, "usage", None)

    def g(obj, name):
        v = getattr(obj, name, None) if obj is not None else None
        return int(v) if isinstance(v, (int, float)) else None

    u = {
        "input_tokens": g(usage, "prompt_tokens"),
        "output_tokens": g(usage, "completion_tokens"),
        "cache_read_tokens": g(getattr(usage, "prompt_tokens_details", None), "cached_tokens"),
        "reasoning_tokens": g(getattr(usage, "completion_tokens_details", None), "reasoning_tokens"),
    }
    return {"content": content, "logprobs": lp, "usage": u, "served_model": getattr(resp, "model", None)}


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------
