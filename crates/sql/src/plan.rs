//! Migration plans: changes in dependency order, rendered for one dialect,
//! each statement carrying the breaking-change verdict of its change.
//!
//! Order of a plan: foreign keys are dropped first (with keys between
//! dropped tables that reference each other in a cycle), then indexes,
//! uniques, checks and primary keys, columns, tables (referencing tables
//! before the tables they reference), schemas and catalogs; then renames
//! (catalogs, schemas, tables, columns); then new catalogs, schemas and
//! tables (referenced tables first), new columns, column alterations, new
//! keys, uniques and checks, indexes, foreign keys, and finally comments and
//! properties. The change naming convention makes this order valid without
//! translating names. Within that order, a rename waits for the rename that
//! gives up its name (swaps go through temporary names), a table that loses
//! every column adds its new ones first, and a foreign key is dropped and
//! added again around the key or index it depends on when the plan drops
//! that one but keeps the foreign key.
//!
//! Some changes render nothing executable (PostgreSQL cannot reorder
//! columns; SQLite stores no comments): they appear in [`Plan::notes`] with
//! the reason, so every change of a plan is accounted for. A change a dialect
//! cannot express at all fails the whole plan with [`SqlError::Unsupported`].

use crate::context::RenderContext;
use crate::describe::{describe, target_table, Side};
use crate::dialect::mysql::Mysql;
use crate::dialect::sqlite::Sqlite;
use crate::dialect::sqlserver::SqlServer;
use crate::dialect::{dialect, DialectKind, RenderedStatement};
use crate::error::SqlError;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use tidemark_model::{
    assess, diff, Assessment, Change, Facts, ForeignKey, QualifiedName, Severity, State, Table,
};

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct PlannedStatement {
    /// The SQL, without a trailing semicolon. On SQL Server, one batch.
    pub sql: String,
    /// The change it belongs to: an index into [`Plan::changes`].
    pub change: usize,
    /// How dangerous it is.
    pub severity: Severity,
    /// Why, naming the object.
    pub reason: String,
}

/// A change of a plan that renders no statement of its own, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanNote {
    /// An index into [`Plan::changes`].
    pub change: usize,
    /// Why there is no statement (the database does not store the thing, or
    /// another statement of the plan does the work).
    pub reason: String,
}

/// A migration from one state to another for one dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Plan {
    /// The database the SQL is for.
    pub dialect: DialectKind,
    /// The changes, in the order they were given (statements refer to them by index).
    pub changes: Vec<Change>,
    /// Statements in execution order.
    pub statements: Vec<PlannedStatement>,
    /// Changes without a statement of their own.
    pub notes: Vec<PlanNote>,
    /// The plan that undoes this one, if the dialect can express it.
    pub down: Option<Box<Plan>>,
    /// Why running the down plan would not bring the data back, one line per
    /// data-losing change (for example `drop column orders.note: its data is gone`).
    pub down_lossy: Vec<String>,
}

impl Plan {
    /// The worst severity of any statement; an empty plan is safe.
    pub fn severity(&self) -> Severity {
        self.statements
            .iter()
            .map(|s| s.severity)
            .max()
            .unwrap_or(Severity::Safe)
    }

    /// The statements that lose data or break readers and writers.
    pub fn breaking(&self) -> impl Iterator<Item = &PlannedStatement> {
        self.statements
            .iter()
            .filter(|s| s.severity == Severity::Breaking)
    }

    /// Whether there is nothing to execute.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The statements to run inside one transaction; the ones before and
    /// after it must run outside, on the same connection. That is the whole
    /// plan except on SQLite when a table is rebuilt: `PRAGMA foreign_keys`
    /// has no effect inside a transaction, so it is switched off before and
    /// back on after. The last statement inside is then
    /// `PRAGMA foreign_key_check`, and any row it returns means the rebuild
    /// broke a foreign key and the transaction must be rolled back.
    pub fn transaction_range(&self) -> Range<usize> {
        let outside = |s: &&PlannedStatement| s.sql.starts_with("PRAGMA foreign_keys");
        let start = self.statements.iter().take_while(outside).count();
        let end = self.statements.len()
            - self.statements[start..]
                .iter()
                .rev()
                .take_while(outside)
                .count();
        start..end
    }

