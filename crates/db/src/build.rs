//! Shared assembly of introspected catalog rows into a [`State`].
//!
//! Ids are derived from names (`tbl:public.orders`, `col:public.orders.id`):
//! a live database has no stable ids of its own, and the diff matches live
//! objects by name anyway, so name-derived ids keep two reads of the same
//! database identical. Everything is sorted by name (columns by position), so
//! the same database always reads into the same state whatever order the
//! catalog returned rows in.

use std::collections::BTreeMap;
use tidemark_model::{
    Catalog, CheckConstraint, Column, FkAction, ForeignKey, Index, ObjectId, PrimaryKey, Schema,
    State, Table, TableRef, UniqueConstraint,
};

/// One id component; quoted when it contains the separator so that
/// `("a.b", "c")` and `("a", "b.c")` get different ids.
fn part(name: &str) -> String {
    if name.contains(['.', '"']) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_string()
    }
}

/// `{prefix}:{a}.{b}.…`
fn id(prefix: &str, parts: &[&str]) -> ObjectId {
    let joined: Vec<String> = parts.iter().map(|p| part(p)).collect();
    ObjectId::new(format!("{prefix}:{}", joined.join(".")))
}

/// A table as read from the catalogs, before ids are assigned.
#[derive(Debug, Default)]
pub(crate) struct RawTable {
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    pub columns: Vec<RawColumn>,
    pub primary_key: Option<RawKey>,
    pub uniques: Vec<RawKey>,
    pub indexes: Vec<RawIndex>,
    pub foreign_keys: Vec<RawForeignKey>,
    pub checks: Vec<(String, String)>,
}

/// A column as read from the catalogs.
#[derive(Debug)]
pub(crate) struct RawColumn {
    pub name: String,
    pub data_type: tidemark_model::DataType,
    pub nullable: bool,
    pub default: Option<String>,
    pub comment: Option<String>,
    pub identity: bool,
}

/// A named list of columns (primary key or unique constraint).
#[derive(Debug)]
pub(crate) struct RawKey {
    pub name: String,
    pub columns: Vec<String>,
}

