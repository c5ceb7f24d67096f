//! Live databases into the project as ops.
//!
//! - `import --env E`: what the live database has that differs from the
//!   snapshot its marker names (a hotfix made straight in prod) becomes ops
//!   appended to the working state. Afterwards the working state and the
//!   live database compare equal (if the working state was that snapshot);
//!   the marker still names the old snapshot until a new one is deployed.
//! - `import --connection NAME [--schema S]`: the schemas read from a live
//!   database become ops; for an empty project that is all adds. Project
//!   schemas that were not read are left alone.
//!
//! Both go through one conversion from diff changes to ops
//! ([`changes_to_ops`]), with fresh ids and the working state's ids for
//! objects it already has.

use crate::live::Expected;
use crate::mapping::{self, LiveNames};
use crate::{new_id, new_op_id, AddedOps, App, AppError, AppResult};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tidemark_db::ConnectionSpec;
use tidemark_model::{
    diff, Action, Change, Column, ObjectId, Op, QualifiedName, Reducer, State, Table,
};
use tidemark_sql::DialectKind;

/// What an import from a live database did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct LiveImport {
    /// Where it read from (`environment prod`, `connection shop_db`).
    pub source: String,
    /// What the live schema was compared with (`snapshot 1.0.0`, `the working state`).
    pub compared_with: String,
    /// The differences found, one line each.
    pub changes: Vec<String>,
    /// The ops appended to the current project (none when nothing differs).
    pub added: AddedOps,
}

impl App {
    /// `tidemark import --env E`: the environment's drift from its deployed
    /// snapshot, appended to the current project as ops.
    pub fn import_from_env(&mut self, env_name: &str) -> AppResult<LiveImport> {
        let ctx = self.env_context(env_name)?;
        let working = self.working_state()?;
        let live = self.read_live(&ctx, Some(&working))?;
        let (kind, names, state, expected) = (
            live.kind(),
            live.names.clone(),
            live.state.clone(),
            live.expected.clone(),
        );
        self.close_quietly(live.db);
        let (version, base) = match expected {
            Expected::Known { version, state, .. } => (version, state),
            Expected::Nothing => {
                return Err(AppError::BadInput(format!(
                    "nothing was deployed to {} by Tidemark (no marker), so there is no drift to import: read the whole database with `tidemark import --connection {}`",
                    ctx.label(),
                    ctx.env.connection
                )))
            }
            Expected::Unknown { reason, .. } => {
                return Err(AppError::BadInput(format!(
                    "cannot import from {}: {reason}",
                    ctx.label()
                )))
            }
        };
        let live_back = mapping::from_live(&state, &base, &names);
        let compared_with = if version == crate::deploy::WORKING {
            "the deployed working state".to_string()
        } else {
            format!("snapshot {version}")
        };
        self.append_live(ctx.label(), compared_with, kind, &base, &live_back)
    }

    /// `tidemark import --connection NAME [--schema S]…`: a live database
    /// read into the current project as ops.
    pub fn import_from_connection(
        &mut self,
        connection: &str,
        schemas: &[String],
    ) -> AppResult<LiveImport> {
        let c = self.ws.connection(connection)?;
        let spec = ConnectionSpec::parse(&c.url).map_err(|e| {
            AppError::Integrity(format!("stored connection {connection} is unreadable: {e}"))
        })?;
        let working = self.working_state()?;
        let mut db = self.open_database(connection)?;
        let read = self.block_on(db.introspect(schemas));
        self.close_quietly(db);
        let state =
            read.map_err(|e| AppError::Database(format!("connection {connection}: {e}")))?;
        let state = mapping::without_own_tables(&state);
        let names = LiveNames::of(&spec).with_live_catalog(&state);
        let live_back = mapping::from_live(&state, &working, &names);
        let read_schemas: Vec<String> = mapping::schema_names([&live_back]);
        for wanted in schemas {
            let found = read_schemas.contains(wanted)
                || (names.schema.as_deref() == Some(wanted.as_str()) && !read_schemas.is_empty());
            if !found {
                return Err(AppError::BadInput(format!(
                    "connection {connection} has no schema {wanted}"
                )));
            }
        }
        // Only the catalogs and schemas that were read are compared: the
        // project's other schemas are not the live database's business.
        let mut base = working.clone();
        let live_catalogs: Vec<&str> = live_back.catalogs.iter().map(|c| c.name.as_str()).collect();
        base.catalogs
            .retain(|c| live_catalogs.contains(&c.name.as_str()));
        for catalog in &mut base.catalogs {
            catalog.schemas.retain(|s| read_schemas.contains(&s.name));
        }
        let compared_with = if working.catalogs.is_empty() {
            "an empty project".to_string()
        } else {
            "the working state".to_string()
        };
        self.append_live(
            format!("connection {connection}"),
            compared_with,
            names.kind,
            &base,
            &live_back,
        )
    }

