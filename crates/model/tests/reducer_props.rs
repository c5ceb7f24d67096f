//! Random op sequences against the reducer.
//!
//! The generator makes plausible but often invalid ops: targets drawn from the
//! ids created so far (right kind, wrong kind, dropped) plus bogus ids, and
//! names from small pools so collisions are common. Whatever comes, the
//! reducer must not panic, a rejected op must change nothing, an accepted op
//! must leave the state valid, and the reducer's incremental index must agree
//! with one rebuilt from scratch.

use chrono::{TimeZone, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::collections::{BTreeMap, HashMap, HashSet};
use tidemark_model::{
    Action, DataType, FkAction, ObjectId, ObjectKind, Op, Reducer, State, TableRef,
};

const CATALOGS: &[&str] = &["c1", "c2"];
const SCHEMAS: &[&str] = &["s1", "s2", "s3"];
const TABLES: &[&str] = &["t1", "t2", "t3", "t4"];
const COLUMNS: &[&str] = &["a", "b", "c", "d", "e"];
const CONSTRAINTS: &[&str] = &["k1", "k2", "k3", "t1_pkey", "t2_pkey"];
const INDEXES: &[&str] = &["i1", "i2", "i3"];
const KEYS: &[&str] = &["owner", "tier"];

/// How often each action is drawn; adds come often so states grow.
const WEIGHTS: &[(&str, u32)] = &[
    ("add_catalog", 2),
    ("rename_catalog", 1),
    ("drop_catalog", 1),
    ("add_schema", 5),
    ("rename_schema", 2),
    ("drop_schema", 1),
    ("add_table", 10),
    ("rename_table", 3),
    ("drop_table", 2),
    ("add_column", 18),
    ("rename_column", 4),
    ("drop_column", 3),
    ("change_column_type", 2),
    ("set_nullable", 2),
    ("set_default", 2),
    ("set_identity", 1),
    ("set_comment", 2),
    ("reorder_columns", 3),
    ("add_primary_key", 5),
    ("drop_primary_key", 2),
    ("add_unique", 4),
    ("drop_unique", 2),
    ("add_index", 4),
    ("drop_index", 2),
    ("add_foreign_key", 8),
    ("drop_foreign_key", 2),
    ("add_check", 2),
    ("drop_check", 1),
    ("set_table_property", 2),
    ("unset_table_property", 2),
];

/// One generated step, turned into an op against the ids known at that point.
#[derive(Debug, Clone)]
struct Step {
    action: u32,
    /// 0–6: an id of the kind the action wants; 7–8: any known id; 9: bogus.
    target_mode: u8,
    target: usize,
    /// 0: reuse a known id (a duplicate); otherwise a fresh one.
    id_mode: u8,
    name: usize,
    columns: Vec<usize>,
    ref_columns: Vec<usize>,
    ref_schema: usize,
    ref_table: usize,
    position: Option<usize>,
    flag: bool,
    /// Shuffle keys and a mangling mode for `reorder_columns`.
    shuffle: Vec<u32>,
    mangle: u8,
    /// 0: column and table names from the pools; otherwise from the state.
    pick_mode: u8,
}

fn step() -> impl Strategy<Value = Step> {
    let total: u32 = WEIGHTS.iter().map(|(_, w)| w).sum();
    (
        (0..total, 0u8..10, any::<usize>(), 0u8..12, any::<usize>()),
        (
            vec(any::<usize>(), 1..3),
            vec(any::<usize>(), 1..3),
            any::<usize>(),
            any::<usize>(),
        ),
        (
            prop::option::weighted(0.3, 0usize..6),
            any::<bool>(),
            vec(any::<u32>(), 8),
            0u8..8,
            0u8..4,
        ),
    )
        .prop_map(
            |(
                (action, target_mode, target, id_mode, name),
                (columns, ref_columns, ref_schema, ref_table),
                (position, flag, shuffle, mangle, pick_mode),
            )| Step {
                action,
                target_mode,
                target,
                id_mode,
                name,
                columns,
                ref_columns,
                ref_schema,
                ref_table,
                position,
                flag,
                shuffle,
                mangle,
                pick_mode,
            },
        )
}

fn action_name(weighted: u32) -> &'static str {
    let mut left = weighted;
    for (name, w) in WEIGHTS {
        if left < *w {
            return name;
        }
        left -= w;
    }
    unreachable!("weighted index within the total")
}

