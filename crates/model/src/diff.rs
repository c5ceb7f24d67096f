//! The diff engine: the [`Change`]s that turn one state into another.
//!
//! At every level (catalog, schema, table, column, constraint) objects are
//! matched by id; siblings with no id in common are matched by name under the
//! same parent instead. Ids make a project's renames show up as renames (and
//! a drop plus a re-add under the same name stay a drop and an add); names
//! make a live database, read with ids of its own, line up with the project
//! it should match.
//!
//! Names follow the convention in [`crate::change`]: drops use from-state
//! names throughout; a rename carries its object's old and new name, with
//! its parents already under their to-state names (a planner renames parents
//! before children); everything else uses to-state names.
//!
//! Constraints name columns and tables, so before two matched constraints are
//! compared the from side is translated through the column and table matches:
//! renaming a column does not make its index look changed.
//!
//! A `ReorderColumns` lists only the columns present in both states, in
//! their old and new relative order: additions carry their own positions and
//! drops need none, so an added or dropped column alone is never a reorder.
//!
//! Output order is deterministic: dropped catalogs, then catalogs in to-state
//! order; inside each, dropped schemas then schemas in to-state order; inside
//! each schema, dropped tables then tables in to-state order; inside a table,
//! drops, renames, additions and alterations, then comment and properties.

use crate::change::{Change, QualifiedName};
use crate::ids::ObjectId;
use crate::state::{
    Catalog, CheckConstraint, Column, ForeignKey, Index, Schema, State, Table, TableRef,
    UniqueConstraint,
};
use std::collections::HashMap;

/// The changes that turn `from` into `to`, in a deterministic order.
pub fn diff(from: &State, to: &State) -> Vec<Change> {
    let mut out = Vec::new();
    let catalogs = match_objects(&from.catalogs, &to.catalogs, |c| (&c.id, &c.name));
    for (i, catalog) in from.catalogs.iter().enumerate() {
        if catalogs.from_to[i].is_none() {
            drop_catalog(catalog, &mut out);
        }
    }
    for (j, catalog) in to.catalogs.iter().enumerate() {
        match catalogs.to_from[j] {
            Some(i) => diff_catalog(&from.catalogs[i], catalog, &mut out),
            None => add_catalog(catalog, &mut out),
        }
    }
    out
}

/// Which objects of two sibling lists are the same object.
struct Matching {
    /// For each from-side index, its to-side partner.
    from_to: Vec<Option<usize>>,
    /// For each to-side index, its from-side partner.
    to_from: Vec<Option<usize>>,
}

impl Matching {
    /// Matched pairs `(from, to)` in to-state order.
    fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.to_from
            .iter()
            .enumerate()
            .filter_map(|(j, i)| i.map(|i| (i, j)))
    }

    fn dropped(&self) -> impl Iterator<Item = usize> + '_ {
        self.from_to
            .iter()
            .enumerate()
            .filter_map(|(i, j)| j.is_none().then_some(i))
    }

    fn added(&self) -> impl Iterator<Item = usize> + '_ {
        self.to_from
            .iter()
            .enumerate()
            .filter_map(|(j, i)| i.is_none().then_some(j))
    }
}

/// Lists up to this long are matched by scanning, which beats hashing for
/// the handful of columns and constraints a table usually has.
const SCAN_LIMIT: usize = 16;

impl Matching {
    /// Whether any pair matched by id. Siblings that share ids come from the
    /// same id space (two project states, or a live state aligned to one), so
    /// an unmatched id there is a real drop or add — a column dropped and
    /// re-added under the same name stays a drop plus an add. Only siblings
    /// with no id in common (a live database read with ids of its own) are
    /// paired by name.
    fn any_linked(&self) -> bool {
        self.from_to.iter().any(Option::is_some)
    }
}

fn match_objects<T>(from: &[T], to: &[T], key: impl Fn(&T) -> (&ObjectId, &String)) -> Matching {
    let mut m = Matching {
        from_to: vec![None; from.len()],
        to_from: vec![None; to.len()],
    };
    let link = |m: &mut Matching, i: usize, j: usize| {
        m.from_to[i] = Some(j);
        m.to_from[j] = Some(i);
    };
    if from.len() <= SCAN_LIMIT && to.len() <= SCAN_LIMIT {
        for (j, object) in to.iter().enumerate() {
            let id = key(object).0;
            if let Some(i) = (0..from.len()).find(|&i| key(&from[i]).0 == id) {
                if m.from_to[i].is_none() {
                    link(&mut m, i, j);
                }
            }
        }
        if m.any_linked() {
            return m;
        }
        for (j, object) in to.iter().enumerate() {
            if m.to_from[j].is_some() {
                continue;
            }
            let name = key(object).1;
            if let Some(i) =
                (0..from.len()).find(|&i| m.from_to[i].is_none() && key(&from[i]).1 == name)
            {
                link(&mut m, i, j);
            }
        }
        return m;
    }
    let mut by_id: HashMap<&ObjectId, usize> = HashMap::with_capacity(from.len());
    for (i, object) in from.iter().enumerate() {
        by_id.entry(key(object).0).or_insert(i);
    }
    for (j, object) in to.iter().enumerate() {
        if let Some(&i) = by_id.get(key(object).0) {
            if m.from_to[i].is_none() {
                link(&mut m, i, j);
            }
        }
    }
    if m.any_linked() {
        return m;
    }
    // Leftovers by name; reversed so `pop` yields the first from-side object.
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, object) in from.iter().enumerate().rev() {
        if m.from_to[i].is_none() {
            by_name.entry(key(object).1.as_str()).or_default().push(i);
        }
    }
    if by_name.is_empty() {
        return m;
    }
    for (j, object) in to.iter().enumerate() {
        if m.to_from[j].is_some() {
            continue;
        }
        if let Some(i) = by_name
            .get_mut(key(object).1.as_str())
            .and_then(|candidates| candidates.pop())
        {
            link(&mut m, i, j);
        }
    }
    m
}

