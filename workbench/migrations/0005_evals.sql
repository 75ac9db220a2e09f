-- 0005: eval runs, per-case results, per-scorer scores, and the LLM response cache.
-- Written by workbench.evals (runner.py); the gate reads eval_results of two runs by case_id.

-- One row per (suite, model) run. status: running (in progress, or killed: a re-run resumes
-- it), interrupted (stopped by an error; resumable too), finished.
CREATE TABLE eval_runs (
    run_id            VARCHAR PRIMARY KEY,
    suite             VARCHAR NOT NULL,   -- suite name
    suite_path        VARCHAR,
    suite_hash        VARCHAR NOT NULL,   -- prompt + dataset + models + scorers + judge + gate (no endpoints/keys)
    dataset_version   VARCHAR NOT NULL,   -- sha256[:16] of the golden-set file
    prompt_version    VARCHAR,
    model             VARCHAR NOT NULL,   -- LiteLLM model string (or the suite's `name:` label)
    judge             VARCHAR,            -- judge model, NULL without judge scorers
    judge_prompt_version VARCHAR,
    trigger           VARCHAR NOT NULL,   -- manual | ci
    git_sha           VARCHAR,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    status            VARCHAR NOT NULL,
    passed            BOOLEAN,            -- the gate's verdict (NULL until finished)
    n_cases           INTEGER,
    n_errors          INTEGER,
    n_cached          INTEGER,            -- cases whose model response was a cache replay
    mean_score        DOUBLE,             -- mean weighted case score; errors count as 0
    pass_rate         DOUBLE,
    cost_usd          DOUBLE,             -- billed in this run (cache replays excluded); NULL if unpriced
    cost_avoided_usd  DOUBLE,             -- what the cache replays would have cost
    judge_cost_usd    DOUBLE,             -- judge calls billed in this run, apart from the model's
    p95_latency_ms    DOUBLE,             -- over cases answered (replays keep their original latency)
    baseline_run_id   VARCHAR,
    gate              JSON,               -- the gate result (diff, CI, slices, regressed cases)
    config            JSON                -- the suite as run (endpoints and keys removed)
);

-- One row per case per run. Cost columns are NULL (not 0) for models with no price.
CREATE TABLE eval_results (
    run_id              VARCHAR NOT NULL,
    case_id             VARCHAR NOT NULL,
    tags                VARCHAR[],
    output              VARCHAR,
    score               DOUBLE,           -- weighted mean of the applicable scorers; 0 on error
    passed              BOOLEAN,          -- every applicable scorer at or above its threshold
    scores              JSON,             -- {scorer: score}
    input_tokens        BIGINT,
    cache_read_tokens   BIGINT,
    output_tokens       BIGINT,
    reasoning_tokens    BIGINT,
    cost_usd            DOUBLE,           -- the model call's cost at list price (also for replays)
    price_key           VARCHAR,
    judge_input_tokens  BIGINT,
    judge_output_tokens BIGINT,
    judge_cost_usd      DOUBLE,           -- the judge calls' cost at list price (also for replays)
    judge_billed_usd    DOUBLE,           -- the part billed in this run (judge replays excluded)
    latency_ms          DOUBLE,
    error               VARCHAR,
    error_type          VARCHAR,          -- rate_limit, timeout, server, invalid_request, auth, ...
    attempts            INTEGER,          -- HTTP attempts for the model call (0 for a replay)
    cached              BOOLEAN NOT NULL DEFAULT false,   -- model response replayed from eval_cache
    judge_cached        BOOLEAN,
    finished_at         TIMESTAMPTZ,
    PRIMARY KEY (run_id, case_id)
);

-- The same scores in long form, one row per case x scorer (NULL score = not applicable).
CREATE TABLE eval_scores (
    run_id     VARCHAR NOT NULL,
    case_id    VARCHAR NOT NULL,
    scorer     VARCHAR NOT NULL,
    type       VARCHAR NOT NULL,
    score      DOUBLE,
    passed     BOOLEAN,
    threshold  DOUBLE,
    weight     DOUBLE,
    detail     VARCHAR,
    PRIMARY KEY (run_id, case_id, scorer)
);

-- LLM responses keyed by sha256 of (model, messages, generation parameters); endpoints and
-- credentials are not part of the key. Errors are never cached.
CREATE TABLE eval_cache (
    cache_key   VARCHAR PRIMARY KEY,
    model       VARCHAR NOT NULL,
    request     JSON,
    response    JSON NOT NULL,        -- content, logprobs, usage, latency_ms
    created_at  TIMESTAMPTZ NOT NULL,
    hits        BIGINT NOT NULL DEFAULT 0
);
