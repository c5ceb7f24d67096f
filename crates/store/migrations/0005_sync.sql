-- Incremental sync: jobs, their run history, and a mirror of each job's
-- checkpoint. The checkpoint that counts lives in the target database
-- (table tidemark_checkpoints, written in the same transaction as the rows);
-- the mirror here is copied from it after runs, for display.

CREATE TABLE sync_jobs (
    name              TEXT PRIMARY KEY NOT NULL,
    source            TEXT NOT NULL,            -- connection name
    source_table      TEXT NOT NULL,
    target            TEXT NOT NULL,            -- connection name
    target_table      TEXT NOT NULL,
    detect            TEXT NOT NULL CHECK (detect IN ('timestamp', 'sequence', 'version', 'full')),
    detect_auto       INTEGER NOT NULL DEFAULT 0 CHECK (detect_auto IN (0, 1)),
    tracking_column   TEXT,
    merge_mode        TEXT NOT NULL CHECK (merge_mode IN ('append', 'upsert', 'replace', 'scd2')),
    key_columns       TEXT NOT NULL DEFAULT '[]', -- JSON array; empty = source primary key
    on_conflict       TEXT NOT NULL CHECK (on_conflict IN ('overwrite', 'skip', 'error')),
    batch_size        INTEGER NOT NULL CHECK (batch_size > 0),
    lag_ms            INTEGER NOT NULL DEFAULT 0 CHECK (lag_ms >= 0),
    deleted_column    TEXT,
    reconcile_deletes INTEGER NOT NULL DEFAULT 0 CHECK (reconcile_deletes IN (0, 1)),
    created_at        TEXT NOT NULL
);

CREATE TABLE sync_runs (
    id                 TEXT PRIMARY KEY NOT NULL,
    job                TEXT NOT NULL REFERENCES sync_jobs (name) ON DELETE CASCADE,
    started_at         TEXT NOT NULL,
    finished_at        TEXT,
    status             TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'interrupted', 'failed')),
    full_sync          INTEGER NOT NULL DEFAULT 0,
    rows_extracted     INTEGER NOT NULL DEFAULT 0,
    rows_loaded        INTEGER NOT NULL DEFAULT 0,
    rows_inserted      INTEGER NOT NULL DEFAULT 0,
    rows_updated       INTEGER NOT NULL DEFAULT 0,
    rows_deleted       INTEGER NOT NULL DEFAULT 0,
    rows_skipped       INTEGER NOT NULL DEFAULT 0,
    batches            INTEGER NOT NULL DEFAULT 0,
    duration_ms        INTEGER NOT NULL DEFAULT 0,
    previous_watermark TEXT,
    watermark          TEXT,
    notes              TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    error              TEXT
);

CREATE INDEX sync_runs_by_job ON sync_runs (job, started_at);

CREATE TABLE sync_checkpoints (
    job           TEXT PRIMARY KEY NOT NULL REFERENCES sync_jobs (name) ON DELETE CASCADE,
    cursor_column TEXT,
    watermark     TEXT,             -- readable position, e.g. updated_at=…, id=17
    position      TEXT,             -- the target's stored position (JSON)
    run_id        TEXT,
    updated_at    TEXT,             -- as the target reported it
    mirrored_at   TEXT NOT NULL
);