fn qualified(catalog: &str, schema: &str, table: &str) -> QualifiedName {
    QualifiedName {
        catalog: catalog.to_string(),
        schema: schema.to_string(),
        name: table.to_string(),
    }
}

fn add_catalog(catalog: &Catalog, out: &mut Vec<Change>) {
    out.push(Change::AddCatalog {
        name: catalog.name.clone(),
    });
    for schema in &catalog.schemas {
        add_schema(&catalog.name, schema, out);
    }
}

fn drop_catalog(catalog: &Catalog, out: &mut Vec<Change>) {
    for schema in &catalog.schemas {
        drop_schema(&catalog.name, schema, out);
    }
    out.push(Change::DropCatalog {
        name: catalog.name.clone(),
    });
}

fn add_schema(catalog: &str, schema: &Schema, out: &mut Vec<Change>) {
    out.push(Change::AddSchema {
        catalog: catalog.to_string(),
        name: schema.name.clone(),
        comment: schema.comment.clone(),
    });
    for table in &schema.tables {
        add_table(qualified(catalog, &schema.name, &table.name), table, out);
    }
}

fn drop_schema(catalog: &str, schema: &Schema, out: &mut Vec<Change>) {
    for table in &schema.tables {
        out.push(Change::DropTable {
            table: qualified(catalog, &schema.name, &table.name),
            definition: table.clone(),
        });
    }
    out.push(Change::DropSchema {
        catalog: catalog.to_string(),
        name: schema.name.clone(),
    });
}

fn add_table(name: QualifiedName, table: &Table, out: &mut Vec<Change>) {
    // Indexes and foreign keys travel separately so every table exists before
    // a key points at it.
    let definition = Table {
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        ..table.clone()
    };
    out.push(Change::AddTable {
        table: name.clone(),
        definition,
    });
    for index in &table.indexes {
        out.push(Change::AddIndex {
            table: name.clone(),
            index: index.clone(),
        });
    }
    for foreign_key in &table.foreign_keys {
        out.push(Change::AddForeignKey {
            table: name.clone(),
            foreign_key: foreign_key.clone(),
        });
    }
}

/// A matched table's to-state names, keyed by its from-state names, so that
/// from-side constraints can be compared in to-state vocabulary. Only names
/// that changed are kept.
struct TableRename<'a> {
    schema: &'a str,
    table: &'a str,
    columns: HashMap<&'a str, &'a str>,
}

/// From-state `(schema, table)` of every matched table of a catalog pair
/// whose schema, table or column names changed.
type TableRenames<'a> = HashMap<(&'a str, &'a str), TableRename<'a>>;

fn table_renames<'a>(from: &'a Catalog, to: &'a Catalog, schemas: &Matching) -> TableRenames<'a> {
    let mut renames = HashMap::new();
    for (si, sj) in schemas.pairs() {
        let (fs, ts) = (&from.schemas[si], &to.schemas[sj]);
        let tables = match_objects(&fs.tables, &ts.tables, |t| (&t.id, &t.name));
        for (ti, tj) in tables.pairs() {
            let (ft, tt) = (&fs.tables[ti], &ts.tables[tj]);
            let columns = match_objects(&ft.columns, &tt.columns, |c| (&c.id, &c.name));
            let renamed: HashMap<&str, &str> = columns
                .pairs()
                .map(|(i, j)| (ft.columns[i].name.as_str(), tt.columns[j].name.as_str()))
                .filter(|(old, new)| old != new)
                .collect();
            // Tables that keep every name translate as themselves: no entry.
            if fs.name != ts.name || ft.name != tt.name || !renamed.is_empty() {
                renames.insert(
                    (fs.name.as_str(), ft.name.as_str()),
                    TableRename {
                        schema: ts.name.as_str(),
                        table: tt.name.as_str(),
                        columns: renamed,
                    },
                );
            }
        }
    }
    renames
}