    /// Turns the difference from `base` to the live state (both in project
    /// names) into ops on the working state and appends them.
    fn append_live(
        &mut self,
        source: String,
        compared_with: String,
        kind: DialectKind,
        base: &State,
        live_back: &State,
    ) -> AppResult<LiveImport> {
        let aligned = mapping::align(live_back, base, kind);
        let changes: Vec<Change> = diff(base, &aligned)
            .into_iter()
            .map(|c| tidy(kind, c))
            .collect();
        let descriptions: Vec<String> = changes.iter().map(crate::describe_change).collect();
        let working = self.working_state()?;
        let ops = changes_to_ops(&changes, &working, kind, self.now())?;
        let added = if ops.is_empty() {
            AddedOps {
                ops: Vec::new(),
                uncommitted: self.uncommitted_ops()?.len(),
            }
        } else {
            self.append_validated(ops)?
        };
        Ok(LiveImport {
            source,
            compared_with,
            changes: descriptions,
            added,
        })
    }
}

/// A change with the database's spelling of defaults and checks replaced by
/// the dialect's canonical one (`'open'::character varying` becomes
/// `'open'`), which is what a project should hold: it compares equal to
/// the database's, and reads the same in other dialects more often.
fn tidy(kind: DialectKind, mut change: Change) -> Change {
    match &mut change {
        Change::AddTable { definition, .. } => {
            *definition = canonical_table(kind, definition);
        }
        Change::AddColumn { column, .. } => {
            column.default = canonical_default(kind, column);
        }
        Change::SetColumnDefault { column, to, .. } => {
            let probe = Column {
                id: ObjectId::new("probe"),
                name: column.clone(),
                data_type: tidemark_model::DataType::Text,
                nullable: true,
                default: to.clone(),
                comment: None,
                identity: false,
            };
            // The type only matters for numbers and booleans, which read
            // the same as text here.
            *to = canonical_default(kind, &probe);
        }
        Change::AddCheck { check, .. } => {
            let mut probe = probe_table(Vec::new());
            probe.checks.push(check.clone());
            if let Some(c) = canonical_table(kind, &probe).checks.into_iter().next() {
                check.expression = c.expression;
            }
        }
        _ => {}
    }
    change
}

fn probe_table(columns: Vec<Column>) -> Table {
    Table {
        id: ObjectId::new("probe"),
        name: "probe".into(),
        columns,
        primary_key: None,
        uniques: Vec::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        checks: Vec::new(),
        comment: None,
        properties: Default::default(),
    }
}

/// A table's defaults and check expressions in the dialect's canonical
/// spelling; everything else as it was.
fn canonical_table(kind: DialectKind, table: &Table) -> Table {
    let state = State {
        catalogs: vec![tidemark_model::Catalog {
            id: ObjectId::new("probe_cat"),
            name: "probe".into(),
            comment: None,
            schemas: vec![tidemark_model::Schema {
                id: ObjectId::new("probe_sch"),
                name: "probe".into(),
                comment: None,
                tables: vec![table.clone()],
            }],
        }],
    };
    let normalized = tidemark_sql::dialect(kind).normalize(&state);
    let Some(norm) = normalized.tables().map(|(_, _, t)| t).next() else {
        return table.clone();
    };
    let mut out = table.clone();
    for column in &mut out.columns {
        if let Some(n) = norm.columns.iter().find(|c| c.id == column.id) {
            if column.default.is_some() && !column.identity {
                column.default = n.default.clone();
            }
        }
    }
    for check in &mut out.checks {
        if let Some(n) = norm.checks.iter().find(|c| c.id == check.id) {
            check.expression = n.expression.clone();
        }
    }
    out
}

