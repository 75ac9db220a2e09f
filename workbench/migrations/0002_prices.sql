-- 0002: the price book and the priced view. Append-only: later changes go in a new file
-- (CREATE OR REPLACE VIEW priced_calls ... in 0003+), never by editing this one.
--
-- The tables below are written by workbench.pricing.build_price_book(); they hold the book
-- currently in force. `price_books` keeps one row per build (history) so a report can name
-- the exact litellm version, map sha256 and overrides file it was priced with.

CREATE TABLE price_books (
    book_version       VARCHAR NOT NULL,  -- e.g. litellm-1.106.2+map.3f2a…+ov.9c1d…
    litellm_version    VARCHAR NOT NULL,
    map_sha256         VARCHAR NOT NULL,  -- sha256 of model_prices_and_context_window_backup.json
    map_entries        BIGINT NOT NULL,   -- token-priced entries kept from the map
    overrides_path     VARCHAR,
    overrides_sha256   VARCHAR,
    built_at           TIMESTAMPTZ NOT NULL
);

-- Snapshot of the entries the current book used (every resolved price_key) plus every
-- override entry: the full litellm entry as JSON, after overrides were merged in.
CREATE TABLE prices (
    book_version       VARCHAR NOT NULL,
    price_key          VARCHAR NOT NULL,
    source             VARCHAR NOT NULL,  -- litellm | override | litellm+override | self_hosted
    litellm_provider   VARCHAR,
    mode               VARCHAR,
    input_cost_per_token  DOUBLE,
    output_cost_per_token DOUBLE,
    entry              JSON NOT NULL
);

-- How each distinct (provider, model) seen in `calls` resolves. price_key NULL = unpriced.
CREATE TABLE price_resolution (
    provider           VARCHAR,
    model              VARCHAR,
    price_key          VARCHAR,           -- NULL when no price was found: cost stays NULL, never 0
    match_rule         VARCHAR,           -- alias>exact, provider_prefix, dated_to_base, self_hosted, ...
    pricing_basis      VARCHAR,           -- token | self_hosted | NULL (unpriced)
    discount           DOUBLE NOT NULL DEFAULT 0,  -- negotiated fraction off (0.15 = 15% off)
    discount_source    VARCHAR,           -- 'model:<name>' or 'provider:<name>'
    book_version       VARCHAR NOT NULL
);

-- Effective per-token rates (USD per token, list price) per price_key x service tier x
-- context band. A call uses the band with the largest above_input_tokens < input_tokens
-- (ASOF join): the base band has above_input_tokens = -1, a threshold band such as
-- `_above_200k_tokens` has 200000, so every token of that request takes the band's rates.
CREATE TABLE price_rates (
    price_key          VARCHAR NOT NULL,
    service_tier       VARCHAR NOT NULL,  -- default | batch | flex | priority
    above_input_tokens BIGINT NOT NULL,
    input_rate         DOUBLE NOT NULL,
    output_rate        DOUBLE NOT NULL,
    reasoning_rate     DOUBLE NOT NULL,
    cache_read_rate    DOUBLE NOT NULL,
    cache_write_rate   DOUBLE NOT NULL,   -- 5-minute write
    cache_write_1h_rate DOUBLE NOT NULL,
    rate_source        VARCHAR NOT NULL   -- tier | base_fallback | half_of_base | tiered_pricing | self_hosted
);

-- Self-hosted models from the overrides file; their capacity cost is the projection's job.
CREATE TABLE price_self_hosted (
    name                    VARCHAR NOT NULL,
    provider                VARCHAR,
    gpu_hourly_usd          DOUBLE NOT NULL,
    gpus_per_replica        INTEGER NOT NULL,
    throughput_tokens_per_s DOUBLE NOT NULL,
    target_utilization      DOUBLE NOT NULL,
    min_replicas            INTEGER NOT NULL,
    book_version            VARCHAR NOT NULL
);

-- calls + price_key + cost buckets. Buckets mirror the token columns: cache_write_cost_usd
-- includes its 1-hour part, output_cost_usd includes its reasoning part, and
-- cost_usd = input + cache_read + cache_write + output. All costs are net of the
-- negotiated discount (list_cost_usd is before it) and NULL when the call is unpriced.
CREATE VIEW priced_calls AS
WITH c AS (
    SELECT c.*,
        CASE lower(coalesce(c.service_tier, 'default'))
            WHEN 'batch' THEN 'batch' WHEN 'flex' THEN 'flex'
            WHEN 'priority' THEN 'priority' WHEN 'fast' THEN 'priority'
            ELSE 'default' END AS pricing_tier,
        r.price_key, r.match_rule, r.pricing_basis, r.book_version,
        coalesce(r.discount, 0) AS discount,
        r.book_version IS NOT NULL AS _resolved,
        greatest(c.input_tokens - c.cache_read_tokens - c.cache_write_tokens, 0) AS uncached_input_tokens,
        greatest(c.cache_write_tokens - c.cache_write_1h_tokens, 0) AS cache_write_5m_tokens,
        greatest(c.output_tokens - c.reasoning_tokens, 0) AS text_output_tokens
    FROM calls c
    LEFT JOIN price_resolution r
        ON c.provider IS NOT DISTINCT FROM r.provider AND c.model IS NOT DISTINCT FROM r.model
),
j AS (
    SELECT c.*, p.above_input_tokens, p.rate_source,
        c.uncached_input_tokens * p.input_rate AS _input,
        c.cache_read_tokens * p.cache_read_rate AS _cache_read,
        c.cache_write_5m_tokens * p.cache_write_rate AS _cache_write_5m,
        least(c.cache_write_1h_tokens, c.cache_write_tokens) * p.cache_write_1h_rate AS _cache_write_1h,
        c.text_output_tokens * p.output_rate AS _text_output,
        least(c.reasoning_tokens, c.output_tokens) * p.reasoning_rate AS _reasoning
    FROM c
    ASOF LEFT JOIN price_rates p
        ON c.price_key = p.price_key AND c.pricing_tier = p.service_tier
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
