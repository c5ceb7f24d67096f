//! Round-trip property tests shared by every live dialect.
//!
//! A generated *recipe* (a list of small numeric steps) is read against a
//! growing state: each step becomes one or a few model ops that go through
//! the real [`Reducer`]. The first part of the recipe builds a first state
//! (tables, columns, keys, indexes, checks, foreign keys, comments); the
//! second part mutates it into a second state (adds, drops, renames, type,
//! nullability, default, identity and comment changes).
//!
//! Every state must be one the database can hold, which is more than the
//! reducer checks (a foreign key needs a key on the other side, an identity
//! column must be an integer key, MySQL cannot index LONGTEXT, …). A step
//! that would break one of those rules is skipped, so shrinking stays
//! meaningful: a smaller recipe still builds a valid pair.
//!
//! A pair is then checked against a real database: the plan from the empty
//! schema to the first state is applied and read back, then the plan from the
//! first to the second state, then (when nothing it does loses data) its down
//! plan. After each step the introspected state, normalized, must show no
//! difference from the expected one, normalized.

#![allow(dead_code)]

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{Config, TestRunner};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use tidemark_db::{Database, DialectKind};
use tidemark_model::{
    diff, Action, Change, Column, DataType, Facts, FkAction, ObjectId, Op, Reducer, Schema, State,
    Table,
};
use tidemark_sql::{describe, dialect, plan, Plan, SqlError};

/// Table names: reserved words, unicode, spaces, quotes and mixed case.
const TABLES: &[&str] = &[
    "customer",
    "order",
    "group",
    "naïve",
    "line item",
    "Mixed Case",
    "t\"q",
    "select",
];

/// Column names, none equal to another ignoring case (MySQL and SQLite
/// match column names without regard to case).
const COLUMNS: &[&str] = &[
    "id", "name", "order", "group", "naïve", "sp ace", "a\"b", "value", "Qty", "select", "x;y",
    "ü", "from", "key",
];

/// Comments with quotes, backslashes, unicode and comment markers.
const COMMENTS: &[&str] = &[
    "plain",
    "it's",
    "naïve — ü",
    "back\\slash",
    "semi; colon",
    "-- not a comment",
];

/// How constraint names are decorated around their counter.
const SEPARATORS: &[&str] = &["_", " ", "-"];

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    AddTable,
    DropTable,
    RenameTable,
    AddColumn,
    DropColumn,
    RenameColumn,
    ChangeType,
    SetNullable,
    SetDefault,
    SetIdentity,
    SetComment,
    AddPrimaryKey,
    DropPrimaryKey,
    AddUnique,
    DropUnique,
    AddIndex,
    DropIndex,
    AddCheck,
    DropCheck,
    AddForeignKey,
    DropForeignKey,
}

/// One generated step: an action and numbers that pick its targets, names,
/// types and values from what exists when it runs.
#[derive(Debug, Clone)]
pub struct Step {
    pub act: Act,
    pub a: u16,
    pub b: u16,
    pub c: u16,
    pub d: u16,
    pub flag: bool,
}

/// The steps that build the first state and the steps that turn it into the
/// second.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub tables: Vec<Step>,
    pub build: Vec<Step>,
    pub mutate: Vec<Step>,
}

const BUILD_WEIGHTS: &[(u32, Act)] = &[
    (2, Act::AddTable),
    (10, Act::AddColumn),
    (2, Act::SetDefault),
    (2, Act::SetComment),
    (2, Act::SetIdentity),
    (6, Act::AddPrimaryKey),
    (3, Act::AddUnique),
    (3, Act::AddIndex),
    (3, Act::AddCheck),
    (6, Act::AddForeignKey),
];

const MUTATE_WEIGHTS: &[(u32, Act)] = &[
    (2, Act::AddTable),
    (1, Act::DropTable),
    (2, Act::RenameTable),
    (3, Act::AddColumn),
    (2, Act::DropColumn),
    (3, Act::RenameColumn),
    (4, Act::ChangeType),
    (3, Act::SetNullable),
    (3, Act::SetDefault),
    (1, Act::SetIdentity),
    (3, Act::SetComment),
    (1, Act::AddPrimaryKey),
    (1, Act::DropPrimaryKey),
    (2, Act::AddUnique),
    (2, Act::DropUnique),
    (2, Act::AddIndex),
    (2, Act::DropIndex),
    (2, Act::AddCheck),
    (2, Act::DropCheck),
    (2, Act::AddForeignKey),
    (2, Act::DropForeignKey),
];

fn step(weights: &'static [(u32, Act)]) -> impl Strategy<Value = Step> {
    let act = Union::new_weighted(
        weights
            .iter()
            .map(|&(w, act)| (w, Just(act).boxed()))
            .collect(),
    );
    (
        act,
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<bool>(),
    )
        .prop_map(|(act, a, b, c, d, flag)| Step {
            act,
            a,
            b,
            c,
            d,
            flag,
        })
}

/// Recipes: one to three tables, then up to 24 building steps and up to 9
/// mutations.
pub fn recipes() -> impl Strategy<Value = Recipe> {
    (
        vec(step(&[(1, Act::AddTable)]), 1..4),
        vec(step(BUILD_WEIGHTS), 0..25),
        vec(step(MUTATE_WEIGHTS), 1..10),
    )
        .prop_map(|(tables, build, mutate)| Recipe {
            tables,
            build,
            mutate,
        })
}

// ---- types and values -------------------------------------------------

fn varchar(n: Option<u32>) -> DataType {
    DataType::Varchar { length: n }
}

