//! The reducer: checks an op against a state and applies it.
//!
//! [`Reducer`] owns a [`State`] plus indexes (id → location, table and index
//! names per schema, foreign keys per referenced table), so an op costs about
//! the size of the objects it touches, not the size of the state. Every op is
//! checked completely before anything changes, so a rejected op leaves the
//! state exactly as it was.
//!
//! Rules the reducer enforces, beyond "the target exists and has the right
//! kind":
//! - ids are unique across the whole state and never `"root"`;
//! - names are non-blank and unique among siblings: catalogs in the state,
//!   schemas in a catalog, tables in a schema, columns in a table, constraints
//!   (primary key, uniques, foreign keys, checks) in a table, indexes in a
//!   schema (PostgreSQL keeps index names per schema);
//! - keys and constraints name existing columns, each once; an index entry
//!   that is not a column name is kept as an expression unless it looks like a
//!   bare identifier (then it is a misspelt column);
//! - a foreign key references an existing table of its own catalog and as
//!   many of that table's columns as it has columns;
//! - nothing is dropped while a key, index or foreign key still uses it;
//!   dropping a schema or catalog drops its contents, but not while a table
//!   outside it references a table inside;
//! - renames of columns, tables and schemas are carried into every key, index
//!   and foreign key that names them. Check expressions and index expressions
//!   are SQL text and are not rewritten.

use crate::error::{ModelError, ObjectKind};
use crate::ids::ObjectId;
use crate::ops::{Action, Op};
use crate::state::{
    Catalog, CheckConstraint, Column, ForeignKey, Index, PrimaryKey, Schema, State, Table,
    TableRef, UniqueConstraint,
};
use std::collections::{BTreeMap, HashMap};

/// Applies ops to a [`State`] it owns, quickly and atomically.
///
/// Build one per replay (`Reducer::new(state)`), feed it ops with
/// [`Reducer::apply`], then take the state back with
/// [`Reducer::into_state`].
///
/// The state handed to [`Reducer::new`] is trusted to satisfy the rules in
/// the module docs (states from snapshots and from the reducer do). For a
/// state that breaks them, such as a hand-edited file with a repeated id, the
/// reducer never panics but works best-effort: the first object with a given
/// id is the one ops reach, and a foreign key that did not resolve when the
/// reducer was built is left out of rename propagation and drop checks.
#[derive(Debug, Clone, Default)]
pub struct Reducer {
    state: State,
    ix: Indexes,
}

/// Where a table sits: catalog, schema and table positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TablePos {
    c: usize,
    s: usize,
    t: usize,
}

/// Where an id lives. Containers store positions, which are shifted when a
/// sibling before them is dropped; table members store their table's id and
/// are found by a scan of that (small) table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Loc {
    Catalog(usize),
    Schema(usize, usize),
    Table(TablePos),
    Column(ObjectId),
    PrimaryKey(ObjectId),
    Unique(ObjectId),
    Index(ObjectId),
    ForeignKey {
        table: ObjectId,
        /// The referenced table's id, resolved when the key was indexed.
        /// Ids survive renames, and the referenced table cannot be dropped
        /// while the key exists, so this stays valid.
        references: Option<ObjectId>,
    },
    Check(ObjectId),
}

impl Loc {
    fn kind(&self) -> ObjectKind {
        match self {
            Loc::Catalog(_) => ObjectKind::Catalog,
            Loc::Schema(..) => ObjectKind::Schema,
            Loc::Table(_) => ObjectKind::Table,
            Loc::Column(_) => ObjectKind::Column,
            Loc::PrimaryKey(_) => ObjectKind::PrimaryKey,
            Loc::Unique(_) => ObjectKind::Unique,
            Loc::Index(_) => ObjectKind::Index,
            Loc::ForeignKey { .. } => ObjectKind::ForeignKey,
            Loc::Check(_) => ObjectKind::Check,
        }
    }

    /// The owning table of a table member.
    fn table(&self) -> Option<&ObjectId> {
        match self {
            Loc::Column(t)
            | Loc::PrimaryKey(t)
            | Loc::Unique(t)
            | Loc::Index(t)
            | Loc::Check(t)
            | Loc::ForeignKey { table: t, .. } => Some(t),
            Loc::Catalog(_) | Loc::Schema(..) | Loc::Table(_) => None,
        }
    }
}

/// Everything the reducer keeps beside the state. Kept apart from the state
/// so one can be read while the other is updated.
#[derive(Debug, Clone, Default)]
struct Indexes {
    locs: HashMap<ObjectId, Loc>,
    /// Schema id → table name → table id.
    tables_by_name: HashMap<ObjectId, HashMap<String, ObjectId>>,
    /// Schema id → index name → index id.
    index_names: HashMap<ObjectId, HashMap<String, ObjectId>>,
    /// Table id → ids of the foreign keys that reference it (its own
    /// self-references included).
    referenced_by: HashMap<ObjectId, Vec<ObjectId>>,
}

impl Indexes {
    fn build(state: &State) -> Indexes {
        let objects: usize = state
            .catalogs
            .iter()
            .flat_map(|c| &c.schemas)
            .flat_map(|s| &s.tables)
            .map(|t| {
                1 + t.columns.len()
                    + usize::from(t.primary_key.is_some())
                    + t.uniques.len()
                    + t.indexes.len()
                    + t.foreign_keys.len()
                    + t.checks.len()
            })
            .sum();
        let mut ix = Indexes {
            locs: HashMap::with_capacity(objects + 64),
            ..Indexes::default()
        };
        for (c, catalog) in state.catalogs.iter().enumerate() {
            ix.claim(&catalog.id, Loc::Catalog(c));
            for (s, schema) in catalog.schemas.iter().enumerate() {
                ix.claim(&schema.id, Loc::Schema(c, s));
                for (t, table) in schema.tables.iter().enumerate() {
                    ix.add_table(&schema.id, table, TablePos { c, s, t });
                }
            }
        }
        // Foreign keys last: resolving one needs every table of the catalog.
        for (c, catalog) in state.catalogs.iter().enumerate() {
            for (s, schema) in catalog.schemas.iter().enumerate() {
                for (t, table) in schema.tables.iter().enumerate() {
                    // A table whose id an earlier table took was not indexed; neither are its keys.
                    if ix.locs.get(&table.id) != Some(&Loc::Table(TablePos { c, s, t })) {
                        continue;
                    }
                    for fk in &table.foreign_keys {
                        let target = ix.resolve(catalog, &fk.references);
                        ix.add_foreign_key(&table.id, &fk.id, target);
                    }
                }
            }
        }
        ix
    }

