//! Choosing a tracking column the way a person would (`--detect auto`).

use crate::job::Detect;
use tidemark_db::transfer::{TableInfo, ValueKind};

/// Names that say "last modified", best first.
const MODIFIED_NAMES: &[&str] = &[
    "updated_at",
    "modified_at",
    "last_modified",
    "last_modified_at",
    "last_updated",
    "last_updated_at",
    "updated_on",
    "modified_on",
    "update_time",
    "modify_time",
    "updated",
    "modified",
    "last_update",
    "changed_at",
    "date_modified",
    "modified_date",
    "updated_date",
    "mtime",
];

/// Names of row-version counters.
const VERSION_NAMES: &[&str] = &[
    "version",
    "row_version",
    "rowversion",
    "lock_version",
    "revision",
];

/// The outcome of auto detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoChoice {
    /// The detection chosen.
    pub detect: Detect,
    /// The tracking column, if any.
    pub column: Option<String>,
    /// Why, in one sentence, for the user.
    pub reason: String,
}

/// Picks how to find changes in `table`: a last-modified timestamp first,
/// else an auto-increment key, else a version counter, else full reads.
pub fn choose(table: &TableInfo) -> AutoChoice {
    let timestamps: Vec<_> = table
        .columns
        .iter()
        .filter(|c| matches!(c.kind, ValueKind::Timestamp { .. }))
        .collect();
    let lower = |s: &str| s.to_ascii_lowercase();
    // Exact names first, in order of how clearly they mean "last modified";
    // among equals a NOT NULL column wins.
    for name in MODIFIED_NAMES {
        let mut found: Vec<_> = timestamps
            .iter()
            .filter(|c| lower(&c.name) == *name)
            .collect();
        found.sort_by_key(|c| c.nullable);
        if let Some(c) = found.first() {
            return AutoChoice {
                detect: Detect::Timestamp,
                column: Some(c.name.clone()),
                reason: format!(
                    "tracking {}: a timestamp named like a last-modified time",
                    c.name
                ),
            };
        }
    }
    let mut fuzzy: Vec<_> = timestamps
        .iter()
        .filter(|c| {
            let n = lower(&c.name);
            n.contains("updat") || n.contains("modif") || n.contains("chang")
        })
        .collect();
    fuzzy.sort_by_key(|c| c.nullable);
    if let Some(c) = fuzzy.first() {
        return AutoChoice {
            detect: Detect::Timestamp,
            column: Some(c.name.clone()),
            reason: format!(
                "tracking {}: a timestamp whose name says it changes with the row",
                c.name
            ),
        };
    }
    let pk_auto = (table.primary_key.len() == 1)
        .then(|| table.column(&table.primary_key[0]))
        .flatten()
        .filter(|c| c.auto_increment && c.kind.is_integer());
    let any_auto = table
        .columns
        .iter()
        .find(|c| c.auto_increment && c.kind.is_integer());
    if let Some(c) = pk_auto.or(any_auto) {
        return AutoChoice {
            detect: Detect::Sequence,
            column: Some(c.name.clone()),
            reason: format!(
                "tracking {}: an auto-increment key (no last-modified timestamp found); this picks up new rows only, not updates",
                c.name
            ),
        };
    }
    if let Some(c) = table
        .columns
        .iter()
        .find(|c| c.kind.is_integer() && VERSION_NAMES.contains(&lower(&c.name).as_str()))
    {
        return AutoChoice {
            detect: Detect::Version,
            column: Some(c.name.clone()),
            reason: format!("tracking {}: a row version counter", c.name),
        };
    }
    AutoChoice {
        detect: Detect::Full,
        column: None,
        reason: "no last-modified timestamp, auto-increment key or version column: every run reads the whole table".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_db::transfer::{ColumnInfo, TableName};

    fn col(name: &str, kind: ValueKind, auto: bool) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            native: String::new(),
            kind,
            nullable: true,
            auto_increment: auto,
            has_default: false,
        }
    }

    fn table(columns: Vec<ColumnInfo>) -> TableInfo {
        TableInfo {
            name: TableName::parse("t"),
            columns,
            primary_key: vec!["id".into()],
            unique_keys: vec![vec!["id".into()]],
            transactional: true,
        }
    }

    const TS: ValueKind = ValueKind::Timestamp {
        tz: true,
        precision: 6,
        epoch32: false,
    };
    const INT: ValueKind = ValueKind::Int {
        bytes: 8,
        unsigned: false,
    };

    #[test]
    fn a_last_modified_timestamp_wins_over_the_key() {
        let t = table(vec![
            col("id", INT, true),
            col("created_at", TS, false),
            col("UpdatedAt", TS, false),
            col("modified_at", TS, false),
        ]);
        let c = choose(&t);
        assert_eq!(c.detect, Detect::Timestamp);
        assert_eq!(c.column.as_deref(), Some("modified_at"));
        let t = table(vec![
            col("id", INT, true),
            col("created_at", TS, false),
            col("UpdatedAt", TS, false),
        ]);
        assert_eq!(choose(&t).column.as_deref(), Some("UpdatedAt"));
    }

    #[test]
    fn then_an_auto_increment_key_then_a_version_then_full() {
        let t = table(vec![col("id", INT, true), col("created_at", TS, false)]);
        let c = choose(&t);
        assert_eq!(
            (c.detect, c.column.as_deref()),
            (Detect::Sequence, Some("id"))
        );
        assert!(c.reason.contains("new rows only"));
        let t = table(vec![col("id", INT, false), col("version", INT, false)]);
        assert_eq!(choose(&t).detect, Detect::Version);
        let t = table(vec![col("id", INT, false)]);
        assert_eq!(choose(&t).detect, Detect::Full);
    }
}
