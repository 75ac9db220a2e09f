"""The price book: litellm's bundled price map + user overrides, snapshotted into DuckDB.

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
                 with no `_batches` prices (litellm's batch calculator halves the standard
                 rates; we keep the list rate unless you say otherwise).

Model resolution (over DISTINCT (provider, model) pairs, written to `price_resolution`)
    1. alias      the logged model (or `provider/model`) is a key of `aliases`: continue with
                  the target, taken literally (the call's provider is not prefixed to it).
    2. self_hosted  the name is listed under `self_hosted`.
    3. provider_prefix  `<provider>/<model>` is a key (litellm's own first choice when the
                  provider is known: an Azure call to `gpt-4o` prices as `azure/gpt-4o`).
                  A few provider spellings map to litellm prefixes (google -> gemini,
                  vertex_ai; aws -> bedrock; ...).
    4. exact      the model string itself is a key (`gpt-4o-2024-08-06`,
                  `us.anthropic.claude-3-5-haiku-20241022-v1:0`, `azure/gpt-4o`).
    5. strip_prefix  a logged `openai/gpt-4o` tries `gpt-4o`.
    6. dated_to_base  only when 3-5 find nothing: a dated snapshot (`-2024-08-06`,
                  `-20241022`, `@20241022`, optional `-v1:0`) drops its date and 3-5 are
                  retried (`gpt-4o-2024-11-20` -> `gpt-4o` if the dated key is absent).
                  Dated keys that exist are always used as-is (their price may differ).
    7. lowercase  the same steps on the lower-cased name.
    Nothing found: price_key NULL, cost NULL ('unpriced'); `unpriced(con)` lists them.

How a call is priced (litellm's rules, `generic_cost_per_token` / `batch_cost_calculator`)
    cost = uncached input x input + cache reads x cache_read + 5m writes x cache_write
         + 1h writes x cache_write_1h + text output x output + reasoning x reasoning
    with uncached = input - cache_read - cache_write and text output = output - reasoning.
    * A missing cache-read or cache-write rate is the input rate; a missing 1-hour write rate
      is the 5-minute write rate; a missing reasoning rate is the output rate.
    * Tiers flex / priority use the `_flex` / `_priority` key of each rate, else the base key.
      batch uses `_batches` keys; cache reads and writes without a `_batches` rate bill at
      the batch input rate and all completion tokens at the batch output rate (litellm's
      batch calculator); a model with no `_batches` input rate falls back per
      `batch_fallback`.
    * Context thresholds (`*_above_128k_tokens`, `_200k`, `_272k`, ...): when input_tokens
      exceed a threshold (>= for xAI), EVERY token type of the request uses the
      above-threshold rate where one is given (not marginal pricing). `tiered_pricing`
      tables (Dashscope) are all-or-nothing per request too.
    * Discounts multiply every bucket by (1 - discount).
    Not modelled: off-peak windows, regional uplifts, audio/image/video tokens,
    per-request / per-second / per-query fees (the canonical call record has no such
    counts).
    The rates are expanded in Python per used price key into `price_rates` (a handful of
    rows per model); the per-call arithmetic is one SQL view, `priced_calls`, over an ASOF
    join on the context band. No Python loop ever touches calls.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .errors import WorkbenchError

MAP_FILE = "model_prices_and_context_window_backup.json"
TIERS = ("default", "batch", "flex", "priority")
_TIER_SUFFIX = {"default": "", "flex": "_flex", "priority": "_priority"}
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


@lru_cache(maxsize=4)
def _load_map(path: str, mtime_ns: int, size: int) -> tuple[dict[str, dict], str]:
    raw = Path(path).read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise WorkbenchError(f"{path}: the litellm price map is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: the litellm price map is not a JSON object")
    entries = {k: v for k, v in data.items() if k != "sample_spec" and isinstance(v, dict) and _has_token_price(v)}
    return entries, sha


# ---------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------

_KNOWN_RATE_KEY = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost"
    r"|output_cost_per_reasoning_token)(_above_1hr)?(_above_\d+k?_tokens)?(_(batches|flex|priority))?$"
)
_META_KEYS = {"litellm_provider", "mode", "max_input_tokens", "max_output_tokens", "max_tokens", "source",
              "tiered_pricing"}


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

    from .config import parse_yaml

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


# ---------------------------------------------------------------------------------------
# The book
# ---------------------------------------------------------------------------------------


@dataclass
class Resolution:
    provider: str | None
    model: str | None
    price_key: str | None
    match_rule: str | None
    pricing_basis: str | None  # token | self_hosted | None
    discount: float = 0.0
    discount_source: str | None = None
    tried: list[str] = field(default_factory=list)


@dataclass
class PriceBookInfo:
    book_version: str
    litellm_version: str
    map_sha256: str
    map_entries: int
    overrides_path: str | None
    overrides_sha256: str | None
    pairs: int = 0
    priced_pairs: int = 0
    unpriced_pairs: int = 0
    price_keys: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class PriceBook:
    """The litellm map merged with overrides, with name resolution and rate expansion."""

    def __init__(self, overrides_path: str | Path | None = None):
        map_path = litellm_map_path()
        st = map_path.stat()
        base, self.map_sha256 = _load_map(str(map_path), st.st_mtime_ns, st.st_size)
        self.map_path = map_path
        self.map_entries = len(base)
        try:
            self.litellm_version = importlib.metadata.version("litellm")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - spec found but no metadata
            self.litellm_version = "unknown"
        self.entries: dict[str, dict] = base  # copy-on-write below
        self.sources: dict[str, str] = {}
        self.overrides_path = str(overrides_path) if overrides_path else None
        self.overrides_sha256 = None
        self.aliases: dict[str, str] = {}
        self.model_discounts: dict[str, float] = {}
        self.provider_discounts: dict[str, float] = {}
        self.self_hosted: dict[str, SelfHostedModel] = {}
        self.batch_fallback = "base"
        if overrides_path:
            self._apply_overrides(Path(overrides_path))
        self.version = f"litellm-{self.litellm_version}+map.{self.map_sha256[:12]}"
        if self.overrides_sha256:
            self.version += f"+ov.{self.overrides_sha256[:12]}"
        self._rates_cache: dict[str, list[dict]] = {}

    def _apply_overrides(self, path: Path) -> None:
        ov, self.overrides_sha256 = load_overrides(path)
        if ov.models:
            self.entries = dict(self.entries)
        for name, fields in ov.models.items():
            if name in self.entries:
                self.entries[name] = {**self.entries[name], **fields}
                self.sources[name] = "litellm+override"
            else:
                missing = [k for k in ("input_cost_per_token", "output_cost_per_token") if k not in fields]
                if missing:
                    raise WorkbenchError(
                        f"{path}: models.{name}: not in the litellm map ({self.litellm_version}), so it needs "
                        f"{' and '.join(missing)} (or list it under aliases / self_hosted)"
                    )
                self.entries[name] = dict(fields)
                self.sources[name] = "override"
        self.aliases = dict(ov.aliases)
        self.model_discounts = dict(ov.discounts.models)
        self.provider_discounts = dict(ov.discounts.providers)
        self.self_hosted = {n: SelfHostedModel(name=n, **m.model_dump()) for n, m in ov.self_hosted.items()}
        self.batch_fallback = ov.batch_fallback

    def source(self, key: str) -> str:
        if key.startswith("self_hosted/") and key[len("self_hosted/"):] in self.self_hosted:
            return "self_hosted"
        return self.sources.get(key, "litellm")

    # -- resolution ---------------------------------------------------------------------

    def _lookup(self, name: str, provider: str | None, tried: list[str]) -> tuple[str, str] | None:
        prefixes: list[str] = []
        if provider:
            p = provider.strip().lower()
            prefixes = list(PROVIDER_PREFIXES.get(p, ())) + [p]
        candidates: list[tuple[str, str]] = []
        for pref in prefixes:
            if not name.startswith(pref + "/"):
                candidates.append((f"{pref}/{name}", "provider_prefix"))
        candidates.append((name, "exact"))
        if "/" in name:
            candidates.append((name.split("/", 1)[1], "strip_prefix"))
        for key, rule in candidates:
            tried.append(key)
            if key in self.entries:
                return key, rule
        return None

    def _lookup_normalized(self, name: str, provider: str | None, tried: list[str]) -> tuple[str, str] | None:
        for variant, tag in ((name, ""), (name.lower(), "lowercase>")):
            if tag and variant == name:
                continue
            hit = self._lookup(variant, provider, tried)
            if hit:
                return hit[0], tag + hit[1]
            head, _, last = variant.rpartition("/")
            m = _DATE_SUFFIX.match(last)
            if m:
                base = (head + "/" if head else "") + m.group("base")
                hit = self._lookup(base, provider, tried)
                if hit:
                    return hit[0], f"{tag}dated_to_base>{hit[1]}"
        return None

    def resolve(self, model: str | None, provider: str | None = None) -> Resolution:
        res = Resolution(provider, model, None, None, None)
        if not model:
            return res
        names = [model] + ([f"{provider}/{model}"] if provider else [])
        name, lookup_provider, rule_prefix = model, provider, ""
        for n in names:
            if n in self.aliases:
                name, lookup_provider, rule_prefix = self.aliases[n], None, "alias>"
                res.tried.append(f"alias {n} -> {name}")
                break
        sh_names = [name] if rule_prefix else names  # an alias target is taken literally
        sh = next((n for n in sh_names if n in self.self_hosted), None)
        if sh:
            res.price_key, res.match_rule, res.pricing_basis = f"self_hosted/{sh}", rule_prefix + "self_hosted", "self_hosted"
            return res
        hit = self._lookup_normalized(name, lookup_provider, res.tried)
        if hit is None:
            return res
        res.price_key, res.match_rule, res.pricing_basis = hit[0], rule_prefix + hit[1], "token"
        # negotiated discount: a model discount beats a provider discount
        for n in (model, f"{provider}/{model}" if provider else None, name, res.price_key):
            if n and n in self.model_discounts:
                res.discount, res.discount_source = self.model_discounts[n], f"model:{n}"
                return res
        entry_provider = self.entries[res.price_key].get("litellm_provider")
        for p in (provider, entry_provider, res.price_key.split("/", 1)[0] if "/" in res.price_key else None):
            if p and p in self.provider_discounts:
                res.discount, res.discount_source = self.provider_discounts[p], f"provider:{p}"
                return res
        return res

    # -- rates ----------------------------------------------------------------------------

    def rates(self, price_key: str) -> list[dict]:
        """Rate bands for a price key: one dict per service tier x context band (USD/token, list)."""
        if price_key not in self._rates_cache:
            if price_key.startswith("self_hosted/"):
                zero = dict(input_rate=0.0, output_rate=0.0, reasoning_rate=0.0, cache_read_rate=0.0,
                            cache_write_rate=0.0, cache_write_1h_rate=0.0)
                self._rates_cache[price_key] = [
                    dict(service_tier=t, above_input_tokens=-1, rate_source="self_hosted", **zero) for t in TIERS
                ]
            else:
                self._rates_cache[price_key] = expand_rates(self.entries[price_key], self.batch_fallback)
        return self._rates_cache[price_key]


@lru_cache(maxsize=8)
def _cached_book(path: str | None, mtime_ns: int | None) -> PriceBook:
    return PriceBook(path)


def load_price_book(overrides_path: str | Path | None = None) -> PriceBook:
    """The book for these overrides (cached per file state)."""
    if overrides_path is None:
        return _cached_book(None, None)
    p = Path(overrides_path)
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as exc:
        raise WorkbenchError(f"cannot read price overrides {p}: {exc.strerror}") from None
    return _cached_book(str(p), mtime)


# ---------------------------------------------------------------------------------------
# Rate expansion (litellm's rules, per entry; the per-call arithmetic is in SQL)
# ---------------------------------------------------------------------------------------


def _tier_get(entry: dict, key: str, tier: str, default: float | None = None) -> float | None:
    """litellm's get_cost_per_unit: `<key>_<tier>`, else `<key>`, else default."""
    suffix = _TIER_SUFFIX.get(tier, "")
    if suffix:
        v = _num(entry, key + suffix)
        if v is not None:
            return v
    v = _num(entry, key)
    return default if v is None else v


