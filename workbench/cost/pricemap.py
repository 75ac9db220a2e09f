"""litellm's bundled price map and the user's overrides, read from disk (never from the network).

Source of prices
    The map that ships inside the installed litellm
    (`litellm/model_prices_and_context_window_backup.json`), read from disk. litellm is
    never imported here (slow, and it may fetch a map from the network). The book's
    version is `litellm-<version>+map.<sha256[:12]>` (+ `+ov.<sha256[:12]>` of the
    overrides file). The loader is schema-tolerant: `sample_spec` and non-object values
    are skipped, entries without a numeric `input_cost_per_token` or
    `output_cost_per_token` are skipped, unknown fields are kept and ignored.

Overrides (YAML, validated; see `data/prices.yaml`)
    models:      per-model litellm fields (any litellm key: input_cost_per_token,
                 cache_read_input_token_cost, output_cost_per_token_batches, ...). Patches the
                 map's entry of that name, or adds a new entry (which must then carry
                 input_cost_per_token and output_cost_per_token).
    discounts:   negotiated fraction off, `providers: {anthropic: 0.1}` and/or
                 `models: {gpt-4o: 0.2}`. A model discount (matched against the logged model,
                 `provider/model`, the alias target or the price key) beats a provider
                 discount (matched against the call's provider or the entry's
                 litellm_provider); they do not stack.
    aliases:     private deployment names -> a price-book name
                 (`my-gpt4o-deployment: azure/gpt-4o`).
    self_hosted: models you run yourself (gpu_hourly_usd, gpus_per_replica,
                 throughput_tokens_per_s, target_utilization, min_replicas). A call to one
                 of these is priced at 0 marginal token cost (price_status 'self_hosted');
                 its capacity cost is the projection's job. Only models listed here get a
                 zero price: an unknown model is *unpriced* (cost NULL), never $0.
    batch_fallback: `base` (default) or `half`: the rate used for a batch call on a model
                 with no `_batches` prices whose provider publishes no batch discount (see
                 PUBLISHED_BATCH_DISCOUNT: those always get half the standard rates, which
                 is what they bill). litellm's batch calculator halves every provider; we keep
                 the list rate there unless you say otherwise, and the projection warns
                 (rate_source `base_fallback`).

Twin keys
    `provider/model` and `model` entries of one provider (bedrock and bedrock_converse are one)
    with the same standard input and output rates are one offering: the one without `_batches` rates takes the other's (marked
    `workbench_batch_rates_from` in the entry; rate_source `twin_batches`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from ..errors import WorkbenchError

MAP_FILE = "model_prices_and_context_window_backup.json"
TIERS = ("default", "batch", "flex", "priority", "ultrafast", "balanced")
_TIER_SUFFIX = {"default": "", "flex": "_flex", "priority": "_priority", "ultrafast": "_ultrafast", "balanced": "_balanced"}
# Rows of `price_rates` for calls inside an `off_peak_pricing` window: service_tier `<tier>:off_peak`.
OFF_PEAK = ":off_peak"
# Providers (litellm_provider) that publish a batch API at half the standard price. A batch call on a
# model whose entry has no `_batches` rates is billed at half its standard rates there (rate_source
# `published_batch_discount`); elsewhere `batch_fallback` decides (list price by default).
#   openai / azure: Batch API and Azure OpenAI Global Batch, 50% off; anthropic: Message Batches, 50%;
#   gemini / vertex_ai: Gemini Batch API and Vertex batch prediction (Gemini, Claude), 50%;
#   bedrock: batch inference at 50% of on-demand; mistral, groq, together_ai: batch APIs at 50%.
PUBLISHED_BATCH_DISCOUNT = dict.fromkeys(
    ("openai", "text-completion-openai", "azure", "azure_text", "anthropic", "gemini", "vertex_ai-language-models",
     "vertex_ai-anthropic_models", "bedrock", "bedrock_converse", "mistral", "groq", "together_ai"), 0.5)
# Set by `_load_map` on an entry whose `_batches` rates were copied from its twin key.
TWIN_BATCH_MARKER = "workbench_batch_rates_from"
# Suffixes litellm strips when a tier key is missing (longest first, like litellm).
_NONSTANDARD_SUFFIXES = ("_ultrafast", "_priority", "_balanced", "_flex", "_fast", "_batches", "_decisions")
_RATE_PREFIXES = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
)
_THRESHOLD_PREFIXES = tuple(f"{p}_above_" for p in _RATE_PREFIXES)
_BATCH_THRESHOLD = re.compile(rf"^({'|'.join(_RATE_PREFIXES)})_above_(\d+k?)_tokens_batches$")
_INCLUSIVE_THRESHOLD_PROVIDERS = {"xai"}
# litellm.constants.FIREWORKS_AI_DEFAULT_CACHE_READ_RATE_RATIO: Fireworks bills cache reads at
# half the input rate when the map gives no cache-read price (apply_provider_cache_read_default).
_DEFAULT_CACHE_READ_RATIO = {"fireworks_ai": 0.5}
_DATE_SUFFIX = re.compile(r"^(?P<base>.+?)[-@](?:\d{4}-\d{2}-\d{2}|\d{8})(?:-v\d+(?::\d+)?)?$")
# Provider spellings seen in logs -> litellm key prefixes.
PROVIDER_PREFIXES: dict[str, tuple[str, ...]] = {
    "google": ("gemini", "vertex_ai"),
    "vertex": ("vertex_ai",),
    "vertexai": ("vertex_ai",),
    "google_vertex": ("vertex_ai",),
    "aws": ("bedrock",),
    "aws_bedrock": ("bedrock",),
    "amazon_bedrock": ("bedrock",),
    "azure_openai": ("azure",),
    "mistralai": ("mistral",),
    "together": ("together_ai",),
    "fireworks": ("fireworks_ai",),
    "x-ai": ("xai",),
}


# ---------------------------------------------------------------------------------------
# Loading the map
# ---------------------------------------------------------------------------------------


def litellm_map_path() -> Path:
    """The price map inside the installed litellm package (found without importing it)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise WorkbenchError("litellm is not installed: `pip install workbench` brings the pinned version")
    for location in spec.submodule_search_locations:
        path = Path(location) / MAP_FILE
        if path.is_file():
            return path
    raise WorkbenchError(f"the installed litellm has no {MAP_FILE}: reinstall litellm")


