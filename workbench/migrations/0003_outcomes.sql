-- 0003: business outcomes per correlation id (a session or trace), for cost per outcome.
CREATE TABLE outcomes (
    correlation_id  VARCHAR NOT NULL,
    outcome         VARCHAR NOT NULL,
    value_usd       DOUBLE,
    source_file     VARCHAR,
    loaded_at       TIMESTAMPTZ DEFAULT now()
);