fn pool(names: &[&str], i: usize) -> String {
    names[i % names.len()].to_string()
}

/// Turns steps into ops, tracking the ids that accepted ops created.
struct Driver {
    known: Vec<(ObjectId, ObjectKind)>,
    fresh: usize,
}

impl Driver {
    fn new() -> Driver {
        Driver {
            known: Vec::new(),
            fresh: 0,
        }
    }

    fn pick_target(&self, step: &Step, wanted: &[ObjectKind]) -> ObjectId {
        let of_kind: Vec<&ObjectId> = self
            .known
            .iter()
            .filter(|(_, k)| wanted.contains(k))
            .map(|(id, _)| id)
            .collect();
        match step.target_mode {
            0..=6 if !of_kind.is_empty() => of_kind[step.target % of_kind.len()].clone(),
            0..=8 if !self.known.is_empty() => self.known[step.target % self.known.len()].0.clone(),
            _ => ObjectId::new(format!("bogus_{}", step.target % 3)),
        }
    }

    fn new_id(&mut self, step: &Step) -> ObjectId {
        if step.id_mode == 0 && !self.known.is_empty() {
            return self.known[step.target % self.known.len()].0.clone();
        }
        self.fresh += 1;
        ObjectId::new(format!("x{}", self.fresh))
    }

