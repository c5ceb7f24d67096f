//! Stable object identifiers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The stable id of a catalog, schema, table, column or constraint.
///
/// Ids never change when an object is renamed, which is what lets the diff
/// report a rename as a rename. The reducer never invents ids: callers (the
/// app layer, importers, introspection) assign them, so the model stays pure.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(transparent)]
pub struct ObjectId(pub String);

impl ObjectId {
    /// The id every `add_catalog` op targets: the root of the state.
    pub const ROOT: &'static str = "root";

    /// Wraps a string as an id.
    pub fn new(id: impl Into<String>) -> Self {
        ObjectId(id.into())
    }

    /// The root id (`"root"`).
    pub fn root() -> Self {
        ObjectId(Self::ROOT.to_string())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ObjectId {
    fn from(s: &str) -> Self {
        ObjectId(s.to_string())
    }
}

impl From<String> for ObjectId {
    fn from(s: String) -> Self {
        ObjectId(s)
    }
}