fn decimal(p: Option<u32>, s: Option<u32>) -> DataType {
    DataType::Decimal {
        precision: p,
        scale: s,
    }
}

/// Groups of types a column may move between with its rows intact.
fn families() -> Vec<Vec<DataType>> {
    vec![
        vec![
            DataType::SmallInt,
            DataType::Integer,
            DataType::BigInt,
            decimal(Some(10), Some(2)),
            decimal(None, None),
            DataType::Real,
            DataType::Double,
        ],
        vec![
            varchar(Some(20)),
            varchar(Some(100)),
            varchar(None),
            DataType::Char { length: 3 },
            DataType::Text,
        ],
        vec![DataType::Date, DataType::Timestamp, DataType::TimestampTz],
        vec![DataType::Boolean],
        vec![DataType::Uuid],
        vec![DataType::Json],
        vec![DataType::Binary],
        vec![DataType::Time],
    ]
}

fn all_types() -> Vec<DataType> {
    families().into_iter().flatten().collect()
}

fn family_of(ty: &DataType) -> Vec<DataType> {
    families()
        .into_iter()
        .find(|f| f.contains(ty))
        .unwrap_or_default()
}

fn is_integer(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::SmallInt | DataType::Integer | DataType::BigInt
    )
}

fn is_numeric(ty: &DataType) -> bool {
    family_of(ty).contains(&DataType::Integer)
}

/// Defaults that are valid for a type in every dialect, spelled as a user
/// would write them.
fn defaults_for(ty: &DataType) -> &'static [&'static str] {
    match ty {
        DataType::Boolean => &["true", "false"],
        DataType::SmallInt | DataType::Integer | DataType::BigInt => &["0", "1", "-1", "42"],
        DataType::Decimal { .. } | DataType::Real | DataType::Double => &["0", "42", "-1", "1.5"],
        DataType::Varchar { .. } | DataType::Char { .. } | DataType::Text => {
            &["'a'", "''", "'x''y'"]
        }
        DataType::Date => &["CURRENT_DATE", "'2020-01-01'"],
        DataType::Timestamp => &["CURRENT_TIMESTAMP", "'2020-01-01 10:00:00'"],
        DataType::TimestampTz => &["CURRENT_TIMESTAMP"],
        DataType::Time => &["'12:30:00'"],
        _ => &[],
    }
}

/// Whether a column of this type can be part of a key or index.
fn indexable(kind: DialectKind, ty: &DataType) -> bool {
    match kind {
        // LONGTEXT, LONGBLOB and JSON need a prefix length in a MySQL index.
        DialectKind::Mysql => !matches!(
            ty,
            DataType::Text | DataType::Varchar { length: None } | DataType::Binary | DataType::Json
        ),
        _ => true,
    }
}

fn fk_actions(kind: DialectKind) -> &'static [FkAction] {
    match kind {
        // InnoDB rejects SET DEFAULT.
        DialectKind::Mysql => &[
            FkAction::NoAction,
            FkAction::Cascade,
            FkAction::SetNull,
            FkAction::Restrict,
        ],
        _ => &[
            FkAction::NoAction,
            FkAction::Cascade,
            FkAction::SetNull,
            FkAction::Restrict,
            FkAction::SetDefault,
        ],
    }
}

fn pick<T>(items: &[T], n: u16) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        Some(&items[n as usize % items.len()])
    }
}

// ---- building states --------------------------------------------------

/// A check the builder made: which columns (by id) it names, and under which
/// names, since the model keeps check text as written while the database
/// follows renames.
type CheckColumns = HashMap<ObjectId, Vec<(ObjectId, String)>>;

/// A pair of states built from a recipe.
#[derive(Debug, Clone)]
pub struct Built {
    /// The catalog with the empty schema: what the database holds before.
    pub base: State,
    pub first: State,
    pub second: State,
    /// The ops of each part, one line each, for failure messages.
    pub first_ops: Vec<String>,
    pub second_ops: Vec<String>,
    /// Steps that were skipped because they would break a database rule.
    pub skipped_steps: usize,
}

struct Builder {
    kind: DialectKind,
    reducer: Reducer,
    checks: CheckColumns,
    next: u32,
    log: Vec<String>,
    skipped: usize,
}

impl Builder {
    fn schema(&self) -> &Schema {
        &self.reducer.state().catalogs[0].schemas[0]
    }

    fn new_id(&mut self, prefix: &str) -> ObjectId {
        self.next += 1;
        ObjectId::new(format!("{prefix}_{}", self.next))
    }

    fn constraint_name(&mut self, prefix: &str, sep: u16) -> String {
        self.next += 1;
        let sep = pick(SEPARATORS, sep).copied().unwrap_or("_");
        format!("{prefix}{sep}{}", self.next)
    }

    fn table(&self, n: u16) -> Option<Table> {
        pick(&self.schema().tables, n).cloned()
    }

    /// A table that has what a step needs.
    fn table_where(&self, n: u16, wanted: impl Fn(&Table) -> bool) -> Option<Table> {
        let tables: Vec<&Table> = self.schema().tables.iter().filter(|t| wanted(t)).collect();
        pick(&tables, n).map(|t| (*t).clone())
    }

    /// One of the objects of the schema that `members` lists per table.
    fn member(&self, n: u16, members: impl Fn(&Table) -> Vec<ObjectId>) -> Option<ObjectId> {
        let all: Vec<ObjectId> = self.schema().tables.iter().flat_map(members).collect();
        pick(&all, n).cloned()
    }

