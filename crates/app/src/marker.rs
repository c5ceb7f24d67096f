//! The version marker inside a target database: the `tidemark_deployments`
//! table, one row per deployment, so the database itself says which
//! snapshot it holds whichever workspace deployed it.
//!
//! The statements here wrap a plan when it runs:
//! - the marker table is created if missing;
//! - a database-side lock keeps two deployers (from different workspaces)
//!   apart: `pg_advisory_xact_lock` on PostgreSQL (released with the
//!   transaction), `GET_LOCK` on MySQL/MariaDB (released at the end, or when
//!   the connection closes), SQLite's own write lock;
//! - a guard fails the run when a marker row appeared after the database
//!   was read, since the plan was made from a state that no longer holds;
//! - the marker row is inserted in the same transaction as the plan where
//!   the database has transactional DDL.
//!
//! MySQL and SQLite have no statement that raises an error on a condition
//! outside stored programs, so their guard inserts the condition's outcome
//! into a temporary table whose CHECK only accepts success.

use serde::{Deserialize, Serialize};
use tidemark_db::{Database, DbError};
use tidemark_sql::{dialect, DialectKind};

/// The marker table's name (its `tidemark_` prefix keeps it out of every
/// schema comparison).
pub(crate) const MARKER_TABLE: &str = "tidemark_deployments";

/// How long MySQL waits for another deployer's lock, in seconds.
const MYSQL_LOCK_WAIT_SECS: u32 = 10;

/// How long PostgreSQL waits for another deployer's lock, in seconds.
const PG_LOCK_WAIT_SECS: u32 = 30;

/// An arbitrary constant key for PostgreSQL's advisory lock ("tmdeploy");
/// advisory locks are per database, so it only meets other deployers of the
/// same database.
const PG_LOCK_KEY: i64 = 0x746D_6465_706C_6F79;

/// One row of a target's marker table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Marker {
    /// The row's sequence number in the target.
    #[ts(type = "number")]
    pub seq: i64,
    /// The workspace deployment that wrote it.
    pub deployment_id: String,
    /// The project's name at the time.
    pub project: String,
    /// The environment's name at the time.
    pub environment: String,
    /// The snapshot version (`working` for a working-state deployment).
    pub version: String,
    /// The SHA-256 of the deployed state.
    pub hash: String,
    /// When (RFC 3339, UTC).
    pub deployed_at: String,
    /// Who.
    pub deployed_by: String,
    /// `succeeded`, or `failed` for a MySQL run that stopped half way.
    pub status: String,
}

/// What the marker table holds, as read before planning.
#[derive(Debug, Clone, Default)]
pub(crate) struct MarkerRead {
    /// The latest succeeded row: what the database holds.
    pub latest: Option<Marker>,
    /// The highest sequence number of any row (0 without rows), for the guard.
    pub max_seq: i64,
}

/// Whether Tidemark can keep a marker in this kind of database.
pub(crate) fn supported(kind: DialectKind) -> bool {
    matches!(
        kind,
        DialectKind::Postgres | DialectKind::Mysql | DialectKind::Sqlite
    )
}

/// Reads the marker table (absent means nothing was ever deployed).
pub(crate) async fn read(db: &mut dyn Database) -> Result<MarkerRead, DbError> {
    let exists_sql = match db.kind() {
        DialectKind::Postgres => {
            format!("SELECT CAST(to_regclass('{MARKER_TABLE}') AS text)")
        }
        DialectKind::Mysql => format!(
            "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{MARKER_TABLE}'"
        ),
        _ => format!(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{MARKER_TABLE}'"
        ),
    };
    let rows = db.query_text(&exists_sql).await?;
    let exists = match rows.first().and_then(|r| r.first()).cloned().flatten() {
        None => false,
        Some(v) => v != "0",
    };
    if !exists {
        return Ok(MarkerRead::default());
    }
    let max_seq = db
        .query_text(&format!("SELECT MAX(seq) FROM {MARKER_TABLE}"))
        .await?
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let rows = db
        .query_text(&format!(
            "SELECT seq, deployment_id, project, environment, version, hash, deployed_at, \
             deployed_by, status FROM {MARKER_TABLE} WHERE status = 'succeeded' \
             ORDER BY seq DESC LIMIT 1"
        ))
        .await?;
    let latest = rows.into_iter().next().map(|r| {
        let text = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
        Marker {
            seq: text(0).parse().unwrap_or(0),
            deployment_id: text(1),
            project: text(2),
            environment: text(3),
            version: text(4),
            hash: text(5),
            deployed_at: text(6),
            deployed_by: text(7),
            status: text(8),
        }
    });
    Ok(MarkerRead { latest, max_seq })
}