/// A secondary index.
#[derive(Debug)]
pub(crate) struct RawIndex {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

/// A foreign key.
#[derive(Debug)]
pub(crate) struct RawForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_schema: String,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

/// Maps the SQL spelling of a referential action (`NO ACTION`, `SET_NULL`,
/// `cascade`, …) to the model's.
pub(crate) fn fk_action(rule: &str) -> FkAction {
    match rule.trim().to_ascii_uppercase().replace('_', " ").as_str() {
        "RESTRICT" => FkAction::Restrict,
        "CASCADE" => FkAction::Cascade,
        "SET NULL" => FkAction::SetNull,
        "SET DEFAULT" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

/// An empty string means "no comment" in every catalog we read.
pub(crate) fn comment(text: Option<String>) -> Option<String> {
    text.filter(|c| !c.is_empty())
}

/// Builds the state: one catalog, the given schemas (name, comment), and the
/// tables, each filed under its schema. Tables of schemas not listed are
/// dropped.
pub(crate) fn assemble(
    catalog: &str,
    schemas: Vec<(String, Option<String>)>,
    tables: Vec<RawTable>,
) -> State {
    let mut by_schema: BTreeMap<String, (Option<String>, Vec<Table>)> = schemas
        .into_iter()
        .map(|(name, comment)| (name, (comment, Vec::new())))
        .collect();
    for raw in tables {
        if let Some((_, list)) = by_schema.get_mut(&raw.schema) {
            list.push(table(raw));
        }
    }
    let schemas = by_schema
        .into_iter()
        .map(|(name, (comment, mut tables))| {
            tables.sort_by(|a, b| a.name.cmp(&b.name));
            Schema {
                id: id("sch", &[&name]),
                name,
                comment,
                tables,
            }
        })
        .collect();
    State {
        catalogs: vec![Catalog {
            id: id("cat", &[catalog]),
            name: catalog.to_string(),
            comment: None,
            schemas,
        }],
    }
}

fn table(raw: RawTable) -> Table {
    let (s, t) = (raw.schema.as_str(), raw.name.as_str());
    let columns = raw
        .columns
        .into_iter()
        .map(|c| Column {
            id: id("col", &[s, t, &c.name]),
            name: c.name,
            data_type: c.data_type,
            nullable: c.nullable,
            default: c.default,
            comment: c.comment,
            identity: c.identity,
        })
        .collect();
    let primary_key = raw.primary_key.map(|k| PrimaryKey {
        id: id("pk", &[s, t, &k.name]),
        name: k.name,
        columns: k.columns,
    });
    let mut uniques: Vec<UniqueConstraint> = raw
        .uniques
        .into_iter()
        .map(|k| UniqueConstraint {
            id: id("uq", &[s, t, &k.name]),
            name: k.name,
            columns: k.columns,
        })
        .collect();
    uniques.sort_by(|a, b| a.name.cmp(&b.name));
    let mut indexes: Vec<Index> = raw
        .indexes
        .into_iter()
        .map(|i| Index {
            id: id("idx", &[s, t, &i.name]),
            name: i.name,
            columns: i.columns,
            unique: i.unique,
        })
        .collect();
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut foreign_keys: Vec<ForeignKey> = raw
        .foreign_keys
        .into_iter()
        .map(|f| ForeignKey {
            id: id("fk", &[s, t, &f.name]),
            name: f.name,
            columns: f.columns,
            references: TableRef {
                schema: f.ref_schema,
                table: f.ref_table,
            },
            ref_columns: f.ref_columns,
            on_delete: f.on_delete,
            on_update: f.on_update,
        })
        .collect();
    foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
    let mut checks: Vec<CheckConstraint> = raw
        .checks
        .into_iter()
        .map(|(name, expression)| CheckConstraint {
            id: id("ck", &[s, t, &name]),
            name,
            expression,
        })
        .collect();
    checks.sort_by(|a, b| a.name.cmp(&b.name));
    Table {
        id: id("tbl", &[s, t]),
        name: raw.name,
        columns,
        primary_key,
        uniques,
        indexes,
        foreign_keys,
        checks,
        comment: raw.comment,
        properties: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unambiguous_when_names_contain_dots() {
        assert_ne!(id("tbl", &["a.b", "c"]), id("tbl", &["a", "b.c"]));
        assert_eq!(
            id("tbl", &["public", "orders"]).as_str(),
            "tbl:public.orders"
        );
        assert_eq!(
            id("col", &["s", "t\"x", "c"]).as_str(),
            "col:s.\"t\"\"x\".c"
        );
    }

    #[test]
    fn actions_accept_every_catalog_spelling() {
        assert_eq!(fk_action("SET_NULL"), FkAction::SetNull);
        assert_eq!(fk_action("set null"), FkAction::SetNull);
        assert_eq!(fk_action("NO ACTION"), FkAction::NoAction);
        assert_eq!(fk_action("RESTRICT"), FkAction::Restrict);
        assert_eq!(fk_action("CASCADE"), FkAction::Cascade);
        assert_eq!(fk_action("SET DEFAULT"), FkAction::SetDefault);
    }

    #[test]
    fn tables_of_unlisted_schemas_are_left_out_and_order_is_by_name() {
        let t = |schema: &str, name: &str| RawTable {
            schema: schema.into(),
            name: name.into(),
            ..Default::default()
        };
        let state = assemble(
            "db",
            vec![("b".into(), None), ("a".into(), Some("first".into()))],
            vec![t("b", "z"), t("b", "y"), t("other", "x"), t("a", "w")],
        );
        let cat = &state.catalogs[0];
        let names: Vec<(&str, Vec<&str>)> = cat
            .schemas
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.tables.iter().map(|t| t.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(names, vec![("a", vec!["w"]), ("b", vec!["y", "z"])]);
        assert_eq!(cat.schemas[0].comment.as_deref(), Some("first"));
    }
}