    /// Applies `ops` together, or not at all when the reducer rejects one
    /// or the result breaks a database rule.
    fn apply(&mut self, ops: Vec<(ObjectId, Action)>, check: Option<(ObjectId, Vec<Column>)>) {
        if ops.is_empty() {
            if std::env::var("RT_DEBUG").is_ok() {
                eprintln!("SKIP empty");
            }
            self.skipped += 1;
            return;
        }
        let mut trial = self.reducer.clone();
        let mut lines = Vec::new();
        for (target, action) in ops {
            self.next += 1;
            let op = Op {
                id: format!("op_{}", self.next),
                ts: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
                target,
                action,
            };
            if let Err(e) = trial.apply(&op) {
                if std::env::var("RT_DEBUG").is_ok() {
                    eprintln!("SKIP reducer {}: {e}", op.action.name());
                }
                self.skipped += 1;
                return;
            }
            lines.push(format!(
                "{} {}",
                op.target,
                serde_json::to_string(&op.action).unwrap()
            ));
        }
        let mut checks = self.checks.clone();
        if let Some((id, columns)) = check {
            checks.insert(id, columns.into_iter().map(|c| (c.id, c.name)).collect());
        }
        if let Err(e) = valid(self.kind, &trial.state().catalogs[0].schemas[0], &checks) {
            if std::env::var("RT_DEBUG").is_ok() {
                eprintln!("SKIP valid: {e}");
            }
            self.skipped += 1;
            return;
        }
        self.reducer = trial;
        self.checks = checks;
        self.log.extend(lines);
    }

