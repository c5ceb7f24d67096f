//! Snapshots: named, versioned, SHA-256-sealed states.

use crate::state::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;

/// The SHA-256 of a snapshot's canonical content, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(transparent)]
pub struct SnapshotHash(pub String);

impl SnapshotHash {
    /// The hash over the canonical JSON of `{"ops_included": [...], "state": {...}}`.
    pub fn compute(state: &State, ops_included: &[String]) -> SnapshotHash {
        #[derive(Serialize)]
        struct Sealed<'a> {
            state: &'a State,
            ops_included: &'a [String],
        }
        let value = serde_json::to_value(Sealed {
            state,
            ops_included,
        })
        .expect("a state always serializes");
        let mut hasher = Sha256::new();
        hasher.update(canonical_json(&value).as_bytes());
        SnapshotHash(hex::encode(hasher.finalize()))
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

impl fmt::Display for SnapshotHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant
/// whitespace, serde_json's number and string formatting. Two values that are
/// equal as JSON always give the same text, whatever their key order.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(val, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A sealed snapshot of a project's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Snapshot {
    /// Unique snapshot id.
    pub id: String,
    /// Semantic version, unique and increasing within a project.
    pub version: semver::Version,
    /// Short human name.
    pub name: String,
    /// Longer comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Tags such as `milestone`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The id of the previous snapshot of the project, if any.
    #[serde(default)]
    pub previous: Option<String>,
    /// Ids of the ops this snapshot includes (since the previous snapshot).
    pub ops_included: Vec<String>,
    /// The full state.
    pub state: State,
    /// SHA-256 over the canonical JSON of `state` and `ops_included`.
    pub hash: SnapshotHash,
}

/// A snapshot whose stored hash does not match its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("snapshot {version} is corrupt: stored hash {stored}, computed hash {computed}")]
pub struct HashMismatch {
    /// The snapshot's version.
    pub version: String,
    /// The hash stored with the snapshot.
    pub stored: SnapshotHash,
    /// The hash of its content.
    pub computed: SnapshotHash,
}

impl Snapshot {
    /// Recomputes the hash and compares it with the stored one.
    pub fn verify(&self) -> Result<(), HashMismatch> {
        let computed = SnapshotHash::compute(&self.state, &self.ops_included);
        if computed == self.hash {
            Ok(())
        } else {
            Err(HashMismatch {
                version: self.version.to_string(),
                stored: self.hash.clone(),
                computed,
            })
        }
    }
}

/// Which part of a version `--bump` increments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Bump {
    /// `x.0.0`
    Major,
    /// `0.x.0`
    Minor,
    /// `0.0.x`
    Patch,
}

impl Bump {
    /// The next version after `latest`, counting from `0.0.0` when there is none
    /// (so a first minor bump gives `0.1.0`).
    pub fn next(self, latest: Option<&semver::Version>) -> semver::Version {
        let base = latest
            .cloned()
            .unwrap_or_else(|| semver::Version::new(0, 0, 0));
        match self {
            Bump::Major => semver::Version::new(base.major + 1, 0, 0),
            Bump::Minor => semver::Version::new(base.major, base.minor + 1, 0),
            Bump::Patch => semver::Version::new(base.major, base.minor, base.patch + 1),
        }
    }
}
