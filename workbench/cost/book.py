"""The price book: the map merged with the overrides, and how a logged model name finds its price.

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
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import WorkbenchError
from .pricemap import (
    _DATE_SUFFIX,
    PROVIDER_PREFIXES,
    TIERS,
    SelfHostedModel,
    _load_map,
    litellm_map_path,
    load_overrides,
)
from .rates import expand_rates

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
