//! How fast the reducer replays a large op log.
//!
//! The log is 100,000 valid ops: one catalog, 10 schemas, 5,000 tables of 15
//! columns with primary keys, foreign keys between neighbouring tables and
//! indexes, then column and table renames (some of them propagating into
//! foreign keys), type changes, comments and nullability changes. It is the
//! shape of a large project's history, replayed from an empty state the way
//! opening a project without a snapshot does.

use chrono::{TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use tidemark_model::{reduce, Action, DataType, FkAction, ObjectId, Op, Reducer, State, TableRef};

const SCHEMAS: usize = 10;
const TABLES_PER_SCHEMA: usize = 500;
const COLUMNS: usize = 15;
const TOTAL_OPS: usize = 100_000;

fn push(ops: &mut Vec<Op>, target: String, action: Action) {
    ops.push(Op {
        id: format!("op_{}", ops.len()),
        ts: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        target: ObjectId::new(target),
        action,
    });
}

fn log() -> Vec<Op> {
    let mut ops = Vec::with_capacity(TOTAL_OPS);
    let table_id = |s: usize, t: usize| format!("tbl_{s}_{t}");
    let column_id = |s: usize, t: usize, c: usize| format!("col_{s}_{t}_{c}");

    push(
        &mut ops,
        ObjectId::ROOT.into(),
        Action::AddCatalog {
            id: "cat".into(),
            name: "app".into(),
        },
    );
    for s in 0..SCHEMAS {
        push(
            &mut ops,
            "cat".into(),
            Action::AddSchema {
                id: format!("sch_{s}").into(),
                name: format!("schema_{s}"),
            },
        );
    }
    for s in 0..SCHEMAS {
        for t in 0..TABLES_PER_SCHEMA {
            push(
                &mut ops,
                format!("sch_{s}"),
                Action::AddTable {
                    id: table_id(s, t).into(),
                    name: format!("table_{t}"),
                },
            );
            for c in 0..COLUMNS {
                let name = if c == 0 { "id".into() } else { format!("c{c}") };
                push(
                    &mut ops,
                    table_id(s, t),
                    Action::AddColumn {
                        id: column_id(s, t, c).into(),
                        name,
                        data_type: if c % 3 == 0 {
                            DataType::BigInt
                        } else {
                            DataType::Varchar { length: Some(100) }
                        },
                        nullable: c != 0,
                        default: None,
                        comment: None,
                        identity: c == 0,
                        position: None,
                    },
                );
            }
            push(
                &mut ops,
                table_id(s, t),
                Action::AddPrimaryKey {
                    id: format!("pk_{s}_{t}").into(),
                    name: None,
                    columns: vec!["id".into()],
                },
            );
        }
    }
    // Every odd table points at the table before it and indexes the pointer.
    for s in 0..SCHEMAS {
        for t in (1..TABLES_PER_SCHEMA).step_by(2) {
            push(
                &mut ops,
                table_id(s, t),
                Action::AddForeignKey {
                    id: format!("fk_{s}_{t}").into(),
                    name: format!("table_{t}_c1_fkey"),
                    columns: vec!["c1".into()],
                    references: TableRef {
                        schema: format!("schema_{s}"),
                        table: format!("table_{}", t - 1),
                    },
                    ref_columns: vec!["id".into()],
                    on_delete: FkAction::Cascade,
                    on_update: FkAction::NoAction,
                },
            );
            push(
                &mut ops,
                table_id(s, t),
                Action::AddIndex {
                    id: format!("ix_{s}_{t}").into(),
                    name: format!("table_{t}_c1_idx"),
                    columns: vec!["c1".into()],
                    unique: false,
                },
            );
        }
    }
    // Changes to the grown schema, cycling over the tables so they spread out.
    let tables = SCHEMAS * TABLES_PER_SCHEMA;
    let at = |i: usize| (i % SCHEMAS, (i / SCHEMAS) % TABLES_PER_SCHEMA);
    for i in 0..3_000 {
        let (s, t) = at(i);
        // Renaming `id` of an even table also rewrites the foreign key that
        // references it; renaming c1 of an odd one rewrites its key and index.
        let c = if i % 2 == 0 { 0 } else { 1 };
        push(
            &mut ops,
            column_id(s, t, c),
            Action::RenameColumn {
                name: format!("renamed_{c}"),
            },
        );
    }
    for i in 0..3_000 {
        let (s, t) = at(i + 7);
        push(
            &mut ops,
            column_id(s, t, 5 + i % 9),
            Action::ChangeColumnType {
                data_type: DataType::Text,
            },
        );
    }
    for i in 0..2_000 {
        let (s, t) = at(i * 3);
        push(
            &mut ops,
            table_id(s, t),
            Action::SetComment {
                comment: Some(format!("table {i}")),
            },
        );
    }
    for i in 0..1_000 {
        let (s, t) = at(i * 5 % tables);
        push(
            &mut ops,
            table_id(s, t),
            Action::RenameTable {
                name: format!("renamed_table_{t}"),
            },
        );
    }
    let mut i = 0;
    while ops.len() < TOTAL_OPS {
        let (s, t) = at(i);
        push(
            &mut ops,
            column_id(s, t, 2 + i % 13),
            Action::SetNullable { nullable: false },
        );
        i += 1;
    }
    ops
}

fn bench(c: &mut Criterion) {
    let ops = log();
    assert_eq!(ops.len(), TOTAL_OPS);
    let state = reduce(State::default(), &ops).expect("the benchmark log is valid");
    assert_eq!(state.table_count(), SCHEMAS * TABLES_PER_SCHEMA);

    let mut group = c.benchmark_group("reduce");
    group.sample_size(10);
    group.bench_function("100k ops from an empty state", |b| {
        b.iter_with_large_drop(|| reduce(State::default(), black_box(&ops)).unwrap())
    });
    // What every append pays before its first op: indexing the current state.
    group.bench_function("index a 5,000-table state", |b| {
        b.iter_batched(|| state.clone(), Reducer::new, BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