    /// Records `id` at `loc` unless the id is taken (first object wins).
    fn claim(&mut self, id: &ObjectId, loc: Loc) -> bool {
        if self.locs.contains_key(id) {
            return false;
        }
        self.locs.insert(id.clone(), loc);
        true
    }

    /// Indexes a table and everything in it except its foreign keys.
    fn add_table(&mut self, schema_id: &ObjectId, table: &Table, pos: TablePos) {
        if !self.claim(&table.id, Loc::Table(pos)) {
            return;
        }
        self.tables_by_name
            .entry(schema_id.clone())
            .or_default()
            .entry(table.name.clone())
            .or_insert_with(|| table.id.clone());
        for column in &table.columns {
            self.claim(&column.id, Loc::Column(table.id.clone()));
        }
        if let Some(pk) = &table.primary_key {
            self.claim(&pk.id, Loc::PrimaryKey(table.id.clone()));
        }
        for unique in &table.uniques {
            self.claim(&unique.id, Loc::Unique(table.id.clone()));
        }
        for index in &table.indexes {
            if self.claim(&index.id, Loc::Index(table.id.clone())) {
                self.index_names
                    .entry(schema_id.clone())
                    .or_default()
                    .entry(index.name.clone())
                    .or_insert_with(|| index.id.clone());
            }
        }
        for check in &table.checks {
            self.claim(&check.id, Loc::Check(table.id.clone()));
        }
    }

    fn add_foreign_key(&mut self, table: &ObjectId, fk: &ObjectId, references: Option<ObjectId>) {
        let loc = Loc::ForeignKey {
            table: table.clone(),
            references: references.clone(),
        };
        if self.claim(fk, loc) {
            if let Some(target) = references {
                self.referenced_by
                    .entry(target)
                    .or_default()
                    .push(fk.clone());
            }
        }
    }

    /// The id of the table a reference names within `catalog`.
    fn resolve(&self, catalog: &Catalog, reference: &TableRef) -> Option<ObjectId> {
        let schema = catalog
            .schemas
            .iter()
            .find(|s| s.name == reference.schema)?;
        self.tables_by_name
            .get(&schema.id)?
            .get(&reference.table)
            .cloned()
    }

    /// Removes `id` if it still points at what `owned` accepts, so that a
    /// repeated id in a hand-made state cannot unhook the object that owns it.
    fn forget(&mut self, id: &ObjectId, owned: impl FnOnce(&Loc) -> bool) -> Option<Loc> {
        if self.locs.get(id).is_some_and(owned) {
            self.locs.remove(id)
        } else {
            None
        }
    }

    /// Moves `id` from `old` to `new` if it is still at `old`.
    fn shift(&mut self, id: &ObjectId, old: Loc, new: Loc) {
        if let Some(loc) = self.locs.get_mut(id) {
            if *loc == old {
                *loc = new;
            }
        }
    }

    fn forget_foreign_key(&mut self, table: &ObjectId, fk: &ObjectId) {
        let owned = |l: &Loc| l.table() == Some(table);
        if let Some(Loc::ForeignKey {
            references: Some(target),
            ..
        }) = self.forget(fk, owned)
        {
            if let Some(list) = self.referenced_by.get_mut(&target) {
                list.retain(|id| id != fk);
                if list.is_empty() {
                    self.referenced_by.remove(&target);
                }
            }
        }
    }

    fn forget_index(&mut self, schema_id: &ObjectId, table: &ObjectId, index: &Index) {
        if self
            .forget(&index.id, |l| l.table() == Some(table))
            .is_some()
        {
            if let Some(names) = self.index_names.get_mut(schema_id) {
                if names.get(&index.name) == Some(&index.id) {
                    names.remove(&index.name);
                }
            }
        }
    }

    /// Unindexes a table and everything in it.
    fn forget_table(&mut self, schema_id: &ObjectId, table: &Table, pos: TablePos) {
        if self.forget(&table.id, |l| *l == Loc::Table(pos)).is_none() {
            return;
        }
        let id = &table.id;
        let owned = |l: &Loc| l.table() == Some(id);
        for column in &table.columns {
            self.forget(&column.id, owned);
        }
        if let Some(pk) = &table.primary_key {
            self.forget(&pk.id, owned);
        }
        for unique in &table.uniques {
            self.forget(&unique.id, owned);
        }
        for check in &table.checks {
            self.forget(&check.id, owned);
        }
        for index in &table.indexes {
            self.forget_index(schema_id, id, index);
        }
        for fk in &table.foreign_keys {
            self.forget_foreign_key(id, &fk.id);
        }
        // Only reached when every referencing key goes too (the drop checks
        // saw to it), so the list can go as a whole.
        self.referenced_by.remove(id);
        if let Some(names) = self.tables_by_name.get_mut(schema_id) {
            if names.get(&table.name) == Some(id) {
                names.remove(&table.name);
            }
        }
    }

    fn forget_schema(&mut self, schema: &Schema, c: usize, s: usize) {
        if self
            .forget(&schema.id, |l| *l == Loc::Schema(c, s))
            .is_none()
        {
            return;
        }
        for (t, table) in schema.tables.iter().enumerate() {
            self.forget_table(&schema.id, table, TablePos { c, s, t });
        }
        self.tables_by_name.remove(&schema.id);
        self.index_names.remove(&schema.id);
    }

    /// After the table before position `from` was removed: every later table
    /// moved down by one.
    fn shift_tables(&mut self, schema: &Schema, c: usize, s: usize, from: usize) {
        for (t, table) in schema.tables.iter().enumerate().skip(from) {
            let old = Loc::Table(TablePos { c, s, t: t + 1 });
            self.shift(&table.id, old, Loc::Table(TablePos { c, s, t }));
        }
    }

