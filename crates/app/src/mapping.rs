//! Project names onto one live database, and back; and the alignment that
//! keeps a database's own spelling of an unchanged object out of a plan.
//!
//! A project state is catalog → schema → table. A live read gives one
//! catalog named after the database (`main` on SQLite). So before a project
//! state is compared with or planned against a live database:
//! - the project's single catalog takes the database's name;
//! - on MySQL/MariaDB and SQLite, where a connection holds exactly one
//!   schema, the project's single schema takes that schema's name (the
//!   database's name on MySQL, `main` on SQLite), foreign-key references
//!   included.
//!
//! A project with several catalogs (or, on MySQL and SQLite, several
//! schemas) cannot be one database, and is refused with a message that says
//! so. Plans, deployments, drift checks and imports all go through these
//! functions, so every use case sees the same names.
//!
//! Everything here is pure: no IO.

use crate::{AppError, AppResult};
use std::collections::{HashMap, HashSet};
use tidemark_db::ConnectionSpec;
use tidemark_model::{
    Catalog, CheckConstraint, Column, ForeignKey, Index, ObjectId, PrimaryKey, Schema, State,
    Table, UniqueConstraint,
};
use tidemark_sql::{dialect, DialectKind};

/// Tables whose names start with this belong to Tidemark itself (the
/// deployment marker, sync bookkeeping) and never count as schema.
pub(crate) const OWN_TABLE_PREFIX: &str = "tidemark_";

/// Where a project's names land in one live database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveNames {
    /// The database's dialect.
    pub kind: DialectKind,
    /// The catalog a live read reports: the database's name, `main` on SQLite.
    pub catalog: String,
    /// The one schema a connection holds on MySQL (the database) and SQLite
    /// (`main`); `None` where a database holds many schemas.
    pub schema: Option<String>,
}

impl LiveNames {
    /// The names a connection's live reads will use.
    pub(crate) fn of(spec: &ConnectionSpec) -> LiveNames {
        let kind = spec.kind();
        match spec {
            ConnectionSpec::Postgres(server) | ConnectionSpec::SqlServer(server) => LiveNames {
                kind,
                catalog: server.database.clone(),
                schema: None,
            },
            ConnectionSpec::MySql(server) => LiveNames {
                kind,
                catalog: server.database.clone(),
                schema: Some(server.database.clone()),
            },
            ConnectionSpec::Sqlite { .. } => LiveNames {
                kind,
                catalog: "main".into(),
                schema: Some("main".into()),
            },
            ConnectionSpec::Databricks { catalog, .. } => LiveNames {
                kind,
                catalog: catalog.clone().unwrap_or_else(|| "main".into()),
                schema: None,
            },
        }
    }

    /// Takes the catalog name a live read actually reported (the server may
    /// spell the database's name differently from the URL).
    pub(crate) fn with_live_catalog(mut self, live: &State) -> LiveNames {
        if let Some(catalog) = live.catalogs.first() {
            if self.schema.as_deref() == Some(self.catalog.as_str()) {
                self.schema = Some(catalog.name.clone());
            }
            self.catalog = catalog.name.clone();
        }
        self
    }
}

/// The project state with its names replaced by the live database's.
///
/// `what` names the state in messages (`snapshot 1.0.0`), `target` the
/// environment or connection (`environment prod`).
pub(crate) fn to_live(
    project: &State,
    names: &LiveNames,
    what: &str,
    target: &str,
) -> AppResult<State> {
    let catalog = single_catalog(project, what, target)?;
    let Some(catalog) = catalog else {
        return Err(AppError::BadInput(format!(
            "{what} has no catalog, so there is nothing to put in {target}: add a catalog, a schema and tables first"
        )));
    };
    let mut catalog = catalog.clone();
    catalog.name = names.catalog.clone();
    if let Some(live_schema) = &names.schema {
        if catalog.schemas.len() > 1 {
            let list: Vec<&str> = catalog.schemas.iter().map(|s| s.name.as_str()).collect();
            return Err(AppError::BadInput(format!(
                "{what} has {} schemas ({}) but {target} is a {} database, which holds exactly one: keep one schema in the project, or use one environment per schema",
                list.len(),
                list.join(", "),
                names.kind.product()
            )));
        }
        if let Some(schema) = catalog.schemas.first_mut() {
            let old = std::mem::replace(&mut schema.name, live_schema.clone());
            rename_references(schema, &old, live_schema);
        }
    }
    Ok(State {
        catalogs: vec![catalog],
    })
}

