-- Projects, the current-project setting, the op log and sealed snapshots.
--
-- Times are RFC 3339 text in UTC with nine fractional digits and a `Z` suffix,
-- so that text order is time order. JSON columns hold serde_json text of the
-- tidemark-model types.

CREATE TABLE projects (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Small key/value settings of the workspace, e.g. `current_project` (a project id,
-- so that it survives a rename).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT
);

CREATE TABLE snapshots (
    id           TEXT PRIMARY KEY NOT NULL,
    project_id   TEXT NOT NULL REFERENCES projects (id),
    version      TEXT NOT NULL,
    -- The numeric parts of `version`, so that SQL orders 0.10.0 after 0.9.0.
    major        INTEGER NOT NULL,
    minor        INTEGER NOT NULL,
    patch        INTEGER NOT NULL,
    name         TEXT NOT NULL,
    comment      TEXT,
    tags         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    previous_id  TEXT REFERENCES snapshots (id),
    ops_included TEXT NOT NULL,
    state        TEXT NOT NULL,
    hash         TEXT NOT NULL,
    UNIQUE (project_id, version)
);

CREATE INDEX snapshots_by_version ON snapshots (project_id, major, minor, patch);

-- The append-only op log. `action` and `target` repeat parts of `body` so that
-- the log can be queried without parsing JSON; `body` is the source of truth.
CREATE TABLE ops (
    project_id  TEXT NOT NULL REFERENCES projects (id),
    seq         INTEGER NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    ts          TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    body        TEXT NOT NULL,
    -- Set when a snapshot includes the op; NULL while it is uncommitted.
    snapshot_id TEXT REFERENCES snapshots (id),
    PRIMARY KEY (project_id, seq)
) WITHOUT ROWID;

CREATE INDEX ops_by_snapshot ON ops (project_id, snapshot_id);
