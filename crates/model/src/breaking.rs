//! Breaking-change rules: how dangerous one [`Change`] is to apply.
//!
//! The rules look at the change alone plus a few known [`Facts`] about the
//! live database (row counts). They err towards the more severe answer when
//! the outcome depends on data the model cannot see, and say why in a
//! sentence that names the object, so a reviewer can judge the plan.

use crate::change::{Change, QualifiedName};
use crate::types::DataType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How dangerous a change is, ordered from harmless to destructive so the
/// worst of a plan is its `max()`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Cannot fail on existing data and keeps every reader working.
    Safe,
    /// May fail on existing data, slow queries down, or change behaviour.
    Risky,
    /// Loses data or breaks readers and writers that use the old shape.
    Breaking,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Safe => "safe",
            Severity::Risky => "risky",
            Severity::Breaking => "breaking",
        })
    }
}

/// The verdict on one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Assessment {
    /// How dangerous the change is.
    pub severity: Severity,
    /// Why, as a sentence naming the object.
    pub reason: String,
}

/// What is known about the live database the change would be applied to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// Known row counts of live tables, keyed by their names in the from
    /// state. Serialized as a list of `{"table": {...}, "rows": n}` because
    /// JSON object keys must be strings.
    #[serde(default, with = "row_count_list")]
    pub row_counts: BTreeMap<QualifiedName, u64>,
}

impl Facts {
    /// The known row count of a table, if any.
    pub fn row_count(&self, table: &QualifiedName) -> Option<u64> {
        self.row_counts.get(table).copied()
    }
}

