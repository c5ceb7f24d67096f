//! The incremental diff between two scan runs: pure, no IO.
//!
//! Objects are matched by type and name (a rename is a removal plus an
//! addition: a live database has no stable ids). An object whose table or
//! schema was added or removed is itself added or removed, so a dropped table
//! also lists its columns: each was an asset that vanished.
//!
//! An object is *modified* when its attributes or its custom attributes
//! differ. The `differences` of a modified object name every attribute that
//! changed, from what, to what; nested maps (indexes, foreign keys, checks,
//! properties) are compared entry by entry, so a new index reads as
//! `indexes.orders_by_date` from `null` to its definition. Informational
//! facts (row estimates, created/updated times, column position) that
//! changed too are listed with `"kind": "info"`, but never make an object
//! modified on their own.

use serde_json::{json, Value};
use std::collections::HashMap;
use tidemark_store::{AssetType, ChangeType, ScanObject};

/// One change found by [`compare`], before it gets an id and a time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoundChange {
    /// Schema, table or column.
    pub asset_type: AssetType,
    /// Schema name.
    pub schema_name: String,
    /// Table name (tables and columns).
    pub table_name: Option<String>,
    /// Column name (columns).
    pub column_name: Option<String>,
    /// Added, removed or modified.
    pub change_type: ChangeType,
    /// The object in the older run.
    pub old: Option<Value>,
    /// The object in the newer run.
    pub new: Option<Value>,
    /// What differs, for modified objects.
    pub differences: Option<Value>,
}

/// An object's three maps as one JSON value, as the change rows hold it.
fn data(o: &ScanObject) -> Result<Value, String> {
    let parse = |text: &str, what: &str| {
        serde_json::from_str::<Value>(text)
            .map_err(|e| format!("the stored {what} of {} are unreadable: {e}", o.path))
    };
    Ok(json!({
        "attributes": parse(&o.attributes, "attributes")?,
        "custom_attributes": parse(&o.custom_attributes, "custom attributes")?,
        "info": parse(&o.info, "info")?,
    }))
}

/// Appends the differences between two values: maps entry by entry, any
/// other value as a whole.
fn differences(kind: &str, path: &mut Vec<String>, old: &Value, new: &Value, out: &mut Vec<Value>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a
                .keys()
                .chain(b.keys().filter(|k| !a.contains_key(*k)))
                .collect();
            keys.sort();
            for key in keys {
                let (x, y) = (
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                );
                if x != y {
                    path.push(key.clone());
                    differences(kind, path, x, y, out);
                    path.pop();
                }
            }
        }
        _ if old != new => out.push(json!({
            "kind": kind,
            "attribute": path.join("."),
            "from": old,
            "to": new,
        })),
        _ => {}
    }
}

/// The differences of an object present in both runs, or `None` when only
/// informational facts (or nothing) changed.
fn modified(old: &Value, new: &Value) -> Option<Value> {
    let mut out = Vec::new();
    for (field, kind) in [
        ("attributes", "attribute"),
        ("custom_attributes", "custom_attribute"),
    ] {
        differences(kind, &mut Vec::new(), &old[field], &new[field], &mut out);
    }
    if out.is_empty() {
        return None;
    }
    differences(
        "info",
        &mut Vec::new(),
        &old["info"],
        &new["info"],
        &mut out,
    );
    Some(Value::Array(out))
}

fn change(
    o: &ScanObject,
    change_type: ChangeType,
    old: Option<Value>,
    new: Option<Value>,
    differences: Option<Value>,
) -> FoundChange {
    FoundChange {
        asset_type: o.object_type,
        schema_name: o.schema_name.clone(),
        table_name: o.table_name.clone(),
        column_name: o.column_name.clone(),
        change_type,
        old,
        new,
        differences,
    }
}

