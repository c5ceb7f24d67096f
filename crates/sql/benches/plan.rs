//! How fast a PostgreSQL migration plan is made for a large schema.
//!
//! Two states of 2,000 tables × 20 columns (primary keys, a unique, an index
//! and a foreign key to the previous table) that differ in about 1% of their
//! tables: 20 tables each get one change (a new column, a dropped column, a
//! renamed column, a type change, a new default, a new index, a renamed
//! table), and one table is added and one dropped. The measured call is
//! `plan`, which diffs the states, orders and renders the changes and builds
//! the down plan. The goal is under 200 ms.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;
use tidemark_model::{
    Catalog, Column, DataType, Facts, FkAction, ForeignKey, Index, ObjectId, PrimaryKey, Schema,
    State, Table, TableRef, UniqueConstraint,
};
use tidemark_sql::{plan, DialectKind};

const TABLES: usize = 2_000;
const COLUMNS: usize = 20;
const SCHEMA: &str = "app";

fn column(t: usize, c: usize) -> Column {
    let data_type = match c % 5 {
        0 => DataType::BigInt,
        1 => DataType::Varchar { length: Some(100) },
        2 => DataType::Decimal {
            precision: Some(12),
            scale: Some(2),
        },
        3 => DataType::TimestampTz,
        _ => DataType::Text,
    };
    Column {
        id: ObjectId::new(format!("col_{t}_{c}")),
        name: format!("column_{c}"),
        data_type,
        nullable: c != 0,
        default: None,
        comment: None,
        identity: c == 0,
    }
}

fn table(t: usize) -> Table {
    let name = format!("table_{t}");
    let foreign_keys = if t > 0 {
        vec![ForeignKey {
            id: ObjectId::new(format!("fk_{t}")),
            name: format!("{name}_parent_fk"),
            columns: vec!["column_5".into()],
            references: TableRef {
                schema: SCHEMA.into(),
                table: format!("table_{}", t - 1),
            },
            ref_columns: vec!["column_0".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
        }]
    } else {
        Vec::new()
    };
    Table {
        id: ObjectId::new(format!("tbl_{t}")),
        name: name.clone(),
        columns: (0..COLUMNS).map(|c| column(t, c)).collect(),
        primary_key: Some(PrimaryKey {
            id: ObjectId::new(format!("pk_{t}")),
            name: format!("{name}_pkey"),
            columns: vec!["column_0".into()],
        }),
        uniques: vec![UniqueConstraint {
            id: ObjectId::new(format!("uq_{t}")),
            name: format!("{name}_column_1_key"),
            columns: vec!["column_1".into()],
        }],
        indexes: vec![Index {
            id: ObjectId::new(format!("ix_{t}")),
            name: format!("{name}_column_3_idx"),
            columns: vec!["column_3".into()],
            unique: false,
        }],
        foreign_keys,
        checks: Vec::new(),
        comment: None,
        properties: BTreeMap::new(),
    }
}

fn state(tables: Vec<Table>) -> State {
    State {
        catalogs: vec![Catalog {
            id: ObjectId::new("cat"),
            name: "shop".into(),
            comment: None,
            schemas: vec![Schema {
                id: ObjectId::new("sch"),
                name: SCHEMA.into(),
                comment: None,
                tables,
            }],
        }],
    }
}

/// The large state and a copy with about 1% of its tables changed.
fn states() -> (State, State) {
    let from: Vec<Table> = (0..TABLES).map(table).collect();
    let mut to = from.clone();
    // One change on every 100th table (20 tables), cycling through kinds.
    for (k, t) in (0..TABLES).step_by(100).enumerate() {
        let table = &mut to[t];
        match k % 7 {
            0 => table.columns.push(Column {
                id: ObjectId::new(format!("col_{t}_new")),
                name: "added".into(),
                data_type: DataType::Integer,
                nullable: true,
                default: None,
                comment: None,
                identity: false,
            }),
            1 => {
                table.columns.remove(COLUMNS - 1);
            }
            2 => table.columns[7].name = "renamed".into(),
            3 => table.columns[8].data_type = DataType::Double,
            4 => table.columns[9].default = Some("'none'".into()),
            5 => table.indexes.push(Index {
                id: ObjectId::new(format!("ix_{t}_new")),
                name: format!("table_{t}_column_2_idx"),
                columns: vec!["column_2".into()],
                unique: false,
            }),
            _ => table.name = format!("table_{t}_renamed"),
        }
    }
    // A renamed table is referenced by the next one's foreign key.
    for t in 1..TABLES {
        let referenced = to[t - 1].name.clone();
        if let Some(fk) = to[t].foreign_keys.first_mut() {
            fk.references.table = referenced;
        }
    }
    // The dropped table's child loses its foreign key with it.
    let dropped = TABLES / 2 + 50;
    to[dropped + 1].foreign_keys.clear();
    to.remove(dropped);
    to.push(table(TABLES));
    (state(from), state(to))
}

fn bench(c: &mut Criterion) {
    let (from, to) = states();
    let facts = Facts::default();
    let planned = plan(DialectKind::Postgres, &from, &to, &facts).expect("plan");
    assert!(
        planned.changes.len() >= 20,
        "{} changes",
        planned.changes.len()
    );
    c.bench_function("plan postgres 2000x20 tables, 1% changed", |b| {
        b.iter(|| {
            plan(
                DialectKind::Postgres,
                black_box(&from),
                black_box(&to),
                &facts,
            )
            .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
