//! The crate's one error type.

use std::path::PathBuf;
use tidemark_model::HashMismatch;

/// Everything that can go wrong with a workspace file.
///
/// Each message is one line that says what happened and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file was migrated by a newer build; it is left untouched.
    #[error(
        "workspace {} was written by a newer Tidemark (schema version {found}, this build knows up to {supported}): upgrade Tidemark; the file was not changed",
        path.display()
    )]
    NewerSchema {
        /// The workspace file.
        path: PathBuf,
        /// The schema version found in the file.
        found: u32,
        /// The newest schema version this build knows.
        supported: u32,
    },

    /// The file exists but is not a Tidemark workspace; it is left untouched.
    #[error(
        "{} is not a Tidemark workspace ({reason}): pass the path of a workspace file, or a new path to create one; the file was not changed",
        path.display()
    )]
    NotAWorkspace {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },

    /// A read command was pointed at a workspace that does not exist.
    #[error(
        "no workspace at {}: check the path, or create the workspace with `tidemark project new NAME`",
        path.display()
    )]
    WorkspaceMissing {
        /// The path that was given.
        path: PathBuf,
    },

    /// A project with this name already exists.
    #[error("a project named {0} already exists: pick another name, or switch to it with `tidemark project use {0}`")]
    ProjectExists(String),

    /// No project has this name.
    #[error("no project named {0}: see `tidemark project list`")]
    UnknownProject(String),

    /// No project has this id (an id the caller got from somewhere else).
    #[error("no project with id {0} in this workspace: see `tidemark project list`")]
    UnknownProjectId(String),

    /// A connection with this name already exists.
    #[error("a connection named {0} already exists: pick another name or `tidemark connection remove {0}` first")]
    ConnectionExists(String),

    /// No connection has this name.
    #[error("no connection named {0}: see `tidemark connection list`")]
    UnknownConnection(String),

    /// An environment with this name already exists in the project.
    #[error("an environment named {0} already exists: pick another name or `tidemark env remove {0}` first")]
    EnvironmentExists(String),

    /// The project has no environment with this name.
    #[error("no environment named {0}: see `tidemark env list`")]
    UnknownEnvironment(String),

    /// Another live process is deploying to the environment.
    #[error("environment {environment} is being deployed by process {pid} on {host} since {since}: wait for it to finish and run the command again")]
    EnvironmentLocked {
        /// The environment.
        environment: String,
        /// The holder's process id.
        pid: u32,
        /// The holder's host.
        host: String,
        /// When the holder took the lock (RFC 3339).
        since: String,
    },

    /// A sync job with this name already exists.
    #[error("a sync job named {0} already exists: pick another name or `tidemark sync remove {0}` first")]
    SyncJobExists(String),

    /// No sync job has this name.
    #[error("no sync job named {0}: see `tidemark sync list`")]
    UnknownSyncJob(String),

    /// No current project has been chosen.
    #[error("no current project: run `tidemark project new NAME` or `tidemark project use NAME`")]
    NoCurrentProject,

    /// An op id is already in the log.
    #[error(
        "an op with id {0} is already in the workspace: op ids must be unique; nothing was written"
    )]
    DuplicateOp(String),

    /// The project already has a snapshot with this version.
    #[error("the project already has a snapshot {0}: pick another version (see `tidemark snapshot list`)")]
    DuplicateVersion(semver::Version),

    /// A new snapshot's version is not above the project's latest.
    #[error("snapshot version {version} is not above the latest snapshot {latest}: pick a version after {latest}")]
    VersionNotIncreasing {
        /// The version that was asked for.
        version: semver::Version,
        /// The project's latest snapshot version.
        latest: semver::Version,
    },

    /// A snapshot to insert does not fit the project (hash, chain or ops).
    #[error("snapshot {version} cannot be stored: {reason}")]
    InvalidSnapshot {
        /// The snapshot's version.
        version: semver::Version,
        /// What is wrong with it.
        reason: String,
    },

    /// The project has no snapshot with this version.
    #[error("the project has no snapshot {0}: see `tidemark snapshot list`")]
    UnknownSnapshot(semver::Version),

    /// A stored snapshot's content does not match its hash.
    #[error("{0}: the workspace file was changed outside Tidemark; restore it from a backup or re-import the project")]
    Corrupt(HashMismatch),

    /// A stored row could not be parsed back into its model type.
    #[error("stored {what} is unreadable ({reason}): the workspace file was changed outside Tidemark; restore it from a backup or re-import the project")]
    Unreadable {
        /// Which row, e.g. `snapshot 0.2.0` or `op 12 of project p_1`.
        what: String,
        /// The parse error.
        reason: String,
    },

    /// Optimistic-concurrency check failed: the op log moved since it was read.
    #[error("project {project_id} changed while this command ran (expected last op {expected}, found {found}): run the command again")]
    Conflict {
        /// The project whose log moved.
        project_id: String,
        /// The last seq the caller based its change on.
        expected: i64,
        /// The last seq actually in the log.
        found: i64,
    },

    /// Another process kept the workspace locked for longer than the busy timeout.
    #[error(
        "the workspace is busy ({action}): another Tidemark process held its lock for over {} s; try again when it has finished",
        crate::BUSY_TIMEOUT.as_secs()
    )]
    Busy {
        /// What this process was doing.
        action: String,
    },

    /// Any other SQLite failure.
    #[error("workspace error while {action}: {source}")]
    Sqlite {
        /// What this process was doing.
        action: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },

    /// A file-system operation around the workspace failed.
    #[error("could not {action}: {source}")]
    Io {
        /// What this process was doing.
        action: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },

    /// A model value could not be turned into JSON.
    #[error("could not encode {what} as JSON: {source}")]
    Json {
        /// What was being encoded.
        what: String,
        /// The serde_json error.
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// Whether the error comes from what the user asked for (a name, a version,
    /// a file to import) rather than from the machine or the file; front ends
    /// map this to exit code 2 instead of 1.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StoreError::NewerSchema { .. }
                | StoreError::NotAWorkspace { .. }
                | StoreError::WorkspaceMissing { .. }
                | StoreError::ProjectExists(_)
                | StoreError::UnknownProject(_)
                | StoreError::UnknownProjectId(_)
                | StoreError::ConnectionExists(_)
                | StoreError::UnknownConnection(_)
                | StoreError::SyncJobExists(_)
                | StoreError::UnknownSyncJob(_)
                | StoreError::EnvironmentExists(_)
                | StoreError::UnknownEnvironment(_)
                | StoreError::NoCurrentProject
                | StoreError::DuplicateOp(_)
                | StoreError::DuplicateVersion(_)
                | StoreError::VersionNotIncreasing { .. }
                | StoreError::InvalidSnapshot { .. }
                | StoreError::UnknownSnapshot(_)
        )
    }

    /// Whether running the same command again may succeed, because another
    /// process got in the way rather than anything being wrong.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Conflict { .. }
                | StoreError::Busy { .. }
                | StoreError::EnvironmentLocked { .. }
        )
    }
}