/// Compares the objects of the older run with those of the newer run.
///
/// The result is ordered by asset type, then schema, table and column name.
/// Fails only if a stored map is not JSON (a workspace edited by hand).
pub(crate) fn compare(
    older: &[ScanObject],
    newer: &[ScanObject],
) -> Result<Vec<FoundChange>, String> {
    let key = |o: &ScanObject| {
        (
            o.object_type,
            o.schema_name.clone(),
            o.table_name.clone(),
            o.column_name.clone(),
        )
    };
    let old_by_key: HashMap<_, &ScanObject> = older.iter().map(|o| (key(o), o)).collect();
    let mut seen = std::collections::HashSet::with_capacity(newer.len());
    let mut changes = Vec::new();
    for n in newer {
        let k = key(n);
        match old_by_key.get(&k) {
            None => changes.push(change(n, ChangeType::Added, None, Some(data(n)?), None)),
            Some(o) => {
                // Maps are written in a fixed order, so equal text is the
                // common, cheap case; only differing text is parsed.
                if o.attributes != n.attributes || o.custom_attributes != n.custom_attributes {
                    let (old, new) = (data(o)?, data(n)?);
                    if let Some(diff) = modified(&old, &new) {
                        changes.push(change(
                            n,
                            ChangeType::Modified,
                            Some(old),
                            Some(new),
                            Some(diff),
                        ));
                    }
                }
            }
        }
        seen.insert(k);
    }
    for o in older {
        if !seen.contains(&key(o)) {
            changes.push(change(o, ChangeType::Removed, Some(data(o)?), None, None));
        }
    }
    changes.sort_by(|a, b| {
        (a.asset_type, &a.schema_name, &a.table_name, &a.column_name).cmp(&(
            b.asset_type,
            &b.schema_name,
            &b.table_name,
            &b.column_name,
        ))
    });
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(
        kind: AssetType,
        parts: &[&str],
        attributes: Value,
        custom: Value,
        info: Value,
    ) -> ScanObject {
        ScanObject {
            object_type: kind,
            path: parts.join("."),
            schema_name: parts[0].into(),
            table_name: parts.get(1).map(|s| s.to_string()),
            column_name: parts.get(2).map(|s| s.to_string()),
            attributes: attributes.to_string(),
            custom_attributes: custom.to_string(),
            info: info.to_string(),
        }
    }

    fn column(name: &str, data_type: &str, custom: Value, info: Value) -> ScanObject {
        object(
            AssetType::Column,
            &["s", "t", name],
            json!({ "data_type": data_type, "nullable": true }),
            custom,
            info,
        )
    }

    #[test]
    fn unchanged_runs_have_no_changes() {
        let run = vec![
            object(
                AssetType::Schema,
                &["s"],
                json!({"comment": null}),
                json!({}),
                json!({}),
            ),
            column("a", "integer", json!({}), json!({"position": 1})),
        ];
        assert!(compare(&run, &run.clone()).unwrap().is_empty());
    }

    #[test]
    fn added_removed_and_modified_with_attribute_details() {
        let older = vec![
            column(
                "kept",
                "integer",
                json!({"owner": "a"}),
                json!({"position": 1}),
            ),
            column("gone", "text", json!({}), json!({"position": 2})),
            column("typed", "integer", json!({}), json!({"position": 3})),
        ];
        let newer = vec![
            column(
                "kept",
                "integer",
                json!({"owner": "b"}),
                json!({"position": 1}),
            ),
            column("typed", "bigint", json!({}), json!({"position": 2})),
            column("new", "text", json!({}), json!({"position": 3})),
        ];
        let changes = compare(&older, &newer).unwrap();
        let summary: Vec<(&str, ChangeType)> = changes
            .iter()
            .map(|c| (c.column_name.as_deref().unwrap(), c.change_type))
            .collect();
        assert_eq!(
            summary,
            [
                ("gone", ChangeType::Removed),
                ("kept", ChangeType::Modified),
                ("new", ChangeType::Added),
                ("typed", ChangeType::Modified),
            ]
        );
        assert_eq!(
            changes[1].differences,
            Some(
                json!([{"kind": "custom_attribute", "attribute": "owner", "from": "a", "to": "b"}])
            )
        );
        // The position moved as well: listed, but as information.
        assert_eq!(
            changes[3].differences,
            Some(json!([
                {"kind": "attribute", "attribute": "data_type", "from": "integer", "to": "bigint"},
                {"kind": "info", "attribute": "position", "from": 3, "to": 2},
            ]))
        );
        assert!(changes[0].new.is_none() && changes[0].old.is_some());
        assert_eq!(
            changes[2].new.as_ref().unwrap()["attributes"]["data_type"],
            "text"
        );
    }

    #[test]
    fn information_alone_never_makes_a_change() {
        let older = vec![object(
            AssetType::Table,
            &["s", "t"],
            json!({"comment": null}),
            json!({}),
            json!({"estimated_rows": 10, "updated_at": "2026-01-01T00:00:00Z"}),
        )];
        let newer = vec![object(
            AssetType::Table,
            &["s", "t"],
            json!({"comment": null}),
            json!({}),
            json!({"estimated_rows": 99, "updated_at": "2026-02-01T00:00:00Z"}),
        )];
        assert!(compare(&older, &newer).unwrap().is_empty());
    }

    #[test]
    fn nested_maps_are_compared_entry_by_entry() {
        let table = |indexes: Value| {
            object(
                AssetType::Table,
                &["s", "t"],
                json!({"indexes": indexes, "comment": "x"}),
                json!({}),
                json!({}),
            )
        };
        let changes = compare(
            &[table(json!({"a_idx": {"columns": ["a"], "unique": false}}))],
            &[table(json!({
                "a_idx": {"columns": ["a"], "unique": false},
                "b_idx": {"columns": ["b"], "unique": true},
            }))],
        )
        .unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes[0].differences,
            Some(json!([{
                "kind": "attribute",
                "attribute": "indexes.b_idx",
                "from": null,
                "to": {"columns": ["b"], "unique": true},
            }]))
        );
    }

    #[test]
    fn key_order_in_stored_text_is_not_a_change() {
        let a = object(
            AssetType::Schema,
            &["s"],
            json!({"comment": "c", "x": 1}),
            json!({}),
            json!({}),
        );
        let mut b = a.clone();
        b.attributes = r#"{"x":1,"comment":"c"}"#.into();
        assert!(compare(&[a], &[b]).unwrap().is_empty());
    }

    #[test]
    fn unreadable_maps_are_reported() {
        let mut bad = column("a", "integer", json!({}), json!({}));
        bad.attributes = "{not json".into();
        let err = compare(&[], &[bad]).unwrap_err();
        assert!(err.contains("s.t.a"), "{err}");
    }
}