    fn op(&mut self, step: &Step, state: &State) -> (Op, Option<(ObjectId, ObjectKind)>) {
        use ObjectKind as K;
        let name = action_name(step.action);
        let mut created = None;
        let (target, action) = match name {
            "add_catalog" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::Catalog));
                let target = if step.target_mode == 9 {
                    self.pick_target(step, &[K::Catalog])
                } else {
                    ObjectId::root()
                };
                (
                    target,
                    Action::AddCatalog {
                        id,
                        name: pool(CATALOGS, step.name),
                    },
                )
            }
            "rename_catalog" => (
                self.pick_target(step, &[K::Catalog]),
                Action::RenameCatalog {
                    name: pool(CATALOGS, step.name),
                },
            ),
            "drop_catalog" => (self.pick_target(step, &[K::Catalog]), Action::DropCatalog),
            "add_schema" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::Schema));
                (
                    self.pick_target(step, &[K::Catalog]),
                    Action::AddSchema {
                        id,
                        name: pool(SCHEMAS, step.name),
                    },
                )
            }
            "rename_schema" => (
                self.pick_target(step, &[K::Schema]),
                Action::RenameSchema {
                    name: pool(SCHEMAS, step.name),
                },
            ),
            "drop_schema" => (self.pick_target(step, &[K::Schema]), Action::DropSchema),
            "add_table" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::Table));
                (
                    self.pick_target(step, &[K::Schema]),
                    Action::AddTable {
                        id,
                        name: pool(TABLES, step.name),
                    },
                )
            }
            "rename_table" => (
                self.pick_target(step, &[K::Table]),
                Action::RenameTable {
                    name: pool(TABLES, step.name),
                },
            ),
            "drop_table" => (self.pick_target(step, &[K::Table]), Action::DropTable),
            "add_column" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::Column));
                (
                    self.pick_target(step, &[K::Table]),
                    Action::AddColumn {
                        id,
                        name: pool(COLUMNS, step.name),
                        data_type: if step.flag {
                            DataType::Integer
                        } else {
                            DataType::Text
                        },
                        nullable: step.flag,
                        default: None,
                        comment: None,
                        identity: step.flag && step.name & 1 == 0,
                        position: step.position,
                    },
                )
            }
            "rename_column" => (
                self.pick_target(step, &[K::Column]),
                Action::RenameColumn {
                    name: pool(COLUMNS, step.name),
                },
            ),
            "drop_column" => (self.pick_target(step, &[K::Column]), Action::DropColumn),
            "change_column_type" => (
                self.pick_target(step, &[K::Column]),
                Action::ChangeColumnType {
                    data_type: DataType::BigInt,
                },
            ),
            "set_nullable" => (
                self.pick_target(step, &[K::Column]),
                Action::SetNullable {
                    nullable: step.flag,
                },
            ),
            "set_default" => (
                self.pick_target(step, &[K::Column]),
                Action::SetDefault {
                    default: step.flag.then(|| "0".to_string()),
                },
            ),
            "set_identity" => (
                self.pick_target(step, &[K::Column]),
                Action::SetIdentity {
                    identity: step.flag,
                },
            ),
            "set_comment" => (
                self.pick_target(step, &[K::Catalog, K::Schema, K::Table, K::Column]),
                Action::SetComment {
                    comment: step.flag.then(|| "note".to_string()),
                },
            ),
            "reorder_columns" => {
                let target = self.pick_target(step, &[K::Table]);
                let order = reorder(step, state, &target);
                (target, Action::ReorderColumns { order })
            }
            "add_primary_key" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::PrimaryKey));
                let target = self.pick_target(step, &[K::Table]);
                (
                    target.clone(),
                    Action::AddPrimaryKey {
                        id,
                        name: (step.name % 3 == 1).then(|| pool(CONSTRAINTS, step.name)),
                        columns: key_columns(step, state, &target, &step.columns),
                    },
                )
            }
            "drop_primary_key" => (self.pick_target(step, &[K::Table]), Action::DropPrimaryKey),
            "add_unique" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::Unique));
                let target = self.pick_target(step, &[K::Table]);
                (
                    target.clone(),
                    Action::AddUnique {
                        id,
                        name: pool(CONSTRAINTS, step.name),
                        columns: key_columns(step, state, &target, &step.columns),
                    },
                )
            }
            "drop_unique" => (self.pick_target(step, &[K::Unique]), Action::DropUnique),
            "add_index" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::Index));
                let target = self.pick_target(step, &[K::Table]);
                (
                    target.clone(),
                    Action::AddIndex {
                        id,
                        name: pool(INDEXES, step.name),
                        columns: key_columns(step, state, &target, &step.columns),
                        unique: step.flag,
                    },
                )
            }
            "drop_index" => (self.pick_target(step, &[K::Index]), Action::DropIndex),
            "add_foreign_key" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::ForeignKey));
                let target = self.pick_target(step, &[K::Table]);
                let references = fk_references(step, state);
                (
                    target.clone(),
                    Action::AddForeignKey {
                        id,
                        name: pool(CONSTRAINTS, step.name),
                        columns: key_columns(step, state, &target, &step.columns),
                        references: references.0,
                        ref_columns: references.1,
                        on_delete: FkAction::Cascade,
                        on_update: FkAction::NoAction,
                    },
                )
            }
            "drop_foreign_key" => (
                self.pick_target(step, &[K::ForeignKey]),
                Action::DropForeignKey,
            ),
            "add_check" => {
                let id = self.new_id(step);
                created = Some((id.clone(), K::Check));
                (
                    self.pick_target(step, &[K::Table]),
                    Action::AddCheck {
                        id,
                        name: pool(CONSTRAINTS, step.name),
                        expression: if step.flag { "a > 0" } else { "" }.into(),
                    },
                )
            }
            "drop_check" => (self.pick_target(step, &[K::Check]), Action::DropCheck),
            "set_table_property" => (
                self.pick_target(step, &[K::Table]),
                Action::SetTableProperty {
                    key: pool(KEYS, step.name),
                    value: "v".into(),
                },
            ),
            "unset_table_property" => (
                self.pick_target(step, &[K::Table]),
                Action::UnsetTableProperty {
                    key: pool(KEYS, step.name),
                },
            ),
            other => unreachable!("no generator for {other}"),
        };
        let op = Op {
            id: format!("op{}", self.fresh),
            ts: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            target,
            action,
        };
        (op, created)
    }
}

