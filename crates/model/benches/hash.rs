//! Hashing and diffing a large state: 10,000 tables of 10 columns.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;
use std::time::Duration;
use tidemark_model::{
    diff, Catalog, Column, DataType, ObjectId, PrimaryKey, Schema, SnapshotHash, State, Table,
};

const TABLES: usize = 10_000;
const COLUMNS: usize = 10;
const SCHEMAS: usize = 10;

fn column(t: usize, c: usize, prefix: &str) -> Column {
    let data_type = match c % 5 {
        0 => DataType::BigInt,
        1 => DataType::Varchar { length: Some(200) },
        2 => DataType::Decimal {
            precision: Some(12),
            scale: Some(2),
        },
        3 => DataType::TimestampTz,
        _ => DataType::Text,
    };
    Column {
        id: ObjectId::new(format!("{prefix}col_{t}_{c}")),
        name: format!("column_{c}"),
        data_type,
        nullable: c != 0,
        default: (c == 3).then(|| "CURRENT_TIMESTAMP".to_string()),
        comment: (c == 4).then(|| format!("notes for table {t}")),
        identity: c == 0,
    }
}

fn table(t: usize, prefix: &str) -> Table {
    Table {
        id: ObjectId::new(format!("{prefix}tbl_{t}")),
        name: format!("table_{t}"),
        columns: (0..COLUMNS).map(|c| column(t, c, prefix)).collect(),
        primary_key: Some(PrimaryKey {
            id: ObjectId::new(format!("{prefix}pk_{t}")),
            name: format!("table_{t}_pkey"),
            columns: vec!["column_0".into()],
        }),
        uniques: vec![],
        indexes: vec![],
        foreign_keys: vec![],
        checks: vec![],
        comment: None,
        properties: BTreeMap::new(),
    }
}

/// A state of `TABLES` tables spread over `SCHEMAS` schemas; `prefix` sets
/// the ids, so a different prefix reads like a live database.
fn large_state(prefix: &str) -> State {
    let per_schema = TABLES / SCHEMAS;
    State {
        catalogs: vec![Catalog {
            id: ObjectId::new(format!("{prefix}cat")),
            name: "app".into(),
            comment: None,
            schemas: (0..SCHEMAS)
                .map(|s| Schema {
                    id: ObjectId::new(format!("{prefix}sch_{s}")),
                    name: format!("schema_{s}"),
                    comment: None,
                    tables: (s * per_schema..(s + 1) * per_schema)
                        .map(|t| table(t, prefix))
                        .collect(),
                })
                .collect(),
        }],
    }
}

/// Changes one table in a hundred: a retyped column, a new column, a
/// renamed table or a dropped column, in turn.
fn changed(mut state: State) -> State {
    let mut n = 0;
    for schema in &mut state.catalogs[0].schemas {
        for table in &mut schema.tables {
            n += 1;
            if n % 100 != 0 {
                continue;
            }
            match (n / 100) % 4 {
                0 => table.columns[2].data_type = DataType::Double,
                1 => table.columns.push(Column {
                    id: ObjectId::new(format!("new_col_{n}")),
                    name: "added".into(),
                    data_type: DataType::Text,
                    nullable: true,
                    default: None,
                    comment: None,
                    identity: false,
                }),
                2 => table.name.push_str("_renamed"),
                _ => {
                    table.columns.remove(5);
                }
            }
        }
    }
    state
}

fn benches(c: &mut Criterion) {
    let state = large_state("");
    let ops: Vec<String> = (0..500).map(|i| format!("op_{i}")).collect();
    c.bench_function("snapshot_hash_10k_tables", |b| {
        b.iter(|| SnapshotHash::compute(black_box(&state), black_box(&ops)))
    });

    let to = changed(state.clone());
    assert_eq!(diff(&state, &to).len(), TABLES / 100);
    c.bench_function("diff_10k_tables_1pct_changed", |b| {
        b.iter(|| diff(black_box(&state), black_box(&to)))
    });

    // A live read has fresh ids, so every object is matched by name instead.
    let mut live = changed(large_state("live_"));
    // Renames are invisible without ids; keep names so only real edits show.
    for schema in &mut live.catalogs[0].schemas {
        for table in &mut schema.tables {
            if let Some(name) = table.name.strip_suffix("_renamed") {
                table.name = name.to_string();
            }
        }
    }
    c.bench_function("diff_10k_tables_1pct_changed_by_name", |b| {
        b.iter(|| diff(black_box(&state), black_box(&live)))
    });
}

criterion_group! {
    name = hash;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(hash);
