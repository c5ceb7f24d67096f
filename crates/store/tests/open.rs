//! Opening, migrating and refusing workspace files.

mod common;

use common::*;
use std::path::Path;
use tidemark_store::{StoreError, Workspace, APPLICATION_ID, SCHEMA_VERSION};

fn pragma_i64(conn: &rusqlite::Connection, name: &str) -> i64 {
    conn.pragma_query_value(None, name, |row| row.get(0))
        .unwrap()
}

fn tables(conn: &rusqlite::Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap();
    stmt.query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_new_file_is_created_with_every_migration_applied() {
    let (dir, _) = temp_workspace_path();
    let path = dir.path().join("nested/deeper/ws.tmdb");
    let ws = Workspace::open(&path).unwrap();
    assert_eq!(ws.path(), path);
    drop(ws);

    let conn = raw(&path);
    assert_eq!(pragma_i64(&conn, "user_version"), i64::from(SCHEMA_VERSION));
    assert_eq!(
        pragma_i64(&conn, "application_id"),
        i64::from(APPLICATION_ID)
    );
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let tables = tables(&conn);
    for expected in ["connections", "ops", "projects", "settings", "snapshots"] {
        assert!(
            tables.iter().any(|t| t == expected),
            "{expected} missing: {tables:?}"
        );
    }
}

#[test]
fn reopening_an_up_to_date_workspace_changes_nothing() {
    let (_dir, path) = temp_workspace_path();
    drop(Workspace::open(&path).unwrap());
    let before = bytes(&path);

    drop(Workspace::open(&path).unwrap());
    drop(Workspace::open_existing(&path).unwrap());

    assert_eq!(bytes(&path), before);
    assert_eq!(
        pragma_i64(&raw(&path), "user_version"),
        i64::from(SCHEMA_VERSION)
    );
}

#[test]
fn opening_and_reading_an_existing_workspace_leaves_the_file_byte_identical() {
    let (_dir, path) = temp_workspace_path();
    {
        let (mut ws, project) = workspace_with_project(&path);
        ws.set_current_project("shop").unwrap();
        ws.append_ops(&project.id, &ops("op_", 3)).unwrap();
        ws.insert_snapshot(&project.id, &sealed("0.1.0", None, &["op_1", "op_2"]))
            .unwrap();
    }
    let before = bytes(&path);

    let ws = Workspace::open_existing(&path).unwrap();
    let project = ws.current_project().unwrap();
    assert_eq!(ws.projects().unwrap().len(), 1);
    assert_eq!(ws.ops(&project.id).unwrap().len(), 3);
    assert_eq!(ws.uncommitted_ops(&project.id).unwrap().len(), 1);
    assert_eq!(ws.snapshots(&project.id).unwrap().len(), 1);
    assert!(ws.verify_snapshots(&project.id).unwrap()[0].1.is_ok());
    drop(ws);

    assert_eq!(bytes(&path), before);
    assert!(!path.with_extension("tmdb-wal").exists());
}

#[test]
fn a_workspace_from_a_newer_build_is_refused_and_left_byte_identical() {
    let (_dir, path) = temp_workspace_path();
    {
        let (mut ws, project) = workspace_with_project(&path);
        ws.append_ops(&project.id, &ops("op_", 2)).unwrap();
    }
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 6)
        .unwrap();
    let before = bytes(&path);

    let err = Workspace::open(&path).unwrap_err();
    match &err {
        StoreError::NewerSchema {
            path: p,
            found,
            supported,
        } => {
            assert_eq!(p, &path);
            assert_eq!(*found, SCHEMA_VERSION + 6);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains(&format!("schema version {}", SCHEMA_VERSION + 6)));
    assert!(message.contains("upgrade Tidemark"));
    // The file is fine; the user pointed an old Tidemark at it.
    assert!(err.is_bad_input());
    assert!(matches!(
        Workspace::open_existing(&path).unwrap_err(),
        StoreError::NewerSchema { .. }
    ));

    assert_eq!(bytes(&path), before);
}

#[test]
fn a_newer_workspace_in_rollback_journal_mode_is_not_switched_to_wal() {
    // The journal-mode switch writes the header, so it must come after the check.
    let (_dir, path) = temp_workspace_path();
    drop(Workspace::open(&path).unwrap());
    {
        let conn = raw(&path);
        let _: String = conn
            .pragma_update_and_check(None, "journal_mode", "DELETE", |row| row.get(0))
            .unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let before = bytes(&path);

    assert!(matches!(
        Workspace::open(&path).unwrap_err(),
        StoreError::NewerSchema { .. }
    ));
    assert_eq!(bytes(&path), before);
}

#[test]
fn a_file_that_is_not_a_workspace_is_refused_and_left_byte_identical() {
    let (dir, _) = temp_workspace_path();

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database, just some text long enough ".repeat(20),
    )
    .unwrap();
    let before = bytes(&text);
    let err = Workspace::open(&text).unwrap_err();
    assert!(
        matches!(&err, StoreError::NotAWorkspace { reason, .. } if reason.contains("not a SQLite database")),
        "{err:?}"
    );
    assert!(err.is_bad_input());
    assert_eq!(bytes(&text), before);

    let other = dir.path().join("other.db");
    raw(&other)
        .execute_batch("CREATE TABLE things (x INTEGER); INSERT INTO things VALUES (1);")
        .unwrap();
    let before = bytes(&other);
    let err = Workspace::open(&other).unwrap_err();
    assert!(
        matches!(&err, StoreError::NotAWorkspace { reason, .. } if reason.contains("another application")),
        "{err:?}"
    );
    assert_eq!(bytes(&other), before);
}

#[test]
fn open_existing_refuses_a_missing_file_and_does_not_create_it() {
    let (_dir, path) = temp_workspace_path();
    let err = Workspace::open_existing(&path).unwrap_err();
    assert!(
        matches!(&err, StoreError::WorkspaceMissing { path: p } if p == &path),
        "{err:?}"
    );
    assert!(err.is_bad_input());
    assert!(!path.exists());
}

#[test]
fn threads_opening_the_same_new_file_at_once_all_succeed() {
    let (_dir, path) = temp_workspace_path();
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    Workspace::open(&path).map(|ws| ws.projects().map(|p| p.len()))
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().unwrap().unwrap().unwrap(), 0);
        }
    });
    assert_eq!(
        pragma_i64(&raw(&path), "user_version"),
        i64::from(SCHEMA_VERSION)
    );
}
