//! Opening a workspace file, migrating it, and write transactions.

use crate::error::{sql_error, Result, SqlContext, StoreError};
use crate::read::ReadView;
use crate::write::WriteTx;
use crate::Project;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tidemark_model::{Op, Snapshot};

/// The schema migrations, in order; migration `i` (0-based) brings the file
/// from schema version `i` to `i + 1`. Append new files, never edit old ones:
/// files in the wild have already run them.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_connections.sql"),
    include_str!("../migrations/0003_environments.sql"),
    include_str!("../migrations/0004_scans.sql"),
    include_str!("../migrations/0005_sync.sql"),
    include_str!("../migrations/0006_sync_iceberg.sql"),
];

/// The newest workspace schema version this build knows (the number of migrations).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// SQLite's `application_id` header field of every workspace ("TDMK"), which
/// tells a workspace apart from any other SQLite database.
pub const APPLICATION_ID: i32 = 0x5444_4D4B;

/// How long a command waits for another process's write transaction before
/// giving up with [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open workspace file: one SQLite connection.
///
/// Read methods come from [`ReadView`] through `Deref`; writes go through
/// [`Workspace::write`] (or the one-call helpers below, each its own
/// transaction).
pub struct Workspace {
    path: PathBuf,
    view: ReadView,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Deref for Workspace {
    type Target = ReadView;

    fn deref(&self) -> &ReadView {
        &self.view
    }
}

impl Workspace {
    /// Opens the workspace at `path`, creating the file and its parent folders
    /// if they are missing, and migrating it to [`SCHEMA_VERSION`].
    ///
    /// A file from a newer build ([`StoreError::NewerSchema`]) or a file that is
    /// not a workspace ([`StoreError::NotAWorkspace`]) is refused before
    /// anything is written to it. Opening an up-to-date workspace writes
    /// nothing to the main file.
    pub fn open(path: impl AsRef<Path>) -> Result<Workspace> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                action: format!("create the folder {}", parent.display()),
                source,
            })?;
        }
        Self::open_with(path, OpenFlags::default())
    }

    /// Opens an existing workspace, failing with [`StoreError::WorkspaceMissing`]
    /// instead of creating one; for commands that only read. An older file is
    /// still migrated.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Workspace> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(StoreError::WorkspaceMissing { path });
        }
        // Without SQLITE_OPEN_CREATE, a file deleted in the meantime is an
        // error rather than a fresh empty workspace.
        let flags = OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE;
        Self::open_with(path, flags)
    }

    fn open_with(path: PathBuf, flags: OpenFlags) -> Result<Workspace> {
        let opening = format!("opening workspace {}", path.display());
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| {
            if e.sqlite_error_code() == Some(ErrorCode::CannotOpen) && !path.exists() {
                StoreError::WorkspaceMissing { path: path.clone() }
            } else {
                sql_error(e, &opening)
            }
        })?;
        // Connection settings only: none of these writes to the file.
        conn.busy_timeout(BUSY_TIMEOUT).ctx(&opening)?;
        conn.pragma_update(None, "foreign_keys", true)
            .ctx(&opening)?;

        // Everything up to the journal-mode switch only reads, so a refused
        // file stays byte-identical.
        let found = check_header(&conn, &path)?;

        enable_wal(&conn, &path)?;

        let mut workspace = Workspace {
            path,
            view: ReadView { conn },
        };
        if found < SCHEMA_VERSION {
            workspace.migrate()?;
        }
        Ok(workspace)
    }

    /// Applies the missing migrations in one `BEGIN IMMEDIATE` transaction.
    ///
    /// The version is read again under the write lock, because another process
    /// may have migrated the file since `check_header` looked.
    fn migrate(&mut self) -> Result<()> {
        let path = self.path.clone();
        let action = format!("migrating workspace {}", path.display());
        self.write(|tx| {
            let conn = tx.conn();
            let found = check_header(conn, &path)?;
            if found == SCHEMA_VERSION {
                return Ok(());
            }
            for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                conn.execute_batch(sql)
                    .ctx(&format!("{action} to schema version {}", index + 1))?;
            }
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .ctx(&action)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)
                .ctx(&action)?;
            tracing::info!(path = %path.display(), from = found, to = SCHEMA_VERSION, "migrated workspace");
            Ok(())
        })
    }

    /// The path the workspace was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one write transaction, committing if it returns `Ok` and
    /// rolling back if it returns `Err` or panics.
    ///
    /// The transaction starts with `BEGIN IMMEDIATE`, which takes the write lock
    /// up front: two processes that each read and then append wait for each
    /// other (up to [`BUSY_TIMEOUT`]) instead of both reading the same state and
    /// one failing at its first write.
    pub fn write<T, E>(&mut self, f: impl FnOnce(&WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let conn = &self.view.conn;
        conn.execute_batch("BEGIN IMMEDIATE")
            .ctx("starting a write transaction")?;
        let guard = RollbackOnDrop { conn };
        let outcome = f(&WriteTx::new(&self.view));
        match outcome {
            Ok(value) => {
                conn.execute_batch("COMMIT")
                    .ctx("committing a write transaction")?;
                std::mem::forget(guard);
                Ok(value)
            }
            // The guard rolls back; the closure's error is the one worth reporting.
            Err(e) => Err(e),
        }
    }

    /// Creates a project (its own transaction). See [`WriteTx::create_project`].
    pub fn create_project(
        &mut self,
        id: &str,
        name: &str,
        created_at: DateTime<Utc>,
    ) -> Result<Project> {
        self.write(|tx| tx.create_project(id, name, created_at))
    }

    /// Makes the project named `name` the current one (its own transaction).
    pub fn set_current_project(&mut self, name: &str) -> Result<Project> {
        self.write(|tx| tx.set_current_project(name))
    }

    /// Appends ops to a project's log (its own transaction) and returns the new
    /// last seq. See [`WriteTx::append_ops`].
    pub fn append_ops(&mut self, project_id: &str, ops: &[Op]) -> Result<i64> {
        self.write(|tx| tx.append_ops(project_id, ops))
    }

    /// Stores a snapshot (its own transaction). See [`WriteTx::insert_snapshot`].
    pub fn insert_snapshot(&mut self, project_id: &str, snapshot: &Snapshot) -> Result<()> {
        self.write(|tx| tx.insert_snapshot(project_id, snapshot))
    }
}