fn canonical_default(kind: DialectKind, column: &Column) -> Option<String> {
    column.default.as_ref()?;
    canonical_table(kind, &probe_table(vec![column.clone()]))
        .columns
        .into_iter()
        .next()
        .and_then(|c| c.default)
}

/// The ops that make `working` undergo `changes` (a diff whose from side
/// has the working state's names). New objects get fresh ids; existing ones
/// are found by name (exactly, else ignoring case, as the databases that
/// fold names do). Every op is checked against the state as it evolves.
pub(crate) fn changes_to_ops(
    changes: &[Change],
    working: &State,
    kind: DialectKind,
    now: DateTime<Utc>,
) -> AppResult<Vec<Op>> {
    let mut b = OpBuilder {
        reducer: Reducer::new(working.clone()),
        ops: Vec::new(),
        now,
        kind,
    };
    for change in changes {
        b.change(change).map_err(|e| {
            AppError::BadInput(format!(
                "cannot bring `{}` into the project: {e}",
                crate::describe_change(change)
            ))
        })?;
    }
    Ok(b.ops)
}

/// Builds ops one change at a time against a reducer that follows along.
struct OpBuilder {
    reducer: Reducer,
    ops: Vec<Op>,
    now: DateTime<Utc>,
    kind: DialectKind,
}

/// Finds by exact name, else by name ignoring case.
fn find<'a, T>(items: &'a [T], name: &str, key: impl Fn(&T) -> &str) -> Option<&'a T> {
    items
        .iter()
        .find(|i| key(i) == name)
        .or_else(|| items.iter().find(|i| key(i).eq_ignore_ascii_case(name)))
}

impl OpBuilder {
    fn push(&mut self, target: ObjectId, action: Action) -> Result<(), String> {
        let op = Op {
            id: new_op_id(),
            ts: self.now,
            target,
            action,
        };
        self.reducer.apply(&op).map_err(|e| e.to_string())?;
        self.ops.push(op);
        Ok(())
    }

    fn state(&self) -> &State {
        self.reducer.state()
    }

    fn catalog_id(&self, name: &str) -> Result<ObjectId, String> {
        find(&self.state().catalogs, name, |c| &c.name)
            .map(|c| c.id.clone())
            .ok_or_else(|| format!("the project has no catalog {name}"))
    }

    fn schema_id(&self, catalog: &str, name: &str) -> Result<ObjectId, String> {
        let c = find(&self.state().catalogs, catalog, |c| &c.name)
            .ok_or_else(|| format!("the project has no catalog {catalog}"))?;
        find(&c.schemas, name, |s| &s.name)
            .map(|s| s.id.clone())
            .ok_or_else(|| format!("the project has no schema {name}"))
    }

    fn table(&self, q: &QualifiedName) -> Result<&Table, String> {
        let c = find(&self.state().catalogs, &q.catalog, |c| &c.name)
            .ok_or_else(|| format!("the project has no catalog {}", q.catalog))?;
        let s = find(&c.schemas, &q.schema, |s| &s.name)
            .ok_or_else(|| format!("the project has no schema {}", q.schema))?;
        find(&s.tables, &q.name, |t| &t.name).ok_or_else(|| format!("the project has no table {q}"))
    }

    fn table_id(&self, q: &QualifiedName) -> Result<ObjectId, String> {
        Ok(self.table(q)?.id.clone())
    }

