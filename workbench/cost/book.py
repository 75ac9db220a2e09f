"""The price book: the map merged with the overrides, and how a logged model name finds its price.

Model resolution (over DISTINCT (provider, model) pairs, written to `price_resolution`; the rule
that fired is `match_rule`, steps joined by `>`, e.g. `finetune>exact`, `dated_to_base>provider_prefix`)

    1. alias        the logged model (or `provider/model`) is a key of `aliases`: continue with the
                    target, taken literally (the call's provider is not prefixed to it).
    2. self_hosted  the name (or `provider/model`) is listed under `self_hosted`.
    Then every NAME FORM below is looked up, in order, first with the call's own provider's entries
    only (pass A), then, when a provider was logged (or a resource name implies one: `models/...` is
    gemini, `publishers/...` is vertex_ai) and pass A found nothing, accepting any provider's entry
    (pass B: the last step is renamed `first_party_fallback`, e.g. provider aws with
    `claude-sonnet-4-5-20250929`, which only Anthropic's own key spells). A lookup of one name
    tries, in order:
         provider_prefix    `<provider>/<name>` (litellm's first choice when the provider is known:
                            an Azure call to `gpt-4o` prices as `azure/gpt-4o`; provider spellings map
                            to litellm prefixes: google -> gemini, vertex_ai; aws -> bedrock; ...)
         exact              the name itself (`gpt-4o-2024-08-06`, `us.anthropic.claude-...-v1:0`)
         inferred_provider  a prefix the name's form implies: an `@` version -> `vertex_ai/`;
                            `gemini-*` / `gemma-*` -> `gemini/`, then `vertex_ai/` (after exact: a bare
                            key such as `gemini-2.5-pro` wins, as in litellm)
         strip_prefix       a logged `openai/gpt-4o` tries `gpt-4o`
       A provider's "own" entry (pass A) is one whose litellm_provider is of the logged provider's
       family (bedrock_converse is bedrock, vertex_ai-* is vertex_ai, text-completion-openai is openai,
       azure_text is azure, cohere_chat is cohere; `litellm_proxy` is a gateway: any entry is its own).
    3. as logged    the model string.
    4. finetune     an OpenAI fine-tune `ft:<base>:<org>:<suffix>:<id>` (suffix may be empty) prices as
                    the map's own `ft:<base>` entry (litellm's rule; fine-tuned inference is dearer:
                    ft:gpt-4o-mini-2024-07-18 is 3e-7 / 1.2e-6 against the base's 1.5e-7 / 6e-7) ...
       finetune_base ... and, where the map has no `ft:<base>`, as `<base>` itself, through every form
                    below (flagged: the map's fine-tune rates, where it has them, run 1.5-2x the base).
    5. gemini_api   a Gemini API resource name `models/<name>` (also `gemini/models/<name>`) is `<name>`
                    on the Gemini API: `gemini/<name>` first, then the forms below (never silently the
                    Vertex entry of the bare name: that one is found only as a `first_party_fallback`
                    when the Gemini API has no entry).
       vertex_resource  `[projects/P/locations/L/]publishers/<pub>/models/<name>` is `<name>` on Vertex.
    6. dated_to_base  a dated snapshot (`-2024-08-06`, `-20241022`, `@20241022`, optional `-v1:0`) drops
                    its date, only when the dated name found nothing (dated keys that exist are used
                    as-is: their price may differ): `gpt-4o-2024-11-20` -> `gpt-4o`.
    7. version_suffix  a Google stable version `-001` / `-002` (three digits, on `gemini-*` / `gemma-*`
                    names or a Google provider) drops it: `gemini-2.0-flash-001` -> `gemini-2.0-flash`
                    (litellm's `_strip_stable_vertex_version`, which it applies with a vertex_ai/gemini
                    provider only; here the name's form implies the provider too).
    8. lowercase    the same steps on the lower-cased name.
    Nothing found: price_key NULL, cost NULL ('unpriced'); `unpriced(con)` lists them.

$0 is a finding, not a price (`free_per_map`)
    When the entry found comes from litellm's map untouched by the overrides and every token rate in
    it is 0 (input, output, cache, reasoning, tier and threshold keys, tiered_pricing rows), the
    resolution keeps the rule (`...>free_per_map`) and the entry's key (`map_key`) but sets
    price_key NULL and pricing_basis 'free_per_map': the call's cost is NULL, excluded from every
    total, and `unpriced(con)` lists it with price_status 'free_per_map', its calls and tokens and
    what to do (`free_kind`). (`priced_calls` itself shows such a call as price_status 'unpriced'
    with pricing_basis 'free_per_map' until a migration teaches the view the status.)
        local_runtime   ollama, lemonade, llamafile, LM Studio, vLLM, ...: your hardware, not $0;
        instance_hour   SageMaker, Bedrock provisioned / custom import, Hugging Face endpoints,
                        Databricks: billed per instance-hour;
                        both -> list it under `self_hosted:` in the overrides (data/prices.yaml) with its
                        GPU or instance $/hour and throughput, and the projection prices its capacity;
        per_unit        the map prices it per image / clip / second / query, not per token (e.g. Lyria
                        clips at output_cost_per_image 0.04): give token rates under `models:`;
        listed_free     a free tier, preview or promotion in the map: verify with the provider; if it
                        is free to you, give it explicit 0 rates under `models:` (an overrides entry
                        of that name, even at 0, is your price and is used).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
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

# Name forms (see the module docstring, steps 4-7)
_FINETUNE = re.compile(r"^(?P<pre>(?:[^/:]+/)*)ft:(?P<base>[^:/]+)(?::[^:]*){2,3}$")
_GEMINI_API = re.compile(r"^(?:gemini/)?models/(?P<name>[^/]+)$")
_VERTEX_RESOURCE = re.compile(r"^(?:projects/[^/]+/locations/[^/]+/)?publishers/[^/]+/models/(?P<name>[^/]+)$")
_VERSION_SUFFIX = re.compile(r"^(?P<base>.+)-\d{3}$")
_GOOGLE_NAME = re.compile(r"^(gemini|gemma)-")
_GOOGLE_FAMILIES = {"gemini", "vertex_ai", "google"}
_GATEWAYS = {"litellm_proxy"}  # a proxy for every provider: any entry is its own (as in litellm)

# $0 entries: which kind, for the hint (see the module docstring)
LOCAL_RUNTIMES = {"ollama", "ollama_chat", "lemonade", "llamafile", "lm_studio", "hosted_vllm", "vllm", "llamacpp",
                  "xinference", "oobabooga", "docker_model_runner"}
INSTANCE_HOUR = {"sagemaker", "sagemaker_chat", "bedrock", "huggingface", "databricks"}
_TOKEN_RATE = re.compile(r"cost_per_token|token_cost|cost_per_reasoning_token")
FREE_HINTS = {
    "local_runtime": "a local runtime: the map lists it at $0 because you run it. List it under `self_hosted:` in "
                     "the overrides (data/prices.yaml) with its GPU $/hour and throughput, and the projection "
                     "prices its capacity",
    "instance_hour": "billed per instance-hour (or provisioned throughput), not per token. List it under "
                     "`self_hosted:` in the overrides (data/prices.yaml) with the instance $/hour as "
                     "gpu_hourly_usd and its throughput, and the projection prices its capacity",
    "per_unit": "the map prices it per {units}, not per token: give token rates under `models:` in the overrides",
    "listed_free": "the map lists it at $0 (a free tier, preview or promotion?): verify with the provider; if it "
                   "is free to you, give it input_cost_per_token: 0 and output_cost_per_token: 0 under `models:` "
                   "in the overrides",
}


def provider_family(provider: str | None) -> str | None:
    """One name per provider family: bedrock_converse -> bedrock, vertex_ai-anthropic_models ->
    vertex_ai, text-completion-openai -> openai, azure_text -> azure, cohere_chat -> cohere."""
    if not provider:
        return None
    p = provider.strip().lower()
    p = p.removeprefix("text-completion-")
    for fam in ("bedrock", "vertex_ai", "fireworks_ai"):
        if p.startswith(fam):
            return fam
    return {"azure_text": "azure", "cohere_chat": "cohere", "ollama_chat": "ollama", "sagemaker_chat": "sagemaker"
            }.get(p, p)


def _prefixes(provider: str | None) -> list[str]:
    if not provider:
        return []
    p = provider.strip().lower()
    return list(dict.fromkeys([*PROVIDER_PREFIXES.get(p, ()), p]))


def free_kind(entry: dict) -> str | None:
    """'local_runtime' | 'instance_hour' | 'per_unit' | 'listed_free' when every token rate of the
    entry is 0 (see the module docstring); None when it has a token price."""
    rates = [v for k, v in entry.items() if _TOKEN_RATE.search(k)]
    for row in entry.get("tiered_pricing") or []:
        if isinstance(row, dict):
            rates += [v for k, v in row.items() if _TOKEN_RATE.search(k)]
    nums = [float(v) for v in rates if isinstance(v, (int, float, str)) and not isinstance(v, bool)
            and _is_number(v)]
    if not nums or any(v != 0 for v in nums):
        return None
    fam = provider_family(entry.get("litellm_provider"))
    if fam in LOCAL_RUNTIMES:
        return "local_runtime"
    if fam in INSTANCE_HOUR:
        return "instance_hour"
    if _unit_prices(entry):
        return "per_unit"
    return "listed_free"


def _is_number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _unit_prices(entry: dict) -> dict[str, float]:
    """Non-token prices of an entry that are not 0 (per image, second, query, ...)."""
    return {k: v for k, v in entry.items() if "cost" in k and not _TOKEN_RATE.search(k)
            and isinstance(v, (int, float)) and not isinstance(v, bool) and v}


# ---------------------------------------------------------------------------------------
# The book
# ---------------------------------------------------------------------------------------


@dataclass
class Resolution:
    provider: str | None
    model: str | None
    price_key: str | None
    match_rule: str | None
    pricing_basis: str | None  # token | self_hosted | free_per_map | None
    discount: float = 0.0
    discount_source: str | None = None
    tried: list[str] = field(default_factory=list)
    map_key: str | None = None     # the map entry found (also when it is free_per_map: price_key NULL)
    free_kind: str | None = None   # local_runtime | instance_hour | per_unit | listed_free (free_per_map)
    note: str | None = None        # for people: why to verify (free_per_map, first_party_fallback, finetune_base)


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
        base, self.map_sha256, self.capacity_entries = _load_map(str(map_path), st.st_mtime_ns, st.st_size)
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

    def _lookup(self, name: str, lead: list[str], logged: list[str], families: set[str] | None,
                tried: list[str], implied: tuple[str, ...] = ()) -> tuple[str, str] | None:
        """One name: provider_prefix (lead + logged prefixes), exact, inferred_provider, strip_prefix.
        `families` None accepts any entry (pass B, or no provider logged); else only entries of those
        families. `implied`: prefixes a form of the original name implies (an `@` date: vertex_ai)."""
        candidates: list[tuple[str, str]] = []
        for pref in dict.fromkeys(lead + logged):
            if not name.startswith(pref + "/"):
                candidates.append((f"{pref}/{name}", "provider_prefix"))
        candidates.append((name, "exact"))
        last = name.rsplit("/", 1)[-1]
        implied = (*implied, *(["vertex_ai"] if "@" in last else []),
                   *(["gemini", "vertex_ai"] if _GOOGLE_NAME.match(last) else []))
        for pref in dict.fromkeys(implied):
            if "/" not in name and pref not in lead + logged:
                candidates.append((f"{pref}/{name}", "inferred_provider"))
        if "/" in name and not (_GEMINI_API.match(name) or _VERTEX_RESOURCE.match(name)):  # those are step 5
            candidates.append((name.split("/", 1)[1], "strip_prefix"))
        for key, rule in candidates:
            if key not in self.entries:
                if key not in tried:
                    tried.append(key)
                continue
            if families is not None and provider_family(self.entries[key].get("litellm_provider")) not in families:
                note = f"{key} (a {self.entries[key].get('litellm_provider')} entry: not the logged provider's)"
                if note not in tried:
                    tried.append(note)
                continue
            return key, rule
        return None

    def _forms(self, name: str, lead: list[str], logged: list[str], families: set[str] | None,
               tried: list[str]) -> tuple[str, str] | None:
        """Steps 3-7 of the module docstring on one spelling of the name."""
        hit = self._lookup(name, lead, logged, families, tried)
        if hit:
            return hit
        m = _FINETUNE.match(name)
        if m:
            hit = self._lookup(f"{m['pre']}ft:{m['base']}", lead, logged, families, tried)
            if hit:
                return hit[0], "finetune>" + hit[1]
            hit = self._forms(m["pre"] + m["base"], lead, logged, families, tried)
            return (hit[0], "finetune_base>" + hit[1]) if hit else None
        for pattern, pref, tag in ((_GEMINI_API, "gemini", "gemini_api"), (_VERTEX_RESOURCE, "vertex_ai", "vertex_resource")):
            m = pattern.match(name)
            if m:
                fams = None if families is None else {pref}
                hit = self._forms(m["name"], [pref], [], fams, tried)
                return (hit[0], f"{tag}>{hit[1]}") if hit else None
        head, _, last = name.rpartition("/")
        m = _DATE_SUFFIX.match(last)
        if m:
            base = (head + "/" if head else "") + m.group("base")
            # an `@` date names Vertex: the base keeps that provider (vertex_ai/claude-3-5-sonnet)
            hit = self._lookup(base, lead, logged, families, tried, ("vertex_ai",) if "@" in last else ())
            if hit:
                return hit[0], "dated_to_base>" + hit[1]
        m = _VERSION_SUFFIX.match(last)
        google = bool(_GOOGLE_NAME.match(last)) or any(provider_family(p) in _GOOGLE_FAMILIES for p in lead + logged)
        if m and google:
            hit = self._lookup((head + "/" if head else "") + m.group("base"), lead, logged, families, tried)
            if hit:
                return hit[0], "version_suffix>" + hit[1]
        return None

    def _find(self, name: str, provider: str | None, tried: list[str]) -> tuple[str, str] | None:
        """Pass A (the logged provider's own entries), then pass B (first_party_fallback), each on
        the name as logged and then lower-cased."""
        if not provider:  # a resource name says which API it is
            provider = "gemini" if _GEMINI_API.match(name) else "vertex_ai" if _VERTEX_RESOURCE.match(name) else None
        logged = _prefixes(provider)
        fam = provider_family(provider) if provider else None
        own = None if not provider or fam in _GATEWAYS else {provider_family(p) for p in logged}
        passes = [(own, "")] + ([(None, "first_party_fallback")] if own is not None else [])
        for families, fallback in passes:
            for variant, tag in ((name, ""), (name.lower(), "lowercase>")):
                if tag and variant == name:
                    continue
                hit = self._forms(variant, [], logged, families, tried)
                if hit:
                    if fallback:  # the last step names it: exact -> first_party_fallback
                        steps = hit[1].split(">")
                        return hit[0], tag + ">".join(steps[:-1] + [fallback])
                    return hit[0], tag + hit[1]
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
        hit = self._find(name, lookup_provider, res.tried)
        if hit is None:
            cap = next((n for n in [name, *res.tried] if n in self.capacity_entries), None)
            if cap:  # still unpriced (never $0), but with the reason and what to do
                e = self.capacity_entries[cap]
                rate = next(e[c] for c in ("input_cost_per_second", "cost_per_second", "output_cost_per_second")
                            if isinstance(e.get(c), (int, float)))
                res.map_key = cap
                res.note = ("provisioned throughput in the price map" + (f" ({cap})" if cap != name else "")
                            + f": ${rate:g} per second of reserved "
                            f"capacity (${rate * 3600:,.2f} an hour), billed for the commitment, not per token. "
                            "Price it as capacity: list it under `self_hosted:` in the overrides (gpu_hourly_usd: "
                            "the hourly cost, throughput_tokens_per_s: what one model unit serves)")
            return res
        key, rule = hit
        res.map_key = key
        kind = free_kind(self.entries[key]) if self.source(key) == "litellm" else None
        if kind:  # $0 is a finding, not a price: cost NULL, listed with its calls (see the docstring)
            res.match_rule, res.pricing_basis, res.free_kind = rule_prefix + rule + ">free_per_map", "free_per_map", kind
            units = ", ".join(f"{k} {v:g}" for k, v in _unit_prices(self.entries[key]).items())
            res.note = (f"free per the price map — verify: {key} has every token rate at 0; "
                        + FREE_HINTS[kind].format(units=units or "unit"))
            return res
        res.price_key, res.match_rule, res.pricing_basis = key, rule_prefix + rule, "token"
        last = rule.rsplit(">", 1)[-1]
        if last == "first_party_fallback":
            provider = lookup_provider or ("gemini" if _GEMINI_API.match(name) else "vertex_ai")
            res.note = (f"{provider} has no entry for {name!r} in the map: priced at {key} "
                        f"({self.entries[key].get('litellm_provider')}'s rates); verify against the {provider} bill")
        elif rule.startswith("finetune_base>"):
            res.note = (f"the map has no fine-tune entry for {name!r}: priced at the base model {key}; fine-tuned "
                        "inference usually costs more (the map's ft: entries run 1.5-2x their base): give its rates "
                        "under `models:` in the overrides")
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
