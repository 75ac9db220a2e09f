-- 0009: outcomes remember the content of the file they came from, so the same file loaded from
-- another path (or a copy of it) replaces its earlier rows instead of counting twice.
ALTER TABLE outcomes ADD COLUMN source_sha256 VARCHAR;