/// `CREATE TABLE IF NOT EXISTS` for the marker table.
pub(crate) fn create_table(kind: DialectKind) -> String {
    let (seq, text, long) = match kind {
        DialectKind::Postgres => (
            "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            "TEXT",
            "TEXT",
        ),
        DialectKind::Mysql => (
            "seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
            "VARCHAR(255)",
            "LONGTEXT",
        ),
        _ => ("seq INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "TEXT"),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {MARKER_TABLE} ({seq}, deployment_id {text} NOT NULL, \
         project {text} NOT NULL, environment {text} NOT NULL, version {text} NOT NULL, \
         hash {text} NOT NULL, deployed_at {text} NOT NULL, deployed_by {text} NOT NULL, \
         status {text} NOT NULL, sql_text {long} NOT NULL)"
    )
}

/// The values of a marker row to write.
#[derive(Debug, Clone)]
pub(crate) struct NewMarker<'a> {
    pub deployment_id: &'a str,
    pub project: &'a str,
    pub environment: &'a str,
    pub version: &'a str,
    pub hash: &'a str,
    pub deployed_at: &'a str,
    pub deployed_by: &'a str,
    pub status: &'a str,
    pub sql: &'a str,
}

/// The `INSERT` of one marker row, every value a quoted literal.
pub(crate) fn insert(kind: DialectKind, m: &NewMarker<'_>) -> String {
    let d = dialect(kind);
    let values: Vec<String> = [
        m.deployment_id,
        m.project,
        m.environment,
        m.version,
        m.hash,
        m.deployed_at,
        m.deployed_by,
        m.status,
        m.sql,
    ]
    .iter()
    .map(|v| d.quote_literal(v))
    .collect();
    format!(
        "INSERT INTO {MARKER_TABLE} (deployment_id, project, environment, version, hash, \
         deployed_at, deployed_by, status, sql_text) VALUES ({})",
        values.join(", ")
    )
}

/// Which part of the guard a statement is, for telling the user what
/// stopped a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuardStep {
    /// Creating the marker table or the guard's helper table.
    Setup,
    /// Waiting for another deployer's database lock.
    Lock,
    /// Checking that no deployment landed since the database was read.
    Unchanged,
}