    fn column_id(&self, q: &QualifiedName, column: &str) -> Result<ObjectId, String> {
        find(&self.table(q)?.columns, column, |c| &c.name)
            .map(|c| c.id.clone())
            .ok_or_else(|| format!("the project has no column {q}.{column}"))
    }

    /// MySQL calls every primary key `PRIMARY` and SQLite reports none; the
    /// project then keeps its own default name.
    fn key_name(&self, name: &str) -> Option<String> {
        let meaningless = name.is_empty()
            || (self.kind == DialectKind::Mysql && name.eq_ignore_ascii_case("PRIMARY"));
        (!meaningless).then(|| name.to_string())
    }

    fn add_column(
        &mut self,
        table: ObjectId,
        column: &Column,
        position: Option<usize>,
    ) -> Result<(), String> {
        self.push(
            table,
            Action::AddColumn {
                id: new_id("col"),
                name: column.name.clone(),
                data_type: column.data_type.clone(),
                nullable: column.nullable,
                default: column.default.clone(),
                comment: column.comment.clone(),
                identity: column.identity,
                position,
            },
        )
    }

    fn add_table(&mut self, q: &QualifiedName, t: &Table) -> Result<(), String> {
        let schema = self.schema_id(&q.catalog, &q.schema)?;
        let id = new_id("tbl");
        self.push(
            schema,
            Action::AddTable {
                id: id.clone(),
                name: t.name.clone(),
            },
        )?;
        for column in &t.columns {
            self.add_column(id.clone(), column, None)?;
        }
        if let Some(pk) = &t.primary_key {
            self.push(
                id.clone(),
                Action::AddPrimaryKey {
                    id: new_id("pk"),
                    name: self.key_name(&pk.name),
                    columns: pk.columns.clone(),
                },
            )?;
        }
        for u in &t.uniques {
            self.push(
                id.clone(),
                Action::AddUnique {
                    id: new_id("uq"),
                    name: u.name.clone(),
                    columns: u.columns.clone(),
                },
            )?;
        }
        for ck in &t.checks {
            self.push(
                id.clone(),
                Action::AddCheck {
                    id: new_id("ck"),
                    name: ck.name.clone(),
                    expression: ck.expression.clone(),
                },
            )?;
        }
        for index in &t.indexes {
            self.add_index(id.clone(), index)?;
        }
        for fk in &t.foreign_keys {
            self.add_foreign_key(id.clone(), fk)?;
        }
        if t.comment.is_some() {
            self.push(
                id.clone(),
                Action::SetComment {
                    comment: t.comment.clone(),
                },
            )?;
        }
        for (key, value) in &t.properties {
            self.push(
                id.clone(),
                Action::SetTableProperty {
                    key: key.clone(),
                    value: value.clone(),
                },
            )?;
        }
        Ok(())
    }

    fn add_index(&mut self, table: ObjectId, index: &tidemark_model::Index) -> Result<(), String> {
        self.push(
            table,
            Action::AddIndex {
                id: new_id("idx"),
                name: index.name.clone(),
                columns: index.columns.clone(),
                unique: index.unique,
            },
        )
    }

    fn add_foreign_key(
        &mut self,
        table: ObjectId,
        fk: &tidemark_model::ForeignKey,
    ) -> Result<(), String> {
        self.push(
            table,
            Action::AddForeignKey {
                id: new_id("fk"),
                name: fk.name.clone(),
                columns: fk.columns.clone(),
                references: fk.references.clone(),
                ref_columns: fk.ref_columns.clone(),
                on_delete: fk.on_delete,
                on_update: fk.on_update,
            },
        )
    }

    /// The id of a named constraint of a table, of the kind `pick` selects.
    fn constraint_id(
        &self,
        q: &QualifiedName,
        name: &str,
        pick: impl Fn(&Table) -> Vec<(&str, &ObjectId)>,
    ) -> Result<ObjectId, String> {
        let table = self.table(q)?;
        let items = pick(table);
        find(&items, name, |(n, _)| n)
            .map(|(_, id)| (*id).clone())
            .ok_or_else(|| format!("the project has no constraint {name} on {q}"))
    }