    fn step(&mut self, s: &Step) {
        let kind = self.kind;
        let schema_id = self.schema().id.clone();
        let mut check = None;
        let ops: Vec<(ObjectId, Action)> = match s.act {
            Act::AddTable => {
                let table = self.new_id("tbl");
                let column = self.new_id("col");
                // A first column is usually a key: mostly integers.
                let ty = match s.c % 6 {
                    0 => DataType::Integer,
                    1 => DataType::BigInt,
                    2 => DataType::SmallInt,
                    3 => varchar(Some(20)),
                    _ => pick(&all_types(), s.c / 6).cloned().unwrap(),
                };
                vec![
                    (
                        schema_id,
                        Action::AddTable {
                            id: table.clone(),
                            name: pick(TABLES, s.a).unwrap().to_string(),
                        },
                    ),
                    (
                        table,
                        Action::AddColumn {
                            id: column,
                            name: pick(COLUMNS, s.b).unwrap().to_string(),
                            data_type: ty,
                            nullable: s.flag,
                            default: None,
                            comment: None,
                            identity: false,
                            position: None,
                        },
                    ),
                ]
            }
            Act::DropTable => match self.table(s.a) {
                Some(t) => vec![(t.id, Action::DropTable)],
                None => vec![],
            },
            Act::RenameTable => match self.table(s.a) {
                Some(t) => vec![(
                    t.id,
                    Action::RenameTable {
                        name: pick(TABLES, s.b).unwrap().to_string(),
                    },
                )],
                None => vec![],
            },
            Act::AddColumn => match self.table(s.a) {
                Some(t) => {
                    let ty = pick(&all_types(), s.c).cloned().unwrap();
                    let default =
                        s.d.is_multiple_of(3)
                            .then(|| pick(defaults_for(&ty), s.d / 3))
                            .flatten()
                            .map(|d| d.to_string());
                    let comment = (s.d % 7 == 1)
                        .then(|| pick(COMMENTS, s.d / 7))
                        .flatten()
                        .map(|c| c.to_string());
                    vec![(
                        t.id,
                        Action::AddColumn {
                            id: self.new_id("col"),
                            name: pick(COLUMNS, s.b).unwrap().to_string(),
                            data_type: ty,
                            nullable: s.flag,
                            default,
                            comment,
                            identity: false,
                            position: None,
                        },
                    )]
                }
                None => vec![],
            },
            Act::DropColumn => self
                .column(s)
                .map(|c| vec![(c.id, Action::DropColumn)])
                .unwrap_or_default(),
            Act::RenameColumn => self
                .column(s)
                .map(|c| {
                    vec![(
                        c.id,
                        Action::RenameColumn {
                            name: pick(COLUMNS, s.c).unwrap().to_string(),
                        },
                    )]
                })
                .unwrap_or_default(),
            Act::ChangeType => self
                .column(s)
                .and_then(|c| {
                    let others: Vec<DataType> = family_of(&c.data_type)
                        .into_iter()
                        .filter(|t| *t != c.data_type)
                        .collect();
                    pick(&others, s.c).map(|ty| {
                        vec![(
                            c.id,
                            Action::ChangeColumnType {
                                data_type: ty.clone(),
                            },
                        )]
                    })
                })
                .unwrap_or_default(),
            Act::SetNullable => self
                .column(s)
                .map(|c| {
                    vec![(
                        c.id,
                        Action::SetNullable {
                            nullable: !c.nullable,
                        },
                    )]
                })
                .unwrap_or_default(),
            Act::SetDefault => self
                .column(s)
                .map(|c| {
                    let options = defaults_for(&c.data_type);
                    let i = s.c as usize % (options.len() + 1);
                    let default = options.get(i).map(|d| d.to_string());
                    vec![(c.id, Action::SetDefault { default })]
                })
                .unwrap_or_default(),
            Act::SetIdentity => self
                .identity_candidate(s)
                .map(|c| {
                    if c.identity {
                        vec![(c.id, Action::SetIdentity { identity: false })]
                    } else {
                        // What making a column identity takes: NOT NULL and
                        // no default of its own.
                        vec![
                            (c.id.clone(), Action::SetNullable { nullable: false }),
                            (c.id.clone(), Action::SetDefault { default: None }),
                            (c.id, Action::SetIdentity { identity: true }),
                        ]
                    }
                })
                .unwrap_or_default(),
            Act::SetComment => {
                let comment = (!s.c.is_multiple_of(4))
                    .then(|| pick(COMMENTS, s.c / 4))
                    .flatten()
                    .map(|c| c.to_string());
                let target = if s.flag {
                    self.table(s.a).map(|t| t.id)
                } else {
                    self.column(s).map(|c| c.id)
                };
                target
                    .map(|id| vec![(id, Action::SetComment { comment })])
                    .unwrap_or_default()
            }
            Act::AddPrimaryKey => match self.table_where(s.a, |t| t.primary_key.is_none()) {
                Some(t) => {
                    // Now and then an integer key that becomes identity.
                    let integers: Vec<Column> = t
                        .columns
                        .iter()
                        .filter(|c| is_integer(&c.data_type))
                        .cloned()
                        .collect();
                    let columns = match pick(&integers, s.b) {
                        Some(c) if s.flag => vec![c.clone()],
                        _ => key_columns(&t, s),
                    };
                    let mut ops: Vec<(ObjectId, Action)> = columns
                        .iter()
                        .map(|c| (c.id.clone(), Action::SetNullable { nullable: false }))
                        .collect();
                    let identity = match columns.as_slice() {
                        [c] if s.flag && is_integer(&c.data_type) => Some(c.id.clone()),
                        _ => None,
                    };
                    ops.push((
                        t.id.clone(),
                        Action::AddPrimaryKey {
                            id: self.new_id("pk"),
                            name: Some(self.constraint_name("pk", s.c)),
                            columns: columns.into_iter().map(|c| c.name).collect(),
                        },
                    ));
                    if let Some(id) = identity {
                        ops.push((id.clone(), Action::SetDefault { default: None }));
                        ops.push((id, Action::SetIdentity { identity: true }));
                    }
                    ops
                }
                None => vec![],
            },
            Act::DropPrimaryKey => self
                .table_where(s.a, |t| t.primary_key.is_some())
                .map(|t| vec![(t.id, Action::DropPrimaryKey)])
                .unwrap_or_default(),
            Act::AddUnique => match self.table(s.a) {
                Some(t) => {
                    let columns = key_columns(&t, s);
                    vec![(
                        t.id.clone(),
                        Action::AddUnique {
                            id: self.new_id("uq"),
                            name: self.constraint_name("uq", s.c),
                            columns: columns.into_iter().map(|c| c.name).collect(),
                        },
                    )]
                }
                None => vec![],
            },
            Act::DropUnique => self
                .member(s.a, |t| t.uniques.iter().map(|u| u.id.clone()).collect())
                .map(|id| vec![(id, Action::DropUnique)])
                .unwrap_or_default(),
            Act::AddIndex => match self.table(s.a) {
                Some(t) => {
                    let columns = key_columns(&t, s);
                    vec![(
                        t.id.clone(),
                        Action::AddIndex {
                            id: self.new_id("ix"),
                            name: self.constraint_name("ix", s.c),
                            columns: columns.into_iter().map(|c| c.name).collect(),
                            unique: s.flag && s.d.is_multiple_of(4),
                        },
                    )]
                }
                None => vec![],
            },
            Act::DropIndex => self
                .member(s.a, |t| t.indexes.iter().map(|x| x.id.clone()).collect())
                .map(|id| vec![(id, Action::DropIndex)])
                .unwrap_or_default(),
            Act::AddCheck => match self.table_where(s.a, |t| {
                t.columns
                    .iter()
                    .any(|c| is_numeric(&c.data_type) && !c.identity)
            }) {
                Some(t) => {
                    let numeric: Vec<Column> = t
                        .columns
                        .iter()
                        .filter(|c| is_numeric(&c.data_type) && !c.identity)
                        .cloned()
                        .collect();
                    match pick(&numeric, s.b) {
                        Some(c) => {
                            let q = dialect(kind).quote_ident(&c.name);
                            let expression = match s.d % 3 {
                                0 => format!("{q} >= 0"),
                                1 => format!("{q} < 1000"),
                                _ => format!("{q} <> 7"),
                            };
                            let id = self.new_id("ck");
                            check = Some((id.clone(), vec![c.clone()]));
                            vec![(
                                t.id.clone(),
                                Action::AddCheck {
                                    id,
                                    name: self.constraint_name("ck", s.c),
                                    expression,
                                },
                            )]
                        }
                        None => vec![],
                    }
                }
                None => vec![],
            },
            Act::DropCheck => self
                .member(s.a, |t| t.checks.iter().map(|c| c.id.clone()).collect())
                .map(|id| vec![(id, Action::DropCheck)])
                .unwrap_or_default(),
            Act::AddForeignKey => self.foreign_key(s),
            Act::DropForeignKey => self
                .member(s.a, |t| {
                    t.foreign_keys.iter().map(|f| f.id.clone()).collect()
                })
                .map(|id| vec![(id, Action::DropForeignKey)])
                .unwrap_or_default(),
        };
        self.apply(ops, check);
    }