    /// Moves every table of `schema` from schema position `(oc, os)` to `(c, s)`.
    fn move_schema(&mut self, schema: &Schema, (oc, os): (usize, usize), (c, s): (usize, usize)) {
        self.shift(&schema.id, Loc::Schema(oc, os), Loc::Schema(c, s));
        for (t, table) in schema.tables.iter().enumerate() {
            let old = Loc::Table(TablePos { c: oc, s: os, t });
            self.shift(&table.id, old, Loc::Table(TablePos { c, s, t }));
        }
    }
}

impl Reducer {
    /// Takes ownership of `state` and indexes it (linear in its size).
    pub fn new(state: State) -> Reducer {
        let ix = Indexes::build(&state);
        Reducer { state, ix }
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Gives the state back.
    pub fn into_state(self) -> State {
        self.state
    }

    /// What kind of object `id` names, if any.
    pub fn kind_of(&self, id: &ObjectId) -> Option<ObjectKind> {
        self.ix.locs.get(id).map(Loc::kind)
    }

    /// Applies ops in order, stopping at the first rejected one, whose
    /// position in `ops` comes back with the error. The ops before it stay
    /// applied.
    pub fn apply_all<'a>(
        &mut self,
        ops: impl IntoIterator<Item = &'a Op>,
    ) -> Result<(), (usize, ModelError)> {
        for (i, op) in ops.into_iter().enumerate() {
            self.apply(op).map_err(|e| (i, e))?;
        }
        Ok(())
    }

    /// Checks `op` and applies it. On error nothing has changed.
    pub fn apply(&mut self, op: &Op) -> Result<(), ModelError> {
        let op_name = op.action.name();
        let target = &op.target;
        match &op.action {
            Action::AddCatalog { id, name: new } => self.add_catalog(op_name, target, id, new),
            Action::RenameCatalog { name: new } => self.rename_catalog(op_name, target, new),
            Action::DropCatalog => self.drop_catalog(op_name, target),
            Action::AddSchema { id, name: new } => self.add_schema(op_name, target, id, new),
            Action::RenameSchema { name: new } => self.rename_schema(op_name, target, new),
            Action::DropSchema => self.drop_schema(op_name, target),
            Action::AddTable { id, name: new } => self.add_table(op_name, target, id, new),
            Action::RenameTable { name: new } => self.rename_table(op_name, target, new),
            Action::DropTable => self.drop_table(op_name, target),
            Action::AddColumn {
                id,
                name: new,
                data_type,
                nullable,
                default,
                comment,
                identity,
                position,
            } => self.add_column(
                op_name,
                target,
                Column {
                    id: id.clone(),
                    name: new.clone(),
                    data_type: data_type.clone(),
                    nullable: *nullable,
                    default: default.clone(),
                    comment: comment.clone(),
                    identity: *identity,
                },
                *position,
            ),
            Action::RenameColumn { name: new } => self.rename_column(op_name, target, new),
            Action::DropColumn => self.drop_column(op_name, target),
            Action::ChangeColumnType { data_type } => {
                self.column_mut(op_name, target)?.data_type = data_type.clone();
                Ok(())
            }
            Action::SetNullable { nullable } => {
                self.column_mut(op_name, target)?.nullable = *nullable;
                Ok(())
            }
            Action::SetDefault { default } => {
                self.column_mut(op_name, target)?.default = default.clone();
                Ok(())
            }
            Action::SetIdentity { identity } => {
                self.column_mut(op_name, target)?.identity = *identity;
                Ok(())
            }
            Action::SetComment { comment } => self.set_comment(op_name, target, comment),
            Action::ReorderColumns { order } => self.reorder_columns(op_name, target, order),
            Action::AddPrimaryKey {
                id,
                name: key_name,
                columns,
            } => self.add_primary_key(op_name, target, id, key_name.as_deref(), columns),
            Action::DropPrimaryKey => self.drop_primary_key(op_name, target),
            Action::AddUnique {
                id,
                name: new,
                columns,
            } => self.add_unique(op_name, target, id, new, columns),
            Action::DropUnique => self.drop_member(op_name, target, ObjectKind::Unique),
            Action::AddIndex {
                id,
                name: new,
                columns,
                unique,
            } => self.add_index(op_name, target, id, new, columns, *unique),
            Action::DropIndex => self.drop_member(op_name, target, ObjectKind::Index),
            Action::AddForeignKey {
                id,
                name: new,
                columns,
                references,
                ref_columns,
                on_delete,
                on_update,
            } => self.add_foreign_key(
                op_name,
                target,
                ForeignKey {
                    id: id.clone(),
                    name: new.clone(),
                    columns: columns.clone(),
                    references: references.clone(),
                    ref_columns: ref_columns.clone(),
                    on_delete: *on_delete,
                    on_update: *on_update,
                },
            ),
            Action::DropForeignKey => self.drop_member(op_name, target, ObjectKind::ForeignKey),
            Action::AddCheck {
                id,
                name: new,
                expression,
            } => self.add_check(op_name, target, id, new, expression),
            Action::DropCheck => self.drop_member(op_name, target, ObjectKind::Check),
            Action::SetTableProperty { key, value } => {
                let p = self.table_at(op_name, target)?;
                non_blank(op_name, "property key", key)?;
                self.table_mut(p)
                    .properties
                    .insert(key.clone(), value.clone());
                Ok(())
            }
            Action::UnsetTableProperty { key } => {
                let p = self.table_at(op_name, target)?;
                if !self.table(p).properties.contains_key(key) {
                    return Err(ModelError::PropertyMissing {
                        op: op_name,
                        table: self.table_label(p),
                        key: key.clone(),
                    });
                }
                self.table_mut(p).properties.remove(key);
                Ok(())
            }
        }
    }

    // ---- lookups ------------------------------------------------------

    fn table(&self, p: TablePos) -> &Table {
        &self.state.catalogs[p.c].schemas[p.s].tables[p.t]
    }

    fn table_mut(&mut self, p: TablePos) -> &mut Table {
        &mut self.state.catalogs[p.c].schemas[p.s].tables[p.t]
    }

    fn schema(&self, c: usize, s: usize) -> &Schema {
        &self.state.catalogs[c].schemas[s]
    }

    fn table_pos(&self, id: &ObjectId) -> Option<TablePos> {
        match self.ix.locs.get(id) {
            Some(Loc::Table(p)) => Some(*p),
            _ => None,
        }
    }

    /// `schema.table`, the way messages name a table.
    fn table_label(&self, p: TablePos) -> String {
        format!("{}.{}", self.schema(p.c, p.s).name, self.table(p).name)
    }

