//! Drift: how a live database differs from the state it should have.
//!
//! Drift is the diff from the expected state to the actual one, retold for a
//! person checking an environment rather than for a planner: each item says
//! whether something is missing, modified or extra, and what differs. Both
//! states should be normalized by the caller (type aliases, default spelling)
//! so dialect noise never shows up as drift.

use crate::change::{Change, QualifiedName};
use crate::diff::diff;
use crate::state::{CheckConstraint, Column, FkAction, ForeignKey, Index, State, Table};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

/// Which way an object drifted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Expected but not in the database.
    Missing,
    /// In both, but different.
    Modified,
    /// In the database but not expected.
    Extra,
}

impl fmt::Display for DriftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriftKind::Missing => "missing",
            DriftKind::Modified => "modified",
            DriftKind::Extra => "extra",
        })
    }
}

/// One drifted object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct DriftItem {
    /// Missing, modified or extra.
    pub kind: DriftKind,
    /// `catalog`, `schema`, `table`, `column`, `index`, `primary_key`,
    /// `unique`, `foreign_key`, `check`, `property` or `comment`.
    pub object_type: String,
    /// The object's dotted name without the catalog, e.g. `public.orders.note`
    /// (the expected name when it differs).
    pub object_name: String,
    /// What differs, e.g. `default: 0 → 1` or `type: integer → bigint`.
    pub detail: String,
}

/// The drift of `actual` from `expected`, in the diff's deterministic order.
pub fn drift(expected: &State, actual: &State) -> Vec<DriftItem> {
    let changes = diff(expected, actual);
    // An extra table is one item; its indexes and keys are part of it.
    let extra_tables: HashSet<&QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AddTable { table, .. } => Some(table),
            _ => None,
        })
        .collect();
    let mut items: Vec<DriftItem> = Vec::new();
    for change in &changes {
        match change {
            Change::AddIndex { table, .. } | Change::AddForeignKey { table, .. }
                if extra_tables.contains(table) => {}
            _ => items.push(item(change)),
        }
    }
    merge_redefined(items)
}

/// A constraint whose definition changed comes from the diff as a drop and an
/// add of the same name; in a drift report that is one modified object.
fn merge_redefined(items: Vec<DriftItem>) -> Vec<DriftItem> {
    const CONSTRAINTS: [&str; 5] = ["index", "primary_key", "unique", "foreign_key", "check"];
    let mut out: Vec<DriftItem> = Vec::with_capacity(items.len());
    let mut extras: Vec<Option<DriftItem>> = items.into_iter().map(Some).collect();
    for i in 0..extras.len() {
        let Some(current) = extras[i].take() else {
            continue;
        };
        if current.kind == DriftKind::Missing && CONSTRAINTS.contains(&current.object_type.as_str())
        {
            let partner = extras[i + 1..].iter_mut().find(|other| {
                other.as_ref().is_some_and(|o| {
                    o.kind == DriftKind::Extra
                        && o.object_type == current.object_type
                        && o.object_name == current.object_name
                })
            });
            if let Some(slot) = partner {
                let added = slot.take().expect("checked above");
                out.push(DriftItem {
                    kind: DriftKind::Modified,
                    object_type: current.object_type,
                    object_name: current.object_name,
                    detail: format!("definition: {} → {}", current.detail, added.detail),
                });
                continue;
            }
        }
        out.push(current);
    }
    out
}

fn table_name(table: &QualifiedName) -> String {
    format!("{}.{}", table.schema, table.name)
}

fn member(table: &QualifiedName, name: &str) -> String {
    format!("{}.{}.{}", table.schema, table.name, name)
}

fn optional(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("(none)")
}

fn new_item(kind: DriftKind, object_type: &str, object_name: String, detail: String) -> DriftItem {
    DriftItem {
        kind,
        object_type: object_type.to_string(),
        object_name,
        detail,
    }
}