/// Column names for a key: mostly names the target table has, sometimes
/// names from the pool (which it may or may not have), rarely none.
fn key_columns(step: &Step, state: &State, table: &ObjectId, picks: &[usize]) -> Vec<String> {
    if step.id_mode == 1 {
        return Vec::new();
    }
    let names: Vec<&str> = state
        .table_by_id(table)
        .map(|t| t.columns.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    picks
        .iter()
        .map(|&i| match step.pick_mode {
            0 => pool(COLUMNS, i),
            _ if names.is_empty() => pool(COLUMNS, i),
            _ => names[i % names.len()].to_string(),
        })
        .collect()
}

/// What a new foreign key references: mostly an existing table (of any
/// catalog) and as many of its columns as the key has, sometimes pool names.
fn fk_references(step: &Step, state: &State) -> (TableRef, Vec<String>) {
    let tables: Vec<_> = state.tables().collect();
    if step.pick_mode == 0 || tables.is_empty() {
        let reference = TableRef {
            schema: pool(SCHEMAS, step.ref_schema),
            table: pool(TABLES, step.ref_table),
        };
        let columns = step.ref_columns.iter().map(|&i| pool(COLUMNS, i)).collect();
        return (reference, columns);
    }
    let (_, schema, table) = tables[step.ref_table % tables.len()];
    let reference = TableRef {
        schema: schema.name.clone(),
        table: table.name.clone(),
    };
    let count = if step.pick_mode == 1 {
        step.ref_columns.len()
    } else {
        step.columns.len()
    };
    let columns = (0..count)
        .map(|k| match table.columns.len() {
            0 => pool(COLUMNS, k),
            n => table.columns[(step.ref_schema + k) % n].name.clone(),
        })
        .collect();
    (reference, columns)
}

/// A shuffle of the target table's column ids, sometimes mangled so it is
/// not a permutation.
fn reorder(step: &Step, state: &State, target: &ObjectId) -> Vec<ObjectId> {
    let Some(table) = state.table_by_id(target) else {
        return vec![ObjectId::new("bogus_col")];
    };
    let mut keyed: Vec<(u32, ObjectId)> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (step.shuffle[i % step.shuffle.len()], c.id.clone()))
        .collect();
    keyed.sort();
    let mut order: Vec<ObjectId> = keyed.into_iter().map(|(_, id)| id).collect();
    match step.mangle {
        0 if !order.is_empty() => {
            order.pop();
        }
        1 if !order.is_empty() => order.push(order[0].clone()),
        2 => order.push(ObjectId::new("bogus_col")),
        _ => {}
    }
    order
}