    /// The position of a member of `kind` in its table's list.
    fn member_index(&self, p: TablePos, kind: ObjectKind, id: &ObjectId) -> Option<usize> {
        let table = self.table(p);
        match kind {
            ObjectKind::Column => table.columns.iter().position(|x| x.id == *id),
            ObjectKind::Unique => table.uniques.iter().position(|x| x.id == *id),
            ObjectKind::Index => table.indexes.iter().position(|x| x.id == *id),
            ObjectKind::ForeignKey => table.foreign_keys.iter().position(|x| x.id == *id),
            ObjectKind::Check => table.checks.iter().position(|x| x.id == *id),
            ObjectKind::PrimaryKey => table
                .primary_key
                .as_ref()
                .filter(|k| k.id == *id)
                .map(|_| 0),
            ObjectKind::Catalog | ObjectKind::Schema | ObjectKind::Table => None,
        }
    }

    /// Where a table member (column, key, index, constraint) sits.
    fn member_pos(&self, id: &ObjectId) -> Option<(TablePos, usize)> {
        let loc = self.ix.locs.get(id)?;
        let p = self.table_pos(loc.table()?)?;
        Some((p, self.member_index(p, loc.kind(), id)?))
    }

    /// The name of the member of `kind` at position `i` of table `p`.
    fn member_name(&self, p: TablePos, kind: ObjectKind, i: usize) -> &str {
        let table = self.table(p);
        match kind {
            ObjectKind::Column => &table.columns[i].name,
            ObjectKind::Unique => &table.uniques[i].name,
            ObjectKind::Index => &table.indexes[i].name,
            ObjectKind::ForeignKey => &table.foreign_keys[i].name,
            ObjectKind::Check => &table.checks[i].name,
            ObjectKind::PrimaryKey => table.primary_key.as_ref().map_or("", |k| &k.name),
            ObjectKind::Catalog | ObjectKind::Schema | ObjectKind::Table => "",
        }
    }

    /// How messages name the object `id` names.
    fn describe(&self, id: &ObjectId) -> String {
        let Some(loc) = self.ix.locs.get(id) else {
            return format!("unknown object {id}");
        };
        match loc {
            Loc::Catalog(c) => format!("catalog {}", self.state.catalogs[*c].name),
            Loc::Schema(c, s) => format!("schema {}", self.schema(*c, *s).name),
            Loc::Table(p) => format!("table {}", self.table_label(*p)),
            _ => match self.member_pos(id) {
                Some((p, i)) if loc.kind() == ObjectKind::Column => {
                    format!(
                        "column {}.{}",
                        self.table_label(p),
                        self.member_name(p, loc.kind(), i)
                    )
                }
                Some((p, i)) => format!(
                    "{} {} on {}",
                    loc.kind(),
                    self.member_name(p, loc.kind(), i),
                    self.table_label(p)
                ),
                None => format!("{} {id}", loc.kind()),
            },
        }
    }

    /// Foreign keys (table, position) that reference the table `id`.
    fn referencing(&self, id: &ObjectId) -> Vec<(TablePos, usize)> {
        let mut found: Vec<(TablePos, usize)> = self
            .ix
            .referenced_by
            .get(id)
            .map(|fks| fks.iter().filter_map(|fk| self.member_pos(fk)).collect())
            .unwrap_or_default();
        // The index keeps keys in the order they were indexed, which differs
        // between a reducer built from a state and one that applied ops: sort
        // by position in the state so errors name the same key either way.
        found.sort_by_key(|(p, i)| (p.c, p.s, p.t, *i));
        found
    }

    /// `foreign key name on schema.table`.
    fn fk_label(&self, (p, i): (TablePos, usize)) -> String {
        format!(
            "foreign key {} on {}",
            self.table(p).foreign_keys[i].name,
            self.table_label(p)
        )
    }

    // ---- target resolution -------------------------------------------

    fn loc_of(
        &self,
        op: &'static str,
        id: &ObjectId,
        expected: &'static str,
    ) -> Result<&Loc, ModelError> {
        self.ix
            .locs
            .get(id)
            .ok_or_else(|| ModelError::UnknownTarget {
                op,
                expected,
                id: id.clone(),
            })
    }

    fn wrong_kind(&self, op: &'static str, id: &ObjectId, expected: &'static str) -> ModelError {
        ModelError::WrongTargetKind {
            op,
            expected,
            id: id.clone(),
            found: self.describe(id),
        }
    }

    fn catalog_at(&self, op: &'static str, id: &ObjectId) -> Result<usize, ModelError> {
        match self.loc_of(op, id, "catalog")? {
            Loc::Catalog(c) => Ok(*c),
            _ => Err(self.wrong_kind(op, id, "catalog")),
        }
    }

    fn schema_at(&self, op: &'static str, id: &ObjectId) -> Result<(usize, usize), ModelError> {
        match self.loc_of(op, id, "schema")? {
            Loc::Schema(c, s) => Ok((*c, *s)),
            _ => Err(self.wrong_kind(op, id, "schema")),
        }
    }

    fn table_at(&self, op: &'static str, id: &ObjectId) -> Result<TablePos, ModelError> {
        match self.loc_of(op, id, "table")? {
            Loc::Table(p) => Ok(*p),
            _ => Err(self.wrong_kind(op, id, "table")),
        }
    }

    /// The table and position of a member of `kind` targeted by `op`.
    fn member_at(
        &self,
        op: &'static str,
        id: &ObjectId,
        kind: ObjectKind,
    ) -> Result<(TablePos, usize), ModelError> {
        let expected = kind.as_str();
        if self.loc_of(op, id, expected)?.kind() != kind {
            return Err(self.wrong_kind(op, id, expected));
        }
        self.member_pos(id)
            .ok_or_else(|| ModelError::UnknownTarget {
                op,
                expected,
                id: id.clone(),
            })
    }

    fn column_mut(&mut self, op: &'static str, id: &ObjectId) -> Result<&mut Column, ModelError> {
        let (p, i) = self.member_at(op, id, ObjectKind::Column)?;
        Ok(&mut self.table_mut(p).columns[i])
    }

    // ---- shared checks -------------------------------------------------

