//! Property: a snapshot's hash survives export → import unchanged, for
//! randomly generated projects, and the exported folder is reproduced byte for byte.

use proptest::prelude::*;
use serde_json::json;
use tidemark_app::App;

fn type_json(i: u8) -> serde_json::Value {
    match i % 6 {
        0 => json!({"kind": "integer"}),
        1 => json!({"kind": "text"}),
        2 => json!({"kind": "varchar", "length": 10 + i as u32}),
        3 => json!({"kind": "decimal", "precision": 12, "scale": 2}),
        4 => json!({"kind": "timestamp_tz"}),
        _ => json!({"kind": "raw", "sql": "int4range"}),
    }
}

/// A column: name, type selector, nullable.
type ColumnSpec = (String, u8, bool);
/// A table: name and columns.
type TableSpec = (String, Vec<ColumnSpec>);

/// A project: tables with columns, split into snapshots.
fn project() -> impl Strategy<Value = Vec<Vec<TableSpec>>> {
    let column = ("[a-z][a-z0-9_]{0,8}", any::<u8>(), any::<bool>());
    let table = ("[a-z][a-zé_ ]{0,10}", prop::collection::vec(column, 1..6));
    prop::collection::vec(prop::collection::vec(table, 1..4), 1..4)
}

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in ["", "snapshots"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                out.push((
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn hash_survives_export_import(snapshots in project()) {
        let dir = tempfile::tempdir().unwrap();
        let mut app = App::open(&dir.path().join("a.tmdb"), "prop").unwrap();
        app.project_new("p").unwrap();
        app.add_ops_json(&json!([
            {"target": "root", "op": "add_catalog", "payload": {"id": "c", "name": "c"}},
            {"target": "c", "op": "add_schema", "payload": {"id": "s", "name": "s"}},
        ]).to_string()).unwrap();
        let mut n = 0;
        for (si, tables) in snapshots.iter().enumerate() {
            let mut ops = Vec::new();
            for (name, columns) in tables {
                n += 1;
                let tid = format!("t{n}");
                ops.push(json!({"target": "s", "op": "add_table", "payload": {"id": tid, "name": format!("{name}{n}")}}));
                let mut seen = std::collections::HashSet::new();
                for (cname, ty, nullable) in columns {
                    if !seen.insert(cname.clone()) { continue; }
                    ops.push(json!({"target": tid, "op": "add_column",
                        "payload": {"name": cname, "data_type": type_json(*ty), "nullable": nullable}}));
                }
            }
            app.add_ops_json(&serde_json::Value::Array(ops).to_string()).unwrap();
            app.snapshot_create(None, None, &format!("s{si}"), None, &[]).unwrap();
        }
        let out1 = dir.path().join("e1");
        app.project_export(&out1).unwrap();

        let mut other = App::open(&dir.path().join("b.tmdb"), "prop").unwrap();
        other.project_import(&out1).unwrap();
        let out2 = dir.path().join("e2");
        other.project_export(&out2).unwrap();
        prop_assert_eq!(files(&out1), files(&out2));

        let a: Vec<_> = app.snapshot_list().unwrap().into_iter().map(|s| s.hash).collect();
        let b: Vec<_> = other.snapshot_list().unwrap().into_iter().map(|s| s.hash).collect();
        prop_assert_eq!(a.len(), snapshots.len());
        prop_assert_eq!(a, b);
        prop_assert!(other.snapshot_verify().unwrap().ok());
    }
}