def _num(entry: dict, key: str) -> float | None:
    """A numeric rate (litellm accepts numeric strings too); None when absent or not a number."""
    value = entry.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _has_token_price(entry: dict) -> bool:
    return (
        _num(entry, "input_cost_per_token") is not None
        or _num(entry, "output_cost_per_token") is not None
        or bool(entry.get("tiered_pricing"))
    )


_CAPACITY_KEYS = ("input_cost_per_second", "cost_per_second", "output_cost_per_second")


@lru_cache(maxsize=4)
def _load_map(path: str, mtime_ns: int, size: int) -> tuple[dict[str, dict], str, dict[str, dict]]:
    """(entries with token prices, the file's sha256, capacity entries). Capacity entries are
    billed per second of reserved throughput (Bedrock provisioned throughput, 1- and 6-month
    commitments), not per token: no call can be priced from them, but a name that lands on one
    is told so (`PriceBook.resolve` notes it) rather than merely "unpriced"."""
    raw = Path(path).read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise WorkbenchError(f"{path}: the litellm price map is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: the litellm price map is not a JSON object")
    entries = {k: v for k, v in data.items() if k != "sample_spec" and isinstance(v, dict) and _has_token_price(v)}
    _borrow_twin_batch_rates(entries)
    capacity = {k: v for k, v in data.items() if isinstance(v, dict) and k not in entries
                and any(isinstance(v.get(c), (int, float)) for c in _CAPACITY_KEYS)}
    return entries, sha, capacity


def _is_batch_key(key: str) -> bool:
    return key.endswith("_batches") and "cost" in key


def _provider_family(provider: str | None) -> str | None:
    """bedrock_converse is bedrock; vertex_ai-language-models is vertex_ai."""
    if not provider:
        return provider
    return "bedrock" if provider.startswith("bedrock") else provider.split("-", 1)[0]


