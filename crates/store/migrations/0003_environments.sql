-- Environments of a project (dev → test → prod), the deployments made to
-- them, and the lock that keeps two deployments to one environment apart.
--
-- An environment names a connection (by name, not a foreign key: removing a
-- connection must not be blocked by an environment; using the environment
-- then fails with a clear "no connection named …").

CREATE TABLE environments (
    project_id       TEXT NOT NULL REFERENCES projects (id),
    name             TEXT NOT NULL,
    connection       TEXT NOT NULL,
    -- 0-based place in the promotion order; contiguous within a project.
    position         INTEGER NOT NULL,
    color            TEXT NOT NULL,
    -- Only sealed snapshots may be deployed (never the working state).
    require_snapshot INTEGER NOT NULL CHECK (require_snapshot IN (0, 1)),
    -- A deployment goes ahead even when the live database drifted.
    allow_drift      INTEGER NOT NULL CHECK (allow_drift IN (0, 1)),
    -- Needs a snapshot, a typed confirmation and an explicit go-ahead for
    -- breaking statements.
    protected        INTEGER NOT NULL CHECK (protected IN (0, 1)),
    created_at       TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- Every deployment attempt that reached the point of a plan: succeeded,
-- failed (with the failing statement and the database's message), refused
-- by a safety check, or interrupted (the process died before recording the
-- outcome; the target's own marker table tells what happened there).
CREATE TABLE deployments (
    id               TEXT PRIMARY KEY NOT NULL,
    project_id       TEXT NOT NULL REFERENCES projects (id),
    environment      TEXT NOT NULL,
    -- deploy, promote or rollback.
    action           TEXT NOT NULL,
    from_version     TEXT,
    to_version       TEXT NOT NULL,
    to_hash          TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('running', 'succeeded', 'failed', 'refused', 'interrupted')),
    -- The script that ran (or would have run, for a refused attempt).
    sql              TEXT NOT NULL,
    error            TEXT,
    failed_statement TEXT,
    -- The deployed state, kept only for working-state deployments (a
    -- snapshot's state is in `snapshots`), so drift can be checked later.
    state            TEXT,
    deployed_by      TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    finished_at      TEXT
);

CREATE INDEX deployments_by_environment ON deployments (project_id, environment, started_at);

-- At most one deployment per environment at a time. The row is taken in a
-- BEGIN IMMEDIATE transaction; `pid` and `host` let a later process tell a
-- crashed holder's stale lock from a live one.
CREATE TABLE deploy_locks (
    project_id    TEXT NOT NULL REFERENCES projects (id),
    environment   TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    host          TEXT NOT NULL,
    token         TEXT NOT NULL,
    acquired_at   TEXT NOT NULL,
    PRIMARY KEY (project_id, environment)
);