/// A live state with its names replaced by the project's, the inverse of
/// [`to_live`]: the live catalog takes the project's catalog name, and on
/// MySQL and SQLite the live schema takes the project's single schema name.
/// Where the project has no single catalog (or schema) to map to, names
/// stay as they are.
pub(crate) fn from_live(live: &State, project: &State, names: &LiveNames) -> State {
    let mut out = live.clone();
    let [project_catalog] = project.catalogs.as_slice() else {
        return out;
    };
    for catalog in &mut out.catalogs {
        if catalog.name != names.catalog {
            continue;
        }
        catalog.name = project_catalog.name.clone();
        if let (Some(live_schema), [project_schema]) =
            (&names.schema, project_catalog.schemas.as_slice())
        {
            for schema in &mut catalog.schemas {
                if &schema.name == live_schema {
                    schema.name = project_schema.name.clone();
                    rename_references(schema, live_schema, &project_schema.name);
                }
            }
        }
    }
    out
}

/// The single catalog of a state; an error naming them when there are several.
fn single_catalog<'s>(
    state: &'s State,
    what: &str,
    target: &str,
) -> AppResult<Option<&'s Catalog>> {
    match state.catalogs.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => {
            let list: Vec<&str> = many.iter().map(|c| c.name.as_str()).collect();
            Err(AppError::BadInput(format!(
                "{what} has {} catalogs ({}) but {target} is a single database: keep one catalog in the project, or use one environment per catalog",
                list.len(),
                list.join(", ")
            )))
        }
    }
}

/// Foreign keys name the schema of the table they reference; a renamed
/// schema must take its references along.
fn rename_references(schema: &mut Schema, old: &str, new: &str) {
    for table in &mut schema.tables {
        for fk in &mut table.foreign_keys {
            if fk.references.schema == old {
                fk.references.schema = new.to_string();
            }
        }
    }
}

/// The state without Tidemark's own bookkeeping tables.
pub(crate) fn without_own_tables(state: &State) -> State {
    let mut out = state.clone();
    for catalog in &mut out.catalogs {
        for schema in &mut catalog.schemas {
            schema
                .tables
                .retain(|t| !t.name.to_ascii_lowercase().starts_with(OWN_TABLE_PREFIX));
        }
    }
    out
}

/// The schema names a state uses, for limiting a live read to them.
pub(crate) fn schema_names<'a>(states: impl IntoIterator<Item = &'a State>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for state in states {
        for schema in state.catalogs.iter().flat_map(|c| &c.schemas) {
            if !names.contains(&schema.name) {
                names.push(schema.name.clone());
            }
        }
    }
    names
}

/// `live`, with every object and attribute that equals its counterpart in
/// `target` once both are normalized replaced by the counterpart's own value
/// (and id).
///
/// A database reports what it stored in its own spelling (`'new'::character
/// varying`, `(price >= (0)::numeric)`, a primary key called `PRIMARY`), so
/// a plain diff of a live read against a project state would "change"
/// objects that are already right. After alignment a diff shows exactly the
/// differences that normalization leaves, with the project's spelling on
/// both sides of everything unchanged, and the database's spelling where the
/// database really differs. Objects the database creates by itself
/// (normalization drops them) are taken out of the live side, and implied
/// objects the project spells out are put in, so neither becomes a statement.
///
/// Pairs are made by normalized name, as the diff matches live objects.
pub(crate) fn align(live: &State, target: &State, kind: DialectKind) -> State {
    align_pinned(live, target, kind, HashSet::new())
}

