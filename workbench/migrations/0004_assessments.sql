-- 0004: production-readiness assessments. One row per assessment (the full result as JSON) and one
-- row per checklist item, so that two assessments can be compared item by item in plain SQL.
CREATE SEQUENCE IF NOT EXISTS assessment_id_seq START 1;

CREATE TABLE assessments (
    assessment_id      BIGINT PRIMARY KEY,
    created_at         TIMESTAMPTZ NOT NULL,
    checklist_id       VARCHAR NOT NULL,
    checklist_version  VARCHAR NOT NULL,
    checklist_hash     VARCHAR NOT NULL,   -- sha256 of the validated checklist (canonical JSON)
    checklist_path     VARCHAR,
    answers_path       VARCHAR,
    answers_hash       VARCHAR,            -- sha256 of the validated answers; NULL when none given
    data_fingerprint   VARCHAR,            -- sha256 over the ingested files' sha256s
    verdict            VARCHAR NOT NULL,   -- ready | conditionally ready | not ready
    score_weighted     DOUBLE,             -- severity-weighted mean over all applicable items, %
    score_weakest      DOUBLE,             -- the weakest section's score, %
    open_high          INTEGER NOT NULL,
    open_medium        INTEGER NOT NULL,
    result             JSON NOT NULL,      -- Assessment.as_dict()
    workbench_version  VARCHAR
);

CREATE TABLE assessment_items (
    assessment_id   BIGINT NOT NULL,
    item_id         VARCHAR NOT NULL,
    section         VARCHAR NOT NULL,
    severity        VARCHAR NOT NULL,      -- high | medium | low
    stage           INTEGER NOT NULL,
    answer_status   VARCHAR NOT NULL,      -- met | partial | not_met | na | unanswered
    probe           VARCHAR,
    probe_outcome   VARCHAR,               -- met | partial | not_met | insufficient_evidence
    outcome         VARCHAR NOT NULL,      -- met | partial | not_met | unknown | na (after evidence)
    evidence_grade  DOUBLE,                -- 0.5 attested, 1 automated probe; NULL for na / unknown
    points          DOUBLE,                -- outcome value x grade; NULL for na
    weight          INTEGER NOT NULL,      -- 3 / 2 / 1
    contradiction   VARCHAR,
    PRIMARY KEY (assessment_id, item_id)
);