fn diff_catalog(from: &Catalog, to: &Catalog, out: &mut Vec<Change>) {
    let schemas = match_objects(&from.schemas, &to.schemas, |s| (&s.id, &s.name));
    for i in schemas.dropped() {
        drop_schema(&from.name, &from.schemas[i], out);
    }
    if from.name != to.name {
        out.push(Change::RenameCatalog {
            from: from.name.clone(),
            to: to.name.clone(),
        });
    }
    let renames = table_renames(from, to, &schemas);
    for (j, schema) in to.schemas.iter().enumerate() {
        match schemas.to_from[j] {
            Some(i) => {
                let names = CatalogNames {
                    from_catalog: &from.name,
                    to_catalog: &to.name,
                    renames: &renames,
                };
                diff_schema(&names, &from.schemas[i], schema, out);
            }
            None => add_schema(&to.name, schema, out),
        }
    }
}

/// What a schema diff needs to know about its catalog pair.
struct CatalogNames<'a> {
    from_catalog: &'a str,
    to_catalog: &'a str,
    renames: &'a TableRenames<'a>,
}

fn diff_schema(names: &CatalogNames<'_>, from: &Schema, to: &Schema, out: &mut Vec<Change>) {
    let tables = match_objects(&from.tables, &to.tables, |t| (&t.id, &t.name));
    for i in tables.dropped() {
        let table = &from.tables[i];
        out.push(Change::DropTable {
            table: qualified(names.from_catalog, &from.name, &table.name),
            definition: table.clone(),
        });
    }
    if from.name != to.name {
        out.push(Change::RenameSchema {
            catalog: names.to_catalog.to_string(),
            from: from.name.clone(),
            to: to.name.clone(),
        });
    }
    if from.comment != to.comment {
        out.push(Change::SetSchemaComment {
            catalog: names.to_catalog.to_string(),
            name: to.name.clone(),
            from: from.comment.clone(),
            to: to.comment.clone(),
        });
    }
    for (j, table) in to.tables.iter().enumerate() {
        let to_name = qualified(names.to_catalog, &to.name, &table.name);
        match tables.to_from[j] {
            Some(i) => {
                let old = &from.tables[i];
                let pair = TablePair {
                    from_name: qualified(names.from_catalog, &from.name, &old.name),
                    to_name,
                    rename_from: qualified(names.to_catalog, &to.name, &old.name),
                    from: old,
                    to: table,
                    translate: Translate {
                        renames: names.renames,
                        own: names.renames.get(&(from.name.as_str(), old.name.as_str())),
                    },
                };
                diff_table(&pair, out);
            }
            None => add_table(to_name, table, out),
        }
    }
}

/// Translates from-side column and table names into to-side names.
struct Translate<'a> {
    renames: &'a TableRenames<'a>,
    own: Option<&'a TableRename<'a>>,
}

impl Translate<'_> {
    fn column(&self, name: &str) -> String {
        self.own
            .and_then(|t| t.columns.get(name))
            .map_or(name, |n| n)
            .to_string()
    }

    fn columns(&self, names: &[String]) -> Vec<String> {
        names.iter().map(|n| self.column(n)).collect()
    }

    fn foreign_key(&self, fk: &ForeignKey) -> ForeignKey {
        let target = self
            .renames
            .get(&(fk.references.schema.as_str(), fk.references.table.as_str()));
        ForeignKey {
            columns: self.columns(&fk.columns),
            references: match target {
                Some(t) => TableRef {
                    schema: t.schema.to_string(),
                    table: t.table.to_string(),
                },
                None => fk.references.clone(),
            },
            ref_columns: fk
                .ref_columns
                .iter()
                .map(|c| {
                    target
                        .and_then(|t| t.columns.get(c.as_str()))
                        .map_or(c.as_str(), |n| n)
                        .to_string()
                })
                .collect(),
            ..fk.clone()
        }
    }
}

/// A matched table pair and the names each kind of change uses for it.
struct TablePair<'a> {
    from_name: QualifiedName,
    to_name: QualifiedName,
    /// Parents under to-state names, the table under its old name.
    rename_from: QualifiedName,
    from: &'a Table,
    to: &'a Table,
    translate: Translate<'a>,
}