def _parse_threshold(s: str) -> int:
    return int(float(s.replace("k", "")) * (1000 if "k" in s else 1))


def _band_floor(threshold: int, inclusive: bool) -> int:
    # the view applies a band when input_tokens > above_input_tokens
    return threshold - 1 if inclusive else threshold


def _finish(inp, out, cc, cc1h, cr, reasoning) -> dict:
    cc_final = inp if cc is None else cc
    return dict(
        input_rate=inp,
        output_rate=out,
        reasoning_rate=out if reasoning is None else reasoning,
        cache_read_rate=inp if cr is None else cr,
        cache_write_rate=cc_final,
        cache_write_1h_rate=cc_final if cc1h is None else cc1h,
    )


def _reasoning_rate(entry: dict, tier: str, band_output: float) -> float:
    """litellm's _resolve_reasoning_token_cost."""
    suffix = _TIER_SUFFIX.get(tier, "")
    tier_reasoning = _num(entry, "output_cost_per_reasoning_token" + suffix)
    if tier_reasoning is not None:
        return tier_reasoning
    if suffix and _num(entry, "output_cost_per_token" + suffix) is not None:
        return band_output
    std = _num(entry, "output_cost_per_reasoning_token")
    return band_output if std is None else std


def _generic_bands(entry: dict, tier: str, inclusive: bool) -> list[dict]:
    """litellm's _get_token_base_cost for the default / flex / priority tiers."""
    inp = _tier_get(entry, "input_cost_per_token", tier, 0.0)
    out = _tier_get(entry, "output_cost_per_token", tier, 0.0)
    if not out:
        out = _num(entry, "output_cost_per_image_token") or out
    cc = _tier_get(entry, "cache_creation_input_token_cost", tier)
    cc1h = _num(entry, "cache_creation_input_token_cost_above_1hr")
    cr = _tier_get(entry, "cache_read_input_token_cost", tier)
    suffix = _TIER_SUFFIX.get(tier, "")
    thresholds: dict[int, str] = {}
    for key, value in entry.items():
        if value is None or not key.startswith(_THRESHOLD_PREFIXES) or "_tokens" not in key:
            continue
        if key.endswith(_NONSTANDARD_SUFFIXES) and not (suffix and key.endswith(suffix)):
            continue
        spelled = key.rsplit("_above_", 1)[1].split("_tokens")[0]
        try:
            thresholds.setdefault(_parse_threshold(spelled), spelled)
        except ValueError:
            continue
    bands = [dict(above_input_tokens=-1, **_finish(inp, out, cc, cc1h, cr, _reasoning_rate(entry, tier, out)))]
    for value in sorted(thresholds):
        x = thresholds[value]
        inp = _tier_get(entry, f"input_cost_per_token_above_{x}_tokens", tier, inp)
        out = _tier_get(entry, f"output_cost_per_token_above_{x}_tokens", tier, out)
        cc = _tier_get(entry, f"cache_creation_input_token_cost_above_{x}_tokens", tier, cc)
        cc1h = _tier_get(entry, f"cache_creation_input_token_cost_above_1hr_above_{x}_tokens", tier, cc1h)
        cr = _tier_get(entry, f"cache_read_input_token_cost_above_{x}_tokens", tier, cr)
        bands.append(dict(above_input_tokens=_band_floor(value, inclusive),
                          **_finish(inp, out, cc, cc1h, cr, _reasoning_rate(entry, tier, out))))
    return bands