mod row_count_list {
    use crate::change::QualifiedName;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize)]
    struct Entry {
        table: QualifiedName,
        rows: u64,
    }

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<QualifiedName, u64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter().map(|(table, rows)| Entry {
            table: table.clone(),
            rows: *rows,
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<QualifiedName, u64>, D::Error> {
        let entries = Vec::<Entry>::deserialize(deserializer)?;
        Ok(entries.into_iter().map(|e| (e.table, e.rows)).collect())
    }
}

/// Assesses one change against what is known about the target database.
///
/// Row counts are looked up under the change's table name, so a column
/// added to a table renamed in the same plan finds no count and is judged
/// without one.
pub fn assess(change: &Change, facts: &Facts) -> Assessment {
    use Severity::{Breaking, Risky, Safe};
    match change {
        Change::AddCatalog { name } => verdict(Safe, format!("adds catalog {name}")),
        Change::DropCatalog { name } => verdict(
            Breaking,
            format!("drops catalog {name} and everything in it"),
        ),
        Change::RenameCatalog { from, to } => verdict(
            Breaking,
            format!("renames catalog {from} to {to}; connections and queries using the old name break"),
        ),
        Change::AddSchema { name, .. } => verdict(Safe, format!("adds schema {name}")),
        Change::DropSchema { name, .. } => {
            verdict(Breaking, format!("drops schema {name} and everything in it"))
        }
        Change::RenameSchema { from, to, .. } => verdict(
            Breaking,
            format!("renames schema {from} to {to}; queries using the old name break"),
        ),
        Change::SetSchemaComment { name, .. } => {
            verdict(Safe, format!("changes the comment of schema {name}"))
        }
        Change::AddTable { table, .. } => verdict(Safe, format!("adds table {table}")),
        Change::DropTable { table, .. } => verdict(
            Breaking,
            format!(
                "drops table {table} and its data{}",
                known_rows(facts.row_count(table))
            ),
        ),
        Change::RenameTable { from, to } => verdict(
            Breaking,
            format!("renames table {from} to {to}; queries using the old name break"),
        ),
        Change::SetTableComment { table, .. } => {
            verdict(Safe, format!("changes the comment of table {table}"))
        }
        Change::SetTableProperty { table, key, .. } => {
            verdict(Safe, format!("sets property {key} of table {table}"))
        }
        Change::UnsetTableProperty { table, key, .. } => {
            verdict(Safe, format!("removes property {key} of table {table}"))
        }
        Change::AddColumn { table, column, .. } => {
            let name = column_name(table, &column.name);
            if column.nullable {
                verdict(Safe, format!("adds nullable column {name}"))
            } else if column.default.is_some() {
                verdict(
                    Safe,
                    format!("adds NOT NULL column {name} with a default for existing rows"),
                )
            } else if column.identity {
                // The database generates a value for every existing row.
                verdict(Safe, format!("adds identity column {name}"))
            } else {
                match facts.row_count(table) {
                    Some(rows) if rows > 0 => verdict(
                        Breaking,
                        format!(
                            "adds NOT NULL column {name} without a default; fails because the table has {}",
                            count_rows(rows)
                        ),
                    ),
                    Some(_) => verdict(
                        Risky,
                        format!("adds NOT NULL column {name} without a default; the table is empty now but fails if rows arrive first"),
                    ),
                    None => verdict(
                        Risky,
                        format!("adds NOT NULL column {name} without a default; fails if the table has rows"),
                    ),
                }
            }
        }
        Change::DropColumn { table, column } => verdict(
            Breaking,
            format!(
                "drops column {} and its data{}",
                column_name(table, &column.name),
                known_rows(facts.row_count(table))
            ),
        ),
        Change::RenameColumn { table, from, to } => verdict(
            Breaking,
            format!(
                "renames column {} to {to}; queries using the old name break",
                column_name(table, from)
            ),
        ),
        Change::ChangeColumnType {
            table,
            column,
            from,
            to,
        } => {
            let name = column_name(table, column);
            if from == to {
                verdict(Safe, format!("keeps the type of {name} ({to})"))
            } else if widens(from, to) {
                verdict(
                    Safe,
                    format!("widens {name} from {from} to {to}; every value fits"),
                )
            } else if widens(to, from) {
                verdict(
                    Breaking,
                    format!("narrows {name} from {from} to {to}; values may not fit and writers may overflow"),
                )
            } else {
                verdict(
                    Risky,
                    format!("changes {name} from {from} to {to}; the conversion may fail or change values"),
                )
            }
        }
        Change::SetColumnNullable {
            table,
            column,
            nullable,
        } => {
            let name = column_name(table, column);
            if *nullable {
                verdict(Safe, format!("allows NULL in {name}"))
            } else {
                verdict(
                    Risky,
                    format!("sets {name} NOT NULL; fails if any row is NULL"),
                )
            }
        }
        Change::SetColumnDefault { table, column, .. } => verdict(
            Safe,
            format!("changes the default of {}", column_name(table, column)),
        ),
        Change::SetColumnIdentity {
            table,
            column,
            identity,
        } => {
            let name = column_name(table, column);
            if *identity {
                verdict(
                    Risky,
                    format!("makes {name} an identity column; existing values may clash with generated ones"),
                )
            } else {
                verdict(
                    Risky,
                    format!("stops generating values for {name}; inserts that omit it will fail or store NULL"),
                )
            }
        }
        Change::SetColumnComment { table, column, .. } => verdict(
            Safe,
            format!("changes the comment of {}", column_name(table, column)),
        ),
        Change::ReorderColumns { table, .. } => {
            verdict(Safe, format!("reorders the columns of {table}"))
        }
        Change::AddPrimaryKey { table, key } => verdict(
            Risky,
            format!(
                "adds primary key {} on {table} ({}); existing rows may violate it",
                key.name,
                key.columns.join(", ")
            ),
        ),
        Change::DropPrimaryKey { table, key } => verdict(
            Breaking,
            format!(
                "drops primary key {} of {table}; duplicates become possible and references to it break",
                key.name
            ),
        ),
        Change::AddUnique { table, constraint } => verdict(
            Risky,
            format!(
                "adds unique constraint {} on {table} ({}); existing rows may violate it",
                constraint.name,
                constraint.columns.join(", ")
            ),
        ),
        Change::DropUnique { table, constraint } => verdict(
            Risky,
            format!(
                "drops unique constraint {} of {table}; duplicates become possible",
                constraint.name
            ),
        ),
        Change::AddIndex { table, index } if index.unique => verdict(
            Risky,
            format!(
                "adds unique index {} on {table} ({}); existing rows may violate it",
                index.name,
                index.columns.join(", ")
            ),
        ),
        Change::AddIndex { table, index } => {
            verdict(Safe, format!("adds index {} on {table}", index.name))
        }
        Change::DropIndex { table, index } => verdict(
            Risky,
            format!(
                "drops index {} of {table}; queries that use it slow down",
                index.name
            ),
        ),
        Change::AddForeignKey { table, foreign_key } => verdict(
            Risky,
            format!(
                "adds foreign key {} from {table} to {}.{}; existing rows may violate it",
                foreign_key.name, foreign_key.references.schema, foreign_key.references.table
            ),
        ),
        Change::DropForeignKey { table, foreign_key } => verdict(
            Risky,
            format!(
                "drops foreign key {} of {table}; orphaned rows become possible",
                foreign_key.name
            ),
        ),
        Change::AddCheck { table, check } => verdict(
            Risky,
            format!(
                "adds check {} on {table} ({}); existing rows may violate it",
                check.name, check.expression
            ),
        ),
        Change::DropCheck { table, check } => verdict(
            Risky,
            format!(
                "drops check {} of {table}; rows it rejected become possible",
                check.name
            ),
        ),
    }
}

fn verdict(severity: Severity, reason: String) -> Assessment {
    Assessment { severity, reason }
}

/// `orders.note`: short enough for a plan line, and the schema is rarely
/// ambiguous within one review.
fn column_name(table: &QualifiedName, column: &str) -> String {
    format!("{}.{}", table.name, column)
}

fn known_rows(rows: Option<u64>) -> String {
    rows.map(|n| format!(" ({})", count_rows(n)))
        .unwrap_or_default()
}

fn count_rows(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n == 1 {
        format!("{grouped} row")
    } else {
        format!("{grouped} rows")
    }
}

/// Integer digits and scale a decimal can hold; `None` for the unconstrained
/// numeric, which holds any value.
fn decimal_capacity(precision: Option<u32>, scale: Option<u32>) -> Option<(u32, u32)> {
    // SQL gives a decimal with a precision but no scale a scale of 0.
    precision.map(|p| {
        let s = scale.unwrap_or(0);
        (p.saturating_sub(s), s)
    })
}

/// Decimal digits needed for every value of an integer type.
fn integer_digits(t: &DataType) -> Option<u32> {
    match t {
        DataType::SmallInt => Some(5),
        DataType::Integer => Some(10),
        DataType::BigInt => Some(19),
        _ => None,
    }
}

/// Whether every value of `from` converts to `to` without loss. Narrowing is
/// the reverse relation; a raw type never widens or narrows because the model
/// cannot know what it holds.
fn widens(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    match (from, to) {
        (Raw { .. }, _) | (_, Raw { .. }) => false,
        (SmallInt, Integer | BigInt) | (Integer, BigInt) | (Real, Double) => true,
        (SmallInt | Integer | BigInt, Decimal { precision, scale }) => {
            match decimal_capacity(*precision, *scale) {
                None => true,
                Some((int_digits, _)) => integer_digits(from).is_some_and(|d| int_digits >= d),
            }
        }
        (
            Decimal {
                precision: p1,
                scale: s1,
            },
            Decimal {
                precision: p2,
                scale: s2,
            },
        ) => match (decimal_capacity(*p1, *s1), decimal_capacity(*p2, *s2)) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some((i1, sc1)), Some((i2, sc2))) => sc2 >= sc1 && i2 >= i1,
        },
        (Varchar { length: Some(n) }, Varchar { length: m }) => m.is_none_or(|m| m > *n),
        (Varchar { .. }, Text) => true,
        // An unbounded varchar and text hold the same values.
        (Text, Varchar { length: None }) => true,
        (Char { length: n }, Varchar { length: m }) => m.is_none_or(|m| m >= *n),
        (Char { .. }, Text) => true,
        (Char { length: n }, Char { length: m }) => m > n,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ObjectId;
    use crate::state::{
        CheckConstraint, Column, ForeignKey, Index, PrimaryKey, Table, TableRef, UniqueConstraint,
    };

    fn orders() -> QualifiedName {
        QualifiedName {
            catalog: "app".into(),
            schema: "public".into(),
            name: "orders".into(),
        }
    }

    fn column(name: &str, nullable: bool, default: Option<&str>) -> Column {
        Column {
            id: ObjectId::new(format!("col_{name}")),
            name: name.into(),
            data_type: DataType::Integer,
            nullable,
            default: default.map(str::to_string),
            comment: None,
            identity: false,
        }
    }

    fn table() -> Table {
        Table {
            id: ObjectId::new("tbl_orders"),
            name: "orders".into(),
            columns: vec![column("id", false, None)],
            primary_key: None,
            uniques: vec![],
            indexes: vec![],
            foreign_keys: vec![],
            checks: vec![],
            comment: None,
            properties: BTreeMap::new(),
        }
    }

    fn with_rows(n: u64) -> Facts {
        let mut facts = Facts::default();
        facts.row_counts.insert(orders(), n);
        facts
    }

    fn severity(change: Change) -> Severity {
        assess(&change, &Facts::default()).severity
    }

    fn type_change(from: DataType, to: DataType) -> Severity {
        severity(Change::ChangeColumnType {
            table: orders(),
            column: "amount".into(),
            from,
            to,
        })
    }

    fn add_column(column: Column, facts: &Facts) -> Assessment {
        assess(
            &Change::AddColumn {
                table: orders(),
                column,
                position: 1,
            },
            facts,
        )
    }

    fn dec(p: u32, s: u32) -> DataType {
        DataType::Decimal {
            precision: Some(p),
            scale: Some(s),
        }
    }

    fn varchar(n: u32) -> DataType {
        DataType::Varchar { length: Some(n) }
    }

    #[test]
    fn severity_orders_and_displays() {
        assert!(Severity::Safe < Severity::Risky && Severity::Risky < Severity::Breaking);
        assert_eq!(Severity::Breaking.to_string(), "breaking");
        assert_eq!(Severity::Risky.to_string(), "risky");
        assert_eq!(serde_json::to_string(&Severity::Safe).unwrap(), "\"safe\"");
    }

    #[test]
    fn facts_round_trip_through_json() {
        let facts = with_rows(1234);
        let json = serde_json::to_string(&facts).unwrap();
        assert_eq!(
            json,
            r#"{"row_counts":[{"table":{"catalog":"app","schema":"public","name":"orders"},"rows":1234}]}"#
        );
        let back: Facts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, facts);
        assert_eq!(back.row_count(&orders()), Some(1234));
        let empty: Facts = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.row_count(&orders()), None);
    }

    #[test]
    fn adding_a_nullable_column_is_safe() {
        let a = add_column(column("note", true, None), &with_rows(10));
        assert_eq!(a.severity, Severity::Safe);
        assert!(a.reason.contains("orders.note"), "{}", a.reason);
    }

    #[test]
    fn adding_not_null_without_default_depends_on_rows() {
        let unknown = add_column(column("qty", false, None), &Facts::default());
        assert_eq!(unknown.severity, Severity::Risky);
        let empty = add_column(column("qty", false, None), &with_rows(0));
        assert_eq!(empty.severity, Severity::Risky);
        let full = add_column(column("qty", false, None), &with_rows(1234));
        assert_eq!(full.severity, Severity::Breaking);
        assert!(full.reason.contains("1,234 rows"), "{}", full.reason);
        assert!(full.reason.contains("orders.qty"), "{}", full.reason);
    }

    #[test]
    fn adding_not_null_with_default_or_identity_is_safe() {
        let a = add_column(column("qty", false, Some("0")), &with_rows(1234));
        assert_eq!(a.severity, Severity::Safe);
        let mut ident = column("seq", false, None);
        ident.identity = true;
        assert_eq!(add_column(ident, &with_rows(5)).severity, Severity::Safe);
    }

    #[test]
    fn dropping_a_column_is_breaking_and_counts_rows() {
        let change = Change::DropColumn {
            table: orders(),
            column: column("note", true, None),
        };
        let known = assess(&change, &with_rows(1234));
        assert_eq!(known.severity, Severity::Breaking);
        assert_eq!(
            known.reason,
            "drops column orders.note and its data (1,234 rows)"
        );
        let unknown = assess(&change, &Facts::default());
        assert_eq!(unknown.reason, "drops column orders.note and its data");
        assert_eq!(
            assess(&change, &with_rows(1)).reason,
            "drops column orders.note and its data (1 row)"
        );
    }

    #[test]
    fn dropping_a_table_is_breaking_and_counts_rows() {
        let a = assess(
            &Change::DropTable {
                table: orders(),
                definition: table(),
            },
            &with_rows(1_000_000),
        );
        assert_eq!(a.severity, Severity::Breaking);
        assert!(a.reason.contains("public.orders"), "{}", a.reason);
        assert!(a.reason.contains("1,000,000 rows"), "{}", a.reason);
    }

    #[test]
    fn renames_are_breaking() {
        let col = assess(
            &Change::RenameColumn {
                table: orders(),
                from: "note".into(),
                to: "memo".into(),
            },
            &Facts::default(),
        );
        assert_eq!(col.severity, Severity::Breaking);
        assert!(col.reason.contains("orders.note") && col.reason.contains("memo"));
        assert_eq!(
            severity(Change::RenameTable {
                from: orders(),
                to: "purchases".into()
            }),
            Severity::Breaking
        );
        assert_eq!(
            severity(Change::RenameSchema {
                catalog: "app".into(),
                from: "public".into(),
                to: "sales".into()
            }),
            Severity::Breaking
        );
        assert_eq!(
            severity(Change::RenameCatalog {
                from: "app".into(),
                to: "app2".into()
            }),
            Severity::Breaking
        );
    }

    #[test]
    fn integer_widening_is_safe_and_narrowing_breaking() {
        use DataType::*;
        assert_eq!(type_change(SmallInt, Integer), Severity::Safe);
        assert_eq!(type_change(Integer, BigInt), Severity::Safe);
        assert_eq!(type_change(SmallInt, BigInt), Severity::Safe);
        assert_eq!(type_change(BigInt, Integer), Severity::Breaking);
        assert_eq!(type_change(Integer, SmallInt), Severity::Breaking);
        assert_eq!(type_change(Real, Double), Severity::Safe);
        assert_eq!(type_change(Double, Real), Severity::Breaking);
    }

    #[test]
    fn integers_widen_into_decimals_with_enough_digits() {
        use DataType::*;
        assert_eq!(type_change(Integer, dec(10, 0)), Severity::Safe);
        assert_eq!(type_change(Integer, dec(12, 2)), Severity::Safe);
        assert_eq!(type_change(Integer, dec(11, 2)), Severity::Risky);
        assert_eq!(type_change(BigInt, dec(19, 0)), Severity::Safe);
        assert_eq!(type_change(BigInt, dec(18, 0)), Severity::Risky);
        assert_eq!(
            type_change(
                SmallInt,
                Decimal {
                    precision: None,
                    scale: None
                }
            ),
            Severity::Safe
        );
        assert_eq!(type_change(dec(10, 0), Integer), Severity::Breaking);
    }

    #[test]
    fn decimals_widen_by_scale_and_integer_digits() {
        assert_eq!(type_change(dec(10, 2), dec(12, 2)), Severity::Safe);
        assert_eq!(type_change(dec(10, 2), dec(12, 4)), Severity::Safe);
        assert_eq!(type_change(dec(12, 4), dec(10, 2)), Severity::Breaking);
        // More scale but fewer integer digits: neither direction is lossless.
        assert_eq!(type_change(dec(10, 2), dec(10, 4)), Severity::Risky);
        assert_eq!(
            type_change(
                dec(10, 2),
                DataType::Decimal {
                    precision: None,
                    scale: None
                }
            ),
            Severity::Safe
        );
    }

    #[test]
    fn strings_widen_by_length() {
        use DataType::*;
        assert_eq!(type_change(varchar(20), varchar(40)), Severity::Safe);
        assert_eq!(type_change(varchar(40), varchar(20)), Severity::Breaking);
        assert_eq!(type_change(varchar(40), Text), Severity::Safe);
        assert_eq!(type_change(Text, varchar(40)), Severity::Breaking);
        assert_eq!(
            type_change(Char { length: 10 }, varchar(10)),
            Severity::Safe
        );
        assert_eq!(
            type_change(Char { length: 10 }, varchar(9)),
            Severity::Risky
        );
        assert_eq!(type_change(Char { length: 10 }, Text), Severity::Safe);
        assert_eq!(type_change(Text, Char { length: 10 }), Severity::Breaking);
        assert_eq!(type_change(Text, Varchar { length: None }), Severity::Safe);
    }

    #[test]
    fn unrelated_and_raw_type_changes_are_risky() {
        use DataType::*;
        assert_eq!(type_change(Integer, Text), Severity::Risky);
        assert_eq!(type_change(Text, Integer), Severity::Risky);
        assert_eq!(type_change(Timestamp, TimestampTz), Severity::Risky);
        assert_eq!(
            type_change(
                Integer,
                Raw {
                    sql: "int4range".into()
                }
            ),
            Severity::Risky
        );
        assert_eq!(
            type_change(Raw { sql: "int8".into() }, Integer),
            Severity::Risky
        );
    }

    #[test]
    fn type_change_reason_names_column_and_types() {
        let a = assess(
            &Change::ChangeColumnType {
                table: orders(),
                column: "amount".into(),
                from: DataType::Integer,
                to: DataType::BigInt,
            },
            &Facts::default(),
        );
        assert!(a.reason.contains("orders.amount"), "{}", a.reason);
        assert!(
            a.reason.contains("integer") && a.reason.contains("bigint"),
            "{}",
            a.reason
        );
    }

    #[test]
    fn nullability_changes() {
        let set = assess(
            &Change::SetColumnNullable {
                table: orders(),
                column: "note".into(),
                nullable: false,
            },
            &with_rows(10),
        );
        assert_eq!(set.severity, Severity::Risky);
        assert!(
            set.reason.contains("fails if any row is NULL"),
            "{}",
            set.reason
        );
        assert_eq!(
            severity(Change::SetColumnNullable {
                table: orders(),
                column: "note".into(),
                nullable: true,
            }),
            Severity::Safe
        );
    }

    #[test]
    fn metadata_changes_are_safe() {
        let t = orders();
        let safe = [
            Change::SetColumnDefault {
                table: t.clone(),
                column: "qty".into(),
                from: None,
                to: Some("1".into()),
            },
            Change::SetColumnComment {
                table: t.clone(),
                column: "qty".into(),
                from: None,
                to: Some("how many".into()),
            },
            Change::SetTableComment {
                table: t.clone(),
                from: Some("a".into()),
                to: None,
            },
            Change::SetTableProperty {
                table: t.clone(),
                key: "owner".into(),
                from: None,
                to: "sales".into(),
            },
            Change::UnsetTableProperty {
                table: t.clone(),
                key: "owner".into(),
                from: "sales".into(),
            },
            Change::SetSchemaComment {
                catalog: "app".into(),
                name: "public".into(),
                from: None,
                to: Some("x".into()),
            },
            Change::ReorderColumns {
                table: t.clone(),
                from: vec!["a".into(), "b".into()],
                to: vec!["b".into(), "a".into()],
            },
        ];
        for change in safe {
            assert_eq!(severity(change.clone()), Severity::Safe, "{change:?}");
        }
    }

    #[test]
    fn additions_of_containers_and_plain_indexes_are_safe() {
        assert_eq!(
            severity(Change::AddTable {
                table: orders(),
                definition: table()
            }),
            Severity::Safe
        );
        assert_eq!(
            severity(Change::AddSchema {
                catalog: "app".into(),
                name: "sales".into(),
                comment: None
            }),
            Severity::Safe
        );
        assert_eq!(
            severity(Change::AddCatalog { name: "app".into() }),
            Severity::Safe
        );
        let index = Index {
            id: ObjectId::new("idx_1"),
            name: "orders_note_idx".into(),
            columns: vec!["note".into()],
            unique: false,
        };
        assert_eq!(
            severity(Change::AddIndex {
                table: orders(),
                index: index.clone()
            }),
            Severity::Safe
        );
        // A unique index can be violated by existing rows like a unique constraint.
        assert_eq!(
            severity(Change::AddIndex {
                table: orders(),
                index: Index {
                    unique: true,
                    ..index.clone()
                }
            }),
            Severity::Risky
        );
        let drop = assess(
            &Change::DropIndex {
                table: orders(),
                index,
            },
            &Facts::default(),
        );
        assert_eq!(drop.severity, Severity::Risky);
        assert!(drop.reason.contains("orders_note_idx"), "{}", drop.reason);
    }

    #[test]
    fn constraint_rules() {
        let t = orders();
        let pk = PrimaryKey {
            id: ObjectId::new("pk"),
            name: "orders_pkey".into(),
            columns: vec!["id".into()],
        };
        let uq = UniqueConstraint {
            id: ObjectId::new("uq"),
            name: "orders_code_key".into(),
            columns: vec!["code".into()],
        };
        let fk = ForeignKey {
            id: ObjectId::new("fk"),
            name: "orders_customer_fk".into(),
            columns: vec!["customer_id".into()],
            references: TableRef {
                schema: "public".into(),
                table: "customers".into(),
            },
            ref_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
        };
        let ck = CheckConstraint {
            id: ObjectId::new("ck"),
            name: "orders_qty_check".into(),
            expression: "qty > 0".into(),
        };
        let cases = [
            (
                Change::AddPrimaryKey {
                    table: t.clone(),
                    key: pk.clone(),
                },
                Severity::Risky,
            ),
            (
                Change::DropPrimaryKey {
                    table: t.clone(),
                    key: pk,
                },
                Severity::Breaking,
            ),
            (
                Change::AddUnique {
                    table: t.clone(),
                    constraint: uq.clone(),
                },
                Severity::Risky,
            ),
            (
                Change::DropUnique {
                    table: t.clone(),
                    constraint: uq,
                },
                Severity::Risky,
            ),
            (
                Change::AddForeignKey {
                    table: t.clone(),
                    foreign_key: fk.clone(),
                },
                Severity::Risky,
            ),
            (
                Change::DropForeignKey {
                    table: t.clone(),
                    foreign_key: fk,
                },
                Severity::Risky,
            ),
            (
                Change::AddCheck {
                    table: t.clone(),
                    check: ck.clone(),
                },
                Severity::Risky,
            ),
            (
                Change::DropCheck {
                    table: t.clone(),
                    check: ck,
                },
                Severity::Risky,
            ),
        ];
        for (change, expected) in cases {
            let a = assess(&change, &Facts::default());
            assert_eq!(a.severity, expected, "{change:?}");
            assert!(a.reason.contains("orders"), "{}", a.reason);
        }
        let add_check = assess(
            &Change::AddCheck {
                table: orders(),
                check: CheckConstraint {
                    id: ObjectId::new("ck"),
                    name: "orders_qty_check".into(),
                    expression: "qty > 0".into(),
                },
            },
            &Facts::default(),
        );
        assert!(
            add_check.reason.contains("may violate"),
            "{}",
            add_check.reason
        );
    }

    #[test]
    fn dropping_schemas_and_catalogs_is_breaking() {
        assert_eq!(
            severity(Change::DropSchema {
                catalog: "app".into(),
                name: "public".into()
            }),
            Severity::Breaking
        );
        assert_eq!(
            severity(Change::DropCatalog { name: "app".into() }),
            Severity::Breaking
        );
    }

    #[test]
    fn identity_changes_are_risky() {
        for identity in [true, false] {
            assert_eq!(
                severity(Change::SetColumnIdentity {
                    table: orders(),
                    column: "id".into(),
                    identity,
                }),
                Severity::Risky
            );
        }
    }

    #[test]
    fn row_counts_group_thousands() {
        assert_eq!(count_rows(0), "0 rows");
        assert_eq!(count_rows(1), "1 row");
        assert_eq!(count_rows(999), "999 rows");
        assert_eq!(count_rows(1000), "1,000 rows");
        assert_eq!(count_rows(12_345_678), "12,345,678 rows");
    }
}