    /// The plan as a script: statements preceded by a comment with their
    /// severity and reason (once for a run of statements of one change),
    /// notes and what a rollback cannot restore as comments at the end. SQL Server
    /// statements are separated into batches with `GO`.
    pub fn to_sql_script(&self) -> String {
        let product = self.dialect.product();
        let mut out = format!(
            "-- Tidemark migration for {product}: {} statement{}, {} change{}, worst: {}\n",
            self.statements.len(),
            if self.statements.len() == 1 { "" } else { "s" },
            self.changes.len(),
            if self.changes.len() == 1 { "" } else { "s" },
            self.severity()
        );
        let mut previous: Option<&PlannedStatement> = None;
        for s in &self.statements {
            out.push('\n');
            // Consecutive statements of one change share their comment.
            let same = previous.is_some_and(|p| {
                p.change == s.change && p.severity == s.severity && p.reason == s.reason
            });
            if !same {
                out.push_str(&format!("-- [{}] {}\n", s.severity, one_line(&s.reason)));
            }
            previous = Some(s);
            out.push_str(s.sql.trim_end());
            if !s.sql.trim_end().ends_with(';') {
                out.push(';');
            }
            out.push('\n');
            if self.dialect == DialectKind::SqlServer {
                out.push_str("GO\n");
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\n-- Changes without a statement:\n");
            for n in &self.notes {
                let change = self.changes.get(n.change).map(describe).unwrap_or_default();
                out.push_str(&format!(
                    "-- {}: {}\n",
                    one_line(&change),
                    one_line(&n.reason)
                ));
            }
        }
        if !self.down_lossy.is_empty() {
            out.push_str("\n-- Undoing this migration cannot restore:\n");
            for l in &self.down_lossy {
                out.push_str(&format!("-- {}\n", one_line(l)));
            }
        }
        out
    }
}

/// Comment text on one line, so no name or reason can end the comment and
/// smuggle SQL into a script.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// The plan from `from` to `to`: the model's diff, ordered and rendered, with
/// the down plan and what it cannot restore.
pub fn plan(kind: DialectKind, from: &State, to: &State, facts: &Facts) -> Result<Plan, SqlError> {
    plan_changes(kind, diff(from, to), from, to, facts)
}

/// The plan for a given list of changes from `from` to `to` (both states are
/// needed: some dialects render a change from the full table definition).
/// The down plan inverts the changes; when the dialect cannot express the
/// inverse, `down` is `None` and `down_lossy` says why.
pub fn plan_changes(
    kind: DialectKind,
    changes: Vec<Change>,
    from: &State,
    to: &State,
    facts: &Facts,
) -> Result<Plan, SqlError> {
    let mut up = build(kind, changes, from, to, facts)?;
    up.down_lossy = lossy(&up.changes, facts);
    // Row counts describe the database as it is now, not after the plan.
    match build(
        kind,
        invert(&up.changes, from, to),
        to,
        from,
        &Facts::default(),
    ) {
        Ok(down) => up.down = Some(Box::new(down)),
        Err(e) => up.down_lossy.push(format!("no down plan: {e}")),
    }
    Ok(up)
}

/// Where a group of changes goes and how it renders.
#[derive(Debug, Clone)]
enum UnitKind {
    /// One change, rendered by the dialect.
    Single,
    /// All SQLite changes to one table (to-state name), done by one rebuild.
    Rebuild(QualifiedName),
    /// All changes to one column that MySQL or SQL Server make in one go.
    Column(QualifiedName, String),
    /// A statement the plan adds for the member change: a foreign key
    /// between dropped tables that reference each other, a rename through a
    /// temporary name, or a foreign key dropped and added again around the
    /// key it depends on.
    Extra(Box<Change>),
}

#[derive(Debug, Clone)]
struct Unit {
    /// Change indexes, the first one representing the group.
    members: Vec<usize>,
    kind: UnitKind,
    key: (u8, u8, usize, usize),
}

mod phase {
    pub const DROP_FK: u8 = 0;
    pub const DROP_CONSTRAINT: u8 = 1;
    pub const DROP_COLUMN: u8 = 2;
    pub const DROP_TABLE: u8 = 3;
    pub const DROP_SCHEMA: u8 = 4;
    pub const DROP_CATALOG: u8 = 5;
    pub const RENAME_CATALOG: u8 = 6;
    pub const RENAME_SCHEMA: u8 = 7;
    pub const RENAME_TABLE: u8 = 8;
    pub const RENAME_COLUMN: u8 = 9;
    pub const ADD_CATALOG: u8 = 10;
    pub const ADD_SCHEMA: u8 = 11;
    pub const ADD_TABLE: u8 = 12;
    pub const ADD_COLUMN: u8 = 13;
    pub const ALTER_COLUMN: u8 = 14;
    pub const ADD_CONSTRAINT: u8 = 15;
    pub const ADD_INDEX: u8 = 16;
    pub const ADD_FK: u8 = 17;
    pub const COMMENT: u8 = 18;
}

/// `(phase, step within the phase)` of a change.
fn phase_of(change: &Change) -> (u8, u8) {
    use phase::*;
    match change {
        Change::DropForeignKey { .. } => (DROP_FK, 0),
        Change::DropIndex { .. } => (DROP_CONSTRAINT, 0),
        Change::DropUnique { .. } | Change::DropCheck { .. } => (DROP_CONSTRAINT, 1),
        // Last: a unique index or key may be what another key leans on.
        Change::DropPrimaryKey { .. } => (DROP_CONSTRAINT, 2),
        Change::DropColumn { .. } => (DROP_COLUMN, 0),
        Change::DropTable { .. } => (DROP_TABLE, 0),
        Change::DropSchema { .. } => (DROP_SCHEMA, 0),
        Change::DropCatalog { .. } => (DROP_CATALOG, 0),
        Change::RenameCatalog { .. } => (RENAME_CATALOG, 0),
        Change::RenameSchema { .. } => (RENAME_SCHEMA, 0),
        Change::RenameTable { .. } => (RENAME_TABLE, 0),
        Change::RenameColumn { .. } => (RENAME_COLUMN, 0),
        Change::AddCatalog { .. } => (ADD_CATALOG, 0),
        Change::AddSchema { .. } => (ADD_SCHEMA, 0),
        Change::AddTable { .. } => (ADD_TABLE, 0),
        Change::AddColumn { .. } => (ADD_COLUMN, 0),
        // An identity goes before a default is set and comes after the
        // default is dropped and the column made NOT NULL.
        Change::SetColumnIdentity {
            identity: false, ..
        } => (ALTER_COLUMN, 0),
        Change::ChangeColumnType { .. } => (ALTER_COLUMN, 1),
        Change::SetColumnNullable { .. } => (ALTER_COLUMN, 2),
        Change::SetColumnDefault { .. } => (ALTER_COLUMN, 3),
        Change::SetColumnIdentity { identity: true, .. } => (ALTER_COLUMN, 4),
        Change::ReorderColumns { .. } => (ALTER_COLUMN, 5),
        Change::AddPrimaryKey { .. } => (ADD_CONSTRAINT, 0),
        Change::AddUnique { .. } | Change::AddCheck { .. } => (ADD_CONSTRAINT, 1),
        Change::AddIndex { .. } => (ADD_INDEX, 0),
        Change::AddForeignKey { .. } => (ADD_FK, 0),
        Change::SetSchemaComment { .. }
        | Change::SetTableComment { .. }
        | Change::SetColumnComment { .. }
        | Change::SetTableProperty { .. }
        | Change::UnsetTableProperty { .. } => (COMMENT, 0),
    }
}

/// The to-state name of the table a change touches.
fn to_table_name(change: &Change, ctx: &RenderContext<'_>) -> Option<QualifiedName> {
    let (table, side) = target_table(change)?;
    Some(match side {
        Side::To => table.clone(),
        Side::From => ctx.renames().table_forward(table),
    })
}

fn referenced(table: &QualifiedName, fk: &ForeignKey) -> QualifiedName {
    QualifiedName {
        catalog: table.catalog.clone(),
        schema: fk.references.schema.clone(),
        name: fk.references.table.clone(),
    }
}

/// Orders tables so that each comes after the tables it depends on, keeping
/// the given order otherwise. Returns the order (indexes into `tables`) and
/// the tables left in dependency cycles, which are appended in given order.
fn dependency_order(
    tables: &[QualifiedName],
    depends_on: impl Fn(usize) -> Vec<QualifiedName>,
) -> (Vec<usize>, Vec<usize>) {
    let deps: Vec<Vec<usize>> = (0..tables.len())
        .map(|i| {
            depends_on(i)
                .iter()
                .filter_map(|d| tables.iter().position(|t| t == d))
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    let mut placed = vec![false; tables.len()];
    let mut order = Vec::with_capacity(tables.len());
    while let Some(i) =
        (0..tables.len()).find(|&i| !placed[i] && deps[i].iter().all(|&j| placed[j]))
    {
        placed[i] = true;
        order.push(i);
    }
    let cycle: Vec<usize> = (0..tables.len()).filter(|&i| !placed[i]).collect();
    order.extend(&cycle);
    (order, cycle)
}

fn units(kind: DialectKind, changes: &[Change], ctx: &RenderContext<'_>) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut grouped = vec![false; changes.len()];

    // Changes a dialect makes together.
    if kind == DialectKind::Sqlite {
        let mut rebuilt: Vec<QualifiedName> = Vec::new();
        for c in changes {
            if let Some(t) = Sqlite.needs_rebuild(c, ctx) {
                if !rebuilt.contains(&t) {
                    rebuilt.push(t);
                }
            }
        }
        for table in rebuilt {
            let members: Vec<usize> = (0..changes.len())
                .filter(|&i| {
                    !grouped[i]
                        && Sqlite::absorbed_by_rebuild(&changes[i])
                        && to_table_name(&changes[i], ctx).as_ref() == Some(&table)
                })
                .collect();
            for &m in &members {
                grouped[m] = true;
                // The rebuild, which drops this column, comes after the
                // renames; a rename to its name moves it aside first.
                if let Change::DropColumn {
                    table: from_name,
                    column,
                } = &changes[m]
                {
                    let taken = changes.iter().any(|c| {
                        matches!(c, Change::RenameColumn { table: t, to, .. }
                            if *t == table && to.eq_ignore_ascii_case(&column.name))
                    });
                    if taken {
                        units.push(Unit {
                            members: vec![m],
                            kind: UnitKind::Extra(Box::new(Change::RenameColumn {
                                table: from_name.clone(),
                                from: column.name.clone(),
                                to: format!("tidemark_dropped_{m}"),
                            })),
                            key: (phase::DROP_COLUMN, 0, 0, m),
                        });
                    }
                }
            }
            let first = members[0];
            units.push(Unit {
                members,
                kind: UnitKind::Rebuild(table),
                key: (phase::ALTER_COLUMN, 1, 0, first),
            });
        }
    }
    if matches!(kind, DialectKind::Mysql | DialectKind::SqlServer) {
        for i in 0..changes.len() {
            let Some((table, column)) = column_alter_target(kind, &changes[i]) else {
                continue;
            };
            if grouped[i] {
                continue;
            }
            let members: Vec<usize> = (i..changes.len())
                .filter(|&j| {
                    !grouped[j]
                        && column_alter_target(kind, &changes[j])
                            .is_some_and(|(t, c)| t == table && c == column)
                })
                .collect();
            for &m in &members {
                grouped[m] = true;
            }
            let step = members
                .iter()
                .map(|&m| phase_of(&changes[m]).1)
                .min()
                .unwrap_or(1);
            let identity_on = members
                .iter()
                .any(|&m| matches!(changes[m], Change::SetColumnIdentity { identity: true, .. }));
            // MySQL wants an AUTO_INCREMENT column to be a key already (the
            // other way round, see the MySQL dialect's DROP PRIMARY KEY).
            let key =
                if kind == DialectKind::Mysql && identity_on && adds_primary_key(changes, table) {
                    (phase::ADD_CONSTRAINT, 0, 1, i)
                } else {
                    (phase::ALTER_COLUMN, step, 0, i)
                };
            units.push(Unit {
                members,
                kind: UnitKind::Column(table.clone(), column.to_string()),
                key,
            });
        }
    }

    // New tables after the tables they reference; dropped tables before.
    let added: Vec<(usize, QualifiedName)> = changes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Change::AddTable { table, .. } => Some((i, table.clone())),
            _ => None,
        })
        .collect();
    let added_names: Vec<QualifiedName> = added.iter().map(|(_, t)| t.clone()).collect();
    let (add_order, _) = dependency_order(&added_names, |k| {
        let table = &added_names[k];
        let from_state = ctx
            .to_table(table)
            .map(|t| {
                t.foreign_keys
                    .iter()
                    .map(|fk| referenced(table, fk))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let from_changes = changes.iter().filter_map(|c| match c {
            Change::AddForeignKey {
                table: t,
                foreign_key,
            } if t == table => Some(referenced(table, foreign_key)),
            _ => None,
        });
        from_state.into_iter().chain(from_changes).collect()
    });
    let dropped: Vec<(usize, QualifiedName, &Table)> = changes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Change::DropTable { table, definition } => Some((i, table.clone(), definition)),
            _ => None,
        })
        .collect();
    let dropped_names: Vec<QualifiedName> = dropped.iter().map(|(_, t, _)| t.clone()).collect();
    // A table is dropped before the tables it references: it "depends on"
    // every dropped table that references it.
    let (drop_order, cycle) = dependency_order(&dropped_names, |k| {
        let target = &dropped_names[k];
        dropped
            .iter()
            .filter(|(_, t, def)| {
                t != target
                    && def
                        .foreign_keys
                        .iter()
                        .any(|fk| &referenced(t, fk) == target)
            })
            .map(|(_, t, _)| t.clone())
            .collect()
    });
    if kind != DialectKind::Sqlite {
        for &k in &cycle {
            let (i, table, def) = &dropped[k];
            for fk in &def.foreign_keys {
                let target = referenced(table, fk);
                let explicit = changes.iter().any(|c| {
                    matches!(c, Change::DropForeignKey { table: t, foreign_key } if t == table && foreign_key.name == fk.name)
                });
                if &target != table && cycle.iter().any(|&o| dropped[o].1 == target) && !explicit {
                    units.push(Unit {
                        members: vec![*i],
                        kind: UnitKind::Extra(Box::new(Change::DropForeignKey {
                            table: table.clone(),
                            foreign_key: fk.clone(),
                        })),
                        key: (phase::DROP_FK, 1, 0, *i),
                    });
                }
            }
        }
    }

    if matches!(
        kind,
        DialectKind::Postgres | DialectKind::Mysql | DialectKind::SqlServer
    ) {
        units.extend(rebound_keys(kind, changes, ctx));
    }

    // Renames: one that takes a name another rename gives up runs after it;
    // renames that swap names (a cycle) go through temporary names, out
    // before every other rename and back in after them.
    let mut rename_rank: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<(u8, Vec<Rename<'_>>)> = Vec::new();
    let mut group_keys: Vec<(QualifiedName, bool)> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let (key, from, to) = match c {
            Change::RenameColumn { table, from, to } => ((table.clone(), true), from, to),
            Change::RenameTable { from, to } => (
                (
                    QualifiedName {
                        name: String::new(),
                        ..from.clone()
                    },
                    false,
                ),
                &from.name,
                to,
            ),
            _ => continue,
        };
        let g = match group_keys.iter().position(|k| *k == key) {
            Some(g) => g,
            None => {
                group_keys.push(key);
                groups.push((phase_of(c).0, Vec::new()));
                groups.len() - 1
            }
        };
        groups[g].1.push((i, from.as_str(), to.as_str()));
    }
    for (phase, list) in &groups {
        let (order, cycle) = rename_order(list);
        for (rank, &k) in order.iter().enumerate() {
            rename_rank.insert(list[k].0, rank);
        }
        for &k in &cycle {
            let (i, from, to) = list[k];
            grouped[i] = true;
            let temporary = format!("tidemark_tmp_{i}");
            let (out, back) = match &changes[i] {
                Change::RenameColumn { table, .. } => (
                    Change::RenameColumn {
                        table: table.clone(),
                        from: from.to_string(),
                        to: temporary.clone(),
                    },
                    Change::RenameColumn {
                        table: table.clone(),
                        from: temporary,
                        to: to.to_string(),
                    },
                ),
                Change::RenameTable { from: old, .. } => (
                    Change::RenameTable {
                        from: old.clone(),
                        to: temporary.clone(),
                    },
                    Change::RenameTable {
                        from: QualifiedName {
                            name: temporary,
                            ..old.clone()
                        },
                        to: to.to_string(),
                    },
                ),
                _ => unreachable!("only renames are grouped here"),
            };
            units.push(Unit {
                members: vec![i],
                kind: UnitKind::Extra(Box::new(out)),
                key: (*phase, 0, 0, i),
            });
            units.push(Unit {
                members: vec![i],
                kind: UnitKind::Extra(Box::new(back)),
                key: (*phase, 2, 0, i),
            });
        }
    }

    // SQLite and MySQL refuse to drop a table's last column, so a table that
    // loses every column it had drops them after its new ones are added.
    let emptied: HashSet<&QualifiedName> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropColumn { table, .. } => Some(table),
            _ => None,
        })
        .filter(|&table| {
            let drops = changes
                .iter()
                .filter(|c| matches!(c, Change::DropColumn { table: t, .. } if t == table))
                .count();
            ctx.from_table(table)
                .is_some_and(|t| t.columns.len() == drops)
        })
        .collect();

    for (i, c) in changes.iter().enumerate() {
        if grouped[i] {
            continue;
        }
        // Moved after the renames, such a drop names the table as renamed.
        if let Change::DropColumn { table, column } = c {
            let renamed = ctx.renames().table_forward(table);
            if emptied.contains(table) && renamed != *table {
                units.push(Unit {
                    members: vec![i],
                    kind: UnitKind::Extra(Box::new(Change::DropColumn {
                        table: renamed,
                        column: column.clone(),
                    })),
                    key: (phase::ADD_COLUMN, 1, 0, i),
                });
                continue;
            }
        }
        let (mut p, mut step) = phase_of(c);
        let rank = match c {
            Change::AddTable { .. } => add_order.iter().position(|&k| added[k].0 == i).unwrap_or(0),
            Change::DropTable { .. } => drop_order
                .iter()
                .position(|&k| dropped[k].0 == i)
                .unwrap_or(0),
            Change::AddColumn { position, .. } => *position,
            Change::RenameColumn { .. } | Change::RenameTable { .. } => {
                step = 1;
                rename_rank.get(&i).copied().unwrap_or(0)
            }
            Change::DropColumn { table, .. } if emptied.contains(table) => {
                (p, step) = (phase::ADD_COLUMN, 1);
                0
            }
            _ => 0,
        };
        units.push(Unit {
            members: vec![i],
            kind: UnitKind::Single,
            key: (p, step, rank, i),
        });
    }
    units.sort_by_key(|u| u.key);
    units
}