fn diff_table(p: &TablePair<'_>, out: &mut Vec<Change>) {
    let (from, to, tr) = (p.from, p.to, &p.translate);
    let columns = match_objects(&from.columns, &to.columns, |c| (&c.id, &c.name));

    // Constraints: a matched one whose definition changed is dropped and re-added.
    let fks = match_objects(&from.foreign_keys, &to.foreign_keys, |k| (&k.id, &k.name));
    let (drop_fks, add_fks) = changed(&fks, &from.foreign_keys, &to.foreign_keys, |a, b| {
        tr.foreign_key(a)
            == ForeignKey {
                id: a.id.clone(),
                ..b.clone()
            }
    });
    let indexes = match_objects(&from.indexes, &to.indexes, |x| (&x.id, &x.name));
    let (drop_indexes, add_indexes) =
        changed(&indexes, &from.indexes, &to.indexes, |a: &Index, b| {
            a.name == b.name && a.unique == b.unique && tr.columns(&a.columns) == b.columns
        });
    let checks = match_objects(&from.checks, &to.checks, |c| (&c.id, &c.name));
    let (drop_checks, add_checks) = changed(
        &checks,
        &from.checks,
        &to.checks,
        |a: &CheckConstraint, b| a.name == b.name && a.expression == b.expression,
    );
    let uniques = match_objects(&from.uniques, &to.uniques, |u| (&u.id, &u.name));
    let (drop_uniques, add_uniques) = changed(
        &uniques,
        &from.uniques,
        &to.uniques,
        |a: &UniqueConstraint, b| a.name == b.name && tr.columns(&a.columns) == b.columns,
    );
    // A key's name is usually generated, so only its columns matter.
    let pk_changed = match (&from.primary_key, &to.primary_key) {
        (Some(a), Some(b)) => tr.columns(&a.columns) != b.columns,
        (None, None) => false,
        _ => true,
    };

    let table = || p.from_name.clone();
    for &i in &drop_fks {
        out.push(Change::DropForeignKey {
            table: table(),
            foreign_key: from.foreign_keys[i].clone(),
        });
    }
    for &i in &drop_indexes {
        out.push(Change::DropIndex {
            table: table(),
            index: from.indexes[i].clone(),
        });
    }
    for &i in &drop_checks {
        out.push(Change::DropCheck {
            table: table(),
            check: from.checks[i].clone(),
        });
    }
    for &i in &drop_uniques {
        out.push(Change::DropUnique {
            table: table(),
            constraint: from.uniques[i].clone(),
        });
    }
    if pk_changed {
        if let Some(key) = &from.primary_key {
            out.push(Change::DropPrimaryKey {
                table: table(),
                key: key.clone(),
            });
        }
    }
    for i in columns.dropped() {
        out.push(Change::DropColumn {
            table: table(),
            column: from.columns[i].clone(),
        });
    }

    if from.name != to.name {
        out.push(Change::RenameTable {
            from: p.rename_from.clone(),
            to: to.name.clone(),
        });
    }
    let table = || p.to_name.clone();
    for (i, j) in columns.pairs() {
        if from.columns[i].name != to.columns[j].name {
            out.push(Change::RenameColumn {
                table: table(),
                from: from.columns[i].name.clone(),
                to: to.columns[j].name.clone(),
            });
        }
    }
    for j in columns.added() {
        out.push(Change::AddColumn {
            table: table(),
            column: to.columns[j].clone(),
            position: j,
        });
    }
    for (i, j) in columns.pairs() {
        diff_column(&p.to_name, &from.columns[i], &to.columns[j], out);
    }
    let common: Vec<(usize, usize)> = columns.pairs().collect();
    if common.windows(2).any(|w| w[0].0 > w[1].0) {
        let mut old_order = common.clone();
        old_order.sort_unstable_by_key(|&(i, _)| i);
        out.push(Change::ReorderColumns {
            table: table(),
            from: old_order
                .iter()
                .map(|&(_, j)| to.columns[j].name.clone())
                .collect(),
            to: common
                .iter()
                .map(|&(_, j)| to.columns[j].name.clone())
                .collect(),
        });
    }

    if pk_changed {
        if let Some(key) = &to.primary_key {
            out.push(Change::AddPrimaryKey {
                table: table(),
                key: key.clone(),
            });
        }
    }
    for &j in &add_uniques {
        out.push(Change::AddUnique {
            table: table(),
            constraint: to.uniques[j].clone(),
        });
    }
    for &j in &add_checks {
        out.push(Change::AddCheck {
            table: table(),
            check: to.checks[j].clone(),
        });
    }
    for &j in &add_indexes {
        out.push(Change::AddIndex {
            table: table(),
            index: to.indexes[j].clone(),
        });
    }
    for &j in &add_fks {
        out.push(Change::AddForeignKey {
            table: table(),
            foreign_key: to.foreign_keys[j].clone(),
        });
    }

    if from.comment != to.comment {
        out.push(Change::SetTableComment {
            table: table(),
            from: from.comment.clone(),
            to: to.comment.clone(),
        });
    }
    for (key, value) in &to.properties {
        let old = from.properties.get(key);
        if old != Some(value) {
            out.push(Change::SetTableProperty {
                table: table(),
                key: key.clone(),
                from: old.cloned(),
                to: value.clone(),
            });
        }
    }
    for (key, value) in &from.properties {
        if !to.properties.contains_key(key) {
            out.push(Change::UnsetTableProperty {
                table: table(),
                key: key.clone(),
                from: value.clone(),
            });
        }
    }
}

/// From-side indexes to drop and to-side indexes to add: the unmatched ones
/// plus both halves of every matched pair that `same` says differs.
fn changed<T>(
    matching: &Matching,
    from: &[T],
    to: &[T],
    same: impl Fn(&T, &T) -> bool,
) -> (Vec<usize>, Vec<usize>) {
    let mut drops: Vec<usize> = matching.dropped().collect();
    let mut adds: Vec<usize> = matching.added().collect();
    for (i, j) in matching.pairs() {
        if !same(&from[i], &to[j]) {
            drops.push(i);
            adds.push(j);
        }
    }
    drops.sort_unstable();
    adds.sort_unstable();
    (drops, adds)
}

