//! Builders shared by the integration tests.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tidemark_model::{
    Action, Catalog, Column, DataType, ObjectId, Op, Schema, Snapshot, SnapshotHash, State, Table,
};
use tidemark_store::{Project, Workspace};

/// A fresh folder and the path of a workspace file inside it (not created yet).
pub fn temp_workspace_path() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ws.tmdb");
    (dir, path)
}

/// A time `seconds` after a fixed instant, with sub-microsecond digits so that
/// a lossy time format would show up in round trips.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_767_225_600 + seconds, 123_456_789)
        .unwrap()
}

/// An `add_table` op with id `id`.
pub fn add_table(id: &str) -> Op {
    Op {
        id: id.to_string(),
        ts: at(1),
        target: ObjectId::new("sch_1"),
        action: Action::AddTable {
            id: ObjectId::new(format!("tbl_{id}")),
            name: format!("table_{id}"),
        },
    }
}

/// `n` add_table ops with ids `{prefix}{1..=n}`.
pub fn ops(prefix: &str, n: usize) -> Vec<Op> {
    (1..=n)
        .map(|i| add_table(&format!("{prefix}{i}")))
        .collect()
}

/// A small state with one table named `table`.
pub fn state_with(table: &str) -> State {
    State {
        catalogs: vec![Catalog {
            id: ObjectId::new("cat_1"),
            name: "app".into(),
            comment: None,
            schemas: vec![Schema {
                id: ObjectId::new("sch_1"),
                name: "public".into(),
                comment: Some("main schema".into()),
                tables: vec![Table {
                    id: ObjectId::new("tbl_1"),
                    name: table.into(),
                    columns: vec![Column {
                        id: ObjectId::new("col_1"),
                        name: "id".into(),
                        data_type: DataType::BigInt,
                        nullable: false,
                        default: None,
                        comment: None,
                        identity: true,
                    }],
                    primary_key: None,
                    uniques: vec![],
                    indexes: vec![],
                    foreign_keys: vec![],
                    checks: vec![],
                    comment: None,
                    properties: Default::default(),
                }],
            }],
        }],
    }
}

/// A correctly sealed snapshot.
pub fn sealed(version: &str, previous: Option<&str>, ops_included: &[&str]) -> Snapshot {
    let state = state_with(&format!("t_{version}"));
    let ops_included: Vec<String> = ops_included.iter().map(|s| s.to_string()).collect();
    let hash = SnapshotHash::compute(&state, &ops_included);
    Snapshot {
        id: format!("snap_{version}"),
        version: semver::Version::parse(version).unwrap(),
        name: format!("release {version}"),
        comment: Some("first cut".into()),
        tags: vec!["milestone".into()],
        created_by: "tester".into(),
        created_at: at(100),
        previous: previous.map(str::to_string),
        ops_included,
        state,
        hash,
    }
}

/// A workspace with one project `shop` (id `p_shop`).
pub fn workspace_with_project(path: &Path) -> (Workspace, Project) {
    let mut ws = Workspace::open(path).expect("open");
    let project = ws
        .create_project("p_shop", "shop", at(0))
        .expect("create project");
    (ws, project)
}

/// A raw rusqlite connection, bypassing the store, for tampering and inspection.
pub fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("raw open")
}