/// The statements that run before a plan: create the marker table, take the
/// database lock, and check that the marker has not moved past `max_seq`.
pub(crate) fn guard(kind: DialectKind, max_seq: i64) -> Vec<(GuardStep, String)> {
    let unchanged_count = format!(
        "SELECT CASE WHEN COUNT(*) = 0 THEN 1 ELSE 0 END FROM {MARKER_TABLE} WHERE seq > {max_seq}"
    );
    match kind {
        // The lock comes before the marker table is created: two first
        // deployments creating it at once would otherwise collide in the
        // catalog instead of waiting for each other.
        // The wait is bounded like MySQL's, then the timeout is lifted
        // again so the plan's own statements wait as the server says.
        DialectKind::Postgres => vec![
            (
                GuardStep::Setup,
                format!("SET LOCAL lock_timeout = '{PG_LOCK_WAIT_SECS}s'"),
            ),
            (
                GuardStep::Lock,
                format!("SELECT pg_advisory_xact_lock({PG_LOCK_KEY})"),
            ),
            (
                GuardStep::Setup,
                "SET LOCAL lock_timeout = DEFAULT".to_string(),
            ),
            (GuardStep::Setup, create_table(kind)),
            (
                GuardStep::Unchanged,
                format!(
                    "DO $tidemark$ BEGIN IF (SELECT COUNT(*) FROM {MARKER_TABLE} WHERE seq > {max_seq}) > 0 \
                     THEN RAISE EXCEPTION 'another deployment changed this database after it was read'; \
                     END IF; END $tidemark$"
                ),
            ),
        ],
        DialectKind::Mysql => vec![
            (
                GuardStep::Setup,
                "CREATE TEMPORARY TABLE IF NOT EXISTS tidemark_guard \
                 (ok INT NOT NULL, CONSTRAINT tidemark_guard_ok CHECK (ok = 1))"
                    .to_string(),
            ),
            (
                GuardStep::Lock,
                format!(
                    "INSERT INTO tidemark_guard (ok) VALUES \
                     (COALESCE(GET_LOCK({}, {MYSQL_LOCK_WAIT_SECS}), 0))",
                    mysql_lock_name()
                ),
            ),
            (GuardStep::Setup, create_table(kind)),
            (
                GuardStep::Unchanged,
                format!("INSERT INTO tidemark_guard (ok) {unchanged_count}"),
            ),
        ],
        _ => vec![
            (GuardStep::Setup, create_table(kind)),
            (
                GuardStep::Setup,
                "CREATE TEMP TABLE IF NOT EXISTS tidemark_guard \
                 (ok INTEGER NOT NULL CHECK (ok = 1))"
                    .to_string(),
            ),
            (
                GuardStep::Unchanged,
                format!("INSERT INTO tidemark_guard (ok) {unchanged_count}"),
            ),
        ],
    }
}

/// The statements that end a run (MySQL's lock outlives statements).
pub(crate) fn release(kind: DialectKind) -> Vec<String> {
    match kind {
        DialectKind::Mysql => vec![format!("DO RELEASE_LOCK({})", mysql_lock_name())],
        _ => Vec::new(),
    }
}

/// One lock per database (lock names are server-wide and at most 64 characters).
fn mysql_lock_name() -> String {
    "LEFT(CONCAT('tidemark:', DATABASE()), 64)".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_quotes_every_value() {
        let sql = insert(
            DialectKind::Postgres,
            &NewMarker {
                deployment_id: "dep_1",
                project: "shop",
                environment: "prod",
                version: "1.0.0",
                hash: "abc",
                deployed_at: "2026-01-01T00:00:00Z",
                deployed_by: "o'brien",
                status: "succeeded",
                sql: "DROP TABLE x; -- '",
            },
        );
        assert!(sql.contains("'o''brien'"), "{sql}");
        assert!(sql.contains("'DROP TABLE x; -- '''"), "{sql}");
        let mysql = insert(
            DialectKind::Mysql,
            &NewMarker {
                deployment_id: "d",
                project: "p",
                environment: "e",
                version: "v",
                hash: "h",
                deployed_at: "t",
                deployed_by: "a\\b",
                status: "s",
                sql: "",
            },
        );
        assert!(mysql.contains(r"'a\\b'"), "{mysql}");
    }

    #[test]
    fn every_supported_dialect_locks_or_serializes_and_checks() {
        for kind in [
            DialectKind::Postgres,
            DialectKind::Mysql,
            DialectKind::Sqlite,
        ] {
            let steps: Vec<GuardStep> = guard(kind, 4).into_iter().map(|(s, _)| s).collect();
            assert_eq!(steps.last(), Some(&GuardStep::Unchanged));
            // Whoever locks does so before creating the marker table.
            let lock = steps.iter().position(|s| *s == GuardStep::Lock);
            let create = guard(kind, 4)
                .iter()
                .position(|(_, sql)| sql.starts_with("CREATE TABLE IF NOT EXISTS"));
            assert!(lock.is_none() || lock < create, "{kind:?}");
            assert!(guard(kind, 4)
                .iter()
                .any(|(_, sql)| sql.contains("seq > 4")));
        }
        assert!(!supported(DialectKind::SqlServer));
    }
}