    fn check_new_id(
        &self,
        op: &'static str,
        kind: ObjectKind,
        id: &ObjectId,
    ) -> Result<(), ModelError> {
        if id.as_str().trim().is_empty() {
            return Err(ModelError::Empty {
                op,
                what: format!("{kind} id"),
            });
        }
        let existing = if id.as_str() == ObjectId::ROOT {
            "the root of the state".to_string()
        } else if self.ix.locs.contains_key(id) {
            self.describe(id)
        } else {
            return Ok(());
        };
        Err(ModelError::DuplicateId {
            op,
            id: id.clone(),
            existing,
        })
    }

    /// Checks a new constraint name against the table's constraint namespace.
    fn check_constraint_name(
        &self,
        op: &'static str,
        p: TablePos,
        name: &str,
    ) -> Result<(), ModelError> {
        let table = self.table(p);
        let existing = if table.primary_key.as_ref().is_some_and(|k| k.name == name) {
            Some(ObjectKind::PrimaryKey)
        } else if table.uniques.iter().any(|u| u.name == name) {
            Some(ObjectKind::Unique)
        } else if table.foreign_keys.iter().any(|f| f.name == name) {
            Some(ObjectKind::ForeignKey)
        } else if table.checks.iter().any(|c| c.name == name) {
            Some(ObjectKind::Check)
        } else {
            None
        };
        match existing {
            Some(existing) => Err(ModelError::NameCollision {
                op,
                parent: format!("table {}", self.table_label(p)),
                existing,
                name: name.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Checks a key's column list: non-empty, existing columns, each once.
    fn check_key_columns(
        &self,
        op: &'static str,
        p: TablePos,
        object: impl Fn() -> String,
        columns: &[String],
    ) -> Result<(), ModelError> {
        if columns.is_empty() {
            return Err(ModelError::NoColumns {
                op,
                object: object(),
            });
        }
        let table = self.table(p);
        for (i, column) in columns.iter().enumerate() {
            if !table.columns.iter().any(|c| c.name == *column) {
                return Err(ModelError::UnknownColumn {
                    op,
                    table: self.table_label(p),
                    column: column.clone(),
                });
            }
            if columns[..i].contains(column) {
                return Err(ModelError::RepeatedColumn {
                    op,
                    object: object(),
                    column: column.clone(),
                });
            }
        }
        Ok(())
    }

    // ---- catalogs ------------------------------------------------------

    fn add_catalog(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        id: &ObjectId,
        name: &str,
    ) -> Result<(), ModelError> {
        if target.as_str() != ObjectId::ROOT {
            return Err(ModelError::TargetNotRoot {
                op,
                id: target.clone(),
            });
        }
        self.check_new_id(op, ObjectKind::Catalog, id)?;
        non_blank(op, "catalog name", name)?;
        if self.state.catalogs.iter().any(|c| c.name == name) {
            return Err(ModelError::NameCollision {
                op,
                parent: "the project".into(),
                existing: ObjectKind::Catalog,
                name: name.into(),
            });
        }
        self.ix.claim(id, Loc::Catalog(self.state.catalogs.len()));
        self.state.catalogs.push(Catalog {
            id: id.clone(),
            name: name.into(),
            comment: None,
            schemas: Vec::new(),
        });
        Ok(())
    }

    fn rename_catalog(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        name: &str,
    ) -> Result<(), ModelError> {
        let c = self.catalog_at(op, target)?;
        non_blank(op, "catalog name", name)?;
        if self
            .state
            .catalogs
            .iter()
            .enumerate()
            .any(|(i, cat)| i != c && cat.name == name)
        {
            return Err(ModelError::NameCollision {
                op,
                parent: "the project".into(),
                existing: ObjectKind::Catalog,
                name: name.into(),
            });
        }
        // Foreign keys name tables by schema and table only, so nothing else moves.
        self.state.catalogs[c].name = name.into();
        Ok(())
    }

    fn drop_catalog(&mut self, op: &'static str, target: &ObjectId) -> Result<(), ModelError> {
        let c = self.catalog_at(op, target)?;
        let catalog = &self.state.catalogs[c];
        for schema in &catalog.schemas {
            for table in &schema.tables {
                if let Some(fk) = self
                    .referencing(&table.id)
                    .into_iter()
                    .find(|(p, _)| p.c != c)
                {
                    return Err(ModelError::InUse {
                        op,
                        object: format!("catalog {}", catalog.name),
                        used_by: format!(
                            "{}, which references {}.{}",
                            self.fk_label(fk),
                            schema.name,
                            table.name
                        ),
                    });
                }
            }
        }
        for (s, schema) in self.state.catalogs[c].schemas.iter().enumerate() {
            self.ix.forget_schema(schema, c, s);
        }
        self.ix.forget(target, |l| *l == Loc::Catalog(c));
        self.state.catalogs.remove(c);
        for (c2, catalog) in self.state.catalogs.iter().enumerate().skip(c) {
            self.ix
                .shift(&catalog.id, Loc::Catalog(c2 + 1), Loc::Catalog(c2));
            for (s, schema) in catalog.schemas.iter().enumerate() {
                self.ix.move_schema(schema, (c2 + 1, s), (c2, s));
            }
        }
        Ok(())
    }

    // ---- schemas -------------------------------------------------------

    fn check_schema_name(
        &self,
        op: &'static str,
        c: usize,
        except: Option<usize>,
        name: &str,
    ) -> Result<(), ModelError> {
        non_blank(op, "schema name", name)?;
        let catalog = &self.state.catalogs[c];
        if catalog
            .schemas
            .iter()
            .enumerate()
            .any(|(i, s)| Some(i) != except && s.name == name)
        {
            return Err(ModelError::NameCollision {
                op,
                parent: format!("catalog {}", catalog.name),
                existing: ObjectKind::Schema,
                name: name.into(),
            });
        }
        Ok(())
    }

    fn add_schema(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        id: &ObjectId,
        name: &str,
    ) -> Result<(), ModelError> {
        let c = self.catalog_at(op, target)?;
        self.check_new_id(op, ObjectKind::Schema, id)?;
        self.check_schema_name(op, c, None, name)?;
        let schemas = &mut self.state.catalogs[c].schemas;
        self.ix.claim(id, Loc::Schema(c, schemas.len()));
        schemas.push(Schema {
            id: id.clone(),
            name: name.into(),
            comment: None,
            tables: Vec::new(),
        });
        Ok(())
    }

    fn rename_schema(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        name: &str,
    ) -> Result<(), ModelError> {
        let (c, s) = self.schema_at(op, target)?;
        self.check_schema_name(op, c, Some(s), name)?;
        let fks: Vec<(TablePos, usize)> = self
            .schema(c, s)
            .tables
            .iter()
            .flat_map(|t| self.referencing(&t.id))
            .collect();
        for (p, i) in fks {
            self.table_mut(p).foreign_keys[i].references.schema = name.into();
        }
        self.state.catalogs[c].schemas[s].name = name.into();
        Ok(())
    }

    fn drop_schema(&mut self, op: &'static str, target: &ObjectId) -> Result<(), ModelError> {
        let (c, s) = self.schema_at(op, target)?;
        let schema = self.schema(c, s);
        for table in &schema.tables {
            let outside = self
                .referencing(&table.id)
                .into_iter()
                .find(|(p, _)| (p.c, p.s) != (c, s));
            if let Some(fk) = outside {
                return Err(ModelError::InUse {
                    op,
                    object: format!("schema {}", schema.name),
                    used_by: format!(
                        "{}, which references {}.{}",
                        self.fk_label(fk),
                        schema.name,
                        table.name
                    ),
                });
            }
        }
        self.ix
            .forget_schema(&self.state.catalogs[c].schemas[s], c, s);
        let schemas = &mut self.state.catalogs[c].schemas;
        schemas.remove(s);
        for (s2, schema) in schemas.iter().enumerate().skip(s) {
            self.ix.move_schema(schema, (c, s2 + 1), (c, s2));
        }
        Ok(())
    }

    // ---- tables --------------------------------------------------------

    fn check_table_name(
        &self,
        op: &'static str,
        (c, s): (usize, usize),
        except: Option<&ObjectId>,
        name: &str,
    ) -> Result<(), ModelError> {
        non_blank(op, "table name", name)?;
        let schema = self.schema(c, s);
        let holder = self
            .ix
            .tables_by_name
            .get(&schema.id)
            .and_then(|names| names.get(name));
        match holder {
            Some(holder) if Some(holder) != except => Err(ModelError::NameCollision {
                op,
                parent: format!("schema {}", schema.name),
                existing: ObjectKind::Table,
                name: name.into(),
            }),
            _ => Ok(()),
        }
    }

    fn add_table(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        id: &ObjectId,
        name: &str,
    ) -> Result<(), ModelError> {
        let (c, s) = self.schema_at(op, target)?;
        self.check_new_id(op, ObjectKind::Table, id)?;
        self.check_table_name(op, (c, s), None, name)?;
        let schema = &mut self.state.catalogs[c].schemas[s];
        let table = Table {
            id: id.clone(),
            name: name.into(),
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            comment: None,
            properties: BTreeMap::new(),
        };
        let pos = TablePos {
            c,
            s,
            t: schema.tables.len(),
        };
        self.ix.add_table(&schema.id, &table, pos);
        schema.tables.push(table);
        Ok(())
    }

    fn rename_table(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        name: &str,
    ) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        self.check_table_name(op, (p.c, p.s), Some(target), name)?;
        for (fp, i) in self.referencing(target) {
            self.table_mut(fp).foreign_keys[i].references.table = name.into();
        }
        let schema = &mut self.state.catalogs[p.c].schemas[p.s];
        let table = &mut schema.tables[p.t];
        let old = std::mem::replace(&mut table.name, name.into());
        let names = self.ix.tables_by_name.entry(schema.id.clone()).or_default();
        if names.get(&old) == Some(target) {
            names.remove(&old);
        }
        names.insert(name.into(), target.clone());
        Ok(())
    }

    fn drop_table(&mut self, op: &'static str, target: &ObjectId) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        if let Some(fk) = self
            .referencing(target)
            .into_iter()
            .find(|(fp, _)| *fp != p)
        {
            return Err(ModelError::InUse {
                op,
                object: format!("table {}", self.table_label(p)),
                used_by: self.fk_label(fk),
            });
        }
        let schema = &self.state.catalogs[p.c].schemas[p.s];
        self.ix.forget_table(&schema.id, &schema.tables[p.t], p);
        let schema = &mut self.state.catalogs[p.c].schemas[p.s];
        schema.tables.remove(p.t);
        self.ix.shift_tables(schema, p.c, p.s, p.t);
        Ok(())
    }

    // ---- columns -------------------------------------------------------

    fn check_column_name(
        &self,
        op: &'static str,
        p: TablePos,
        except: Option<usize>,
        name: &str,
    ) -> Result<(), ModelError> {
        non_blank(op, "column name", name)?;
        if self
            .table(p)
            .columns
            .iter()
            .enumerate()
            .any(|(i, c)| Some(i) != except && c.name == name)
        {
            return Err(ModelError::NameCollision {
                op,
                parent: format!("table {}", self.table_label(p)),
                existing: ObjectKind::Column,
                name: name.into(),
            });
        }
        Ok(())
    }

    fn add_column(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        column: Column,
        position: Option<usize>,
    ) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        self.check_new_id(op, ObjectKind::Column, &column.id)?;
        self.check_column_name(op, p, None, &column.name)?;
        let len = self.table(p).columns.len();
        let position = position.unwrap_or(len);
        if position > len {
            return Err(ModelError::PositionOutOfRange {
                op,
                table: self.table_label(p),
                position,
                len,
            });
        }
        self.ix.claim(&column.id, Loc::Column(target.clone()));
        self.table_mut(p).columns.insert(position, column);
        Ok(())
    }

    fn rename_column(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        name: &str,
    ) -> Result<(), ModelError> {
        let (p, i) = self.member_at(op, target, ObjectKind::Column)?;
        self.check_column_name(op, p, Some(i), name)?;
        let referencing = self.referencing(&self.table(p).id);
        let table = self.table_mut(p);
        let old = std::mem::replace(&mut table.columns[i].name, name.into());
        let rename = |columns: &mut Vec<String>| {
            for column in columns.iter_mut().filter(|c| **c == old) {
                *column = name.into();
            }
        };
        if let Some(pk) = &mut table.primary_key {
            rename(&mut pk.columns);
        }
        table
            .uniques
            .iter_mut()
            .for_each(|u| rename(&mut u.columns));
        table
            .indexes
            .iter_mut()
            .for_each(|x| rename(&mut x.columns));
        table
            .foreign_keys
            .iter_mut()
            .for_each(|f| rename(&mut f.columns));
        for (fp, fi) in referencing {
            rename(&mut self.table_mut(fp).foreign_keys[fi].ref_columns);
        }
        Ok(())
    }

    /// The first key, index or foreign key that uses column `name` of table `p`.
    fn column_user(&self, p: TablePos, name: &str) -> Option<String> {
        let table = self.table(p);
        let label = self.table_label(p);
        let uses = |columns: &[String]| columns.iter().any(|c| c == name);
        if let Some(pk) = table.primary_key.as_ref().filter(|k| uses(&k.columns)) {
            return Some(format!("primary key {} on {label}", pk.name));
        }
        if let Some(f) = table.foreign_keys.iter().find(|f| uses(&f.columns)) {
            return Some(format!("foreign key {} on {label}", f.name));
        }
        if let Some(u) = table.uniques.iter().find(|u| uses(&u.columns)) {
            return Some(format!("unique constraint {} on {label}", u.name));
        }
        if let Some(x) = table.indexes.iter().find(|x| uses(&x.columns)) {
            return Some(format!("index {} on {label}", x.name));
        }
        self.referencing(&table.id)
            .into_iter()
            .find(|&(fp, fi)| uses(&self.table(fp).foreign_keys[fi].ref_columns))
            .map(|fk| self.fk_label(fk))
    }

    fn drop_column(&mut self, op: &'static str, target: &ObjectId) -> Result<(), ModelError> {
        let (p, i) = self.member_at(op, target, ObjectKind::Column)?;
        let name = &self.table(p).columns[i].name;
        if let Some(used_by) = self.column_user(p, name) {
            return Err(ModelError::InUse {
                op,
                object: format!("column {}.{name}", self.table_label(p)),
                used_by,
            });
        }
        self.ix.locs.remove(target);
        self.table_mut(p).columns.remove(i);
        Ok(())
    }

    fn reorder_columns(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        order: &[ObjectId],
    ) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        let columns = &self.table(p).columns;
        let problem = |problem: String| ModelError::NotAPermutation {
            op,
            table: self.table_label(p),
            problem,
        };
        let old_pos: HashMap<&ObjectId, usize> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (&c.id, i))
            .collect();
        let mut seen = vec![false; columns.len()];
        let mut perm = Vec::with_capacity(order.len());
        for id in order {
            let Some(&i) = old_pos.get(id) else {
                return Err(problem(format!("{id} is not a column of this table")));
            };
            if seen[i] {
                return Err(problem(format!("{id} is listed twice")));
            }
            seen[i] = true;
            perm.push(i);
        }
        if let Some(i) = seen.iter().position(|s| !s) {
            let missing = &columns[i];
            return Err(problem(format!(
                "column {} ({}) is missing",
                missing.name, missing.id
            )));
        }
        let table = self.table_mut(p);
        let mut old: Vec<Option<Column>> = std::mem::take(&mut table.columns)
            .into_iter()
            .map(Some)
            .collect();
        table.columns = perm.into_iter().filter_map(|i| old[i].take()).collect();
        Ok(())
    }