fn item(change: &Change) -> DriftItem {
    use DriftKind::{Extra, Missing, Modified};
    match change {
        Change::AddCatalog { name } => {
            new_item(Extra, "catalog", name.clone(), "not expected".into())
        }
        Change::DropCatalog { name } => {
            new_item(Missing, "catalog", name.clone(), "not found".into())
        }
        Change::RenameCatalog { from, to } => new_item(
            Modified,
            "catalog",
            from.clone(),
            format!("name: {from} → {to}"),
        ),
        Change::AddSchema { name, .. } => {
            new_item(Extra, "schema", name.clone(), "not expected".into())
        }
        Change::DropSchema { name, .. } => {
            new_item(Missing, "schema", name.clone(), "not found".into())
        }
        Change::RenameSchema { from, to, .. } => new_item(
            Modified,
            "schema",
            from.clone(),
            format!("name: {from} → {to}"),
        ),
        Change::SetSchemaComment { name, from, to, .. } => new_item(
            Modified,
            "comment",
            name.clone(),
            format!("comment: {} → {}", optional(from), optional(to)),
        ),
        Change::AddTable { table, definition } => new_item(
            Extra,
            "table",
            table_name(table),
            describe_table(definition),
        ),
        Change::DropTable { table, definition } => new_item(
            Missing,
            "table",
            table_name(table),
            describe_table(definition),
        ),
        Change::RenameTable { from, to } => new_item(
            Modified,
            "table",
            table_name(from),
            format!("name: {} → {to}", from.name),
        ),
        Change::SetTableComment { table, from, to } => new_item(
            Modified,
            "comment",
            table_name(table),
            format!("comment: {} → {}", optional(from), optional(to)),
        ),
        Change::SetTableProperty {
            table,
            key,
            from,
            to,
        } => new_item(
            if from.is_some() { Modified } else { Extra },
            "property",
            table_name(table),
            format!("{key}: {} → {to}", optional(from)),
        ),
        Change::UnsetTableProperty { table, key, from } => new_item(
            Missing,
            "property",
            table_name(table),
            format!("{key}: {from} → (none)"),
        ),
        Change::AddColumn { table, column, .. } => new_item(
            Extra,
            "column",
            member(table, &column.name),
            describe_column(column),
        ),
        Change::DropColumn { table, column } => new_item(
            Missing,
            "column",
            member(table, &column.name),
            describe_column(column),
        ),
        Change::RenameColumn { table, from, to } => new_item(
            Modified,
            "column",
            member(table, from),
            format!("name: {from} → {to}"),
        ),
        Change::ChangeColumnType {
            table,
            column,
            from,
            to,
        } => new_item(
            Modified,
            "column",
            member(table, column),
            format!("type: {from} → {to}"),
        ),
        Change::SetColumnNullable {
            table,
            column,
            nullable,
        } => new_item(
            Modified,
            "column",
            member(table, column),
            format!("nullable: {} → {nullable}", !nullable),
        ),
        Change::SetColumnDefault {
            table,
            column,
            from,
            to,
        } => new_item(
            Modified,
            "column",
            member(table, column),
            format!("default: {} → {}", optional(from), optional(to)),
        ),
        Change::SetColumnIdentity {
            table,
            column,
            identity,
        } => new_item(
            Modified,
            "column",
            member(table, column),
            format!("identity: {} → {identity}", !identity),
        ),
        Change::SetColumnComment {
            table,
            column,
            from,
            to,
        } => new_item(
            Modified,
            "comment",
            member(table, column),
            format!("comment: {} → {}", optional(from), optional(to)),
        ),
        Change::ReorderColumns { table, from, to } => new_item(
            Modified,
            "table",
            table_name(table),
            format!("column order: {} → {}", from.join(", "), to.join(", ")),
        ),
        Change::AddPrimaryKey { table, key } => new_item(
            Extra,
            "primary_key",
            member(table, &key.name),
            format!("({})", key.columns.join(", ")),
        ),
        Change::DropPrimaryKey { table, key } => new_item(
            Missing,
            "primary_key",
            member(table, &key.name),
            format!("({})", key.columns.join(", ")),
        ),
        Change::AddUnique { table, constraint } => new_item(
            Extra,
            "unique",
            member(table, &constraint.name),
            format!("({})", constraint.columns.join(", ")),
        ),
        Change::DropUnique { table, constraint } => new_item(
            Missing,
            "unique",
            member(table, &constraint.name),
            format!("({})", constraint.columns.join(", ")),
        ),
        Change::AddIndex { table, index } => new_item(
            Extra,
            "index",
            member(table, &index.name),
            describe_index(index),
        ),
        Change::DropIndex { table, index } => new_item(
            Missing,
            "index",
            member(table, &index.name),
            describe_index(index),
        ),
        Change::AddForeignKey { table, foreign_key } => new_item(
            Extra,
            "foreign_key",
            member(table, &foreign_key.name),
            describe_foreign_key(foreign_key),
        ),
        Change::DropForeignKey { table, foreign_key } => new_item(
            Missing,
            "foreign_key",
            member(table, &foreign_key.name),
            describe_foreign_key(foreign_key),
        ),
        Change::AddCheck { table, check } => new_item(
            Extra,
            "check",
            member(table, &check.name),
            describe_check(check),
        ),
        Change::DropCheck { table, check } => new_item(
            Missing,
            "check",
            member(table, &check.name),
            describe_check(check),
        ),
    }
}

fn describe_table(table: &Table) -> String {
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    format!("columns: {}", names.join(", "))
}