/// Checks the state's invariants independently of the reducer and returns
/// every id with its kind.
fn check_invariants(state: &State) -> HashMap<ObjectId, ObjectKind> {
    let mut ids: HashMap<ObjectId, ObjectKind> = HashMap::new();
    let mut claim = |id: &ObjectId, kind: ObjectKind| {
        assert!(!id.as_str().trim().is_empty(), "blank id");
        assert_ne!(id.as_str(), ObjectId::ROOT, "an object took the root id");
        assert!(ids.insert(id.clone(), kind).is_none(), "id {id} used twice");
    };
    let unique_names = |what: &str, names: Vec<&str>| {
        let mut seen = HashSet::new();
        for n in names {
            assert!(!n.trim().is_empty(), "blank {what} name");
            assert!(seen.insert(n), "two {what}s named {n}");
        }
    };
    let key_columns = |table: &tidemark_model::Table, cols: &[String], what: &str| {
        assert!(!cols.is_empty(), "{what} on {} has no columns", table.name);
        let mut seen = HashSet::new();
        for c in cols {
            assert!(table.column(c).is_some(), "{what} names missing column {c}");
            assert!(seen.insert(c), "{what} repeats column {c}");
        }
    };

    unique_names(
        "catalog",
        state.catalogs.iter().map(|c| c.name.as_str()).collect(),
    );
    for catalog in &state.catalogs {
        claim(&catalog.id, ObjectKind::Catalog);
        unique_names(
            "schema",
            catalog.schemas.iter().map(|s| s.name.as_str()).collect(),
        );
        for schema in &catalog.schemas {
            claim(&schema.id, ObjectKind::Schema);
            unique_names(
                "table",
                schema.tables.iter().map(|t| t.name.as_str()).collect(),
            );
            unique_names(
                "index",
                schema
                    .tables
                    .iter()
                    .flat_map(|t| t.indexes.iter().map(|i| i.name.as_str()))
                    .collect(),
            );
            for table in &schema.tables {
                claim(&table.id, ObjectKind::Table);
                unique_names(
                    "column",
                    table.columns.iter().map(|c| c.name.as_str()).collect(),
                );
                let mut constraint_names: Vec<&str> = Vec::new();
                for column in &table.columns {
                    claim(&column.id, ObjectKind::Column);
                }
                if let Some(pk) = &table.primary_key {
                    claim(&pk.id, ObjectKind::PrimaryKey);
                    key_columns(table, &pk.columns, "primary key");
                    constraint_names.push(&pk.name);
                }
                for u in &table.uniques {
                    claim(&u.id, ObjectKind::Unique);
                    key_columns(table, &u.columns, "unique");
                    constraint_names.push(&u.name);
                }
                for c in &table.checks {
                    claim(&c.id, ObjectKind::Check);
                    assert!(!c.expression.trim().is_empty());
                    constraint_names.push(&c.name);
                }
                for x in &table.indexes {
                    claim(&x.id, ObjectKind::Index);
                    assert!(!x.columns.is_empty());
                    for c in &x.columns {
                        assert!(
                            table.column(c).is_some(),
                            "index {} names missing {c}",
                            x.name
                        );
                    }
                }
                for fk in &table.foreign_keys {
                    claim(&fk.id, ObjectKind::ForeignKey);
                    key_columns(table, &fk.columns, "foreign key");
                    constraint_names.push(&fk.name);
                    let target = catalog
                        .schemas
                        .iter()
                        .filter(|s| s.name == fk.references.schema)
                        .flat_map(|s| &s.tables)
                        .find(|t| t.name == fk.references.table)
                        .unwrap_or_else(|| {
                            panic!("foreign key {} dangles: {:?}", fk.name, fk.references)
                        });
                    assert_eq!(fk.columns.len(), fk.ref_columns.len());
                    key_columns(target, &fk.ref_columns, "referenced columns");
                }
                unique_names("constraint", constraint_names);
            }
        }
    }
    ids
}