    fn set_comment(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        comment: &Option<String>,
    ) -> Result<(), ModelError> {
        const EXPECTED: &str = "catalog, schema, table or column";
        let slot = match self.loc_of(op, target, EXPECTED)?.clone() {
            Loc::Catalog(c) => &mut self.state.catalogs[c].comment,
            Loc::Schema(c, s) => &mut self.state.catalogs[c].schemas[s].comment,
            Loc::Table(p) => &mut self.table_mut(p).comment,
            Loc::Column(_) => {
                let (p, i) = self.member_at(op, target, ObjectKind::Column)?;
                &mut self.table_mut(p).columns[i].comment
            }
            _ => return Err(self.wrong_kind(op, target, EXPECTED)),
        };
        *slot = comment.clone();
        Ok(())
    }

    // ---- keys, indexes, constraints -----------------------------------

    fn add_primary_key(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        id: &ObjectId,
        name: Option<&str>,
        columns: &[String],
    ) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        let table = self.table(p);
        if let Some(pk) = &table.primary_key {
            return Err(ModelError::PrimaryKeyExists {
                op,
                table: self.table_label(p),
                name: pk.name.clone(),
            });
        }
        self.check_new_id(op, ObjectKind::PrimaryKey, id)?;
        let name = name.map_or_else(|| format!("{}_pkey", table.name), str::to_string);
        non_blank(op, "primary key name", &name)?;
        self.check_constraint_name(op, p, &name)?;
        let object = || format!("primary key {name} on {}", self.table_label(p));
        self.check_key_columns(op, p, object, columns)?;
        self.ix.claim(id, Loc::PrimaryKey(target.clone()));
        self.table_mut(p).primary_key = Some(PrimaryKey {
            id: id.clone(),
            name,
            columns: columns.to_vec(),
        });
        Ok(())
    }

    fn drop_primary_key(&mut self, op: &'static str, target: &ObjectId) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        let Some(pk) = self.table_mut(p).primary_key.take() else {
            return Err(ModelError::NoPrimaryKey {
                op,
                table: self.table_label(p),
            });
        };
        self.ix.forget(&pk.id, |l| l.table() == Some(target));
        Ok(())
    }

    fn add_unique(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        id: &ObjectId,
        name: &str,
        columns: &[String],
    ) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        self.check_new_id(op, ObjectKind::Unique, id)?;
        non_blank(op, "unique constraint name", name)?;
        self.check_constraint_name(op, p, name)?;
        let object = || format!("unique constraint {name} on {}", self.table_label(p));
        self.check_key_columns(op, p, object, columns)?;
        self.ix.claim(id, Loc::Unique(target.clone()));
        self.table_mut(p).uniques.push(UniqueConstraint {
            id: id.clone(),
            name: name.into(),
            columns: columns.to_vec(),
        });
        Ok(())
    }

    fn add_index(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        id: &ObjectId,
        name: &str,
        columns: &[String],
        unique: bool,
    ) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        self.check_new_id(op, ObjectKind::Index, id)?;
        non_blank(op, "index name", name)?;
        let schema = self.schema(p.c, p.s);
        if self
            .ix
            .index_names
            .get(&schema.id)
            .is_some_and(|names| names.contains_key(name))
        {
            return Err(ModelError::NameCollision {
                op,
                parent: format!("schema {}", schema.name),
                existing: ObjectKind::Index,
                name: name.into(),
            });
        }
        if columns.is_empty() {
            return Err(ModelError::NoColumns {
                op,
                object: format!("index {name} on {}", self.table_label(p)),
            });
        }
        let table = self.table(p);
        if let Some(column) = columns
            .iter()
            .find(|e| is_bare_identifier(e) && !table.columns.iter().any(|c| c.name == **e))
        {
            return Err(ModelError::UnknownColumn {
                op,
                table: self.table_label(p),
                column: column.clone(),
            });
        }
        let schema_id = schema.id.clone();
        self.ix.claim(id, Loc::Index(target.clone()));
        self.ix
            .index_names
            .entry(schema_id)
            .or_default()
            .insert(name.into(), id.clone());
        self.table_mut(p).indexes.push(Index {
            id: id.clone(),
            name: name.into(),
            columns: columns.to_vec(),
            unique,
        });
        Ok(())
    }

    fn add_foreign_key(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        fk: ForeignKey,
    ) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        self.check_new_id(op, ObjectKind::ForeignKey, &fk.id)?;
        non_blank(op, "foreign key name", &fk.name)?;
        self.check_constraint_name(op, p, &fk.name)?;
        let object = || format!("foreign key {} on {}", fk.name, self.table_label(p));
        self.check_key_columns(op, p, object, &fk.columns)?;
        let catalog = &self.state.catalogs[p.c];
        let references = self.ix.resolve(catalog, &fk.references);
        let Some(rp) = references.as_ref().and_then(|id| self.table_pos(id)) else {
            return Err(ModelError::UnknownTable {
                op,
                name: fk.name.clone(),
                catalog: catalog.name.clone(),
                schema: fk.references.schema.clone(),
                table: fk.references.table.clone(),
            });
        };
        if fk.columns.len() != fk.ref_columns.len() {
            return Err(ModelError::ColumnCountMismatch {
                op,
                name: fk.name.clone(),
                columns: fk.columns.len(),
                ref_columns: fk.ref_columns.len(),
            });
        }
        let object = || format!("foreign key {} on {}", fk.name, self.table_label(p));
        self.check_key_columns(op, rp, object, &fk.ref_columns)?;
        self.ix.add_foreign_key(target, &fk.id, references);
        self.table_mut(p).foreign_keys.push(fk);
        Ok(())
    }

    fn add_check(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        id: &ObjectId,
        name: &str,
        expression: &str,
    ) -> Result<(), ModelError> {
        let p = self.table_at(op, target)?;
        self.check_new_id(op, ObjectKind::Check, id)?;
        non_blank(op, "check constraint name", name)?;
        self.check_constraint_name(op, p, name)?;
        non_blank(op, "check expression", expression)?;
        self.ix.claim(id, Loc::Check(target.clone()));
        self.table_mut(p).checks.push(CheckConstraint {
            id: id.clone(),
            name: name.into(),
            expression: expression.into(),
        });
        Ok(())
    }

    /// Drops a unique constraint, index, foreign key or check by id.
    fn drop_member(
        &mut self,
        op: &'static str,
        target: &ObjectId,
        kind: ObjectKind,
    ) -> Result<(), ModelError> {
        let (p, i) = self.member_at(op, target, kind)?;
        let table_id = self.table(p).id.clone();
        match kind {
            ObjectKind::Index => {
                let schema_id = self.schema(p.c, p.s).id.clone();
                let index = self.table_mut(p).indexes.remove(i);
                self.ix.forget_index(&schema_id, &table_id, &index);
            }
            ObjectKind::ForeignKey => {
                self.table_mut(p).foreign_keys.remove(i);
                self.ix.forget_foreign_key(&table_id, target);
            }
            ObjectKind::Unique => {
                self.table_mut(p).uniques.remove(i);
                self.ix.locs.remove(target);
            }
            ObjectKind::Check => {
                self.table_mut(p).checks.remove(i);
                self.ix.locs.remove(target);
            }
            // Primary keys are dropped through their table; the rest are not members.
            ObjectKind::PrimaryKey
            | ObjectKind::Catalog
            | ObjectKind::Schema
            | ObjectKind::Table
            | ObjectKind::Column => {}
        }
        Ok(())
    }
}

