"""Rate expansion: one price-map entry -> the rows of `price_rates` (per tier and context band).

How a call is priced (litellm's rules, `generic_cost_per_token` / `batch_cost_calculator`)
    cost = (uncached input x input + cache reads x cache_read + 5m writes x cache_write
         + 1h writes x cache_write_1h + text output x output + reasoning x reasoning)
         x rate_multiplier x (1 - discount)
    with uncached = input - cache_read - cache_write and text output = output - reasoning.
    * A missing cache-read or cache-write rate is the input rate; a missing 1-hour write rate
      is the 5-minute write rate; a missing reasoning rate is the output rate.
    * Tiers flex / priority / ultrafast / balanced use the `_flex` / `_priority` /
      `_ultrafast` / `_balanced` key of each rate, else the base key (`fast` = priority, as
      in litellm). ultrafast / balanced rows exist only for entries with such keys; a call in
      those tiers on another entry takes the default rows (rate_source `base_fallback`).
    * batch uses `_batches` keys; cache reads and writes without a `_batches` rate bill at
      the batch input rate and all completion tokens at the batch output rate (litellm's
      batch calculator). An entry with no `_batches` input rate:
        1. twin: `provider/model` and `model` of one provider with the same standard input
           and output rates are one offering; the one without `_batches` takes the other's
           (pricemap._borrow_twin_batch_rates; rate_source `twin_batches`);
        2. published discount: the provider publishes a batch API at half price
           (PUBLISHED_BATCH_DISCOUNT: OpenAI, Azure OpenAI, Anthropic, Gemini, Vertex AI,
           Bedrock, Mistral, Groq, Together): every standard rate of every band halved
           (rate_source `published_batch_discount`);
        3. otherwise `batch_fallback`: `base` = list price (rate_source `base_fallback`,
           which the projection warns about), `half` = halved (`half_of_base`).
    * Context thresholds (`*_above_128k_tokens`, `_200k`, `_272k`, ...): when input_tokens
      exceed a threshold (>= for xAI), EVERY token type of the request uses the
      above-threshold rate where one is given (not marginal pricing). `tiered_pricing`
      tables (Dashscope) are all-or-nothing per request too.
    * off_peak_pricing (DeepSeek, Tencent): inside a window the block's rates REPLACE the
      rates of the call's tier and band (litellm's apply_off_peak_pricing); a rate the block
      does not give stays standard, a missing cache rate is the off-peak input rate. Emitted
      as `<tier>:off_peak` rows (not for batch); the window test on the call's `ts` is in
      the `priced_calls` view (migration 0007), reading the entry snapshot in `prices`.
    * provider_specific_entry (Anthropic): x the factor for `attributes.inference_geo`
      (us: 1.1; global / not_available: 1) and x `fast` when `attributes.speed` = 'fast'
      (2); applied in the view to every bucket, batch included (litellm's batch calculator
      skips it).
    * Discounts multiply every bucket by (1 - discount).
    Where the map is silent or two keys disagree: the entry the call resolved to wins; a twin
    is borrowed from only for batch rates and only when the standard rates agree; a missing
    rate falls back as above, never to $0.
    Not modelled: regional uplifts (OpenAI data residency, Vertex regional endpoints: the
    canonical record has no region), audio/image/video tokens, per-request / per-second /
    per-query fees (the canonical call record has no such counts), 12-hour cache writes.
    The rates are expanded in Python per used price key into `price_rates` (a handful of
    rows per model); the per-call arithmetic is one SQL view, `priced_calls`, over an ASOF
    join on the context band. No Python loop ever touches calls.
"""

from __future__ import annotations

from .pricemap import (
    _BATCH_THRESHOLD,
    _DEFAULT_CACHE_READ_RATIO,
    _INCLUSIVE_THRESHOLD_PROVIDERS,
    _NONSTANDARD_SUFFIXES,
    _RATE_PREFIXES,
    _THRESHOLD_PREFIXES,
    _TIER_SUFFIX,
    OFF_PEAK,
    PUBLISHED_BATCH_DISCOUNT,
    TIERS,
    TWIN_BATCH_MARKER,
    _num,
)


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


def _off_peak(op: dict | None, key: str, rate):
    """litellm's _off_peak_rate: the window's rate replaces the standard one where it gives one."""
    v = _num(op, key) if op else None
    return rate if v is None else v


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


def _generic_bands(entry: dict, tier: str, inclusive: bool, op: dict | None = None) -> list[dict]:
    """litellm's _get_token_base_cost for the default / flex / priority / ultrafast / balanced tiers;
    with `op` (an open off_peak_pricing block), apply_off_peak_pricing on top of each band."""
    inp = _tier_get(entry, "input_cost_per_token", tier, 0.0)
    out = _tier_get(entry, "output_cost_per_token", tier, 0.0)
    if not out:
        out = _num(entry, "output_cost_per_image_token") or out
    cc = _tier_get(entry, "cache_creation_input_token_cost", tier)
    cc1h = _tier_get(entry, "cache_creation_input_token_cost_above_1hr", tier)
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

    def band(floor, inp, out, cc, cc1h, cr):
        if op:
            # a missing cache rate is the (off-peak) input rate; a missing 1h write the (off-peak) write
            inp_op = _off_peak(op, "input_cost_per_token", inp)
            cr = _off_peak(op, "cache_read_input_token_cost", inp_op if cr is None else cr)
            cc = _off_peak(op, "cache_creation_input_token_cost", inp_op if cc is None else cc)
            inp, out = inp_op, _off_peak(op, "output_cost_per_token", out)
        reasoning = _off_peak(op, "output_cost_per_reasoning_token", None)
        if reasoning is None:
            reasoning = _reasoning_rate(entry, tier, out)
        return dict(above_input_tokens=floor, **_finish(inp, out, cc, cc1h, cr, reasoning))

    bands = [band(-1, inp, out, cc, cc1h, cr)]
    for value in sorted(thresholds):
        x = thresholds[value]
        inp = _tier_get(entry, f"input_cost_per_token_above_{x}_tokens", tier, inp)
        out = _tier_get(entry, f"output_cost_per_token_above_{x}_tokens", tier, out)
        cc = _tier_get(entry, f"cache_creation_input_token_cost_above_{x}_tokens", tier, cc)
        cc1h = _tier_get(entry, f"cache_creation_input_token_cost_above_1hr_above_{x}_tokens", tier, cc1h)
        cr = _tier_get(entry, f"cache_read_input_token_cost_above_{x}_tokens", tier, cr)
        bands.append(band(_band_floor(value, inclusive), inp, out, cc, cc1h, cr))
    return bands