/// A small valid start (catalog c1; schemas s1, s2; tables s1.t1(a, b, c),
/// s1.t2(a, b), s2.t1(a)) so that sequences reach keys and constraints
/// instead of spending themselves on creating containers.
fn seed(driver: &mut Driver, reducer: &mut Reducer) {
    let mut add = |target: &str, action: Action, made: (&str, ObjectKind)| {
        let op = Op {
            id: format!("seed_{}", made.0),
            ts: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            target: ObjectId::new(target),
            action,
        };
        reducer.apply(&op).expect("the seed is valid");
        driver.known.push((ObjectId::new(made.0), made.1));
    };
    let container = |id: &str, name: &str| (ObjectId::new(id), name.to_string());
    let (id, name) = container("sc", "c1");
    add(
        ObjectId::ROOT,
        Action::AddCatalog { id, name },
        ("sc", ObjectKind::Catalog),
    );
    for (sid, sname) in [("ss1", "s1"), ("ss2", "s2")] {
        let (id, name) = container(sid, sname);
        add(
            "sc",
            Action::AddSchema { id, name },
            (sid, ObjectKind::Schema),
        );
    }
    let tables: [(&str, &str, &str, &[&str]); 3] = [
        ("ss1", "st1", "t1", &["a", "b", "c"]),
        ("ss1", "st2", "t2", &["a", "b"]),
        ("ss2", "st3", "t1", &["a"]),
    ];
    for (schema, tid, tname, columns) in tables {
        let (id, name) = container(tid, tname);
        add(
            schema,
            Action::AddTable { id, name },
            (tid, ObjectKind::Table),
        );
        for column in columns {
            let cid = format!("{tid}_{column}");
            let action = Action::AddColumn {
                id: ObjectId::new(cid.as_str()),
                name: column.to_string(),
                data_type: DataType::Integer,
                nullable: false,
                default: None,
                comment: None,
                identity: false,
                position: None,
            };
            add(tid, action, (&cid, ObjectKind::Column));
        }
    }
}

/// How a run went: accepted ops per action, rejections per error kind.
#[derive(Default)]
struct Tally {
    accepted: BTreeMap<&'static str, usize>,
    rejected: BTreeMap<&'static str, usize>,
}

/// Runs the steps, checking every property after each op.
fn run(steps: &[Step]) -> Tally {
    let mut driver = Driver::new();
    let mut reducer = Reducer::new(State::default());
    seed(&mut driver, &mut reducer);
    let mut tally = Tally::default();
    for step in steps {
        let (op, created) = driver.op(step, reducer.state());
        let before = reducer.state().clone();
        let result = reducer.apply(&op);

        // A reducer built from scratch on the old state must agree exactly,
        // which it only does if the incremental index never drifted.
        let mut fresh = Reducer::new(before.clone());
        assert_eq!(
            fresh.apply(&op),
            result,
            "fresh reducer disagrees on {op:?}"
        );
        assert_eq!(fresh.state(), reducer.state());

        match &result {
            Err(e) => {
                *tally.rejected.entry(e.kind()).or_default() += 1;
                assert_eq!(
                    reducer.state(),
                    &before,
                    "rejected {op:?} changed the state"
                );
                assert_eq!(e.op(), op.action.name());
                assert!(!e.to_string().contains('\n'));
            }
            Ok(()) => {
                *tally.accepted.entry(op.action.name()).or_default() += 1;
                if let Some(new) = created {
                    driver.known.push(new);
                }
            }
        }
        let ids = check_invariants(reducer.state());
        for (id, _) in &driver.known {
            assert_eq!(
                reducer.kind_of(id),
                ids.get(id).copied(),
                "index wrong for {id}"
            );
        }
        assert_eq!(reducer.kind_of(&ObjectId::new("bogus_0")), None);
    }
    tally
}

/// A state the reducer would never build: table id `dup_t` in two schemas,
/// column id `dup_c` in two tables, two tables named `t1` in one schema, and
/// a foreign key into a table that does not exist. Such a file can still be
/// hand-edited or imported, and the reducer must not panic on it.
const BROKEN: &str = r#"{"catalogs":[{"id":"bc","name":"c1","schemas":[
  {"id":"bs1","name":"s1","tables":[
    {"id":"dup_t","name":"t1",
     "columns":[{"id":"dup_c","name":"a","data_type":{"kind":"integer"},"nullable":true},
                {"id":"bc_b","name":"b","data_type":{"kind":"integer"},"nullable":true}],
     "primary_key":{"id":"bpk","name":"t1_pkey","columns":["a"]},
     "foreign_keys":[{"id":"bfk","name":"k1","columns":["b"],
                      "references":{"schema":"s9","table":"gone"},"ref_columns":["x"]}]},
    {"id":"bt2","name":"t1",
     "columns":[{"id":"dup_c","name":"a","data_type":{"kind":"integer"},"nullable":true}],
     "indexes":[{"id":"bix","name":"i1","columns":["a"]}]}]},
  {"id":"bs2","name":"s2","tables":[
    {"id":"dup_t","name":"t2",
     "columns":[{"id":"bc_c","name":"a","data_type":{"kind":"integer"},"nullable":true}],
     "indexes":[{"id":"bix2","name":"i1","columns":["a"]}],
     "foreign_keys":[{"id":"bfk2","name":"k2","columns":["a"],
                      "references":{"schema":"s1","table":"t1"},"ref_columns":["a"]}]}]}]}]}"#;

