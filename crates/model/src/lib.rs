//! The Tidemark schema model.
//!
//! **Architecture invariant**: this crate is pure. It does no IO, spawns no
//! threads, reads no clock and draws no random numbers; callers pass ids and
//! timestamps in. Everything here is deterministic.

pub mod change;
pub mod ids;
pub mod ops;
pub mod state;
pub mod types;

pub use change::{Change, QualifiedName};
pub use ids::ObjectId;
pub use ops::{Action, Op};
pub use state::*;
pub use types::DataType;
pub mod snapshot;
pub use snapshot::{canonical_json, Bump, HashMismatch, Snapshot, SnapshotHash};
pub mod breaking;
pub use breaking::{assess, Assessment, Facts, Severity};
pub mod diff;
pub use diff::diff;
pub mod drift;
pub use drift::{drift, DriftItem, DriftKind};
pub mod error;
pub use error::{ModelError, ObjectKind};
pub mod lookup;
pub use lookup::ColumnPath;
pub mod reducer;
pub use reducer::{reduce, Reducer};