def _borrow_twin_batch_rates(entries: dict[str, dict]) -> None:
    """Twin keys (`provider/model` and `model`) of one provider (family: bedrock_converse is
    bedrock) that agree on the standard input and output rates are the same offering: the one without `_batches` rates takes them from the one that has
    them (marked with TWIN_BATCH_MARKER). Twins that disagree on the standard rates are different
    offerings (a reseller, another cloud) and keep their own entries."""
    for key in [k for k in entries if "/" in k]:
        bare = key.split("/", 1)[1]
        twin = entries.get(bare)
        if twin is None:
            continue
        a, b = entries[key], twin
        if (_num(a, "input_cost_per_token"), _num(a, "output_cost_per_token")) != (
            _num(b, "input_cost_per_token"), _num(b, "output_cost_per_token")
        ) or _num(a, "input_cost_per_token") is None:
            continue
        if _provider_family(a.get("litellm_provider")) != _provider_family(b.get("litellm_provider")):
            continue
        has_a, has_b = (_num(e, "input_cost_per_token_batches") is not None for e in (a, b))
        if has_a == has_b:
            continue
        (src_key, src), (dst_key, dst) = ((key, a), (bare, b)) if has_a else ((bare, b), (key, a))
        entries[dst_key] = {**dst, **{k: v for k, v in src.items() if _is_batch_key(k) and k not in dst},
                            TWIN_BATCH_MARKER: src_key}


def map_date(path: Path) -> tuple[str, str]:
    """The price map's date and what that date is, for `workbench prices`.

    Neither the map (no date field) nor litellm's installed metadata (METADATA, RECORD, WHEEL)
    records a release date, and reading one from PyPI would need the network. So the date is
    the map file's mtime, which pip sets when it unpacks the wheel: the day this litellm was
    installed. The prices are those of the litellm version named beside it, at most that recent.
    """
    from datetime import datetime, timezone

    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).date().isoformat(), "map file mtime: installed"


# ---------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------

_KNOWN_RATE_KEY = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost"
    r"|output_cost_per_reasoning_token)(_above_1hr)?(_above_\d+k?_tokens)?(_(batches|flex|priority))?$"
)
_META_KEYS = {"litellm_provider", "mode", "max_input_tokens", "max_output_tokens", "max_tokens", "source",
              "tiered_pricing", "off_peak_pricing", "provider_specific_entry"}


def _overrides_models():
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class SelfHosted(BaseModel):
        model_config = ConfigDict(extra="forbid")
        provider: str | None = None
        gpu_hourly_usd: float = Field(gt=0, description="USD per GPU-hour")
        gpus_per_replica: int = Field(default=1, ge=1)
        throughput_tokens_per_s: float = Field(gt=0, description="sustained tokens/s of one replica")
        target_utilization: float = Field(default=0.6, gt=0, le=1)
        min_replicas: int = Field(default=1, ge=0)

    class Discounts(BaseModel):
        model_config = ConfigDict(extra="forbid")
        providers: dict[str, float] = {}
        models: dict[str, float] = {}

        @field_validator("providers", "models")
        @classmethod
        def _fraction(cls, v: dict[str, float]) -> dict[str, float]:
            for name, frac in v.items():
                if not 0 <= frac <= 1:
                    raise ValueError(
                        f"discount for {name!r} is {frac}: give a fraction off between 0 and 1 (0.15 = 15% off)"
                    )
            return v

    class Overrides(BaseModel):
        model_config = ConfigDict(extra="forbid")
        models: dict[str, dict[str, Any]] = {}
        discounts: Discounts = Discounts()
        aliases: dict[str, str] = {}
        self_hosted: dict[str, SelfHosted] = {}
        batch_fallback: Literal["base", "half"] = "base"

        @field_validator("models")
        @classmethod
        def _rates(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
            for model, fields in v.items():
                for key, value in fields.items():
                    if key in _META_KEYS:
                        continue
                    if "cost" not in key:
                        raise ValueError(f"{model}.{key}: not a price field (litellm price keys contain 'cost')")
                    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                        raise ValueError(f"{model}.{key}: must be a number >= 0 (USD per token), got {value!r}")
            return v

    return Overrides


@dataclass
class SelfHostedModel:
    name: str
    provider: str | None
    gpu_hourly_usd: float
    gpus_per_replica: int
    throughput_tokens_per_s: float
    target_utilization: float
    min_replicas: int


def _fmt_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def load_overrides(path: str | Path) -> tuple[Any, str]:
    """Parse and validate an overrides YAML; WorkbenchError naming the file and field."""
    import yaml
    from pydantic import ValidationError

    from ..config import parse_yaml

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WorkbenchError(f"cannot read price overrides {path}: {exc.strerror}") from None
    try:
        data = parse_yaml(raw) or {}
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: expected a mapping with models / discounts / aliases / self_hosted")
    try:
        ov = _overrides_models().model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_fmt_loc(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise WorkbenchError(f"{path}: invalid price overrides: {problems}") from None
    return ov, hashlib.sha256(raw).hexdigest()