def _tiered_pricing_bands(entry: dict, tier: str) -> list[dict] | None:
    """litellm's _get_tiered_base_costs: all-or-nothing rows chosen by range_start < input."""
    table = entry.get("tiered_pricing")
    if not isinstance(table, list) or not table:
        return None
    rows = [t for t in table if isinstance(t, dict) and isinstance(t.get("range"), list) and len(t["range"]) == 2]
    if not rows:
        return None
    generic = _generic_bands(entry, tier, inclusive=False)
    bands = [generic[0]]  # input_tokens = 0: litellm falls back to the flat rates
    for row in sorted(rows, key=lambda t: t["range"][0]):
        if "input_cost_per_token" not in row:
            bands.append(dict(generic[0], above_input_tokens=int(row["range"][0])))
            continue
        inp = _num(row, "input_cost_per_token") or 0.0
        out = _num(row, "output_cost_per_token")
        if out is None:
            out = _num(entry, "output_cost_per_token") or 0.0
        cc = _num(row, "cache_creation_input_token_cost")
        cc = inp if cc is None else cc
        cc1h = _num(row, "cache_creation_input_token_cost_above_1hr") or _num(row, "cache_creation_input_token_cost")
        cr = _num(row, "cache_read_input_token_cost")
        if "output_cost_per_reasoning_token" in row or "output_cost_per_token" in row:
            reasoning = _num(row, "output_cost_per_reasoning_token")
            reasoning = (_num(row, "output_cost_per_token") or 0.0) if reasoning is None else reasoning
        else:
            reasoning = _reasoning_rate(entry, tier, out)
        bands.append(dict(above_input_tokens=int(row["range"][0]),
                          **_finish(inp, out, cc, cc1h or cc, cr, reasoning)))
    return bands