/// Why a stored snapshot failed verification (see `verify_snapshots`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotFault {
    /// Its content does not match its stored hash.
    #[error(transparent)]
    HashMismatch(#[from] HashMismatch),
    /// Its stored JSON or version could not be parsed at all.
    #[error("snapshot {version} is unreadable: {reason}")]
    Unreadable {
        /// The version as stored.
        version: String,
        /// The parse error.
        reason: String,
    },
}

impl From<SnapshotFault> for StoreError {
    fn from(fault: SnapshotFault) -> Self {
        match fault {
            SnapshotFault::HashMismatch(mismatch) => StoreError::Corrupt(mismatch),
            SnapshotFault::Unreadable { version, reason } => StoreError::Unreadable {
                what: format!("snapshot {version}"),
                reason,
            },
        }
    }
}

/// Adds what this process was doing to a SQLite error.
pub(crate) trait SqlContext<T> {
    /// Converts the error, naming the action in its message.
    fn ctx(self, action: &str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, action: &str) -> Result<T, StoreError> {
        self.map_err(|source| sql_error(source, action))
    }
}

/// Turns a SQLite error into a `StoreError`, singling out lock timeouts so the
/// user learns that retrying is the fix.
pub(crate) fn sql_error(source: rusqlite::Error, action: &str) -> StoreError {
    use rusqlite::ErrorCode;
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy {
            action: action.to_string(),
        },
        _ => StoreError::Sqlite {
            action: action.to_string(),
            source,
        },
    }
}

/// The crate's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_timeout_becomes_a_retryable_busy_error() {
        let locked = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        let err = sql_error(locked, "appending ops");
        assert!(matches!(&err, StoreError::Busy { action } if action == "appending ops"));
        assert!(err.is_retryable());
        assert!(!err.is_bad_input());
        assert!(err.to_string().contains("10 s"), "{err}");

        let other = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            None,
        );
        let err = sql_error(other, "reading ops");
        assert!(matches!(err, StoreError::Sqlite { .. }));
        assert!(!err.is_retryable());
        assert!(err
            .to_string()
            .starts_with("workspace error while reading ops: "));
    }

    #[test]
    fn messages_name_what_to_do() {
        let newer = StoreError::NewerSchema {
            path: PathBuf::from("team.tmdb"),
            found: 7,
            supported: 1,
        };
        assert_eq!(
            newer.to_string(),
            "workspace team.tmdb was written by a newer Tidemark (schema version 7, this build knows up to 1): upgrade Tidemark; the file was not changed"
        );
        let conflict = StoreError::Conflict {
            project_id: "p_1".into(),
            expected: 4,
            found: 5,
        };
        assert!(conflict.to_string().ends_with("run the command again"));
        for message in [newer.to_string(), conflict.to_string()] {
            assert!(!message.contains('\n'));
        }
    }
}