/// [`align`], where live objects whose ids are in `pinned` (ids an earlier
/// alignment with the deployed snapshot gave them) are matched by id only: a
/// column the project dropped and added again under the same name is then a
/// drop plus an add, as the diff sees it, not an in-place change.
pub(crate) fn align_pinned(
    live: &State,
    target: &State,
    kind: DialectKind,
    pinned: HashSet<ObjectId>,
) -> State {
    let d = dialect(kind);
    let (norm_live, norm_target) = (d.normalize(live), d.normalize(target));
    let mut live_ix = NormIndex::build(&norm_live);
    live_ix.pinned = pinned;
    let target_ix = NormIndex::build(&norm_target);
    let ix = (&live_ix, &target_ix);
    let mut out = live.clone();
    let catalog_pairs = pair_up(&out.catalogs, &target.catalogs, |c| &c.id, ix);
    for (catalog, tc) in out.catalogs.iter_mut().zip(catalog_pairs) {
        let Some(tc) = tc.map(|j| &target.catalogs[j]) else {
            continue;
        };
        if let (Some(Norm::Catalog(a)), Some(Norm::Catalog(b))) =
            (live_ix.get(&catalog.id), target_ix.get(&tc.id))
        {
            if a.comment == b.comment {
                catalog.comment = tc.comment.clone();
            }
            if a.name == b.name {
                catalog.name = tc.name.clone();
            }
        }
        catalog.id = tc.id.clone();
        let schema_pairs = pair_up(&catalog.schemas, &tc.schemas, |s| &s.id, ix);
        for (schema, ts) in catalog.schemas.iter_mut().zip(schema_pairs) {
            let Some(ts) = ts.map(|j| &tc.schemas[j]) else {
                continue;
            };
            if let (Some(Norm::Schema(a)), Some(Norm::Schema(b))) =
                (live_ix.get(&schema.id), target_ix.get(&ts.id))
            {
                if a.comment == b.comment {
                    schema.comment = ts.comment.clone();
                }
                if a.name == b.name {
                    schema.name = ts.name.clone();
                }
            }
            schema.id = ts.id.clone();
            let table_pairs = pair_up(&schema.tables, &ts.tables, |t| &t.id, ix);
            for (table, tt) in schema.tables.iter_mut().zip(table_pairs) {
                if let Some(tt) = tt.map(|j| &ts.tables[j]) {
                    align_table(table, tt, &live_ix, &target_ix);
                }
            }
        }
    }
    out
}

/// For each live object, the index of its target counterpart: the same id
/// first (after an earlier alignment gave live objects the project's ids,
/// a rename stays a rename), then the same normalized name among the
/// target objects left over, as the diff matches.
fn pair_up<T>(
    live: &[T],
    target: &[T],
    id: impl Fn(&T) -> &ObjectId,
    (live_ix, target_ix): (&NormIndex<'_>, &NormIndex<'_>),
) -> Vec<Option<usize>> {
    let mut pairs: Vec<Option<usize>> = vec![None; live.len()];
    let mut used = vec![false; target.len()];
    for (i, l) in live.iter().enumerate() {
        if let Some(j) = target.iter().position(|t| id(t) == id(l)) {
            if !used[j] {
                pairs[i] = Some(j);
                used[j] = true;
            }
        }
    }
    for (i, l) in live.iter().enumerate() {
        if pairs[i].is_some() || live_ix.is_pinned(id(l)) {
            continue;
        }
        let Some(name) = live_ix.get(id(l)).map(|n| n.name().to_string()) else {
            continue;
        };
        let found = (0..target.len()).find(|&j| {
            !used[j]
                && target_ix
                    .get(id(&target[j]))
                    .is_some_and(|n| n.name() == name)
        });
        if let Some(j) = found {
            pairs[i] = Some(j);
            used[j] = true;
        }
    }
    pairs
}