    /// An identity column, or a column that could become one (the sole,
    /// integer column of its table's primary key).
    fn identity_candidate(&self, s: &Step) -> Option<Column> {
        let candidates: Vec<Column> = self
            .schema()
            .tables
            .iter()
            .flat_map(|t| {
                t.columns.iter().filter(|c| {
                    c.identity
                        || (is_integer(&c.data_type)
                            && t.primary_key
                                .as_ref()
                                .is_some_and(|k| k.columns == [c.name.clone()]))
                })
            })
            .cloned()
            .collect();
        pick(&candidates, s.a).cloned()
    }

    fn column(&self, s: &Step) -> Option<Column> {
        self.table(s.a).and_then(|t| pick(&t.columns, s.b).cloned())
    }

    /// A foreign key from table `a` to a key of table `b`; referencing
    /// columns are columns of the same types, added when the table has none.
    fn foreign_key(&mut self, s: &Step) -> Vec<(ObjectId, Action)> {
        let keyed = |t: &Table| t.primary_key.is_some() || !t.uniques.is_empty();
        let (Some(child), Some(parent)) = (self.table(s.a), self.table_where(s.b, keyed)) else {
            return vec![];
        };
        let mut keys: Vec<Vec<String>> = parent
            .primary_key
            .iter()
            .map(|k| k.columns.clone())
            .collect();
        keys.extend(parent.uniques.iter().map(|u| u.columns.clone()));
        let Some(key) = pick(&keys, s.c).cloned() else {
            return vec![];
        };
        let mut ops = Vec::new();
        let mut names: Vec<String> = child.columns.iter().map(|c| c.name.clone()).collect();
        let mut columns: Vec<String> = Vec::new();
        for (i, ref_name) in key.iter().enumerate() {
            let ty = &parent
                .columns
                .iter()
                .find(|c| &c.name == ref_name)
                .expect("key column")
                .data_type;
            let n = child.columns.len();
            let existing = (0..n)
                .map(|k| &child.columns[(k + s.d as usize) % n])
                .find(|c| {
                    let taken = columns.contains(&c.name)
                        || (child.id == parent.id && key.contains(&c.name));
                    &c.data_type == ty && !c.identity && !taken
                });
            match existing {
                Some(c) => columns.push(c.name.clone()),
                None => {
                    let Some(name) = (0..COLUMNS.len())
                        .map(|k| COLUMNS[(k + s.d as usize + i) % COLUMNS.len()])
                        .find(|name| !names.iter().any(|n| n.eq_ignore_ascii_case(name)))
                    else {
                        return vec![];
                    };
                    names.push(name.to_string());
                    columns.push(name.to_string());
                    ops.push((
                        child.id.clone(),
                        Action::AddColumn {
                            id: self.new_id("col"),
                            name: name.to_string(),
                            data_type: ty.clone(),
                            nullable: true,
                            default: None,
                            comment: None,
                            identity: false,
                            position: None,
                        },
                    ));
                }
            }
        }
        let actions = fk_actions(self.kind);
        ops.push((
            child.id.clone(),
            Action::AddForeignKey {
                id: self.new_id("fk"),
                name: self.constraint_name("fk", s.c),
                columns,
                references: tidemark_model::TableRef {
                    schema: self.schema().name.clone(),
                    table: parent.name.clone(),
                },
                ref_columns: key,
                on_delete: *pick(actions, s.d / 3).unwrap(),
                on_update: if s.flag {
                    *pick(actions, s.d / 7).unwrap()
                } else {
                    FkAction::NoAction
                },
            },
        ));
        ops
    }
}

/// One or two columns of a table for a key or index.
fn key_columns(t: &Table, s: &Step) -> Vec<Column> {
    let n = t.columns.len();
    if n == 0 {
        return vec![];
    }
    let first = s.b as usize % n;
    let mut columns = vec![t.columns[first].clone()];
    if s.d.is_multiple_of(3) && n > 1 {
        let second = (first + 1 + (s.d as usize / 3) % (n - 1)) % n;
        columns.push(t.columns[second].clone());
    }
    columns
}

