//! Errors of the live-database layer.
//!
//! Every message names the connection (as a redacted URL) and the object or
//! step involved, and never contains a password: specs hold none, and driver
//! messages are scrubbed of the password before they are wrapped.

use thiserror::Error;

/// An error talking to a live database.
#[derive(Debug, Error)]
pub enum DbError {
    /// The connection URL could not be parsed (the input is shown redacted).
    #[error("invalid connection URL `{input}`: {reason}")]
    InvalidSpec {
        /// The URL as given, with secrets masked.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Connecting (or authenticating) failed.
    #[error("cannot connect to {target}: {message}")]
    Connect {
        /// The redacted connection URL.
        target: String,
        /// The driver's message.
        message: String,
    },
    /// A query the layer issued itself (introspection, counting) failed.
    #[error("{target}: {action} failed: {message}")]
    Query {
        /// The redacted connection URL.
        target: String,
        /// What was being done, e.g. `reading columns`.
        action: String,
        /// The database's message.
        message: String,
    },
    /// A table named by the caller does not exist.
    #[error("{target}: table {schema}.{table} does not exist")]
    NoSuchTable {
        /// The redacted connection URL.
        target: String,
        /// Schema name.
        schema: String,
        /// Table name.
        table: String,
    },
    /// The database kind cannot do what was asked.
    #[error("{target}: {what} is not supported")]
    Unsupported {
        /// The redacted connection URL.
        target: String,
        /// What was asked for.
        what: String,
    },
    /// A value cannot be represented in the target column (data transfer);
    /// nothing of its batch was written.
    #[error("{target}: column {column} of {table}, row {key}: {reason}")]
    Value {
        /// The redacted connection URL.
        target: String,
        /// The target table.
        table: String,
        /// The column.
        column: String,
        /// The row's key, e.g. `id=17`.
        key: String,
        /// Why the value does not fit.
        reason: String,
    },
    /// An incoming row conflicts with a different target row and the
    /// conflict policy is to stop (data transfer); nothing of its batch was
    /// written.
    #[error("{target}: row {key} already exists in {table} with different values (conflict policy `error`)")]
    Conflict {
        /// The redacted connection URL.
        target: String,
        /// The target table.
        table: String,
        /// The row's key.
        key: String,
    },
    /// Another run moved a job's checkpoint while this one was loading
    /// (data transfer); the batch was rolled back.
    #[error("{target}: the checkpoint of sync job {job} was moved by another run; run it again once that run has finished")]
    CheckpointMoved {
        /// The redacted connection URL.
        target: String,
        /// The job.
        job: String,
    },
}

/// An error executing a list of statements.
#[derive(Debug, Error)]
pub enum ExecError {
    /// One statement failed. Statements before it ran; whether their effect
    /// remains depends on `rolled_back`.
    #[error(
        "{target}: statement {number} of {total} (index {index}) failed{}: {message}\n  SQL: {sql}",
        if *.rolled_back { "; the transaction was rolled back, nothing changed" } else { "; statements before it stay applied" },
        number = .index + 1
    )]
    Statement {
        /// The redacted connection URL.
        target: String,
        /// 0-based index of the failing statement in the list passed in.
        index: usize,
        /// How many statements were passed in.
        total: usize,
        /// The failing statement's SQL.
        sql: String,
        /// The database's message (with its error code where it has one).
        message: String,
        /// Whether every earlier statement was undone.
        rolled_back: bool,
    },
    /// Beginning or committing the transaction, or the connection, failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ExecError {
    /// The 0-based index of the failing statement, if a statement failed.
    pub fn statement_index(&self) -> Option<usize> {
        match self {
            ExecError::Statement { index, .. } => Some(*index),
            ExecError::Db(_) => None,
        }
    }
}

/// Replaces every occurrence of the password in a driver message, in case a
/// driver ever echoes it back.
pub(crate) fn scrub(message: String, password: Option<&str>) -> String {
    match password {
        Some(p) if !p.is_empty() && message.contains(p) => message.replace(p, "***"),
        _ => message,
    }
}

/// The message of a sqlx error, with the SQLSTATE code when the database
/// reported one, so users can search for it.
pub(crate) fn sqlx_message(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (code {code})", db.message()),
            None => db.message().to_string(),
        },
        other => other.to_string(),
    }
}

/// Wraps a sqlx error from one of the layer's own queries.
pub(crate) fn query_err(target: &str, action: &str) -> impl Fn(sqlx::Error) -> DbError {
    let (target, action) = (target.to_string(), action.to_string());
    move |e| DbError::Query {
        target: target.clone(),
        action: action.clone(),
        message: sqlx_message(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_error_names_index_sql_and_outcome() {
        let err = ExecError::Statement {
            target: "postgres://u@h:5432/d".into(),
            index: 1,
            total: 3,
            sql: "ALTER TABLE x ADD y int".into(),
            message: "relation \"x\" does not exist (code 42P01)".into(),
            rolled_back: true,
        };
        let msg = err.to_string();
        assert!(msg.contains("statement 2 of 3 (index 1)"), "{msg}");
        assert!(msg.contains("ALTER TABLE x ADD y int"), "{msg}");
        assert!(msg.contains("rolled back"), "{msg}");
        assert!(msg.contains("42P01"), "{msg}");
        assert_eq!(err.statement_index(), Some(1));
    }

    #[test]
    fn scrub_masks_the_password() {
        assert_eq!(
            scrub("bad pw s3cret!".into(), Some("s3cret!")),
            "bad pw ***"
        );
        assert_eq!(
            scrub("nothing here".into(), Some("s3cret!")),
            "nothing here"
        );
        assert_eq!(scrub("empty".into(), Some("")), "empty");
    }
}