/// A normalized object, looked up by the id its raw form carries.
#[derive(Debug, Clone, Copy)]
enum Norm<'s> {
    Catalog(&'s Catalog),
    Schema(&'s Schema),
    Table(&'s Table),
    Column(&'s Column),
    PrimaryKey(&'s PrimaryKey),
    Unique(&'s UniqueConstraint),
    Index(&'s Index),
    ForeignKey(&'s ForeignKey),
    Check(&'s CheckConstraint),
}

impl Norm<'_> {
    fn name(&self) -> &str {
        match self {
            Norm::Catalog(c) => &c.name,
            Norm::Schema(s) => &s.name,
            Norm::Table(t) => &t.name,
            Norm::Column(c) => &c.name,
            Norm::PrimaryKey(k) => &k.name,
            Norm::Unique(u) => &u.name,
            Norm::Index(i) => &i.name,
            Norm::ForeignKey(f) => &f.name,
            Norm::Check(c) => &c.name,
        }
    }
}

/// Every object of a normalized state by id. Normalization keeps ids, so
/// this is how a raw object finds its normalized form.
struct NormIndex<'s> {
    by_id: HashMap<&'s ObjectId, Norm<'s>>,
    /// Live ids an earlier alignment gave out (see [`align_pinned`]): such an
    /// object is the project's own, so it is matched by id only.
    pinned: HashSet<ObjectId>,
}

impl<'s> NormIndex<'s> {
    fn build(state: &'s State) -> Self {
        let mut by_id = HashMap::new();
        for c in &state.catalogs {
            by_id.insert(&c.id, Norm::Catalog(c));
            for s in &c.schemas {
                by_id.insert(&s.id, Norm::Schema(s));
                for t in &s.tables {
                    by_id.insert(&t.id, Norm::Table(t));
                    for col in &t.columns {
                        by_id.insert(&col.id, Norm::Column(col));
                    }
                    if let Some(pk) = &t.primary_key {
                        by_id.insert(&pk.id, Norm::PrimaryKey(pk));
                    }
                    for u in &t.uniques {
                        by_id.insert(&u.id, Norm::Unique(u));
                    }
                    for i in &t.indexes {
                        by_id.insert(&i.id, Norm::Index(i));
                    }
                    for f in &t.foreign_keys {
                        by_id.insert(&f.id, Norm::ForeignKey(f));
                    }
                    for ck in &t.checks {
                        by_id.insert(&ck.id, Norm::Check(ck));
                    }
                }
            }
        }
        NormIndex {
            by_id,
            pinned: HashSet::new(),
        }
    }

    fn get(&self, id: &ObjectId) -> Option<Norm<'s>> {
        self.by_id.get(id).copied()
    }

    fn is_pinned(&self, id: &ObjectId) -> bool {
        self.pinned.contains(id)
    }
}

/// Every id of a state.
pub(crate) fn ids_of(state: &State) -> HashSet<ObjectId> {
    NormIndex::build(state).by_id.into_keys().cloned().collect()
}

/// Aligns one table of the live side with its target counterpart.
fn align_table(
    table: &mut Table,
    target: &Table,
    live_ix: &NormIndex<'_>,
    target_ix: &NormIndex<'_>,
) {
    let (Some(Norm::Table(nl)), Some(Norm::Table(nt))) =
        (live_ix.get(&table.id), target_ix.get(&target.id))
    else {
        return;
    };
    if nl.name == nt.name {
        table.name = target.name.clone();
    }
    table.id = target.id.clone();
    if nl.comment == nt.comment {
        table.comment = target.comment.clone();
    }
    if nl.properties == nt.properties {
        table.properties = target.properties.clone();
    }
    let column_pairs = pair_up(
        &table.columns,
        &target.columns,
        |c| &c.id,
        (live_ix, target_ix),
    );
    for (column, tc) in table.columns.iter_mut().zip(column_pairs) {
        let Some(tc) = tc.map(|j| &target.columns[j]) else {
            continue;
        };
        let (Some(Norm::Column(a)), Some(Norm::Column(b))) =
            (live_ix.get(&column.id), target_ix.get(&tc.id))
        else {
            continue;
        };
        if a.name == b.name {
            column.name = tc.name.clone();
        }
        column.id = tc.id.clone();
        if a.data_type == b.data_type {
            column.data_type = tc.data_type.clone();
        }
        if a.nullable == b.nullable {
            column.nullable = tc.nullable;
        }
        if a.default == b.default {
            column.default = tc.default.clone();
        }
        if a.identity == b.identity {
            column.identity = tc.identity;
        }
        if a.comment == b.comment {
            column.comment = tc.comment.clone();
        }
    }
    align_constraints(table, target, nl, nt);
}

/// One constraint of either side, comparable once normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Constraint {
    PrimaryKey(PrimaryKey),
    Unique(UniqueConstraint),
    Index(Index),
    ForeignKey(ForeignKey),
    Check(CheckConstraint),
}

impl Constraint {
    fn id(&self) -> &ObjectId {
        match self {
            Constraint::PrimaryKey(k) => &k.id,
            Constraint::Unique(u) => &u.id,
            Constraint::Index(i) => &i.id,
            Constraint::ForeignKey(f) => &f.id,
            Constraint::Check(c) => &c.id,
        }
    }

    /// The same constraint with a neutral id, for comparing definitions.
    fn without_id(&self) -> Constraint {
        let none = ObjectId::new("");
        let mut c = self.clone();
        match &mut c {
            Constraint::PrimaryKey(k) => k.id = none,
            Constraint::Unique(u) => u.id = none,
            Constraint::Index(i) => i.id = none,
            Constraint::ForeignKey(f) => f.id = none,
            Constraint::Check(ck) => ck.id = none,
        }
        c
    }

    fn all(table: &Table) -> Vec<Constraint> {
        let mut out: Vec<Constraint> = Vec::new();
        out.extend(table.primary_key.clone().map(Constraint::PrimaryKey));
        out.extend(table.uniques.iter().cloned().map(Constraint::Unique));
        out.extend(table.indexes.iter().cloned().map(Constraint::Index));
        out.extend(
            table
                .foreign_keys
                .iter()
                .cloned()
                .map(Constraint::ForeignKey),
        );
        out.extend(table.checks.iter().cloned().map(Constraint::Check));
        out
    }
}

/// Replaces live constraints that equal a target constraint once normalized
/// by the target's own, drops live constraints the database implies, and
/// adds target constraints the database implies.
fn align_constraints(table: &mut Table, target: &Table, norm_live: &Table, norm_target: &Table) {
    let norm_live_all = Constraint::all(norm_live);
    let norm_target_all = Constraint::all(norm_target);
    let live_norm_ids: HashSet<&ObjectId> = norm_live_all.iter().map(Constraint::id).collect();
    let target_norm_ids: HashSet<&ObjectId> = norm_target_all.iter().map(Constraint::id).collect();
    let mut remove: HashSet<ObjectId> = HashSet::new();
    let mut add: Vec<ObjectId> = Vec::new();
    let mut taken: HashSet<&ObjectId> = HashSet::new();
    for l in &norm_live_all {
        let wanted = l.without_id();
        if let Some(t) = norm_target_all
            .iter()
            .find(|t| !taken.contains(t.id()) && t.without_id() == wanted)
        {
            taken.insert(t.id());
            remove.insert(l.id().clone());
            add.push(t.id().clone());
        }
    }
    // What normalization dropped exists in the database implicitly.
    for c in Constraint::all(table) {
        if !live_norm_ids.contains(c.id()) {
            remove.insert(c.id().clone());
        }
    }
    for c in Constraint::all(target) {
        if !target_norm_ids.contains(c.id()) {
            add.push(c.id().clone());
        }
    }
    if table
        .primary_key
        .as_ref()
        .is_some_and(|k| remove.contains(&k.id))
    {
        table.primary_key = None;
    }
    table.uniques.retain(|u| !remove.contains(&u.id));
    table.indexes.retain(|i| !remove.contains(&i.id));
    table.foreign_keys.retain(|f| !remove.contains(&f.id));
    table.checks.retain(|c| !remove.contains(&c.id));
    for c in Constraint::all(target) {
        if !add.contains(c.id()) {
            continue;
        }
        match c {
            Constraint::PrimaryKey(k) => table.primary_key = Some(k),
            Constraint::Unique(u) => table.uniques.push(u),
            Constraint::Index(i) => table.indexes.push(i),
            Constraint::ForeignKey(f) => table.foreign_keys.push(f),
            Constraint::Check(ck) => table.checks.push(ck),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tidemark_model::{diff, DataType, TableRef};

    fn column(id: &str, name: &str, data_type: DataType) -> Column {
        Column {
            id: ObjectId::new(id),
            name: name.into(),
            data_type,
            nullable: false,
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

    fn state(catalog: &str, schema: &str, tables: Vec<Table>) -> State {
        State {
            catalogs: vec![Catalog {
                id: ObjectId::new(format!("cat:{catalog}")),
                name: catalog.into(),
                comment: None,
                schemas: vec![Schema {
                    id: ObjectId::new(format!("sch:{schema}")),
                    name: schema.into(),
                    comment: None,
                    tables,
                }],
            }],
        }
    }

    fn project() -> State {
        let mut customers = table(
            "tbl_c",
            "customers",
            vec![column("col_id", "id", DataType::BigInt)],
        );
        customers.primary_key = Some(PrimaryKey {
            id: ObjectId::new("pk_c"),
            name: "customers_pkey".into(),
            columns: vec!["id".into()],
        });
        customers.comment = Some("people".into());
        let mut orders = table(
            "tbl_o",
            "orders",
            vec![
                column("col_oid", "id", DataType::BigInt),
                column("col_cust", "customer_id", DataType::BigInt),
            ],
        );
        orders.foreign_keys.push(ForeignKey {
            id: ObjectId::new("fk_o"),
            name: "orders_customer_fk".into(),
            columns: vec!["customer_id".into()],
            references: TableRef {
                schema: "public".into(),
                table: "customers".into(),
            },
            ref_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
        });
        let mut s = state("shop", "public", vec![customers, orders]);
        s.catalogs[0].id = ObjectId::new("cat_shop");
        s.catalogs[0].schemas[0].id = ObjectId::new("sch_public");
        s
    }

    fn names(kind: DialectKind, catalog: &str, schema: Option<&str>) -> LiveNames {
        LiveNames {
            kind,
            catalog: catalog.into(),
            schema: schema.map(str::to_string),
        }
    }

    #[test]
    fn postgres_keeps_schemas_and_renames_the_catalog() {
        let live = to_live(
            &project(),
            &names(DialectKind::Postgres, "tm_db", None),
            "snapshot 1.0.0",
            "environment dev",
        )
        .unwrap();
        assert_eq!(live.catalogs[0].name, "tm_db");
        assert_eq!(live.catalogs[0].schemas[0].name, "public");
    }

    #[test]
    fn single_schema_databases_take_the_schema_and_its_references() {
        let live = to_live(
            &project(),
            &names(DialectKind::Mysql, "tm_db", Some("tm_db")),
            "snapshot 1.0.0",
            "environment dev",
        )
        .unwrap();
        let schema = &live.catalogs[0].schemas[0];
        assert_eq!(schema.name, "tm_db");
        assert_eq!(schema.tables[1].foreign_keys[0].references.schema, "tm_db");
        let back = from_live(
            &live,
            &project(),
            &names(DialectKind::Mysql, "tm_db", Some("tm_db")),
        );
        assert_eq!(back.catalogs[0].name, "shop");
        assert_eq!(back.catalogs[0].schemas[0].name, "public");
        assert_eq!(
            back.catalogs[0].schemas[0].tables[1].foreign_keys[0]
                .references
                .schema,
            "public"
        );
    }

    #[test]
    fn several_catalogs_or_schemas_are_refused_by_name() {
        let mut two = project();
        let mut other = two.catalogs[0].clone();
        other.name = "audit".into();
        other.id = ObjectId::new("cat_audit");
        two.catalogs.push(other);
        let err = to_live(
            &two,
            &names(DialectKind::Postgres, "db", None),
            "snapshot 2.0.0",
            "environment prod",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("2 catalogs (shop, audit)"), "{err}");
        assert!(err.contains("environment prod"), "{err}");

        let mut schemas = project();
        let mut extra = schemas.catalogs[0].schemas[0].clone();
        extra.name = "audit".into();
        schemas.catalogs[0].schemas.push(extra);
        let err = to_live(
            &schemas,
            &names(DialectKind::Sqlite, "main", Some("main")),
            "snapshot 2.0.0",
            "environment dev",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("2 schemas (public, audit)"), "{err}");
        assert!(err.contains("SQLite"), "{err}");
    }

    #[test]
    fn own_tables_are_left_out() {
        let s = state(
            "db",
            "public",
            vec![
                table("t1", "orders", vec![]),
                table("t2", "tidemark_deployments", vec![]),
            ],
        );
        let names: Vec<String> = without_own_tables(&s)
            .tables()
            .map(|(_, _, t)| t.name.clone())
            .collect();
        assert_eq!(names, ["orders"]);
    }

    #[test]
    fn alignment_removes_spelling_noise_but_keeps_real_changes() {
        let target = project();
        // The database's spelling: a cast on a default, a primary key MySQL
        // calls PRIMARY, no comments; and one real change: an extra column.
        let mut live = state(
            "shop",
            "public",
            vec![
                table(
                    "tbl:public.customers",
                    "customers",
                    vec![column("col:public.customers.id", "id", DataType::BigInt)],
                ),
                table(
                    "tbl:public.orders",
                    "orders",
                    vec![
                        column("col:public.orders.id", "id", DataType::BigInt),
                        column(
                            "col:public.orders.customer_id",
                            "customer_id",
                            DataType::BigInt,
                        ),
                        column("col:public.orders.note", "note", DataType::Text),
                    ],
                ),
            ],
        );
        let tables = &mut live.catalogs[0].schemas[0].tables;
        tables[0].comment = Some("people".into());
        tables[0].primary_key = Some(PrimaryKey {
            id: ObjectId::new("pk:public.customers"),
            name: "PRIMARY".into(),
            columns: vec!["id".into()],
        });
        let mut fk = target.catalogs[0].schemas[0].tables[1].foreign_keys[0].clone();
        fk.id = ObjectId::new("fk:public.orders.orders_customer_fk");
        fk.on_delete = tidemark_model::FkAction::Restrict;
        tables[1].foreign_keys.push(fk);
        let aligned = align(&live, &target, DialectKind::Mysql);
        let changes = diff(&aligned, &target);
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert!(
            matches!(&changes[0], tidemark_model::Change::DropColumn { column, .. } if column.name == "note")
        );
        // On PostgreSQL the key's name and the comment are real differences.
        let changes = diff(&align(&live, &target, DialectKind::Postgres), &target);
        assert!(changes.len() > 1, "{changes:#?}");
    }
}