/// Whether a plan adds a primary key to a table (to-state name).
fn adds_primary_key(changes: &[Change], table: &QualifiedName) -> bool {
    changes
        .iter()
        .any(|c| matches!(c, Change::AddPrimaryKey { table: t, .. } if t == table))
}

/// A rename of a plan: the change's index, the old name and the new one.
type Rename<'a> = (usize, &'a str, &'a str);

/// The order of renames within one table (or schema) such that no rename
/// takes a name before another rename has given it up, as indexes into
/// `renames`, and the renames left in cycles.
fn rename_order(renames: &[Rename<'_>]) -> (Vec<usize>, Vec<usize>) {
    let n = renames.len();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    // Rename i waits for rename j when it takes the name j gives up.
    while let Some(i) =
        (0..n).find(|&i| !placed[i] && (0..n).all(|j| placed[j] || renames[j].1 != renames[i].2))
    {
        placed[i] = true;
        order.push(i);
    }
    // Names are unique, so what is left is made of whole cycles.
    let cycle = (0..n).filter(|&i| !placed[i]).collect();
    (order, cycle)
}

/// A foreign key depends on the one primary key or unique constraint it was
/// created against (PostgreSQL records which; MySQL and SQL Server refuse to
/// drop an index a key needs), even when another key covers the same
/// columns. MySQL also needs an index on the referencing side that starts
/// with the key's columns, and will not drop the last one. When a plan
/// drops such a key or index but keeps the foreign key, the foreign key is
/// dropped before it and added again at the end, where it finds the key
/// that remains (MySQL builds a referencing index of its own if needed).
fn rebound_keys(kind: DialectKind, changes: &[Change], ctx: &RenderContext<'_>) -> Vec<Unit> {
    // (from-state table, index or constraint name) of everything dropped;
    // an empty name stands for the primary key.
    let dropped: Vec<(&QualifiedName, &str)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropPrimaryKey { table, .. } => Some((table, "")),
            Change::DropUnique { table, constraint } => Some((table, constraint.name.as_str())),
            Change::DropIndex { table, index } => Some((table, index.name.as_str())),
            _ => None,
        })
        .collect();
    let mut units = Vec::new();
    let mut seen: HashSet<(QualifiedName, String)> = HashSet::new();
    let mut rebind = |i: usize, child: &QualifiedName, fk: &ForeignKey, units: &mut Vec<Unit>| {
        let dropped_key = changes.iter().any(|other| {
            matches!(other, Change::DropForeignKey { table, foreign_key }
                if table == child && foreign_key.name == fk.name)
        });
        if dropped_key || !seen.insert((child.clone(), fk.name.clone())) {
            return;
        }
        // A table dropped later in the plan loses the key first, for good.
        let dropped_table = changes
            .iter()
            .any(|other| matches!(other, Change::DropTable { table, .. } if table == child));
        let to_child = ctx.renames().table_forward(child);
        let kept = ctx
            .to_table(&to_child)
            .and_then(|t| t.foreign_keys.iter().find(|k| k.name == fk.name));
        if !dropped_table && kept.is_none() {
            return;
        }
        units.push(Unit {
            members: vec![i],
            kind: UnitKind::Extra(Box::new(Change::DropForeignKey {
                table: child.clone(),
                foreign_key: fk.clone(),
            })),
            key: (phase::DROP_FK, 2, 0, i),
        });
        let Some(kept) = kept.filter(|_| !dropped_table) else {
            return;
        };
        units.push(Unit {
            members: vec![i],
            kind: UnitKind::Extra(Box::new(Change::AddForeignKey {
                table: to_child,
                foreign_key: kept.clone(),
            })),
            key: (phase::ADD_FK, 1, 0, i),
        });
    };
    for (i, c) in changes.iter().enumerate() {
        let (table, columns, key) = match c {
            Change::DropPrimaryKey { table, key } => (table, &key.columns, true),
            Change::DropUnique { table, constraint } => (table, &constraint.columns, true),
            Change::DropIndex { table, index } => (table, &index.columns, false),
            _ => continue,
        };
        // Keys that reference the dropped key.
        let catalogs = ctx
            .from_state()
            .catalogs
            .iter()
            .filter(|cat| cat.name == table.catalog);
        for schema in catalogs.flat_map(|cat| &cat.schemas) {
            for t in &schema.tables {
                let child = QualifiedName {
                    catalog: table.catalog.clone(),
                    schema: schema.name.clone(),
                    name: t.name.clone(),
                };
                for fk in &t.foreign_keys {
                    // PostgreSQL matches a key to a foreign key by its set
                    // of columns, in any order, and binds to the first one
                    // it finds: a key on the same columns in another order
                    // may be the one a foreign key depends on.
                    if key
                        && fk.references.schema == table.schema
                        && fk.references.table == table.name
                        && same_column_set(&fk.ref_columns, columns)
                    {
                        rebind(i, &child, fk, &mut units);
                    }
                }
            }
        }
        // MySQL: keys of the table itself that the dropped index served.
        let Some(own) = ctx.from_table(table).filter(|_| kind == DialectKind::Mysql) else {
            continue;
        };
        for fk in &own.foreign_keys {
            if !columns.starts_with(&fk.columns) {
                continue;
            }
            let serves = |name: &str, cols: &[String]| {
                cols.starts_with(&fk.columns) && !dropped.contains(&(table, name))
            };
            let still_served = own.primary_key.iter().any(|k| serves("", &k.columns))
                || own.uniques.iter().any(|u| serves(&u.name, &u.columns))
                || own.indexes.iter().any(|x| serves(&x.name, &x.columns));
            if !still_served {
                rebind(i, table, fk, &mut units);
            }
        }
    }
    units
}