def _batch_bands(entry: dict, inclusive: bool, fallback: str) -> tuple[list[dict], str]:
    """litellm's batch_cost_calculator: `_batches` keys, with `_above_Nk_tokens_batches` tiers."""
    if _num(entry, "input_cost_per_token_batches") is None and not any(
        _BATCH_THRESHOLD.match(k) and k.startswith("input_") for k in entry
    ):
        base = _generic_bands(entry, "default", inclusive)
        if fallback == "half":
            return [dict(b, **{k: v / 2 for k, v in b.items() if k.endswith("_rate")}) for b in base], "half_of_base"
        return base, "base_fallback"
    per_prefix: dict[str, dict[int, float]] = {p: {} for p in _RATE_PREFIXES}
    for key in entry:
        m = _BATCH_THRESHOLD.match(key)
        if m and _num(entry, key) is not None:
            per_prefix[m.group(1)][_parse_threshold(m.group(2))] = _num(entry, key)
    thresholds = sorted({t for d in per_prefix.values() for t in d})

    def rate(prefix: str, band: int | None) -> float | None:
        crossed = [t for t in per_prefix[prefix] if band is not None and t <= band]
        return per_prefix[prefix][max(crossed)] if crossed else _num(entry, prefix + "_batches")

    bands = []
    for band in [None] + thresholds:
        inp = rate("input_cost_per_token", band) or 0.0
        out = rate("output_cost_per_token", band)
        if out is None:
            std = _num(entry, "output_cost_per_token")
            out = std / 2 if std is not None else 0.0
        cr = rate("cache_read_input_token_cost", band)
        cc = rate("cache_creation_input_token_cost", band)
        cc1h = _num(entry, "cache_creation_input_token_cost_above_1hr_batches")
        bands.append(dict(above_input_tokens=-1 if band is None else _band_floor(band, inclusive),
                          **_finish(inp, out, cc, cc1h, cr, out)))
    return bands, "tier"