/// Puts the file in WAL mode, which lets readers run while another process
/// writes; a no-op on files this crate created, as they are in WAL mode already.
///
/// The switch needs an exclusive lock, and when two processes create the same
/// file at once SQLite can fail it with `SQLITE_BUSY` straight away rather than
/// waiting on the busy timeout, so it is retried here up to [`BUSY_TIMEOUT`].
fn enable_wal(conn: &Connection, path: &Path) -> Result<()> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let action = format!("switching workspace {} to WAL mode", path.display());
    loop {
        match conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        {
            Ok(mode) => {
                if !mode.eq_ignore_ascii_case("wal") {
                    tracing::warn!(path = %path.display(), mode, "workspace is not in WAL mode");
                }
                return Ok(());
            }
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(sql_error(e, &action)),
        }
    }
}

/// Rolls back an open transaction unless it was committed; covers both an
/// `Err` from the closure and a panic inside it.
struct RollbackOnDrop<'c> {
    conn: &'c Connection,
}

impl Drop for RollbackOnDrop<'_> {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rolling back a workspace transaction failed");
            }
        }
    }
}

/// Reads the header fields that identify a workspace and its schema version,
/// refusing foreign and newer files. Only reads.
fn check_header(conn: &Connection, path: &Path) -> Result<u32> {
    let not_a_workspace = |reason: &str| StoreError::NotAWorkspace {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let reading = format!("reading the header of workspace {}", path.display());
    let header = |e: rusqlite::Error| {
        if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
            not_a_workspace("it is not a SQLite database")
        } else {
            sql_error(e, &reading)
        }
    };
    // One statement, so one read snapshot: read separately, the fields could
    // straddle another process's migration and contradict each other.
    let (application_id, user_version, tables): (i32, i64, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id()), \
                    (SELECT user_version FROM pragma_user_version()), \
                    (SELECT count(*) FROM sqlite_schema)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(header)?;
    if application_id == 0 {
        if tables > 0 || user_version != 0 {
            return Err(not_a_workspace(
                "it is a SQLite database of another application",
            ));
        }
        return Ok(0);
    }
    if application_id != APPLICATION_ID {
        return Err(not_a_workspace(
            "it is a SQLite database of another application",
        ));
    }
    let found = u32::try_from(user_version)
        .map_err(|_| not_a_workspace("its schema version is not a valid number"))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}