def _off_peak_tiered(bands: list[dict], op: dict) -> list[dict]:
    """apply_off_peak_pricing on `tiered_pricing` bands (their missing rates are already resolved)."""
    out = []
    for b in bands:
        o = dict(b)
        for col, key in (("input_rate", "input_cost_per_token"), ("output_rate", "output_cost_per_token"),
                         ("cache_read_rate", "cache_read_input_token_cost"),
                         ("cache_write_rate", "cache_creation_input_token_cost")):
            o[col] = _off_peak(op, key, b[col])
        if b["cache_write_1h_rate"] == b["cache_write_rate"]:
            o["cache_write_1h_rate"] = o["cache_write_rate"]
        o["reasoning_rate"] = _off_peak(op, "output_cost_per_reasoning_token",
                                        o["output_rate"] if b["reasoning_rate"] == b["output_rate"] else b["reasoning_rate"])
        out.append(o)
    return out


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


def _batch_bands(entry: dict, std_entry: dict, inclusive: bool, fallback: str) -> tuple[list[dict], str]:
    """litellm's batch_cost_calculator: `_batches` keys, with `_above_Nk_tokens_batches` tiers.

    No `_batches` input rate: half the standard bands where the provider publishes a batch
    discount (PUBLISHED_BATCH_DISCOUNT), else `fallback` (`base`: list price; `half`)."""
    if _num(entry, "input_cost_per_token_batches") is None and not any(
        _BATCH_THRESHOLD.match(k) and k.startswith("input_") for k in entry
    ):
        base = _generic_bands(std_entry, "default", inclusive)
        discount = PUBLISHED_BATCH_DISCOUNT.get(entry.get("litellm_provider"))
        if discount is None and fallback == "half":
            discount, source = 0.5, "half_of_base"
        else:
            source = "published_batch_discount"
        if discount is None:
            return base, "base_fallback"
        keep = 1 - discount
        return [dict(b, **{k: v * keep for k, v in b.items() if k.endswith("_rate")}) for b in base], source
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
    return bands, "twin_batches" if entry.get(TWIN_BATCH_MARKER) else "tier"


# Tiers that get rows only when the entry has keys for them (a handful of entries do).
_SPARSE_TIERS = ("ultrafast", "balanced")


def expand_rates(entry: dict, batch_fallback: str = "base") -> list[dict]:
    """Every (service tier, context band) rate row for one price-book entry, plus the
    `<tier>:off_peak` rows of an entry with `off_peak_pricing` (not for batch: litellm's batch
    calculator has no off-peak rates)."""
    provider = entry.get("litellm_provider")
    inclusive = provider in _INCLUSIVE_THRESHOLD_PROVIDERS
    std_entry = entry
    if provider in _DEFAULT_CACHE_READ_RATIO and _num(entry, "cache_read_input_token_cost") is None:
        inp = _num(entry, "input_cost_per_token")
        if inp is not None:
            std_entry = {**entry, "cache_read_input_token_cost": inp * _DEFAULT_CACHE_READ_RATIO[provider]}
    op = entry.get("off_peak_pricing")
    op = op if isinstance(op, dict) else None
    out: list[dict] = []
    for tier in TIERS:
        if tier == "batch":
            bands, source = _batch_bands(entry, std_entry, inclusive, batch_fallback)
            out.extend(dict(b, service_tier=tier, rate_source=source) for b in bands)
            continue
        if tier in _SPARSE_TIERS and not any(_TIER_SUFFIX[tier] in k for k in std_entry):
            continue  # no such keys: priced_calls uses the default rows (rate_source base_fallback)
        bands = _tiered_pricing_bands(std_entry, tier)
        source = "tiered_pricing"
        off = None
        if bands is None:
            bands = _generic_bands(std_entry, tier, inclusive)
            off = _generic_bands(std_entry, tier, inclusive, op) if op else None
            suffix = _TIER_SUFFIX[tier]
            source = "tier" if not suffix or any(
                _num(std_entry, p + suffix) is not None for p in ("input_cost_per_token", "output_cost_per_token")
            ) else "base_fallback"
        elif op:
            off = _off_peak_tiered(bands, op)
        out.extend(dict(b, service_tier=tier, rate_source=source) for b in bands)
        if off:
            out.extend(dict(b, service_tier=tier + OFF_PEAK, rate_source="off_peak") for b in off)
    return out


# ---------------------------------------------------------------------------------------
# Building the book into the database
# ---------------------------------------------------------------------------------------
