-- Metadata scans of live connections and incremental diffs between them.
--
-- A scan run records every schema, table and column of one connection as it
-- was at one moment; an incremental diff compares the last two completed runs
-- of a connection. The diff tables and the `diff_summary` view keep the names
-- and columns of the PostgreSQL output (`incremental-diff --format postgres`),
-- so the same queries work against either place; here uuids are text, JSON is
-- text and times are RFC 3339 text in UTC.
--
-- `connection` / `connection_id` hold a connection name, not a foreign key:
-- a connection declared in a `--config` file is never added to `connections`.

CREATE TABLE scan_runs (
    id            TEXT PRIMARY KEY NOT NULL,
    connection    TEXT NOT NULL,
    -- postgres, mysql, sqlite, sqlserver or databricks.
    kind          TEXT NOT NULL,
    -- The URL without credentials.
    target        TEXT NOT NULL,
    -- JSON array of the schemas asked for; [] means every user schema.
    schemas       TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    completed_at  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
    error_message TEXT,
    schema_count  INTEGER NOT NULL DEFAULT 0,
    table_count   INTEGER NOT NULL DEFAULT 0,
    column_count  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX scan_runs_by_connection ON scan_runs (connection, started_at);

-- One row per schema, table and column of a run. `path` is the object path
-- users type (`schema`, `schema.table`, `schema.table.column`, a part in
-- double quotes when it holds a dot). `attributes` are compared by the diff;
-- `custom_attributes` are the labels in force at scan time; `info` holds
-- facts that are shown but never make an object "modified" on their own
-- (estimated rows, created/updated times, column position).
CREATE TABLE scan_objects (
    run_id            TEXT NOT NULL REFERENCES scan_runs (id) ON DELETE CASCADE,
    object_type       TEXT NOT NULL CHECK (object_type IN ('schema', 'table', 'column')),
    path              TEXT NOT NULL,
    schema_name       TEXT NOT NULL,
    table_name        TEXT,
    column_name       TEXT,
    attributes        TEXT NOT NULL,
    custom_attributes TEXT NOT NULL,
    info              TEXT NOT NULL,
    PRIMARY KEY (run_id, object_type, path)
) WITHOUT ROWID;

-- Custom attributes a user attached with `tidemark scan label`.
CREATE TABLE scan_labels (
    connection TEXT NOT NULL,
    path       TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (connection, path, key)
) WITHOUT ROWID;

-- One row per incremental diff. `sync_run_1_id` is the older scan run,
-- `sync_run_2_id` the newer. `output_*` say where the change rows went: the
-- incremental_diff_* tables below (`sqlite`) or a PostgreSQL schema
-- (`postgres`, with the URL free of credentials).
CREATE TABLE diff_sync_runs (
    diff_sync_id          TEXT PRIMARY KEY NOT NULL,
    connection_id         TEXT NOT NULL,
    sync_run_1_id         TEXT NOT NULL,
    sync_run_2_id         TEXT NOT NULL,
    started_at            TEXT NOT NULL,
    completed_at          TEXT,
    status                TEXT NOT NULL DEFAULT 'running'
                          CHECK (status IN ('running', 'completed', 'failed')),
    total_schemas_changed INTEGER NOT NULL DEFAULT 0,
    total_tables_changed  INTEGER NOT NULL DEFAULT 0,
    total_columns_changed INTEGER NOT NULL DEFAULT 0,
    error_message         TEXT,
    created_at            TEXT NOT NULL,
    output_format         TEXT NOT NULL DEFAULT 'sqlite'
                          CHECK (output_format IN ('sqlite', 'postgres')),
    output_url            TEXT,
    output_schema         TEXT,
    output_connection     TEXT,
    -- JSON {"schema": {"added": n, "removed": n, "modified": n}, "table": …,
    -- "column": …}, so a diff stored elsewhere can still be summarized here.
    counts                TEXT
);

CREATE INDEX diff_sync_runs_by_connection ON diff_sync_runs (connection_id, started_at);

CREATE TABLE incremental_diff_schema (
    diff_id         TEXT PRIMARY KEY NOT NULL,
    diff_sync_id    TEXT NOT NULL REFERENCES diff_sync_runs (diff_sync_id) ON DELETE CASCADE,
    schema_name     TEXT NOT NULL,
    change_type     TEXT NOT NULL CHECK (change_type IN ('added', 'removed', 'modified')),
    sync_run_1_data TEXT,
    sync_run_2_data TEXT,
    differences     TEXT,
    created_at      TEXT NOT NULL
);

CREATE INDEX incremental_diff_schema_by_run ON incremental_diff_schema (diff_sync_id);

CREATE TABLE incremental_diff_table (
    diff_id         TEXT PRIMARY KEY NOT NULL,
    diff_sync_id    TEXT NOT NULL REFERENCES diff_sync_runs (diff_sync_id) ON DELETE CASCADE,
    schema_name     TEXT NOT NULL,
    table_name      TEXT NOT NULL,
    change_type     TEXT NOT NULL CHECK (change_type IN ('added', 'removed', 'modified')),
    sync_run_1_data TEXT,
    sync_run_2_data TEXT,
    differences     TEXT,
    created_at      TEXT NOT NULL
);

CREATE INDEX incremental_diff_table_by_run ON incremental_diff_table (diff_sync_id);

CREATE TABLE incremental_diff_column (
    diff_id         TEXT PRIMARY KEY NOT NULL,
    diff_sync_id    TEXT NOT NULL REFERENCES diff_sync_runs (diff_sync_id) ON DELETE CASCADE,
    schema_name     TEXT NOT NULL,
    table_name      TEXT NOT NULL,
    column_name     TEXT NOT NULL,
    change_type     TEXT NOT NULL CHECK (change_type IN ('added', 'removed', 'modified')),
    sync_run_1_data TEXT,
    sync_run_2_data TEXT,
    differences     TEXT,
    created_at      TEXT NOT NULL
);

CREATE INDEX incremental_diff_column_by_run ON incremental_diff_column (diff_sync_id);

-- One row per diff whose change rows live in this workspace: the counts per
-- asset type and change type, and the total.
CREATE VIEW diff_summary AS
SELECT r.diff_sync_id,
       r.connection_id,
       r.sync_run_1_id,
       r.sync_run_2_id,
       r.status,
       r.started_at,
       r.completed_at,
       (SELECT count(*) FROM incremental_diff_schema d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'added')    AS schemas_added,
       (SELECT count(*) FROM incremental_diff_schema d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'removed')  AS schemas_removed,
       (SELECT count(*) FROM incremental_diff_schema d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'modified') AS schemas_modified,
       (SELECT count(*) FROM incremental_diff_table d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'added')    AS tables_added,
       (SELECT count(*) FROM incremental_diff_table d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'removed')  AS tables_removed,
       (SELECT count(*) FROM incremental_diff_table d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'modified') AS tables_modified,
       (SELECT count(*) FROM incremental_diff_column d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'added')    AS columns_added,
       (SELECT count(*) FROM incremental_diff_column d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'removed')  AS columns_removed,
       (SELECT count(*) FROM incremental_diff_column d
         WHERE d.diff_sync_id = r.diff_sync_id AND d.change_type = 'modified') AS columns_modified,
       r.total_schemas_changed + r.total_tables_changed + r.total_columns_changed AS total_changes
FROM diff_sync_runs r
WHERE r.output_format = 'sqlite';
