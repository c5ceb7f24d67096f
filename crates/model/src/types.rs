//! Logical column types shared by every dialect.

use serde::{Deserialize, Serialize};

/// A column's logical type. Dialects map these to native types and back; a
/// native type with no logical equivalent is kept verbatim as [`DataType::Raw`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataType {
    /// Boolean.
    Boolean,
    /// 16-bit integer.
    SmallInt,
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    BigInt,
    /// Exact decimal; `None` precision means the dialect's unconstrained numeric.
    Decimal {
        /// Total digits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precision: Option<u32>,
        /// Digits after the point.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<u32>,
    },
    /// 32-bit float.
    Real,
    /// 64-bit float.
    Double,
    /// Variable-length string with an optional maximum length.
    Varchar {
        /// Maximum length in characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u32>,
    },
    /// Fixed-length string.
    Char {
        /// Length in characters.
        length: u32,
    },
    /// Unbounded text.
    Text,
    /// Binary data.
    Binary,
    /// Calendar date.
    Date,
    /// Time of day without zone.
    Time,
    /// Timestamp without time zone.
    Timestamp,
    /// Timestamp with time zone.
    TimestampTz,
    /// UUID.
    Uuid,
    /// JSON document.
    Json,
    /// A dialect-specific type kept verbatim (e.g. `int4range`, `geometry`).
    Raw {
        /// The native type as written.
        sql: String,
    },
}