def expand_rates(entry: dict, batch_fallback: str = "base") -> list[dict]:
    """Every (service tier, context band) rate row for one price-book entry."""
    provider = entry.get("litellm_provider")
    inclusive = provider in _INCLUSIVE_THRESHOLD_PROVIDERS
    out: list[dict] = []
    for tier in TIERS:
        if tier == "batch":
            bands, source = _batch_bands(entry, inclusive, batch_fallback)
        else:
            if provider in _DEFAULT_CACHE_READ_RATIO and _num(entry, "cache_read_input_token_cost") is None:
                inp = _num(entry, "input_cost_per_token")
                if inp is not None:
                    entry = {**entry, "cache_read_input_token_cost": inp * _DEFAULT_CACHE_READ_RATIO[provider]}
            bands = _tiered_pricing_bands(entry, tier)
            source = "tiered_pricing"
            if bands is None:
                bands = _generic_bands(entry, tier, inclusive)
                suffix = _TIER_SUFFIX[tier]
                source = "tier" if not suffix or any(
                    _num(entry, p + suffix) is not None for p in ("input_cost_per_token", "output_cost_per_token")
                ) else "base_fallback"
        out.extend(dict(b, service_tier=tier, rate_source=source) for b in bands)
    return out


# ---------------------------------------------------------------------------------------
# Building the book into the database
# ---------------------------------------------------------------------------------------

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
