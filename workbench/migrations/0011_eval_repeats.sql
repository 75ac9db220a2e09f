-- 0011: repeated cases (a suite's `repeat: N`, epochs). eval_results keeps one row per case (the
-- mean over its epochs, which is what the gate pairs); each epoch's answer is in eval_repeats.
ALTER TABLE eval_results ADD COLUMN repeats INTEGER DEFAULT 1;   -- epochs asked for this case
ALTER TABLE eval_results ADD COLUMN score_sd DOUBLE;             -- sd of the case score over epochs (NULL for 1)
ALTER TABLE eval_results ADD COLUMN pass_share DOUBLE;           -- share of epochs passing every scorer

CREATE TABLE eval_repeats (
    run_id      VARCHAR NOT NULL,
    case_id     VARCHAR NOT NULL,
    epoch       INTEGER NOT NULL,     -- 0 .. repeat-1
    output      VARCHAR,
    score       DOUBLE,               -- 0 on error
    passed      BOOLEAN,
    scores      JSON,                 -- {scorer: score}
    latency_ms  DOUBLE,
    cost_usd    DOUBLE,
    error       VARCHAR,
    error_type  VARCHAR,
    attempts    INTEGER,
    cached      BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (run_id, case_id, epoch)
);