fn describe_column(column: &Column) -> String {
    let mut text = column.data_type.to_string();
    if !column.nullable {
        text.push_str(" not null");
    }
    if let Some(default) = &column.default {
        text.push_str(" default ");
        text.push_str(default);
    }
    if column.identity {
        text.push_str(" identity");
    }
    text
}

fn describe_index(index: &Index) -> String {
    let columns = format!("({})", index.columns.join(", "));
    if index.unique {
        format!("unique {columns}")
    } else {
        columns
    }
}

fn describe_check(check: &CheckConstraint) -> String {
    format!("check ({})", check.expression)
}

fn describe_foreign_key(fk: &ForeignKey) -> String {
    let mut text = format!(
        "({}) → {}.{}({})",
        fk.columns.join(", "),
        fk.references.schema,
        fk.references.table,
        fk.ref_columns.join(", ")
    );
    for (clause, action) in [("on delete", fk.on_delete), ("on update", fk.on_update)] {
        if action != FkAction::NoAction {
            text.push_str(&format!(" {clause} {}", action_sql(action)));
        }
    }
    text
}

fn action_sql(action: FkAction) -> &'static str {
    match action {
        FkAction::NoAction => "no action",
        FkAction::Restrict => "restrict",
        FkAction::Cascade => "cascade",
        FkAction::SetNull => "set null",
        FkAction::SetDefault => "set default",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ObjectId;
    use crate::state::{Catalog, PrimaryKey, Schema, TableRef};
    use crate::types::DataType;
    use std::collections::BTreeMap;

    fn col(id: &str, name: &str, data_type: DataType) -> Column {
        Column {
            id: ObjectId::new(id),
            name: name.into(),
            data_type,
            nullable: true,
            default: None,
            comment: None,
            identity: false,
        }
    }

    fn expected() -> State {
        let customers = Table {
            id: ObjectId::new("t_cust"),
            name: "customers".into(),
            columns: vec![col("c_cust_id", "id", DataType::BigInt)],
            primary_key: Some(PrimaryKey {
                id: ObjectId::new("pk_cust"),
                name: "customers_pkey".into(),
                columns: vec!["id".into()],
            }),
            uniques: vec![],
            indexes: vec![],
            foreign_keys: vec![],
            checks: vec![],
            comment: None,
            properties: BTreeMap::new(),
        };
        let mut orders_qty = col("c_qty", "qty", DataType::Integer);
        orders_qty.default = Some("0".into());
        let orders = Table {
            id: ObjectId::new("t_ord"),
            name: "orders".into(),
            columns: vec![
                col("c_ord_id", "id", DataType::BigInt),
                col("c_cust", "customer_id", DataType::BigInt),
                orders_qty,
                col("c_note", "note", DataType::Text),
            ],
            primary_key: None,
            uniques: vec![],
            indexes: vec![Index {
                id: ObjectId::new("ix"),
                name: "orders_customer_idx".into(),
                columns: vec!["customer_id".into()],
                unique: false,
            }],
            foreign_keys: vec![ForeignKey {
                id: ObjectId::new("fk"),
                name: "orders_customer_fk".into(),
                columns: vec!["customer_id".into()],
                references: TableRef {
                    schema: "public".into(),
                    table: "customers".into(),
                },
                ref_columns: vec!["id".into()],
                on_delete: FkAction::Cascade,
                on_update: FkAction::NoAction,
            }],
            checks: vec![CheckConstraint {
                id: ObjectId::new("ck"),
                name: "orders_qty_check".into(),
                expression: "qty >= 0".into(),
            }],
            comment: None,
            properties: BTreeMap::from([("owner".to_string(), "sales".to_string())]),
        };
        State {
            catalogs: vec![Catalog {
                id: ObjectId::new("cat"),
                name: "app".into(),
                comment: None,
                schemas: vec![Schema {
                    id: ObjectId::new("sch"),
                    name: "public".into(),
                    comment: None,
                    tables: vec![customers, orders],
                }],
            }],
        }
    }

    fn orders(s: &mut State) -> &mut Table {
        &mut s.catalogs[0].schemas[0].tables[1]
    }

    fn it(kind: DriftKind, object_type: &str, object_name: &str, detail: &str) -> DriftItem {
        new_item(kind, object_type, object_name.into(), detail.into())
    }

    #[test]
    fn no_drift_when_equal() {
        assert_eq!(drift(&expected(), &expected()), vec![]);
    }

    #[test]
    fn missing_modified_and_extra_columns() {
        let mut actual = expected();
        let o = orders(&mut actual);
        o.columns.remove(3);
        o.columns[2].default = Some("1".into());
        o.columns[0].data_type = DataType::Integer;
        o.columns
            .push(col("live_9", "legacy_flag", DataType::Boolean));
        assert_eq!(
            drift(&expected(), &actual),
            vec![
                it(DriftKind::Missing, "column", "public.orders.note", "text"),
                it(
                    DriftKind::Extra,
                    "column",
                    "public.orders.legacy_flag",
                    "boolean"
                ),
                it(
                    DriftKind::Modified,
                    "column",
                    "public.orders.id",
                    "type: bigint → integer"
                ),
                it(
                    DriftKind::Modified,
                    "column",
                    "public.orders.qty",
                    "default: 0 → 1"
                ),
            ]
        );
    }

    #[test]
    fn a_rename_is_one_modified_item_naming_both() {
        let mut actual = expected();
        orders(&mut actual).name = "purchases".into();
        assert_eq!(
            drift(&expected(), &actual),
            vec![it(
                DriftKind::Modified,
                "table",
                "public.orders",
                "name: orders → purchases"
            )]
        );
    }

    #[test]
    fn a_redefined_constraint_is_one_modified_item() {
        let mut actual = expected();
        orders(&mut actual).checks[0].expression = "qty > 0".into();
        orders(&mut actual).foreign_keys[0].on_delete = FkAction::NoAction;
        assert_eq!(
            drift(&expected(), &actual),
            vec![
                it(
                    DriftKind::Modified,
                    "foreign_key",
                    "public.orders.orders_customer_fk",
                    "definition: (customer_id) → public.customers(id) on delete cascade → (customer_id) → public.customers(id)"
                ),
                it(
                    DriftKind::Modified,
                    "check",
                    "public.orders.orders_qty_check",
                    "definition: check (qty >= 0) → check (qty > 0)"
                ),
            ]
        );
    }

    #[test]
    fn missing_and_extra_tables_are_single_items() {
        let mut actual = expected();
        let orders_table = actual.catalogs[0].schemas[0].tables.remove(1);
        let mut audit = orders_table.clone();
        audit.id = ObjectId::new("live_audit");
        audit.name = "audit".into();
        actual.catalogs[0].schemas[0].tables.push(audit);
        assert_eq!(
            drift(&expected(), &actual),
            vec![
                it(
                    DriftKind::Missing,
                    "table",
                    "public.orders",
                    "columns: id, customer_id, qty, note"
                ),
                it(
                    DriftKind::Extra,
                    "table",
                    "public.audit",
                    "columns: id, customer_id, qty, note"
                ),
            ]
        );
    }

    #[test]
    fn missing_index_and_extra_property_and_comment() {
        let mut actual = expected();
        let o = orders(&mut actual);
        o.indexes.clear();
        o.properties.insert("tier".into(), "gold".into());
        o.properties.remove("owner");
        o.columns[3].comment = Some("free text".into());
        actual.catalogs[0].schemas[0].comment = Some("main".into());
        assert_eq!(
            drift(&expected(), &actual),
            vec![
                it(
                    DriftKind::Modified,
                    "comment",
                    "public",
                    "comment: (none) → main"
                ),
                it(
                    DriftKind::Missing,
                    "index",
                    "public.orders.orders_customer_idx",
                    "(customer_id)"
                ),
                it(
                    DriftKind::Modified,
                    "comment",
                    "public.orders.note",
                    "comment: (none) → free text"
                ),
                it(
                    DriftKind::Extra,
                    "property",
                    "public.orders",
                    "tier: (none) → gold"
                ),
                it(
                    DriftKind::Missing,
                    "property",
                    "public.orders",
                    "owner: sales → (none)"
                ),
            ]
        );
    }

    #[test]
    fn missing_schema_lists_its_tables_then_the_schema() {
        let mut actual = expected();
        actual.catalogs[0].schemas.clear();
        let items = drift(&expected(), &actual);
        let summary: Vec<(DriftKind, &str, &str)> = items
            .iter()
            .map(|i| (i.kind, i.object_type.as_str(), i.object_name.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (DriftKind::Missing, "table", "public.customers"),
                (DriftKind::Missing, "table", "public.orders"),
                (DriftKind::Missing, "schema", "public"),
            ]
        );
    }

    #[test]
    fn nullability_and_primary_key_drift() {
        let mut actual = expected();
        actual.catalogs[0].schemas[0].tables[0].primary_key = None;
        orders(&mut actual).columns[1].nullable = false;
        assert_eq!(
            drift(&expected(), &actual),
            vec![
                it(
                    DriftKind::Missing,
                    "primary_key",
                    "public.customers.customers_pkey",
                    "(id)"
                ),
                it(
                    DriftKind::Modified,
                    "column",
                    "public.orders.customer_id",
                    "nullable: true → false"
                ),
            ]
        );
    }

    #[test]
    fn items_serialize_in_snake_case() {
        let json = serde_json::to_value(it(DriftKind::Extra, "table", "public.t", "x")).unwrap();
        assert_eq!(json["kind"], "extra");
        assert_eq!(DriftKind::Missing.to_string(), "missing");
    }
}
