//! What a scan records: a live database read into the model, flattened into
//! one [`ScanObject`] per schema, table and column, with three JSON maps each.
//!
//! - `attributes` are what the incremental diff compares: for a schema its
//!   comment; for a table its comment, keys, indexes, checks and properties
//!   (MySQL's engine and collation among them); for a column its type,
//!   nullability, default, comment and identity. Keys and indexes live on the
//!   table only, so one new index is one modified table, not also a modified
//!   column.
//! - `custom_attributes` are the labels in force at scan time.
//! - `info` holds facts that move without anyone changing the schema: the
//!   estimated row count, the created/updated times a database exposes
//!   (MySQL's `UPDATE_TIME` moves with every row write, and MariaDB moves
//!   `CREATE_TIME` when `OPTIMIZE TABLE` rebuilds a table), a column's
//!   position (dropping a column shifts the ones after it) and whether it is
//!   part of the primary key (the table's key already says so). They are
//!   recorded and shown, but never make an object "modified" on their own.
//!
//! Maps are built in a fixed key order, so equal maps have equal text and the
//! diff can skip parsing unchanged objects.

use crate::scan_config::Labels;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use tidemark_db::TableStats;
use tidemark_model::{Column, Schema, State, Table};
use tidemark_store::{AssetType, ScanObject};

/// The most parts an object path has: schema, table, column.
const MAX_PARTS: usize = 3;

