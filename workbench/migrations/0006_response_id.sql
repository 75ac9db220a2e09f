-- 0006: the provider's own response id (chatcmpl-…, msg_…, resp_…, gen-…), beside the source's call_id.
-- Two layers often log the same call (the SDK's response and the gateway's row for it): the
-- response id is what they share, and ingest skips a call whose response id is already stored.
ALTER TABLE calls ADD COLUMN response_id VARCHAR;
ALTER TABLE ingests ADD COLUMN rows_duplicate_other_source BIGINT DEFAULT 0;
-- Records stored with a credential redacted (API keys never reach the database).
ALTER TABLE ingests ADD COLUMN redactions BIGINT DEFAULT 0;