/// Runs the steps on [`BROKEN`]: no panics, and rejected ops change nothing.
fn run_broken(steps: &[Step]) {
    use ObjectKind as K;
    let state: State = serde_json::from_str(BROKEN).expect("the broken state parses");
    let mut driver = Driver::new();
    driver.known = [
        ("bc", K::Catalog),
        ("bs1", K::Schema),
        ("bs2", K::Schema),
        ("dup_t", K::Table),
        ("bt2", K::Table),
        ("dup_c", K::Column),
        ("bc_b", K::Column),
        ("bc_c", K::Column),
        ("bpk", K::PrimaryKey),
        ("bfk", K::ForeignKey),
        ("bfk2", K::ForeignKey),
        ("bix", K::Index),
        ("bix2", K::Index),
    ]
    .into_iter()
    .map(|(id, kind)| (ObjectId::new(id), kind))
    .collect();
    let mut reducer = Reducer::new(state);
    for step in steps {
        let (op, created) = driver.op(step, reducer.state());
        let before = reducer.state().clone();
        match reducer.apply(&op) {
            Ok(()) => driver.known.extend(created),
            Err(_) => assert_eq!(
                reducer.state(),
                &before,
                "rejected {op:?} changed the state"
            ),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn broken_states_never_panic_the_reducer(steps in vec(step(), 1..80)) {
        run_broken(&steps);
    }

    #[test]
    fn random_op_sequences_keep_the_state_valid(steps in vec(step(), 1..160)) {
        run(&steps);
    }
}

/// Every `ModelError::kind` the reducer can produce.
const ERROR_KINDS: &[&str] = &[
    "unknown_target",
    "wrong_target_kind",
    "target_not_root",
    "duplicate_id",
    "empty",
    "name_collision",
    "unknown_column",
    "unknown_table",
    "column_count_mismatch",
    "no_columns",
    "repeated_column",
    "in_use",
    "not_a_permutation",
    "primary_key_exists",
    "no_primary_key",
    "property_missing",
    "position_out_of_range",
];

/// Guards the generator itself: if it stopped producing acceptable ops, or
/// never provoked some rejection, the property above would pass while
/// testing little.
#[test]
fn the_generator_exercises_every_action() {
    let mut runner = TestRunner::deterministic();
    let strategy = vec(step(), 60..120);
    let mut accepted: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rejected: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    for _ in 0..200 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        total += steps.len();
        let tally = run(&steps);
        for (name, n) in tally.accepted {
            *accepted.entry(name).or_default() += n;
        }
        for (kind, n) in tally.rejected {
            *rejected.entry(kind).or_default() += n;
        }
    }
    let missing: Vec<&str> = WEIGHTS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !accepted.contains_key(n))
        .collect();
    assert!(
        missing.is_empty(),
        "never accepted: {missing:?} (accepted: {accepted:?}, total {total})"
    );
    let unseen: Vec<&str> = ERROR_KINDS
        .iter()
        .copied()
        .filter(|k| !rejected.contains_key(k))
        .collect();
    assert!(
        unseen.is_empty(),
        "never rejected with: {unseen:?} ({rejected:?})"
    );
    let ok: usize = accepted.values().sum();
    assert!(
        ok * 5 >= total,
        "only {ok} of {total} generated ops were accepted: {accepted:?}"
    );
}
