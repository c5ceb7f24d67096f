//! What a sync job is: which table goes where, how changes are found and
//! how they are merged.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How changed rows are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Detect {
    /// A last-modified timestamp column.
    Timestamp,
    /// An ever-increasing key (new rows only).
    Sequence,
    /// A row version number bumped on every change.
    Version,
    /// Every run reads every row.
    Full,
}

/// How the target is brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Merge {
    /// Insert rows whose key is new; never change a row already there.
    Append,
    /// Insert new keys, update changed rows.
    Upsert,
    /// Load a fresh copy and swap it in.
    Replace,
    /// Keep every version (valid_from, valid_to, is_current).
    Scd2,
}

/// What happens when an incoming row's key exists in the target with other
/// values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConflictPolicy {
    /// The source's row wins.
    Overwrite,
    /// The target's row is kept.
    Skip,
    /// The run stops and reports the key.
    Error,
}

macro_rules! text_enum {
    ($t:ty, $($v:ident => $s:literal),+) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$v => $s),+ })
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s => Ok(Self::$v),)+
                    other => Err(format!(
                        "`{other}` is not one of: {}",
                        [$($s),+].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum!(Detect, Timestamp => "timestamp", Sequence => "sequence", Version => "version", Full => "full");
text_enum!(Merge, Append => "append", Upsert => "upsert", Replace => "replace", Scd2 => "scd2");
text_enum!(ConflictPolicy, Overwrite => "overwrite", Skip => "skip", Error => "error");

/// The default number of rows per batch.
pub const DEFAULT_BATCH_SIZE: usize = 10_000;

/// A sync job as stored in the workspace. Connections are referred to by
/// name; the engine is handed open endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct JobSpec {
    /// Unique name; also the job's row in the target's checkpoint table.
    pub name: String,
    /// The source connection's name.
    pub source: String,
    /// The source table (`table` or `schema.table`).
    pub source_table: String,
    /// The target connection's name.
    pub target: String,
    /// The target table (created on the first run if it does not exist).
    pub target_table: String,
    /// How changes are found.
    pub detect: Detect,
    /// Whether `detect` and `tracking_column` were chosen by `--detect auto`.
    pub detect_auto: bool,
    /// The tracking column (timestamp, sequence and version detection).
    pub tracking_column: Option<String>,
    /// How the target is merged.
    pub merge: Merge,
    /// Key columns; empty means the source's primary key.
    pub key: Vec<String>,
    /// What an existing key with other values does.
    pub on_conflict: ConflictPolicy,
    /// Rows per batch (and per target transaction).
    #[ts(type = "number")]
    pub batch_size: u64,
    /// Re-read window behind the watermark, in milliseconds (0 = none).
    #[ts(type = "number")]
    pub lag_ms: u64,
    /// Soft-delete column: rows with it true (or not NULL) are removed.
    pub deleted_column: Option<String>,
    /// Whether each run removes target rows whose key left the source.
    pub reconcile_deletes: bool,
}

impl JobSpec {
    /// The lag as a duration, if any.
    pub fn lag(&self) -> Option<Duration> {
        (self.lag_ms > 0).then(|| Duration::from_millis(self.lag_ms))
    }

    /// The detection as users read it, e.g. `timestamp (updated_at)`.
    pub fn detection_text(&self) -> String {
        let mut s = match &self.tracking_column {
            Some(c) if self.detect != Detect::Full => format!("{} ({c})", self.detect),
            _ => self.detect.to_string(),
        };
        if self.detect_auto {
            s.push_str(", chosen by auto");
        }
        s
    }
}

/// Parses a duration such as `30s`, `5m`, `1h30m`, `250ms` or `2d`; a bare
/// number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total_ms: u128 = 0;
    let mut rest = t.as_str();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a duration (e.g. 30s, 5m, 1h30m, 250ms)"
            ));
        }
        let n: u128 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is not a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor: u128 = match unit {
            "ms" => 1,
            "s" | "sec" | "secs" => 1_000,
            "m" | "min" | "mins" => 60_000,
            "h" | "hr" | "hrs" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{text}` (use ms, s, m, h or d)"
                ))
            }
        };
        total_ms += n * factor;
    }
    u64::try_from(total_ms)
        .map(Duration::from_millis)
        .map_err(|_| format!("`{text}` is too long"))
}

/// A duration the way [`parse_duration`] reads it back, e.g. `1h30m`.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_back() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("m").is_err());
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
    }

    #[test]
    fn enums_read_their_cli_names() {
        assert_eq!("SCD2".parse::<Merge>(), Ok(Merge::Scd2));
        assert_eq!("timestamp".parse::<Detect>(), Ok(Detect::Timestamp));
        assert!("sometimes"
            .parse::<ConflictPolicy>()
            .unwrap_err()
            .contains("overwrite"));
    }
}