/// Whether `a` and `b` name the same columns, in any order.
fn same_column_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|c| b.contains(c))
}

/// The column a change alters, when the dialect makes all alterations of one
/// column in one go.
fn column_alter_target(kind: DialectKind, change: &Change) -> Option<(&QualifiedName, &str)> {
    match (kind, change) {
        (
            DialectKind::Mysql | DialectKind::SqlServer,
            Change::ChangeColumnType { table, column, .. }
            | Change::SetColumnNullable { table, column, .. }
            | Change::SetColumnDefault { table, column, .. },
        )
        | (
            DialectKind::Mysql,
            Change::SetColumnIdentity { table, column, .. }
            | Change::SetColumnComment { table, column, .. },
        ) => Some((table, column.as_str())),
        _ => None,
    }
}

fn build(
    kind: DialectKind,
    changes: Vec<Change>,
    from: &State,
    to: &State,
    facts: &Facts,
) -> Result<Plan, SqlError> {
    let d = dialect(kind);
    let ctx = RenderContext::new(&changes, from, to);
    let verdicts: Vec<Assessment> = changes.iter().map(|c| assess(c, facts)).collect();
    let mut statements: Vec<PlannedStatement> = Vec::new();
    let mut notes: Vec<PlanNote> = Vec::new();
    let mut setups: HashSet<String> = HashSet::new();
    let mut first_rebuild: Option<usize> = None;

    for unit in units(kind, &changes, &ctx) {
        let lead = unit.members[0];
        let lead_change = &changes[lead];
        let (rendered, note, label): (Vec<RenderedStatement>, Option<String>, String) = match &unit
            .kind
        {
            UnitKind::Single => {
                let r = d.render_change(lead_change, &ctx)?;
                (r.statements, r.note, String::new())
            }
            UnitKind::Extra(change) => {
                let r = d.render_change(change, &ctx)?;
                (r.statements, None, String::new())
            }
            UnitKind::Rebuild(table) => {
                first_rebuild.get_or_insert(lead);
                let sql = Sqlite.rebuild(lead_change, table, &ctx)?;
                (
                    sql.into_iter().map(RenderedStatement::new).collect(),
                    None,
                    format!("the rebuild of table {table}"),
                )
            }
            UnitKind::Column(table, column) => {
                let sql = if kind == DialectKind::Mysql {
                    vec![Mysql.modify_column(lead_change, table, column, &ctx)?]
                } else {
                    let members: Vec<&Change> = unit.members.iter().map(|&m| &changes[m]).collect();
                    SqlServer.column_alter(&members, table, column, &ctx)?
                };
                (
                    sql.into_iter().map(RenderedStatement::new).collect(),
                    None,
                    format!("the statements for column {table}.{column}"),
                )
            }
        };
        let severity = unit
            .members
            .iter()
            .map(|&m| verdicts[m].severity)
            .max()
            .unwrap_or(Severity::Safe);
        let reasons: Vec<&str> = unit
            .members
            .iter()
            .map(|&m| verdicts[m].reason.as_str())
            .collect();
        let reason = match &unit.kind {
            UnitKind::Rebuild(table) => format!(
                "rebuilds {table} (SQLite cannot alter it in place), keeping its rows: {}",
                reasons.join("; ")
            ),
            _ => reasons.join("; "),
        };
        for s in rendered {
            match s.setup {
                Some(why) => {
                    if setups.insert(s.sql.clone()) {
                        statements.push(PlannedStatement {
                            sql: s.sql,
                            change: lead,
                            severity: severity.max(Severity::Risky),
                            reason: why,
                        });
                    }
                }
                None => statements.push(PlannedStatement {
                    sql: s.sql,
                    change: lead,
                    severity,
                    reason: reason.clone(),
                }),
            }
        }
        if let Some(note) = note {
            notes.push(PlanNote {
                change: lead,
                reason: note,
            });
        }
        for &m in &unit.members[1..] {
            notes.push(PlanNote {
                change: m,
                reason: format!(
                    "done by {label} (with change {lead}: {})",
                    describe(lead_change)
                ),
            });
        }
    }

    if let Some(lead) = first_rebuild {
        let pragma = |sql: &str, reason: &str| PlannedStatement {
            sql: sql.to_string(),
            change: lead,
            severity: Severity::Safe,
            reason: reason.to_string(),
        };
        statements.insert(
            0,
            pragma(
                "PRAGMA foreign_keys = OFF",
                "SQLite rebuilds tables with foreign key enforcement off; runs before the transaction",
            ),
        );
        statements.push(pragma(
            "PRAGMA foreign_key_check",
            "lists rows whose foreign keys the rebuild broke; any row means roll back",
        ));
        statements.push(pragma(
            "PRAGMA foreign_keys = ON",
            "turns foreign key enforcement back on; runs after the transaction",
        ));
    }

    Ok(Plan {
        dialect: kind,
        changes,
        statements,
        notes,
        down: None,
        down_lossy: Vec::new(),
    })
}