/// Joins names into an object path, double-quoting a part that holds a dot
/// or a quote so every path reads back into the same names.
pub(crate) fn object_path<S: AsRef<str>>(parts: &[S]) -> String {
    parts
        .iter()
        .map(|p| {
            let p = p.as_ref();
            if p.contains(['.', '"']) {
                format!("\"{}\"", p.replace('"', "\"\""))
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Splits an object path (`schema`, `schema.table`, `schema.table.column`,
/// parts optionally double-quoted) into its names.
pub(crate) fn parse_object_path(text: &str) -> Result<Vec<String>, String> {
    let invalid = |why: &str| {
        format!("{text:?} is not an object path ({why}); write schema, schema.table or schema.table.column, with \"…\" around a name that holds a dot")
    };
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(invalid("a quote is not closed")),
                }
            }
            if !matches!(chars.peek(), None | Some('.')) {
                return Err(invalid("text after a closing quote"));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '"' {
                    return Err(invalid("a quote inside a name"));
                }
                part.push(c);
                chars.next();
            }
        }
        if part.is_empty() {
            return Err(invalid("an empty name"));
        }
        parts.push(part);
        match chars.next() {
            None => break,
            Some(_) => continue,
        }
    }
    if parts.len() > MAX_PARTS {
        return Err(invalid("more than three names"));
    }
    Ok(parts)
}

/// The tables `incremental-diff --format postgres` writes.
const DIFF_OUTPUT_TABLES: [&str; 4] = [
    "diff_sync_runs",
    "incremental_diff_schema",
    "incremental_diff_table",
    "incremental_diff_column",
];

/// Whether a schema is an `incremental-diff --format postgres` output.
///
/// By default the output goes into the scanned database itself; without
/// this check the next scan would report Tidemark's own bookkeeping tables
/// as changes to the database.
pub(crate) fn is_diff_output(schema: &Schema) -> bool {
    DIFF_OUTPUT_TABLES
        .iter()
        .all(|name| schema.tables.iter().any(|t| t.name == *name))
}

/// The objects of one scan and how many of each kind.
#[derive(Debug, Default)]
pub(crate) struct BuiltScan {
    /// Every object, schemas first.
    pub objects: Vec<ScanObject>,
    /// Schemas.
    pub schemas: u64,
    /// Tables.
    pub tables: u64,
    /// Columns.
    pub columns: u64,
}

fn text(value: &Value) -> String {
    value.to_string()
}

fn custom(labels: Option<&BTreeMap<String, String>>) -> String {
    match labels {
        Some(pairs) if !pairs.is_empty() => text(&json!(pairs)),
        _ => "{}".to_string(),
    }
}

fn schema_attributes(schema: &Schema) -> Value {
    json!({ "comment": schema.comment })
}

fn table_attributes(table: &Table, stats: Option<&TableStats>) -> Value {
    let mut uniques = Map::new();
    for u in &table.uniques {
        uniques.insert(u.name.clone(), json!(u.columns));
    }
    let mut indexes = Map::new();
    for i in &table.indexes {
        indexes.insert(
            i.name.clone(),
            json!({ "columns": i.columns, "unique": i.unique }),
        );
    }
    let mut foreign_keys = Map::new();
    for f in &table.foreign_keys {
        foreign_keys.insert(
            f.name.clone(),
            json!({
                "columns": f.columns,
                "references": object_path(&[&f.references.schema, &f.references.table]),
                "ref_columns": f.ref_columns,
                "on_delete": f.on_delete,
                "on_update": f.on_update,
            }),
        );
    }
    let mut checks = Map::new();
    for c in &table.checks {
        checks.insert(c.name.clone(), json!(c.expression));
    }
    let mut properties: BTreeMap<&str, &str> = table
        .properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Some(stats) = stats {
        for (k, v) in &stats.properties {
            properties.insert(k, v);
        }
    }
    json!({
        "comment": table.comment,
        "primary_key": table.primary_key.as_ref().map(|pk| json!({
            "name": pk.name,
            "columns": pk.columns,
        })),
        "uniques": uniques,
        "indexes": indexes,
        "foreign_keys": foreign_keys,
        "checks": checks,
        "properties": properties,
    })
}

fn table_info(stats: Option<&TableStats>) -> Value {
    json!({
        "estimated_rows": stats.and_then(|s| s.estimated_rows),
        "created_at": stats.and_then(|s| s.created_at),
        "updated_at": stats.and_then(|s| s.updated_at),
    })
}

fn column_attributes(column: &Column) -> Value {
    json!({
        "data_type": column.data_type.to_string(),
        "nullable": column.nullable,
        "default": column.default,
        "comment": column.comment,
        "identity": column.identity,
    })
}

/// Flattens a state into scan objects, attaching statistics and labels.
pub(crate) fn build_objects(state: &State, stats: &[TableStats], labels: &Labels) -> BuiltScan {
    let stats: HashMap<(&str, &str), &TableStats> = stats
        .iter()
        .map(|s| ((s.table.schema.as_str(), s.table.table.as_str()), s))
        .collect();
    let mut built = BuiltScan::default();
    for schema in state.catalogs.iter().flat_map(|c| &c.schemas) {
        let s = schema.name.as_str();
        let path = object_path(&[s]);
        built.objects.push(ScanObject {
            object_type: AssetType::Schema,
            custom_attributes: custom(labels.get(&path)),
            path,
            schema_name: s.to_string(),
            table_name: None,
            column_name: None,
            attributes: text(&schema_attributes(schema)),
            info: "{}".to_string(),
        });
        built.schemas += 1;
        for table in &schema.tables {
            let t = table.name.as_str();
            let table_stats = stats.get(&(s, t)).copied();
            let path = object_path(&[s, t]);
            built.objects.push(ScanObject {
                object_type: AssetType::Table,
                custom_attributes: custom(labels.get(&path)),
                path,
                schema_name: s.to_string(),
                table_name: Some(t.to_string()),
                column_name: None,
                attributes: text(&table_attributes(table, table_stats)),
                info: text(&table_info(table_stats)),
            });
            built.tables += 1;
            for (position, column) in table.columns.iter().enumerate() {
                let c = column.name.as_str();
                let path = object_path(&[s, t, c]);
                let in_key = table
                    .primary_key
                    .as_ref()
                    .is_some_and(|pk| pk.columns.iter().any(|k| k == c));
                built.objects.push(ScanObject {
                    object_type: AssetType::Column,
                    custom_attributes: custom(labels.get(&path)),
                    path,
                    schema_name: s.to_string(),
                    table_name: Some(t.to_string()),
                    column_name: Some(c.to_string()),
                    attributes: text(&column_attributes(column)),
                    info: text(&json!({ "position": position + 1, "primary_key": in_key })),
                });
                built.columns += 1;
            }
        }
    }
    built
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_model::{Catalog, DataType, ObjectId, PrimaryKey, TableRef};

    #[test]
    fn paths_round_trip_with_dots_and_quotes() {
        for parts in [
            vec!["public"],
            vec!["public", "orders"],
            vec!["public", "orders", "id"],
            vec!["a.b", "c"],
            vec!["x", "we\"ird", "col.umn"],
        ] {
            let path = object_path(&parts);
            assert_eq!(parse_object_path(&path).unwrap(), parts, "{path}");
        }
        assert_eq!(object_path(&["a.b", "c"]), "\"a.b\".c");
        for bad in ["", "a..b", "a.b.c.d", "\"open", "\"a\"b", "a\"b", "a."] {
            assert!(parse_object_path(bad).is_err(), "{bad:?}");
        }
    }

    fn state() -> State {
        let column = |name: &str, data_type: DataType| Column {
            id: ObjectId::new(name),
            name: name.into(),
            data_type,
            nullable: name != "id",
            default: None,
            comment: None,
            identity: false,
        };
        State {
            catalogs: vec![Catalog {
                id: ObjectId::new("c"),
                name: "shop".into(),
                comment: None,
                schemas: vec![Schema {
                    id: ObjectId::new("s"),
                    name: "public".into(),
                    comment: Some("main".into()),
                    tables: vec![Table {
                        id: ObjectId::new("t"),
                        name: "orders".into(),
                        columns: vec![
                            column("id", DataType::BigInt),
                            column("note", DataType::Varchar { length: Some(20) }),
                        ],
                        primary_key: Some(PrimaryKey {
                            id: ObjectId::new("pk"),
                            name: "orders_pkey".into(),
                            columns: vec!["id".into()],
                        }),
                        uniques: vec![],
                        indexes: vec![],
                        foreign_keys: vec![],
                        checks: vec![],
                        comment: None,
                        properties: BTreeMap::new(),
                    }],
                }],
            }],
        }
    }

    #[test]
    fn objects_carry_attributes_labels_and_info() {
        let stats = vec![TableStats {
            table: TableRef {
                schema: "public".into(),
                table: "orders".into(),
            },
            estimated_rows: Some(42),
            created_at: None,
            updated_at: None,
            properties: [("engine".to_string(), "InnoDB".to_string())].into(),
        }];
        let mut labels = Labels::new();
        labels.insert(
            "public.orders.note".into(),
            [("pii".to_string(), "true".to_string())].into(),
        );
        let built = build_objects(&state(), &stats, &labels);
        assert_eq!((built.schemas, built.tables, built.columns), (1, 1, 2));
        let paths: Vec<&str> = built.objects.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "public",
                "public.orders",
                "public.orders.id",
                "public.orders.note"
            ]
        );
        assert_eq!(built.objects[0].attributes, r#"{"comment":"main"}"#);
        let table: Value = serde_json::from_str(&built.objects[1].attributes).unwrap();
        assert_eq!(table["properties"]["engine"], "InnoDB");
        assert_eq!(table["primary_key"]["columns"][0], "id");
        let info: Value = serde_json::from_str(&built.objects[1].info).unwrap();
        assert_eq!(info["estimated_rows"], 42);
        assert_eq!(built.objects[3].custom_attributes, r#"{"pii":"true"}"#);
        assert_eq!(built.objects[2].custom_attributes, "{}");
        let note: Value = serde_json::from_str(&built.objects[3].attributes).unwrap();
        assert_eq!(note["data_type"], "varchar(20)");
        // The same state always gives the same text.
        let again = build_objects(&state(), &stats, &labels);
        assert_eq!(built.objects, again.objects);
    }
}