    fn change(&mut self, change: &Change) -> Result<(), String> {
        match change {
            Change::AddCatalog { name } => self.push(
                ObjectId::root(),
                Action::AddCatalog {
                    id: new_id("cat"),
                    name: name.clone(),
                },
            ),
            Change::DropCatalog { name } => {
                let id = self.catalog_id(name)?;
                self.push(id, Action::DropCatalog)
            }
            Change::RenameCatalog { from, to } => {
                let id = self.catalog_id(from)?;
                self.push(id, Action::RenameCatalog { name: to.clone() })
            }
            Change::AddSchema {
                catalog,
                name,
                comment,
            } => {
                let cat = self.catalog_id(catalog)?;
                let id = new_id("sch");
                self.push(
                    cat,
                    Action::AddSchema {
                        id: id.clone(),
                        name: name.clone(),
                    },
                )?;
                if comment.is_some() {
                    self.push(
                        id,
                        Action::SetComment {
                            comment: comment.clone(),
                        },
                    )?;
                }
                Ok(())
            }
            Change::DropSchema { catalog, name } => {
                let id = self.schema_id(catalog, name)?;
                self.push(id, Action::DropSchema)
            }
            Change::RenameSchema { catalog, from, to } => {
                let id = self.schema_id(catalog, from)?;
                self.push(id, Action::RenameSchema { name: to.clone() })
            }
            Change::SetSchemaComment {
                catalog, name, to, ..
            } => {
                let id = self.schema_id(catalog, name)?;
                self.push(
                    id,
                    Action::SetComment {
                        comment: to.clone(),
                    },
                )
            }
            Change::AddTable { table, definition } => self.add_table(table, definition),
            Change::DropTable { table, .. } => {
                let id = self.table_id(table)?;
                self.push(id, Action::DropTable)
            }
            Change::RenameTable { from, to } => {
                let id = self.table_id(from)?;
                self.push(id, Action::RenameTable { name: to.clone() })
            }
            Change::SetTableComment { table, to, .. } => {
                let id = self.table_id(table)?;
                self.push(
                    id,
                    Action::SetComment {
                        comment: to.clone(),
                    },
                )
            }
            Change::SetTableProperty { table, key, to, .. } => {
                let id = self.table_id(table)?;
                self.push(
                    id,
                    Action::SetTableProperty {
                        key: key.clone(),
                        value: to.clone(),
                    },
                )
            }
            Change::UnsetTableProperty { table, key, .. } => {
                let id = self.table_id(table)?;
                self.push(id, Action::UnsetTableProperty { key: key.clone() })
            }
            Change::AddColumn {
                table,
                column,
                position,
            } => {
                let t = self.table(table)?;
                let (id, len) = (t.id.clone(), t.columns.len());
                let position = (*position < len).then_some(*position);
                self.add_column(id, column, position)
            }
            Change::DropColumn { table, column } => {
                let id = self.column_id(table, &column.name)?;
                self.push(id, Action::DropColumn)
            }
            Change::RenameColumn { table, from, to } => {
                let id = self.column_id(table, from)?;
                self.push(id, Action::RenameColumn { name: to.clone() })
            }
            Change::ChangeColumnType {
                table, column, to, ..
            } => {
                let id = self.column_id(table, column)?;
                self.push(
                    id,
                    Action::ChangeColumnType {
                        data_type: to.clone(),
                    },
                )
            }
            Change::SetColumnNullable {
                table,
                column,
                nullable,
            } => {
                let id = self.column_id(table, column)?;
                self.push(
                    id,
                    Action::SetNullable {
                        nullable: *nullable,
                    },
                )
            }
            Change::SetColumnDefault {
                table, column, to, ..
            } => {
                let id = self.column_id(table, column)?;
                self.push(
                    id,
                    Action::SetDefault {
                        default: to.clone(),
                    },
                )
            }
            Change::SetColumnIdentity {
                table,
                column,
                identity,
            } => {
                let id = self.column_id(table, column)?;
                self.push(
                    id,
                    Action::SetIdentity {
                        identity: *identity,
                    },
                )
            }
            Change::SetColumnComment {
                table, column, to, ..
            } => {
                let id = self.column_id(table, column)?;
                self.push(
                    id,
                    Action::SetComment {
                        comment: to.clone(),
                    },
                )
            }
            Change::ReorderColumns { table, to, .. } => {
                let t = self.table(table)?;
                let id = t.id.clone();
                // The listed columns take the slots they hold between them,
                // in the new order; the others stay where they are.
                let mut listed = to
                    .iter()
                    .filter_map(|name| find(&t.columns, name, |c| &c.name).map(|c| c.id.clone()));
                let order: Vec<ObjectId> = t
                    .columns
                    .iter()
                    .map(|c| {
                        let is_listed = to.iter().any(|n| n.eq_ignore_ascii_case(&c.name));
                        if is_listed {
                            listed.next().unwrap_or_else(|| c.id.clone())
                        } else {
                            c.id.clone()
                        }
                    })
                    .collect();
                self.push(id, Action::ReorderColumns { order })
            }
            Change::AddPrimaryKey { table, key } => {
                let id = self.table_id(table)?;
                let name = self.key_name(&key.name);
                self.push(
                    id,
                    Action::AddPrimaryKey {
                        id: new_id("pk"),
                        name,
                        columns: key.columns.clone(),
                    },
                )
            }
            Change::DropPrimaryKey { table, .. } => {
                let id = self.table_id(table)?;
                self.push(id, Action::DropPrimaryKey)
            }
            Change::AddUnique { table, constraint } => {
                let id = self.table_id(table)?;
                self.push(
                    id,
                    Action::AddUnique {
                        id: new_id("uq"),
                        name: constraint.name.clone(),
                        columns: constraint.columns.clone(),
                    },
                )
            }
            Change::DropUnique { table, constraint } => {
                let id = self.constraint_id(table, &constraint.name, |t| {
                    t.uniques.iter().map(|u| (u.name.as_str(), &u.id)).collect()
                })?;
                self.push(id, Action::DropUnique)
            }
            Change::AddIndex { table, index } => {
                let id = self.table_id(table)?;
                self.add_index(id, index)
            }
            Change::DropIndex { table, index } => {
                let id = self.constraint_id(table, &index.name, |t| {
                    t.indexes.iter().map(|i| (i.name.as_str(), &i.id)).collect()
                })?;
                self.push(id, Action::DropIndex)
            }
            Change::AddForeignKey { table, foreign_key } => {
                let id = self.table_id(table)?;
                self.add_foreign_key(id, foreign_key)
            }
            Change::DropForeignKey { table, foreign_key } => {
                let id = self.constraint_id(table, &foreign_key.name, |t| {
                    t.foreign_keys
                        .iter()
                        .map(|f| (f.name.as_str(), &f.id))
                        .collect()
                })?;
                self.push(id, Action::DropForeignKey)
            }
            Change::AddCheck { table, check } => {
                let id = self.table_id(table)?;
                self.push(
                    id,
                    Action::AddCheck {
                        id: new_id("ck"),
                        name: check.name.clone(),
                        expression: check.expression.clone(),
                    },
                )
            }
            Change::DropCheck { table, check } => {
                let id = self.constraint_id(table, &check.name, |t| {
                    t.checks.iter().map(|c| (c.name.as_str(), &c.id)).collect()
                })?;
                self.push(id, Action::DropCheck)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tidemark_model::{Catalog, DataType, Index, PrimaryKey, Schema};

    fn col(name: &str, data_type: DataType) -> Column {
        Column {
            id: ObjectId::new(format!("live:{name}")),
            name: name.into(),
            data_type,
            nullable: true,
            default: None,
            comment: None,
            identity: false,
        }
    }

    fn live() -> State {
        State {
            catalogs: vec![Catalog {
                id: ObjectId::new("cat:db"),
                name: "shop".into(),
                comment: None,
                schemas: vec![Schema {
                    id: ObjectId::new("sch:public"),
                    name: "public".into(),
                    comment: None,
                    tables: vec![Table {
                        id: ObjectId::new("tbl:public.orders"),
                        name: "orders".into(),
                        columns: vec![col("id", DataType::BigInt), col("note", DataType::Text)],
                        primary_key: Some(PrimaryKey {
                            id: ObjectId::new("pk:orders"),
                            name: "PRIMARY".into(),
                            columns: vec!["id".into()],
                        }),
                        uniques: vec![],
                        indexes: vec![Index {
                            id: ObjectId::new("idx:orders_note"),
                            name: "orders_note_idx".into(),
                            columns: vec!["note".into()],
                            unique: false,
                        }],
                        foreign_keys: vec![],
                        checks: vec![],
                        comment: Some("orders".into()),
                        properties: BTreeMap::new(),
                    }],
                }],
            }],
        }
    }

    #[test]
    fn an_empty_project_gets_all_adds_and_replays_to_the_live_schema() {
        let empty = State::default();
        let changes = diff(&empty, &live());
        let ops = changes_to_ops(&changes, &empty, DialectKind::Mysql, Utc::now()).unwrap();
        let names: Vec<&str> = ops.iter().map(|o| o.action.name()).collect();
        assert_eq!(
            names,
            [
                "add_catalog",
                "add_schema",
                "add_table",
                "add_column",
                "add_column",
                "add_primary_key",
                "set_comment",
                "add_index"
            ]
        );
        let state = tidemark_model::reduce(State::default(), &ops).unwrap();
        // MySQL's `PRIMARY` gives way to the project's default key name.
        let table = &state.catalogs[0].schemas[0].tables[0];
        assert_eq!(table.primary_key.as_ref().unwrap().name, "orders_pkey");
        let again: Vec<Change> = diff(&state, &live())
            .into_iter()
            .filter(|c| {
                !matches!(
                    c,
                    Change::DropPrimaryKey { .. } | Change::AddPrimaryKey { .. }
                )
            })
            .collect();
        assert_eq!(again, vec![], "ops reproduce the live schema");
    }

    #[test]
    fn drift_becomes_ops_on_existing_ids() {
        let empty = State::default();
        let ops = changes_to_ops(
            &diff(&empty, &live()),
            &empty,
            DialectKind::Postgres,
            Utc::now(),
        )
        .unwrap();
        let project = tidemark_model::reduce(State::default(), &ops).unwrap();
        let mut hotfix = live();
        let t = &mut hotfix.catalogs[0].schemas[0].tables[0];
        t.indexes.clear();
        t.columns.push(col("legacy_flag", DataType::Boolean));
        t.columns[1].default = Some("'n/a'".into());
        let changes = diff(&project, &hotfix);
        let ops = changes_to_ops(&changes, &project, DialectKind::Postgres, Utc::now()).unwrap();
        let names: Vec<&str> = ops.iter().map(|o| o.action.name()).collect();
        assert_eq!(names, ["drop_index", "add_column", "set_default"]);
        let table_id = &project.catalogs[0].schemas[0].tables[0].id;
        assert_eq!(&ops[1].target, table_id);
        let after = tidemark_model::reduce(project, &ops).unwrap();
        let t = &after.catalogs[0].schemas[0].tables[0];
        assert!(t.indexes.is_empty());
        assert_eq!(t.columns[1].default.as_deref(), Some("'n/a'"));
        assert_eq!(t.columns[2].name, "legacy_flag");
    }

    #[test]
    fn a_change_the_project_cannot_take_is_refused_by_name() {
        let changes = vec![Change::DropTable {
            table: QualifiedName {
                catalog: "shop".into(),
                schema: "public".into(),
                name: "ghost".into(),
            },
            definition: live().catalogs[0].schemas[0].tables[0].clone(),
        }];
        let err = changes_to_ops(&changes, &live(), DialectKind::Postgres, Utc::now())
            .unwrap_err()
            .to_string();
        assert!(err.contains("drop table public.ghost"), "{err}");
        assert!(err.contains("no table"), "{err}");
    }
}
