//! The one error type of the SQL crate.

use crate::dialect::DialectKind;
use thiserror::Error;

/// Why SQL could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SqlError {
    /// The dialect has no statement for this change. Nothing was planned: a
    /// partial migration would leave the database between two states.
    #[error("{dialect} cannot {change}: {reason}")]
    Unsupported {
        /// The dialect asked to render the change.
        dialect: DialectKind,
        /// The change, described as an action ("drop catalog app").
        change: String,
        /// What the database lacks, and what to do instead.
        reason: String,
    },
    /// A dialect name that is not one of ours.
    #[error("unknown SQL dialect {name:?}; expected one of: {valid}")]
    UnknownDialect {
        /// The name as given.
        name: String,
        /// The accepted names, comma separated.
        valid: String,
    },
    /// A change names an object that the state it should be in lacks, so the
    /// full definition the dialect needs is not available.
    #[error("{change}: {object} is not in the {side} state")]
    MissingObject {
        /// The change, described as an action.
        change: String,
        /// The object looked for ("column public.orders.note").
        object: String,
        /// `from` or `to`.
        side: &'static str,
    },
}