/// Why undoing each change would not bring its data back.
fn lossy(changes: &[Change], facts: &Facts) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable { table, .. } => {
                Some(format!("drop table {table}: its rows are gone"))
            }
            Change::DropColumn { table, column } => Some(format!(
                "drop column {}.{}: its data is gone",
                table.name, column.name
            )),
            Change::ChangeColumnType {
                table,
                column,
                from,
                to,
            } if assess(c, facts).severity != Severity::Safe => Some(format!(
                "change {}.{column} from {from} to {to}: values were converted and may not convert back exactly",
                table.name
            )),
            _ => None,
        })
        .collect()
}

fn find_schema<'s>(
    state: &'s State,
    catalog: &str,
    name: &str,
) -> Option<&'s tidemark_model::Schema> {
    state
        .catalogs
        .iter()
        .filter(|c| c.name == catalog)
        .flat_map(|c| &c.schemas)
        .find(|s| s.name == name)
}

/// The changes that undo `changes` (which turn `from` into `to`), named by
/// the same convention for the way back.
fn invert(changes: &[Change], from: &State, to: &State) -> Vec<Change> {
    let ctx = RenderContext::new(changes, from, to);
    let r = ctx.renames();
    // Names in the up plan's to state, translated to its from state (the
    // down plan's to state).
    let back = |t: &QualifiedName| r.table_back(t);
    let back_col = |t: &QualifiedName, c: &str| r.column_back(t, c);
    let dropped_too = |table: &QualifiedName, pred: &dyn Fn(&Change) -> bool| {
        changes
            .iter()
            .any(|c| pred(c) && target_table(c).is_some_and(|(t, _)| t == table))
    };
    let created = |table: &QualifiedName| {
        changes
            .iter()
            .any(|c| matches!(c, Change::AddTable { table: t, .. } if t == table))
    };
    let mut out = Vec::new();
    for c in changes {
        match c {
            Change::AddCatalog { name } => out.push(Change::DropCatalog { name: name.clone() }),
            Change::DropCatalog { name } => out.push(Change::AddCatalog { name: name.clone() }),
            Change::RenameCatalog { from, to } => out.push(Change::RenameCatalog {
                from: to.clone(),
                to: from.clone(),
            }),
            Change::AddSchema { catalog, name, .. } => out.push(Change::DropSchema {
                catalog: catalog.clone(),
                name: name.clone(),
            }),
            Change::DropSchema { catalog, name } => out.push(Change::AddSchema {
                catalog: catalog.clone(),
                name: name.clone(),
                comment: find_schema(from, catalog, name).and_then(|s| s.comment.clone()),
            }),
            Change::RenameSchema { catalog, from, to } => out.push(Change::RenameSchema {
                catalog: r.catalog_back(catalog),
                from: to.clone(),
                to: from.clone(),
            }),
            Change::SetSchemaComment {
                catalog,
                name,
                from,
                to,
            } => out.push(Change::SetSchemaComment {
                catalog: r.catalog_back(catalog),
                name: r.schema_back(catalog, name),
                from: to.clone(),
                to: from.clone(),
            }),
            Change::AddTable { table, definition } => out.push(Change::DropTable {
                table: table.clone(),
                definition: ctx
                    .to_table(table)
                    .cloned()
                    .unwrap_or_else(|| definition.clone()),
            }),
            Change::DropTable { table, definition } => {
                out.push(Change::AddTable {
                    table: table.clone(),
                    definition: Table {
                        indexes: Vec::new(),
                        foreign_keys: Vec::new(),
                        ..definition.clone()
                    },
                });
                for index in &definition.indexes {
                    let explicit = dropped_too(
                        table,
                        &|c| matches!(c, Change::DropIndex { index: i, .. } if i.name == index.name),
                    );
                    if !explicit {
                        out.push(Change::AddIndex {
                            table: table.clone(),
                            index: index.clone(),
                        });
                    }
                }
                for fk in &definition.foreign_keys {
                    let explicit = dropped_too(
                        table,
                        &|c| matches!(c, Change::DropForeignKey { foreign_key: f, .. } if f.name == fk.name),
                    );
                    if !explicit {
                        out.push(Change::AddForeignKey {
                            table: table.clone(),
                            foreign_key: fk.clone(),
                        });
                    }
                }
            }
            Change::RenameTable { from, to } => {
                out.push(Change::RenameTable {
                    from: QualifiedName {
                        catalog: r.catalog_back(&from.catalog),
                        schema: r.schema_back(&from.catalog, &from.schema),
                        name: to.clone(),
                    },
                    to: from.name.clone(),
                });
            }
            Change::SetTableComment { table, from, to } => out.push(Change::SetTableComment {
                table: back(table),
                from: to.clone(),
                to: from.clone(),
            }),
            Change::SetTableProperty {
                table,
                key,
                from,
                to,
            } => out.push(match from {
                Some(old) => Change::SetTableProperty {
                    table: back(table),
                    key: key.clone(),
                    from: Some(to.clone()),
                    to: old.clone(),
                },
                None => Change::UnsetTableProperty {
                    table: back(table),
                    key: key.clone(),
                    from: to.clone(),
                },
            }),
            Change::UnsetTableProperty { table, key, from } => out.push(Change::SetTableProperty {
                table: back(table),
                key: key.clone(),
                from: None,
                to: from.clone(),
            }),
            Change::AddColumn { table, column, .. } => out.push(Change::DropColumn {
                table: table.clone(),
                column: column.clone(),
            }),
            Change::DropColumn { table, column } => {
                let position = ctx
                    .from_table(table)
                    .and_then(|t| t.columns.iter().position(|c| c.name == column.name))
                    .unwrap_or(usize::MAX);
                out.push(Change::AddColumn {
                    table: table.clone(),
                    column: column.clone(),
                    position,
                });
            }
            Change::RenameColumn { table, from, to } => out.push(Change::RenameColumn {
                table: back(table),
                from: to.clone(),
                to: from.clone(),
            }),
            Change::ChangeColumnType {
                table,
                column,
                from,
                to,
            } => out.push(Change::ChangeColumnType {
                table: back(table),
                column: back_col(table, column),
                from: to.clone(),
                to: from.clone(),
            }),
            Change::SetColumnNullable {
                table,
                column,
                nullable,
            } => out.push(Change::SetColumnNullable {
                table: back(table),
                column: back_col(table, column),
                nullable: !nullable,
            }),
            Change::SetColumnDefault {
                table,
                column,
                from,
                to,
            } => out.push(Change::SetColumnDefault {
                table: back(table),
                column: back_col(table, column),
                from: to.clone(),
                to: from.clone(),
            }),
            Change::SetColumnIdentity {
                table,
                column,
                identity,
            } => out.push(Change::SetColumnIdentity {
                table: back(table),
                column: back_col(table, column),
                identity: !identity,
            }),
            Change::SetColumnComment {
                table,
                column,
                from,
                to,
            } => out.push(Change::SetColumnComment {
                table: back(table),
                column: back_col(table, column),
                from: to.clone(),
                to: from.clone(),
            }),
            Change::ReorderColumns { table, from, to } => out.push(Change::ReorderColumns {
                table: back(table),
                from: to.iter().map(|c| back_col(table, c)).collect(),
                to: from.iter().map(|c| back_col(table, c)).collect(),
            }),
            Change::AddPrimaryKey { table, key } => out.push(Change::DropPrimaryKey {
                table: table.clone(),
                key: key.clone(),
            }),
            Change::DropPrimaryKey { table, key } => out.push(Change::AddPrimaryKey {
                table: table.clone(),
                key: key.clone(),
            }),
            Change::AddUnique { table, constraint } => out.push(Change::DropUnique {
                table: table.clone(),
                constraint: constraint.clone(),
            }),
            Change::DropUnique { table, constraint } => out.push(Change::AddUnique {
                table: table.clone(),
                constraint: constraint.clone(),
            }),
            // Dropping a new table takes its indexes and keys with it.
            Change::AddIndex { table, .. } | Change::AddForeignKey { table, .. }
                if created(table) => {}
            Change::AddIndex { table, index } => out.push(Change::DropIndex {
                table: table.clone(),
                index: index.clone(),
            }),
            Change::DropIndex { table, index } => out.push(Change::AddIndex {
                table: table.clone(),
                index: index.clone(),
            }),
            Change::AddForeignKey { table, foreign_key } => out.push(Change::DropForeignKey {
                table: table.clone(),
                foreign_key: foreign_key.clone(),
            }),
            Change::DropForeignKey { table, foreign_key } => out.push(Change::AddForeignKey {
                table: table.clone(),
                foreign_key: foreign_key.clone(),
            }),
            Change::AddCheck { table, check } => out.push(Change::DropCheck {
                table: table.clone(),
                check: check.clone(),
            }),
            Change::DropCheck { table, check } => out.push(Change::AddCheck {
                table: table.clone(),
                check: check.clone(),
            }),
        }
    }
    out
}