fn diff_column(table: &QualifiedName, from: &Column, to: &Column, out: &mut Vec<Change>) {
    if from.data_type != to.data_type {
        out.push(Change::ChangeColumnType {
            table: table.clone(),
            column: to.name.clone(),
            from: from.data_type.clone(),
            to: to.data_type.clone(),
        });
    }
    if from.nullable != to.nullable {
        out.push(Change::SetColumnNullable {
            table: table.clone(),
            column: to.name.clone(),
            nullable: to.nullable,
        });
    }
    if from.default != to.default {
        out.push(Change::SetColumnDefault {
            table: table.clone(),
            column: to.name.clone(),
            from: from.default.clone(),
            to: to.default.clone(),
        });
    }
    if from.identity != to.identity {
        out.push(Change::SetColumnIdentity {
            table: table.clone(),
            column: to.name.clone(),
            identity: to.identity,
        });
    }
    if from.comment != to.comment {
        out.push(Change::SetColumnComment {
            table: table.clone(),
            column: to.name.clone(),
            from: from.comment.clone(),
            to: to.comment.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{FkAction, PrimaryKey};
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

    fn table(id: &str, name: &str, columns: Vec<Column>) -> Table {
        Table {
            id: ObjectId::new(id),
            name: name.into(),
            columns,
            primary_key: None,
            uniques: vec![],
            indexes: vec![],
            foreign_keys: vec![],
            checks: vec![],
            comment: None,
            properties: BTreeMap::new(),
        }
    }

    fn customers() -> Table {
        let mut t = table(
            "t_cust",
            "customers",
            vec![
                col("c_cust_id", "id", DataType::BigInt),
                col("c_cust_name", "name", DataType::Text),
            ],
        );
        t.columns[0].nullable = false;
        t.primary_key = Some(PrimaryKey {
            id: ObjectId::new("pk_cust"),
            name: "customers_pkey".into(),
            columns: vec!["id".into()],
        });
        t
    }

    fn orders() -> Table {
        let mut t = table(
            "t_ord",
            "orders",
            vec![
                col("c_ord_id", "id", DataType::BigInt),
                col("c_ord_cust", "customer_id", DataType::BigInt),
                col("c_ord_amount", "amount", DataType::Integer),
                col("c_ord_note", "note", DataType::Text),
            ],
        );
        t.primary_key = Some(PrimaryKey {
            id: ObjectId::new("pk_ord"),
            name: "orders_pkey".into(),
            columns: vec!["id".into()],
        });
        t.indexes.push(Index {
            id: ObjectId::new("ix_ord_cust"),
            name: "orders_customer_idx".into(),
            columns: vec!["customer_id".into()],
            unique: false,
        });
        t.foreign_keys.push(ForeignKey {
            id: ObjectId::new("fk_ord_cust"),
            name: "orders_customer_fk".into(),
            columns: vec!["customer_id".into()],
            references: TableRef {
                schema: "public".into(),
                table: "customers".into(),
            },
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
        });
        t.checks.push(CheckConstraint {
            id: ObjectId::new("ck_ord_amount"),
            name: "orders_amount_check".into(),
            expression: "amount >= 0".into(),
        });
        t.uniques.push(UniqueConstraint {
            id: ObjectId::new("uq_ord_note"),
            name: "orders_note_key".into(),
            columns: vec!["note".into()],
        });
        t.properties.insert("owner".into(), "sales".into());
        t
    }

    fn state() -> State {
        State {
            catalogs: vec![Catalog {
                id: ObjectId::new("cat"),
                name: "app".into(),
                comment: None,
                schemas: vec![Schema {
                    id: ObjectId::new("sch_public"),
                    name: "public".into(),
                    comment: None,
                    tables: vec![customers(), orders()],
                }],
            }],
        }
    }

    fn public(s: &mut State) -> &mut Schema {
        &mut s.catalogs[0].schemas[0]
    }

    fn orders_of(s: &mut State) -> &mut Table {
        &mut public(s).tables[1]
    }

    fn qn(table: &str) -> QualifiedName {
        qualified("app", "public", table)
    }

    /// Gives every object a fresh id, as a live database read does.
    fn with_fresh_ids(mut s: State) -> State {
        let fresh = |id: &mut ObjectId| *id = ObjectId::new(format!("live_{}", id.0));
        for c in &mut s.catalogs {
            fresh(&mut c.id);
            for sc in &mut c.schemas {
                fresh(&mut sc.id);
                for t in &mut sc.tables {
                    fresh(&mut t.id);
                    t.columns.iter_mut().for_each(|c| fresh(&mut c.id));
                    if let Some(pk) = &mut t.primary_key {
                        fresh(&mut pk.id);
                    }
                    t.uniques.iter_mut().for_each(|u| fresh(&mut u.id));
                    t.indexes.iter_mut().for_each(|x| fresh(&mut x.id));
                    t.foreign_keys.iter_mut().for_each(|k| fresh(&mut k.id));
                    t.checks.iter_mut().for_each(|k| fresh(&mut k.id));
                }
            }
        }
        s
    }

    #[test]
    fn identical_states_have_no_changes() {
        let s = state();
        assert_eq!(diff(&s, &s), vec![]);
        assert_eq!(diff(&State::default(), &State::default()), vec![]);
    }

    #[test]
    fn fresh_ids_match_by_name() {
        let s = state();
        assert_eq!(diff(&s, &with_fresh_ids(s.clone())), vec![]);
        let mut live = with_fresh_ids(s.clone());
        orders_of(&mut live).columns[2].data_type = DataType::BigInt;
        assert_eq!(
            diff(&s, &live),
            vec![Change::ChangeColumnType {
                table: qn("orders"),
                column: "amount".into(),
                from: DataType::Integer,
                to: DataType::BigInt,
            }]
        );
    }

    #[test]
    fn renamed_table_and_column_are_renames_not_drop_and_add() {
        let from = state();
        let mut to = state();
        // The reducer keeps constraint and reference names in step with renames.
        public(&mut to).tables[0].name = "clients".into();
        public(&mut to).tables[0].columns[0].name = "client_id".into();
        public(&mut to).tables[0]
            .primary_key
            .as_mut()
            .unwrap()
            .columns = vec!["client_id".into()];
        let o = orders_of(&mut to);
        o.foreign_keys[0].references.table = "clients".into();
        o.foreign_keys[0].ref_columns = vec!["client_id".into()];
        o.columns[3].name = "memo".into();
        o.uniques[0].columns = vec!["memo".into()];
        assert_eq!(
            diff(&from, &to),
            vec![
                Change::RenameTable {
                    from: qn("customers"),
                    to: "clients".into(),
                },
                Change::RenameColumn {
                    table: qn("clients"),
                    from: "id".into(),
                    to: "client_id".into(),
                },
                Change::RenameColumn {
                    table: qn("orders"),
                    from: "note".into(),
                    to: "memo".into(),
                },
            ]
        );
    }

    #[test]
    fn renamed_schema_and_catalog() {
        let from = state();
        let mut to = state();
        to.catalogs[0].name = "shop".into();
        public(&mut to).name = "sales".into();
        orders_of(&mut to).foreign_keys[0].references.schema = "sales".into();
        orders_of(&mut to).name = "purchases".into();
        assert_eq!(
            diff(&from, &to),
            vec![
                Change::RenameCatalog {
                    from: "app".into(),
                    to: "shop".into(),
                },
                Change::RenameSchema {
                    catalog: "shop".into(),
                    from: "public".into(),
                    to: "sales".into(),
                },
                // Parents already carry their new names when the table is renamed.
                Change::RenameTable {
                    from: qualified("shop", "sales", "orders"),
                    to: "purchases".into(),
                },
            ]
        );
    }

    #[test]
    fn drops_use_from_names_and_the_rest_to_names() {
        let from = state();
        let mut to = state();
        let o = orders_of(&mut to);
        o.name = "purchases".into();
        let note = o.columns.remove(3);
        o.uniques.clear();
        o.columns.push(col("c_new", "status", DataType::Text));
        let changes = diff(&from, &to);
        assert_eq!(
            changes,
            vec![
                Change::DropUnique {
                    table: qn("orders"),
                    constraint: from.catalogs[0].schemas[0].tables[1].uniques[0].clone(),
                },
                Change::DropColumn {
                    table: qn("orders"),
                    column: note,
                },
                Change::RenameTable {
                    from: qn("orders"),
                    to: "purchases".into(),
                },
                Change::AddColumn {
                    table: qn("purchases"),
                    column: col("c_new", "status", DataType::Text),
                    position: 3,
                },
            ]
        );
    }

    #[test]
    fn column_alterations() {
        let from = state();
        let mut to = state();
        let c = &mut orders_of(&mut to).columns[2];
        c.data_type = DataType::BigInt;
        c.nullable = false;
        c.default = Some("0".into());
        c.identity = true;
        c.comment = Some("in cents".into());
        let t = qn("orders");
        assert_eq!(
            diff(&from, &to),
            vec![
                Change::ChangeColumnType {
                    table: t.clone(),
                    column: "amount".into(),
                    from: DataType::Integer,
                    to: DataType::BigInt,
                },
                Change::SetColumnNullable {
                    table: t.clone(),
                    column: "amount".into(),
                    nullable: false,
                },
                Change::SetColumnDefault {
                    table: t.clone(),
                    column: "amount".into(),
                    from: None,
                    to: Some("0".into()),
                },
                Change::SetColumnIdentity {
                    table: t.clone(),
                    column: "amount".into(),
                    identity: true,
                },
                Change::SetColumnComment {
                    table: t,
                    column: "amount".into(),
                    from: None,
                    to: Some("in cents".into()),
                },
            ]
        );
    }

    #[test]
    fn adding_a_column_at_the_end_is_not_a_reorder() {
        let from = state();
        let mut to = state();
        orders_of(&mut to)
            .columns
            .push(col("c_x", "status", DataType::Text));
        let changes = diff(&from, &to);
        assert_eq!(changes.len(), 1);
        assert!(matches!(&changes[0], Change::AddColumn { position: 4, .. }));
    }

    #[test]
    fn inserting_or_dropping_a_column_in_the_middle_is_not_a_reorder() {
        let from = state();
        let mut to = state();
        orders_of(&mut to)
            .columns
            .insert(1, col("c_x", "status", DataType::Text));
        orders_of(&mut to).columns.remove(3);
        let changes = diff(&from, &to);
        assert!(
            !changes
                .iter()
                .any(|c| matches!(c, Change::ReorderColumns { .. })),
            "{changes:?}"
        );
        assert!(changes
            .iter()
            .any(|c| matches!(c, Change::AddColumn { position: 1, .. })));
    }

    #[test]
    fn moving_a_column_is_a_reorder_of_the_common_columns() {
        let from = state();
        let mut to = state();
        let o = orders_of(&mut to);
        let note = o.columns.remove(3);
        o.columns.insert(1, note);
        o.columns[0].name = "order_id".into();
        o.primary_key.as_mut().unwrap().columns = vec!["order_id".into()];
        assert_eq!(
            diff(&from, &to),
            vec![
                Change::RenameColumn {
                    table: qn("orders"),
                    from: "id".into(),
                    to: "order_id".into(),
                },
                Change::ReorderColumns {
                    table: qn("orders"),
                    from: vec![
                        "order_id".into(),
                        "customer_id".into(),
                        "amount".into(),
                        "note".into()
                    ],
                    to: vec![
                        "order_id".into(),
                        "note".into(),
                        "customer_id".into(),
                        "amount".into()
                    ],
                },
            ]
        );
    }

    #[test]
    fn changed_constraints_are_dropped_and_re_added() {
        let from = state();
        let mut to = state();
        let o = orders_of(&mut to);
        o.indexes[0].unique = true;
        o.foreign_keys[0].on_delete = FkAction::Restrict;
        o.checks[0].expression = "amount > 0".into();
        o.uniques[0].columns = vec!["note".into(), "amount".into()];
        o.primary_key.as_mut().unwrap().columns = vec!["id".into(), "customer_id".into()];
        let (f, t) = (
            &from.catalogs[0].schemas[0].tables[1],
            orders_of(&mut to).clone(),
        );
        let name = qn("orders");
        assert_eq!(
            diff(&from, &to),
            vec![
                Change::DropForeignKey {
                    table: name.clone(),
                    foreign_key: f.foreign_keys[0].clone(),
                },
                Change::DropIndex {
                    table: name.clone(),
                    index: f.indexes[0].clone(),
                },
                Change::DropCheck {
                    table: name.clone(),
                    check: f.checks[0].clone(),
                },
                Change::DropUnique {
                    table: name.clone(),
                    constraint: f.uniques[0].clone(),
                },
                Change::DropPrimaryKey {
                    table: name.clone(),
                    key: f.primary_key.clone().unwrap(),
                },
                Change::AddPrimaryKey {
                    table: name.clone(),
                    key: t.primary_key.clone().unwrap(),
                },
                Change::AddUnique {
                    table: name.clone(),
                    constraint: t.uniques[0].clone(),
                },
                Change::AddCheck {
                    table: name.clone(),
                    check: t.checks[0].clone(),
                },
                Change::AddIndex {
                    table: name.clone(),
                    index: t.indexes[0].clone(),
                },
                Change::AddForeignKey {
                    table: name,
                    foreign_key: t.foreign_keys[0].clone(),
                },
            ]
        );
    }

    #[test]
    fn primary_key_compares_by_columns_only() {
        let from = state();
        let mut to = with_fresh_ids(state());
        orders_of(&mut to).primary_key.as_mut().unwrap().name = "pk_orders".into();
        assert_eq!(diff(&from, &to), vec![]);
    }

    #[test]
    fn constraints_added_and_dropped_outright() {
        let from = state();
        let mut to = state();
        let o = orders_of(&mut to);
        o.checks.clear();
        o.indexes.push(Index {
            id: ObjectId::new("ix_new"),
            name: "orders_amount_idx".into(),
            columns: vec!["amount".into()],
            unique: false,
        });
        let changes = diff(&from, &to);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(
            matches!(&changes[0], Change::DropCheck { check, .. } if check.name == "orders_amount_check")
        );
        assert!(
            matches!(&changes[1], Change::AddIndex { index, .. } if index.name == "orders_amount_idx")
        );
    }

    #[test]
    fn new_table_comes_without_indexes_and_foreign_keys() {
        let mut from = state();
        public(&mut from).tables.remove(1);
        let to = state();
        let full = orders();
        let changes = diff(&from, &to);
        assert_eq!(
            changes,
            vec![
                Change::AddTable {
                    table: qn("orders"),
                    definition: Table {
                        indexes: vec![],
                        foreign_keys: vec![],
                        ..full.clone()
                    },
                },
                Change::AddIndex {
                    table: qn("orders"),
                    index: full.indexes[0].clone(),
                },
                Change::AddForeignKey {
                    table: qn("orders"),
                    foreign_key: full.foreign_keys[0].clone(),
                },
            ]
        );
    }

    #[test]
    fn dropped_table_carries_its_full_definition() {
        let from = state();
        let mut to = state();
        public(&mut to).tables.remove(1);
        assert_eq!(
            diff(&from, &to),
            vec![Change::DropTable {
                table: qn("orders"),
                definition: orders(),
            }]
        );
    }

    #[test]
    fn dropped_schema_drops_its_tables_first() {
        let from = state();
        let mut to = state();
        to.catalogs[0].schemas.clear();
        assert_eq!(
            diff(&from, &to),
            vec![
                Change::DropTable {
                    table: qn("customers"),
                    definition: customers(),
                },
                Change::DropTable {
                    table: qn("orders"),
                    definition: orders(),
                },
                Change::DropSchema {
                    catalog: "app".into(),
                    name: "public".into(),
                },
            ]
        );
    }

    #[test]
    fn new_and_dropped_catalogs_cascade() {
        let empty = State::default();
        let s = state();
        let added = diff(&empty, &s);
        let kinds: Vec<String> = added.iter().map(kind).collect();
        assert_eq!(
            kinds,
            [
                "add_catalog",
                "add_schema",
                "add_table",
                "add_table",
                "add_index",
                "add_foreign_key"
            ]
        );
        let dropped = diff(&s, &empty);
        let kinds: Vec<String> = dropped.iter().map(kind).collect();
        assert_eq!(
            kinds,
            ["drop_table", "drop_table", "drop_schema", "drop_catalog"]
        );
    }

    #[test]
    fn schema_and_table_metadata() {
        let from = state();
        let mut to = state();
        public(&mut to).comment = Some("main".into());
        let o = orders_of(&mut to);
        o.comment = Some("all orders".into());
        o.properties.insert("owner".into(), "finance".into());
        o.properties.insert("tier".into(), "gold".into());
        let mut from2 = from.clone();
        orders_of(&mut from2)
            .properties
            .insert("legacy".into(), "yes".into());
        assert_eq!(
            diff(&from2, &to),
            vec![
                Change::SetSchemaComment {
                    catalog: "app".into(),
                    name: "public".into(),
                    from: None,
                    to: Some("main".into()),
                },
                Change::SetTableComment {
                    table: qn("orders"),
                    from: None,
                    to: Some("all orders".into()),
                },
                Change::SetTableProperty {
                    table: qn("orders"),
                    key: "owner".into(),
                    from: Some("sales".into()),
                    to: "finance".into(),
                },
                Change::SetTableProperty {
                    table: qn("orders"),
                    key: "tier".into(),
                    from: None,
                    to: "gold".into(),
                },
                Change::UnsetTableProperty {
                    table: qn("orders"),
                    key: "legacy".into(),
                    from: "yes".into(),
                },
            ]
        );
    }

    #[test]
    fn id_match_wins_over_name_match() {
        // Column "a" was renamed to "b" and a new column took the name "a".
        let from_t = table("t", "t", vec![col("c1", "a", DataType::Integer)]);
        let to_t = table(
            "t",
            "t",
            vec![
                col("c1", "b", DataType::Integer),
                col("c2", "a", DataType::Text),
            ],
        );
        let wrap = |t: Table| State {
            catalogs: vec![Catalog {
                id: ObjectId::new("cat"),
                name: "app".into(),
                comment: None,
                schemas: vec![Schema {
                    id: ObjectId::new("s"),
                    name: "public".into(),
                    comment: None,
                    tables: vec![t],
                }],
            }],
        };
        let changes = diff(&wrap(from_t), &wrap(to_t));
        let kinds: Vec<String> = changes.iter().map(kind).collect();
        assert_eq!(kinds, ["rename_column", "add_column"]);
    }

    #[test]
    fn output_is_deterministic() {
        let from = state();
        let mut to = with_fresh_ids(state());
        public(&mut to).tables.swap(0, 1);
        orders_of(&mut to).columns.reverse();
        public(&mut to).tables[0]
            .properties
            .insert("b".into(), "1".into());
        public(&mut to).tables[0]
            .properties
            .insert("a".into(), "1".into());
        let first = diff(&from, &to);
        assert!(!first.is_empty());
        for _ in 0..5 {
            assert_eq!(diff(&from, &to), first);
        }
        assert_eq!(
            serde_json::to_string(&diff(&from.clone(), &to.clone())).unwrap(),
            serde_json::to_string(&first).unwrap()
        );
    }

    fn kind(change: &Change) -> String {
        serde_json::to_value(change).unwrap()["change"]
            .as_str()
            .unwrap()
            .to_string()
    }
}