/// The rules a database adds to the reducer's, for the objects this
/// generator makes. `Err` names the first rule broken.
pub fn valid(kind: DialectKind, schema: &Schema, checks: &CheckColumns) -> Result<(), String> {
    let mut relations: HashSet<String> = HashSet::new();
    let mut relation = |name: &'static str, n: &str| -> Result<(), String> {
        // PostgreSQL and SQLite keep tables and indexes (PostgreSQL: also
        // the indexes behind keys) in one namespace per schema.
        if !relations.insert(n.to_string())
            && matches!(kind, DialectKind::Postgres | DialectKind::Sqlite)
        {
            return Err(format!("{name} {n} clashes with another relation"));
        }
        Ok(())
    };
    for t in &schema.tables {
        relation("table", &t.name).map_err(|e| e.to_string())?;
    }
    for t in &schema.tables {
        let label = &t.name;
        if t.columns.is_empty() {
            return Err(format!("table {label} has no columns"));
        }
        let column = |name: &str| t.columns.iter().find(|c| c.name == name);
        let key_ok = |cols: &[String]| {
            cols.iter()
                .all(|c| column(c).is_some_and(|c| indexable(kind, &c.data_type)))
        };
        if t.columns.iter().filter(|c| c.identity).count() > 1 {
            return Err(format!("table {label} has two identity columns"));
        }
        for c in &t.columns {
            if c.identity {
                let int = if kind == DialectKind::Sqlite {
                    c.data_type == DataType::Integer
                } else {
                    is_integer(&c.data_type)
                };
                let sole_key = t
                    .primary_key
                    .as_ref()
                    .is_some_and(|k| k.columns == [c.name.clone()]);
                if !int || c.nullable || c.default.is_some() || !sole_key {
                    return Err(format!(
                        "identity column {label}.{} is not an integer key",
                        c.name
                    ));
                }
            }
            if let Some(d) = &c.default {
                if !defaults_for(&c.data_type).contains(&d.as_str()) {
                    return Err(format!("default {d} does not fit {}", c.data_type));
                }
            }
        }
        if let Some(pk) = &t.primary_key {
            if !key_ok(&pk.columns) || pk.columns.iter().any(|c| column(c).unwrap().nullable) {
                return Err(format!("primary key of {label}"));
            }
            if kind == DialectKind::Postgres {
                relation("primary key", &pk.name)?;
            }
        }
        for u in &t.uniques {
            if !key_ok(&u.columns) {
                return Err(format!("unique {} of {label}", u.name));
            }
            if kind == DialectKind::Postgres {
                relation("unique", &u.name)?;
            }
        }
        for i in &t.indexes {
            if !key_ok(&i.columns) {
                return Err(format!("index {} of {label}", i.name));
            }
            relation("index", &i.name)?;
        }
        for fk in &t.foreign_keys {
            // MySQL gives keys whose columns nest (one list starts with the
            // other) one index, named after the newest key on MariaDB and the
            // first on MySQL; with no DROP INDEX IF EXISTS on MySQL, a plan
            // that drops the keys cannot name the index they leave behind
            // (see docs/dialects.md).
            let shared = t.foreign_keys.iter().any(|o| {
                o.name != fk.name
                    && (o.columns.starts_with(&fk.columns) || fk.columns.starts_with(&o.columns))
            });
            if kind == DialectKind::Mysql && shared {
                return Err(format!("foreign key {} shares its index", fk.name));
            }
            let parent = schema
                .tables
                .iter()
                .find(|p| p.name == fk.references.table)
                .ok_or("foreign key to a missing table")?;
            let keyed = parent
                .primary_key
                .iter()
                .map(|k| &k.columns)
                .chain(parent.uniques.iter().map(|u| &u.columns))
                .any(|cols| *cols == fk.ref_columns);
            if !keyed {
                return Err(format!("foreign key {} references no key", fk.name));
            }
            for (c, r) in fk.columns.iter().zip(&fk.ref_columns) {
                let (c, r) = (
                    column(c).unwrap(),
                    parent.columns.iter().find(|p| &p.name == r).unwrap(),
                );
                if c.data_type != r.data_type || !indexable(kind, &c.data_type) {
                    return Err(format!("foreign key {} types differ", fk.name));
                }
                let set_null =
                    fk.on_delete == FkAction::SetNull || fk.on_update == FkAction::SetNull;
                if set_null && !c.nullable {
                    return Err(format!(
                        "foreign key {} sets NOT NULL columns to NULL",
                        fk.name
                    ));
                }
                // InnoDB will not cascade updates from a nullable parent
                // column into a NOT NULL one.
                let cascades = fk.on_update == FkAction::Cascade;
                if kind == DialectKind::Mysql && cascades && !c.nullable && r.nullable {
                    return Err(format!("foreign key {} may cascade NULL", fk.name));
                }
            }
        }
        for ck in &t.checks {
            let mentioned = checks
                .get(&ck.id)
                .ok_or("a check the generator did not make")?;
            for (id, name) in mentioned {
                // The database renames a column inside a check and drops a
                // check with its column; the model keeps the text as written.
                let Some(c) = t.columns.iter().find(|c| &c.id == id) else {
                    return Err(format!("check {} names a dropped column", ck.name));
                };
                if &c.name != name || !is_numeric(&c.data_type) || c.identity {
                    return Err(format!(
                        "check {} no longer fits column {}",
                        ck.name, c.name
                    ));
                }
                // MySQL forbids checks on columns a referential action writes.
                let acting = |a: FkAction| !matches!(a, FkAction::NoAction | FkAction::Restrict);
                let written = t.foreign_keys.iter().any(|fk| {
                    fk.columns.contains(&c.name) && (acting(fk.on_delete) || acting(fk.on_update))
                });
                if kind == DialectKind::Mysql && written {
                    return Err(format!(
                        "check {} is on a column a foreign key writes",
                        ck.name
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Builds the pair of states a recipe describes, in a catalog and schema of
/// the given names.
pub fn build(kind: DialectKind, catalog: &str, schema: &str, recipe: &Recipe) -> Built {
    let mut reducer = Reducer::new(State::default());
    let ts = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    for (i, (target, action)) in [
        (
            ObjectId::root(),
            Action::AddCatalog {
                id: ObjectId::new("cat"),
                name: catalog.to_string(),
            },
        ),
        (
            ObjectId::new("cat"),
            Action::AddSchema {
                id: ObjectId::new("sch"),
                name: schema.to_string(),
            },
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let op = Op {
            id: format!("base_{i}"),
            ts,
            target,
            action,
        };
        reducer.apply(&op).expect("base state");
    }
    let base = reducer.state().clone();
    let mut b = Builder {
        kind,
        reducer,
        checks: HashMap::new(),
        next: 0,
        log: Vec::new(),
        skipped: 0,
    };
    for s in recipe.tables.iter().chain(&recipe.build) {
        b.step(s);
    }
    let first = b.reducer.state().clone();
    if std::env::var("RT_DEBUG").is_ok() {
        let t = &first.catalogs[0].schemas[0].tables;
        eprintln!("STATE tables={} cols={} pk={} uq={} ix={} fk={} ck={} ident={} defaults={} comments={}", t.len(),
          t.iter().map(|t| t.columns.len()).sum::<usize>(), t.iter().filter(|t| t.primary_key.is_some()).count(),
          t.iter().map(|t| t.uniques.len()).sum::<usize>(), t.iter().map(|t| t.indexes.len()).sum::<usize>(),
          t.iter().map(|t| t.foreign_keys.len()).sum::<usize>(), t.iter().map(|t| t.checks.len()).sum::<usize>(),
          t.iter().flat_map(|t| &t.columns).filter(|c| c.identity).count(),
          t.iter().flat_map(|t| &t.columns).filter(|c| c.default.is_some()).count(),
          t.iter().flat_map(|t| &t.columns).filter(|c| c.comment.is_some()).count() + t.iter().filter(|t| t.comment.is_some()).count());
    }
    let first_ops = std::mem::take(&mut b.log);
    for s in &recipe.mutate {
        b.step(s);
    }
    Built {
        base,
        first,
        second: b.reducer.state().clone(),
        first_ops,
        second_ops: b.log,
        skipped_steps: b.skipped,
    }
}

// ---- checking pairs against a database --------------------------------

/// A fresh, empty schema for one pair.
pub struct Fresh {
    pub catalog: String,
    pub schema: String,
}

/// Where pairs run: a database that gives each pair a fresh schema.
#[async_trait(?Send)]
pub trait Sandbox {
    /// Creates the next pair's empty schema.
    async fn fresh(&mut self) -> Result<Fresh, String>;
    /// The connection the pair runs on.
    fn db(&mut self) -> &mut dyn Database;
    /// Drops the pair's schema.
    async fn clean(&mut self) -> Result<(), String>;
}

/// Runs a plan the way a deployment does: the part inside
/// [`Plan::transaction_range`] in one transaction, the rest around it.
pub async fn apply(db: &mut dyn Database, plan: &Plan) -> Result<(), String> {
    let sql: Vec<String> = plan.statements.iter().map(|s| s.sql.clone()).collect();
    let range = plan.transaction_range();
    let parts = [
        (&sql[..range.start], false),
        (&sql[range.clone()], true),
        (&sql[range.end..], false),
    ];
    for (statements, transactional) in parts {
        if !statements.is_empty() {
            db.execute(statements, transactional)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The differences between what was expected and what the database
/// reports, after normalizing both, leaving out column reorders of the given
/// tables (schema, table): the ones a plan noted it could not make. Empty
/// when they agree.
fn differences_except(
    kind: DialectKind,
    expected: &State,
    actual: &State,
    order_kept: &[(String, String)],
) -> Vec<String> {
    let d = dialect(kind);
    diff(&d.normalize(expected), &d.normalize(actual))
        .iter()
        .filter(|c| match c {
            Change::ReorderColumns { table, .. } => !order_kept
                .iter()
                .any(|(s, t)| *s == table.schema && *t == table.name),
            _ => true,
        })
        .map(|c| format!("{}  {}", describe(c), serde_json::to_string(c).unwrap()))
        .collect()
}

/// The tables whose column order a plan left as it was, saying so in its
/// notes (PostgreSQL cannot reorder columns in place). Names are as the
/// dialect normalizes them.
fn reorders_noted(kind: DialectKind, plan: &Plan) -> Vec<(String, String)> {
    let fold = |s: &str| match kind {
        DialectKind::Postgres | DialectKind::Mysql => s.to_string(),
        _ => s.to_lowercase(),
    };
    plan.notes
        .iter()
        .filter_map(|n| match &plan.changes[n.change] {
            Change::ReorderColumns { table, .. } => Some((fold(&table.schema), fold(&table.name))),
            _ => None,
        })
        .collect()
}

/// The differences between what was expected and what the database
/// reports, after normalizing both, leaving out column order altogether.
pub fn differences_but_order(kind: DialectKind, expected: &State, actual: &State) -> Vec<String> {
    let d = dialect(kind);
    diff(&d.normalize(expected), &d.normalize(actual))
        .iter()
        .filter(|c| !matches!(c, Change::ReorderColumns { .. }))
        .map(|c| format!("{}  {}", describe(c), serde_json::to_string(c).unwrap()))
        .collect()
}

/// The differences left after a plan ran: those between what was expected
/// and what the database reports, after normalizing both, less the column
/// reorders the plan noted it could not make.
pub fn differences_after(
    kind: DialectKind,
    plan: &Plan,
    expected: &State,
    actual: &State,
) -> Vec<String> {
    differences_except(kind, expected, actual, &reorders_noted(kind, plan))
}

/// Reads the schema back and compares it with `expected`.
async fn expect_state(
    db: &mut dyn Database,
    kind: DialectKind,
    schema: &str,
    expected: &State,
    what: &str,
    plan: &Plan,
) -> Result<(), String> {
    let actual = db
        .introspect(&[schema.to_string()])
        .await
        .map_err(|e| format!("introspecting after {what}: {e}"))?;
    let found = differences_after(kind, plan, expected, &actual);
    if found.is_empty() {
        return Ok(());
    }
    Err(format!(
        "after {what}, the database differs from the expected state:\n  {}\n\nplan:\n{}",
        found.join("\n  "),
        plan.to_sql_script()
    ))
}

/// What one pair did.
#[derive(Debug, Default, Clone, Copy)]
pub struct PairReport {
    pub changes: usize,
    pub down_checked: bool,
}

/// Applies the first state, the plan to the second, and its down plan when
/// that is lossless, comparing with the database after each.
pub async fn check_pair(
    db: &mut dyn Database,
    kind: DialectKind,
    schema: &str,
    built: &Built,
) -> Result<PairReport, String> {
    let facts = Facts::default();
    let context = |e: String| {
        format!(
            "{e}\n\nops of the first state:\n  {}\nops of the second state:\n  {}",
            built.first_ops.join("\n  "),
            built.second_ops.join("\n  ")
        )
    };
    let create =
        plan(kind, &built.base, &built.first, &facts).map_err(|e| context(e.to_string()))?;
    apply(db, &create).await.map_err(|e| {
        context(format!(
            "creating the first state: {e}\n\nplan:\n{}",
            create.to_sql_script()
        ))
    })?;
    expect_state(
        db,
        kind,
        schema,
        &built.first,
        "creating the first state",
        &create,
    )
    .await
    .map_err(context)?;

    let up = plan(kind, &built.first, &built.second, &facts).map_err(|e| context(e.to_string()))?;
    apply(db, &up)
        .await
        .map_err(|e| context(format!("migrating: {e}\n\nplan:\n{}", up.to_sql_script())))?;
    expect_state(db, kind, schema, &built.second, "migrating", &up)
        .await
        .map_err(context)?;

    let mut report = PairReport {
        changes: up.changes.len(),
        down_checked: false,
    };
    if up.down_lossy.is_empty() {
        let down = up.down.as_deref().expect("a lossless plan has a down plan");
        apply(db, down).await.map_err(|e| {
            context(format!(
                "migrating down: {e}\n\nplan:\n{}",
                down.to_sql_script()
            ))
        })?;
        expect_state(db, kind, schema, &built.first, "migrating down", down)
            .await
            .map_err(context)?;
        report.down_checked = true;
    }
    Ok(report)
}

/// Whether both plans of a pair can be expressed in the dialect. Names do
/// not matter for that, so placeholders do.
fn expressible(kind: DialectKind, recipe: &Recipe) -> bool {
    let built = build(kind, "c", "s", recipe);
    let facts = Facts::default();
    let unsupported = |r: Result<Plan, SqlError>| matches!(r, Err(SqlError::Unsupported { .. }));
    !(unsupported(plan(kind, &built.base, &built.first, &facts))
        || unsupported(plan(kind, &built.first, &built.second, &facts)))
}

/// Cases per dialect: 300 unless
/// `PROPTEST_CASES` says otherwise.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

/// Runs the property: every generated pair round-trips through the
/// database. Prints how many pairs ran, how many were filtered out as not
/// expressible, and how many down plans were checked.
pub fn check_round_trips(kind: DialectKind, rt: &tokio::runtime::Runtime, sandbox: impl Sandbox) {
    let sandbox = RefCell::new(sandbox);
    let inexpressible = Rc::new(Cell::new(0usize));
    let counter = Rc::clone(&inexpressible);
    let strategy = recipes().prop_filter("plan not expressible in the dialect", move |r| {
        let ok = expressible(kind, r);
        if !ok {
            counter.set(counter.get() + 1);
        }
        ok
    });
    let passed = Cell::new(0usize);
    let down_checked = Cell::new(0usize);
    let changes = Cell::new(0usize);
    let skipped_steps = Cell::new(0usize);
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |recipe| {
        let mut borrowed = sandbox.borrow_mut();
        let sandbox = &mut *borrowed;
        let outcome = rt.block_on(async {
            let fresh = sandbox.fresh().await?;
            let built = build(kind, &fresh.catalog, &fresh.schema, &recipe);
            let outcome = check_pair(sandbox.db(), kind, &fresh.schema, &built).await;
            // Clean up whatever happened; a failure to clean is a failure.
            sandbox.clean().await?;
            outcome.map(|r| (r, built.skipped_steps))
        });
        match outcome {
            Ok((report, skipped)) => {
                passed.set(passed.get() + 1);
                changes.set(changes.get() + report.changes);
                skipped_steps.set(skipped_steps.get() + skipped);
                if report.down_checked {
                    down_checked.set(down_checked.get() + 1);
                }
                Ok(())
            }
            Err(e) => Err(TestCaseError::fail(e)),
        }
    });
    eprintln!(
        "{kind}: {} pairs round-tripped ({} changes in all), {} down plans checked (the others lose data), \
         {} generated pairs filtered out as not expressible, {} generated steps skipped as invalid for the database",
        passed.get(),
        changes.get(),
        down_checked.get(),
        inexpressible.get(),
        skipped_steps.get()
    );
    if let Err(e) = result {
        panic!("{kind} round trip failed: {e}");
    }
    assert!(passed.get() >= cases() as usize);
}

/// Drops a schema or database from a thread of its own when a pair ends
/// without cleaning up (a panic), so nothing is left behind on the server.
pub struct DropGuard {
    url: String,
    sql: Option<String>,
}

impl DropGuard {
    pub fn new(url: &str, sql: String) -> DropGuard {
        DropGuard {
            url: url.to_string(),
            sql: Some(sql),
        }
    }

    /// The schema was dropped the normal way.
    pub fn disarm(&mut self) {
        self.sql = None;
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let Some(sql) = self.sql.take() else {
            return;
        };
        let url = self.url.clone();
        let handle = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async {
                    let spec = tidemark_db::ConnectionSpec::parse(&url).expect("admin URL");
                    let mut db = tidemark_db::connect(&spec, None)
                        .await
                        .expect("admin connection");
                    db.execute(&[sql], false).await.expect("drop statement");
                });
        });
        if handle.join().is_err() {
            eprintln!("warning: could not drop a round-trip schema");
        }
    }
}