impl State {
    /// Checks `op` and applies it; on error the state is unchanged.
    ///
    /// This indexes the whole state for the one op, so it is linear in the
    /// state's size: to apply many ops, use a [`Reducer`] or [`reduce`].
    pub fn apply(&mut self, op: &Op) -> Result<(), ModelError> {
        let mut reducer = Reducer::new(std::mem::take(self));
        let result = reducer.apply(op);
        *self = reducer.into_state();
        result
    }
}

/// Applies `ops` to `state` in order. On the first rejected op, returns its
/// position in `ops` and the reason (the partly reduced state is dropped).
pub fn reduce<'a>(
    state: State,
    ops: impl IntoIterator<Item = &'a Op>,
) -> Result<State, (usize, ModelError)> {
    let mut reducer = Reducer::new(state);
    reducer.apply_all(ops)?;
    Ok(reducer.into_state())
}

/// Rejects names, keys and expressions that are empty or only whitespace.
fn non_blank(op: &'static str, what: &str, value: &str) -> Result<(), ModelError> {
    if value.trim().is_empty() {
        return Err(ModelError::Empty {
            op,
            what: what.into(),
        });
    }
    Ok(())
}

/// Whether an index entry reads as a plain column name (`email`, `_x1`)
/// rather than an expression (`lower(email)`, `created_at DESC`).
fn is_bare_identifier(entry: &str) -> bool {
    let mut chars = entry.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_identifiers_are_told_from_expressions() {
        assert!(is_bare_identifier("email"));
        assert!(is_bare_identifier("_x1$"));
        assert!(is_bare_identifier("straße"));
        assert!(!is_bare_identifier(""));
        assert!(!is_bare_identifier("1abc"));
        assert!(!is_bare_identifier("lower(email)"));
        assert!(!is_bare_identifier("created_at DESC"));
    }
}
