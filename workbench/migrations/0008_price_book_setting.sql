-- 0008: one price book per database. `workbench prices --db D --prices overrides.yaml` (or
-- `Workbench.set_prices`) records here which overrides file this database is priced with; every
-- later command, notebook and report prices with it unless told otherwise (a `--prices` on one
-- command prices that run only and the book below is restored afterwards). No row = litellm's
-- list prices with no overrides. History of every build stays in `price_books`.
CREATE TABLE price_book_setting (
    overrides_path     VARCHAR,               -- absolute path as set; NULL = no overrides (list prices)
    overrides_sha256   VARCHAR,               -- sha256 of the file when it was set
    overrides_text     VARCHAR,               -- its content then: the book survives the file changing or vanishing
    litellm_version    VARCHAR NOT NULL,      -- the price map it was set with
    map_sha256         VARCHAR NOT NULL,
    book_version       VARCHAR NOT NULL,      -- litellm-<version>+map.<sha>[+ov.<sha>]
    set_at             TIMESTAMPTZ NOT NULL,
    set_by             VARCHAR                -- 'workbench prices', 'Workbench.set_prices', 'sample pilot', ...
);
