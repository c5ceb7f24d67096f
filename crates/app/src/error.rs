//! The app layer's error type.

use std::path::PathBuf;

/// Everything a use case can fail with. Each message is one line that names
/// the object at fault and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The user asked for something that cannot be done as asked.
    #[error("{0}")]
    BadInput(String),
    /// A workspace read or write failed.
    #[error(transparent)]
    Store(#[from] tidemark_store::StoreError),
    /// An op was rejected by the reducer.
    #[error("op {index} rejected: {source}")]
    OpRejected {
        /// Position of the op in the input (1-based).
        index: usize,
        /// The op's name, e.g. `add_column`.
        op: String,
        /// Why the reducer refused it (boxed: it is large and rare).
        source: Box<tidemark_model::ModelError>,
    },
    /// A DDL file could not be turned into ops.
    #[error("{path}: {source}")]
    Ddl {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        source: tidemark_sql::parse::ParseError,
    },
    /// Reading or writing a file outside the workspace failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A safety check stopped a deployment (drift, breaking statements); the
    /// attempt is recorded in the history with this reason.
    #[error("{0}")]
    Refused(String),
    /// A live database could not be reached or refused a statement.
    #[error("{0}")]
    Database(String),
    /// Something outside the user's input failed (keychain, runtime).
    #[error("{0}")]
    Failure(String),
    /// A snapshot or export was internally inconsistent.
    #[error("{0}")]
    Integrity(String),
}

impl AppError {
    /// Whether the error is the user's input (exit code 2) rather than a failure (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            AppError::BadInput(_)
            | AppError::OpRejected { .. }
            | AppError::Ddl { .. }
            | AppError::Refused(_) => true,
            AppError::Store(e) => e.is_bad_input(),
            AppError::Io { .. }
            | AppError::Integrity(_)
            | AppError::Database(_)
            | AppError::Failure(_) => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AppError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results of use cases.
pub type AppResult<T> = Result<T, AppError>;
