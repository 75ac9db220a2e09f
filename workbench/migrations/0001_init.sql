-- 0001: the call store. Migrations are numbered and append-only: never edit a released one.
CREATE SEQUENCE IF NOT EXISTS ingest_id_seq START 1;

CREATE TABLE ingests (
    ingest_id          BIGINT PRIMARY KEY,
    path               VARCHAR NOT NULL,
    sha256             VARCHAR NOT NULL,
    bytes              BIGINT,
    format             VARCHAR NOT NULL,
    options            JSON,              -- --set / --map values used
    rows_read          BIGINT NOT NULL,
    rows_accepted      BIGINT NOT NULL,
    rows_duplicate     BIGINT NOT NULL,
    rows_quarantined   BIGINT NOT NULL,
    started_at         TIMESTAMPTZ NOT NULL,
    finished_at        TIMESTAMPTZ NOT NULL,
    workbench_version  VARCHAR
);

CREATE TABLE calls (
    call_id               VARCHAR NOT NULL,
    source_format         VARCHAR NOT NULL,
    source_file           VARCHAR,
    ingest_id             BIGINT,
    ts                    TIMESTAMPTZ,
    provider              VARCHAR,
    model                 VARCHAR,
    service_tier          VARCHAR,
    input_tokens          BIGINT NOT NULL,  -- ALL input: uncached + cache reads + cache writes
    cache_read_tokens     BIGINT NOT NULL,
    cache_write_tokens    BIGINT NOT NULL,  -- all cache writes (5-minute and 1-hour)
    cache_write_1h_tokens BIGINT NOT NULL,  -- the part of cache_write_tokens written with a 1-hour TTL
    output_tokens         BIGINT NOT NULL,  -- ALL output, reasoning included
    reasoning_tokens      BIGINT NOT NULL,  -- part of output_tokens
    latency_ms            DOUBLE,
    ttft_ms               DOUBLE,
    status                VARCHAR NOT NULL, -- ok | error
    error_type            VARCHAR,          -- rate_limit, timeout, server, content_filter, invalid_request, auth, ...
    finish_reason         VARCHAR,
    session_id            VARCHAR,
    trace_id              VARCHAR,
    user_id               VARCHAR,
    feature               VARCHAR,
    prompt_version        VARCHAR,
    environment           VARCHAR,
    logged_cost_usd       DOUBLE,
    attributes            JSON
);

CREATE TABLE quarantine (
    ingest_id     BIGINT,
    source_file   VARCHAR,
    file_sha256   VARCHAR,
    line          BIGINT,      -- line (JSONL/CSV) or record number (JSON array, Parquet)
    format        VARCHAR,
    reason        VARCHAR NOT NULL,
    raw           VARCHAR
);
