-- 0007: every rule the price map states, in `priced_calls` (replaces the view of 0002).
--
--   * service tiers `ultrafast` and `balanced` price at their `_ultrafast` / `_balanced` keys
--     (beside flex / priority; `fast` is litellm's alias of priority), each falling back to the
--     base key where the entry has none (rate_source 'base_fallback'; an entry with no
--     `_ultrafast` / `_balanced` key at all has no such rows: the call takes the default rows,
--     pricing_tier 'default', rate_source 'base_fallback').
--   * off_peak_pricing: a call whose `ts` falls inside one of the entry's windows takes the
--     `<tier>:off_peak` rows of price_rates (rate_period 'off_peak'). Windows are read from the
--     entry snapshot in `prices`: `hours_utc` ("HH:MM-HH:MM", UTC, start inclusive, end
--     exclusive, wrapping past midnight, start = end = the whole day) apply every day; each
--     `windows[]` rule applies on its `weekdays` (ISO 1-7 or names), read on the calendar of
--     `weekday_timezone` (default UTC; an unknown zone is UTC). A call with no `ts` is priced
--     at the standard rates. Batch has no off-peak rates (as in litellm).
--   * provider_specific_entry multipliers (Anthropic): every bucket x the entry's factor for the
--     call's `attributes.inference_geo` (e.g. us: 1.1; 'global' and 'not_available' are 1), and x
--     its `fast` factor when `attributes.speed` = 'fast' (e.g. 2): rate_multiplier.
--   * rate_source (from price_rates) names where the rates came from: tier | base_fallback |
--     published_batch_discount | half_of_base | twin_batches | tiered_pricing | off_peak |
--     self_hosted; base_fallback on a batch call means list price (the projection warns).
CREATE OR REPLACE VIEW priced_calls AS
WITH op AS (
    SELECT price_key, entry -> '$.off_peak_pricing' AS op,
           coalesce(entry ->> '$.off_peak_pricing.weekday_timezone', 'UTC') AS tz
    FROM prices
    WHERE json_type(entry, '$.off_peak_pricing') = 'OBJECT'
),
op_rules AS (  -- (price_key, tz, weekdays or NULL for every day, hours_utc as JSON string or list)
    SELECT price_key, tz, NULL::INTEGER[] AS weekdays, op -> '$.hours_utc' AS hours
    FROM op WHERE (op -> '$.hours_utc') IS NOT NULL
    UNION ALL
    SELECT price_key, tz,
        list_filter(list_transform(CAST(w -> '$.weekdays' AS VARCHAR[]), lambda d: coalesce(
            CASE WHEN TRY_CAST(d AS INTEGER) BETWEEN 1 AND 7 THEN TRY_CAST(d AS INTEGER) END,
            MAP {'mon': 1, 'monday': 1, 'tue': 2, 'tues': 2, 'tuesday': 2, 'wed': 3, 'wednesday': 3,
                 'thu': 4, 'thur': 4, 'thurs': 4, 'thursday': 4, 'fri': 5, 'friday': 5, 'sat': 6,
                 'saturday': 6, 'sun': 7, 'sunday': 7}[lower(trim(d))])), lambda d: d IS NOT NULL),
        w -> '$.hours_utc'
    FROM (SELECT price_key, tz, unnest(CAST(op -> '$.windows' AS JSON[])) AS w
          FROM op WHERE json_type(op, '$.windows') = 'ARRAY')
    WHERE json_type(w) = 'OBJECT' AND (w -> '$.hours_utc') IS NOT NULL
      AND ((w -> '$.weekdays') IS NULL OR json_type(w, '$.weekdays') = 'ARRAY')
),
op_windows AS (  -- one row per window, in minutes of the UTC day
    SELECT price_key, tz, weekdays,
        hour(try_strptime(trim(split_part(win, '-', 1)), '%H:%M')) * 60
            + minute(try_strptime(trim(split_part(win, '-', 1)), '%H:%M')) AS start_min,
        hour(try_strptime(trim(split_part(win, '-', 2)), '%H:%M')) * 60
            + minute(try_strptime(trim(split_part(win, '-', 2)), '%H:%M')) AS end_min
    FROM (
        SELECT price_key, tz, weekdays, unnest(CASE json_type(hours)
            WHEN 'VARCHAR' THEN [hours ->> '$']
            WHEN 'ARRAY' THEN CAST(hours AS VARCHAR[]) END) AS win
        FROM op_rules
    )
    WHERE len(string_split(win, '-')) = 2
),
c0 AS (
    SELECT c.*,
        r.price_key, r.match_rule, r.pricing_basis, r.book_version,
        coalesce(r.discount, 0) AS discount,
        r.book_version IS NOT NULL AS _resolved,
        CASE lower(coalesce(c.service_tier, 'default'))
            WHEN 'batch' THEN 'batch' WHEN 'flex' THEN 'flex'
            WHEN 'priority' THEN 'priority' WHEN 'fast' THEN 'priority'
            WHEN 'ultrafast' THEN 'ultrafast' WHEN 'balanced' THEN 'balanced'
            ELSE 'default' END AS _tier,
        greatest(c.input_tokens - c.cache_read_tokens - c.cache_write_tokens, 0) AS uncached_input_tokens,
        greatest(c.cache_write_tokens - c.cache_write_1h_tokens, 0) AS cache_write_5m_tokens,
        greatest(c.output_tokens - c.reasoning_tokens, 0) AS text_output_tokens,
        timezone('UTC', c.ts) AS _ts_utc
    FROM calls c
    LEFT JOIN price_resolution r
        ON c.provider IS NOT DISTINCT FROM r.provider AND c.model IS NOT DISTINCT FROM r.model
),
c AS (
    SELECT c0.* EXCLUDE (_tier, _ts_utc),
        CASE WHEN _tier <> 'batch' AND _ts_utc IS NOT NULL AND EXISTS (
                SELECT 1 FROM op_windows w
                WHERE w.price_key = c0.price_key
                  AND (w.weekdays IS NULL OR list_contains(w.weekdays, coalesce(
                        try(isodow(timezone(w.tz, c0.ts))), isodow(c0._ts_utc))))
                  AND CASE WHEN w.start_min < w.end_min
                           THEN hour(c0._ts_utc) * 60 + minute(c0._ts_utc) >= w.start_min
                                AND hour(c0._ts_utc) * 60 + minute(c0._ts_utc) < w.end_min
                           ELSE hour(c0._ts_utc) * 60 + minute(c0._ts_utc) >= w.start_min
                                OR hour(c0._ts_utc) * 60 + minute(c0._ts_utc) < w.end_min END)
             THEN 'off_peak' ELSE 'standard' END AS rate_period,
        -- ultrafast / balanced rows exist only for entries with such keys; else the default rows
        CASE WHEN _tier IN ('ultrafast', 'balanced') AND NOT EXISTS (
                SELECT 1 FROM price_rates t WHERE t.price_key = c0.price_key AND t.service_tier = c0._tier)
             THEN 'default' ELSE _tier END AS pricing_tier,
        _tier AS _requested_tier,
        CASE WHEN lower((c0.attributes ->> '$.inference_geo')) NOT IN ('global', 'not_available')
                  AND regexp_full_match(lower((c0.attributes ->> '$.inference_geo')), '[a-z0-9_-]+')
             THEN coalesce(TRY_CAST(json_extract_string(p.entry, '$.provider_specific_entry."' || lower((c0.attributes ->> '$.inference_geo')) || '"')
                                    AS DOUBLE), 1) ELSE 1 END
        * CASE WHEN (c0.attributes ->> '$.speed') = 'fast'
               THEN coalesce(TRY_CAST((p.entry ->> '$.provider_specific_entry.fast') AS DOUBLE), 1) ELSE 1 END
            AS rate_multiplier
    FROM c0
    LEFT JOIN prices p ON p.price_key = c0.price_key
),
j AS (
    SELECT c.* EXCLUDE (_requested_tier), p.above_input_tokens,
        CASE WHEN c._requested_tier <> c.pricing_tier AND p.rate_source IS NOT NULL THEN 'base_fallback'
             ELSE p.rate_source END AS rate_source,
        c.uncached_input_tokens * p.input_rate * rate_multiplier AS _input,
        c.cache_read_tokens * p.cache_read_rate * rate_multiplier AS _cache_read,
        c.cache_write_5m_tokens * p.cache_write_rate * rate_multiplier AS _cache_write_5m,
        least(c.cache_write_1h_tokens, c.cache_write_tokens) * p.cache_write_1h_rate * rate_multiplier AS _cache_write_1h,
        c.text_output_tokens * p.output_rate * rate_multiplier AS _text_output,
        least(c.reasoning_tokens, c.output_tokens) * p.reasoning_rate * rate_multiplier AS _reasoning
    FROM c
    ASOF LEFT JOIN price_rates p
        ON c.price_key = p.price_key
        AND CASE WHEN c.rate_period = 'off_peak' THEN c.pricing_tier || ':off_peak' ELSE c.pricing_tier END
            = p.service_tier
        AND c.input_tokens > p.above_input_tokens
)
SELECT * EXCLUDE (_resolved, above_input_tokens, _input, _cache_read, _cache_write_5m, _cache_write_1h,
                  _text_output, _reasoning),
    CASE WHEN NOT _resolved THEN 'not_resolved'
         WHEN price_key IS NULL THEN 'unpriced'
         WHEN pricing_basis = 'self_hosted' THEN 'self_hosted'
         ELSE 'priced' END AS price_status,
    CASE WHEN above_input_tokens >= 0 THEN above_input_tokens END AS context_band_above_tokens,
    _input * (1 - discount) AS input_cost_usd,
    _cache_read * (1 - discount) AS cache_read_cost_usd,
    (_cache_write_5m + _cache_write_1h) * (1 - discount) AS cache_write_cost_usd,
    _cache_write_1h * (1 - discount) AS cache_write_1h_cost_usd,
    (_text_output + _reasoning) * (1 - discount) AS output_cost_usd,
    _reasoning * (1 - discount) AS reasoning_cost_usd,
    _input + _cache_read + _cache_write_5m + _cache_write_1h + _text_output + _reasoning AS list_cost_usd,
    (_input + _cache_read + _cache_write_5m + _cache_write_1h + _text_output + _reasoning) * (1 - discount) AS cost_usd,
    (_input + _cache_read + _cache_write_5m + _cache_write_1h + _text_output + _reasoning) * (1 - discount)
        - logged_cost_usd AS cost_delta_vs_logged
FROM j;
