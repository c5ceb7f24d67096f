//! Environments through the use cases and the front-end `Call`s, on the
//! demo's SQLite databases: the demo itself, the order of environments, the
//! typed confirmation of a protected one, working-state deployments.

use serde_json::{json, Value};
use std::path::PathBuf;
use tidemark_app::api::{ApiErrorKind, Call};
use tidemark_app::{create_demo, App, DeployOptions, EnvSettings};

fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.tmdb");
    create_demo(&path, false).unwrap();
    (dir, path)
}

fn call(app: &mut App, value: Value) -> Result<Value, tidemark_app::api::ApiError> {
    let call: Call = serde_json::from_value(value).expect("a valid call");
    app.call(call)
}

fn count(path: &PathBuf, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_demo_deploys_three_sqlite_environments_for_real() {
    let started = std::time::Instant::now();
    let (dir, path) = demo();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the demo took {:?}",
        started.elapsed()
    );
    let app = App::open(&path, "tester").unwrap();
    let status = app.env_status().unwrap();
    let board: Vec<(String, Option<String>, String, bool)> = status
        .environments
        .iter()
        .map(|e| {
            (
                e.environment.name.clone(),
                e.version.clone(),
                e.drift.clone(),
                e.environment.protected,
            )
        })
        .collect();
    assert_eq!(
        board,
        [
            ("dev".into(), Some("1.0.0".into()), "clean".into(), false),
            ("test".into(), Some("0.2.0".into()), "clean".into(), false),
            ("prod".into(), Some("0.1.0".into()), "clean".into(), true),
        ]
    );
    let behind: Vec<(Option<i64>, Option<i64>)> = status
        .environments
        .iter()
        .map(|e| (e.behind_previous, e.behind_latest))
        .collect();
    assert_eq!(
        behind,
        [(None, Some(0)), (Some(1), Some(1)), (Some(1), Some(2))]
    );

    // Rows survived every deployment, the breaking 1.0.0 on dev included.
    for env in ["dev", "test", "prod"] {
        let db = dir.path().join(format!("shop-{env}.sqlite"));
        assert!(db.is_file(), "{}", db.display());
        assert_eq!(count(&db, "customers"), 3, "{env}");
        assert_eq!(count(&db, "orders"), 3, "{env}");
    }
    let dev = dir.path().join("shop-dev.sqlite");
    let conn = rusqlite::Connection::open(&dev).unwrap();
    let name: String = conn
        .query_row("SELECT full_name FROM customers WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(name, "Ada Lovelace");
    drop(conn);

    let history = app.history(None).unwrap();
    assert_eq!(history.len(), 6);
    assert!(history.iter().all(|d| d.deployed_by == "demo"));

    // --force replaces the databases too: a tampered one comes back clean.
    rusqlite::Connection::open(&dev)
        .unwrap()
        .execute_batch("CREATE TABLE stray (x INTEGER)")
        .unwrap();
    assert!(app.drift("dev").unwrap().drifted);
    drop(app);
    let err = create_demo(&path, false).unwrap_err();
    assert!(
        err.is_bad_input() && err.to_string().contains("--force"),
        "{err}"
    );
    std::fs::remove_file(&path).unwrap();
    let err = create_demo(&path, false).unwrap_err();
    assert!(
        err.to_string().contains("shop-dev.sqlite"),
        "left-over databases are not silently reused: {err}"
    );
    create_demo(&path, true).unwrap();
    let app = App::open(&path, "tester").unwrap();
    assert!(!app.drift("dev").unwrap().drifted);
    assert_eq!(count(&dev, "customers"), 3);
}

#[test]
fn environments_keep_their_order_and_colours() {
    let (_dir, path) = demo();
    let mut app = App::open(&path, "tester").unwrap();
    let staging = app
        .env_add(
            "staging",
            "shop-test",
            &EnvSettings {
                position: Some(2),
                ..EnvSettings::default()
            },
        )
        .unwrap();
    assert_eq!((staging.position, staging.color.as_str()), (2, "teal"));
    let custom = app
        .env_add(
            "sandbox",
            "shop-dev",
            &EnvSettings {
                position: Some(99),
                color: Some("#123456".into()),
                allow_drift: true,
                ..EnvSettings::default()
            },
        )
        .unwrap();
    assert_eq!(custom.position, 4, "past the end means last");
    let order = |app: &App| -> Vec<(String, u32)> {
        app.env_list()
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.position))
            .collect()
    };
    assert_eq!(
        order(&app),
        [
            ("dev".into(), 0),
            ("test".into(), 1),
            ("staging".into(), 2),
            ("prod".into(), 3),
            ("sandbox".into(), 4)
        ]
    );
    app.env_remove("test").unwrap();
    assert_eq!(
        order(&app),
        [
            ("dev".into(), 0),
            ("staging".into(), 1),
            ("prod".into(), 2),
            ("sandbox".into(), 3)
        ]
    );
    // Its history stays.
    assert!(app
        .history(None)
        .unwrap()
        .iter()
        .any(|d| d.environment == "test"));
    let err = app
        .env_add("two words", "shop-dev", &EnvSettings::default())
        .unwrap_err();
    assert!(err.is_bad_input(), "{err}");
}

#[test]
fn front_end_calls_cover_the_board() {
    let (_dir, path) = demo();
    let mut app = App::open(&path, "tester").unwrap();
    let list = call(&mut app, json!({"command": "env_list"})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    let status = call(&mut app, json!({"command": "env_status"})).unwrap();
    assert_eq!(status["environments"][2]["environment"]["name"], "prod");

    let plan = call(
        &mut app,
        json!({"command": "plan", "args": {"env": "test", "snapshot": "1.0.0"}}),
    )
    .unwrap();
    assert_eq!(plan["from_version"], "0.2.0");
    assert_eq!(plan["severity"], "breaking");
    assert!(!plan["breaking"].as_array().unwrap().is_empty());

    // A breaking promotion without allow_breaking: refused, as bad input.
    let err = call(
        &mut app,
        json!({"command": "promote", "args": {"from": "dev", "to": "test"}}),
    )
    .unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::BadInput);
    assert!(err.message.contains("breaking"), "{}", err.message);
    let done = call(
        &mut app,
        json!({"command": "promote", "args": {"from": "dev", "to": "test", "allow_breaking": true}}),
    )
    .unwrap();
    assert_eq!(done["result"], "deployed");

    // prod needs its name typed: a wrong one is refused, the right one works.
    let deploy = |confirm: &str| json!({"command": "deploy", "args": {"env": "prod", "snapshot": "0.2.0", "confirm": confirm}});
    let err = call(&mut app, deploy("prd")).unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::BadInput);
    assert!(err.message.contains("protected"), "{}", err.message);
    let ok = call(&mut app, deploy("prod")).unwrap();
    assert_eq!(ok["result"], "deployed");
    assert_eq!(ok["plan"]["from_version"], "0.1.0");

    let drift = call(
        &mut app,
        json!({"command": "drift", "args": {"env": "prod"}}),
    )
    .unwrap();
    assert_eq!(drift["drifted"], false);
    assert_eq!(drift["marker"]["version"], "0.2.0");
    let history = call(
        &mut app,
        json!({"command": "history", "args": {"env": "prod"}}),
    )
    .unwrap();
    assert_eq!(history[0]["to_version"], "0.2.0");
    assert!(
        history[0].get("state").is_none(),
        "states stay out of the history"
    );
    let imported = call(
        &mut app,
        json!({"command": "import_from_env", "args": {"env": "prod"}}),
    )
    .unwrap();
    assert_eq!(imported["added"]["ops"], json!([]));
    let rollback = call(
        &mut app,
        json!({"command": "rollback", "args": {"env": "prod", "to": "0.1.0", "confirm": "prod", "dry_run": true}}),
    )
    .unwrap();
    assert_eq!(rollback["result"], "dry_run");
    assert!(!rollback["plan"]["statements"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn the_working_state_deploys_where_snapshots_are_not_required() {
    let (_dir, path) = demo();
    let mut app = App::open(&path, "tester").unwrap();
    app.add_ops_json(
        r#"{"target": "tbl_orders", "op": "add_column", "payload": {"name": "gift", "data_type": {"kind": "boolean"}}}"#,
    )
    .unwrap();
    let options = DeployOptions {
        allow_breaking: false,
        ..DeployOptions::default()
    };
    let out = app.deploy("dev", Some("working"), &options).unwrap();
    assert_eq!(out.plan.to_version, "working");
    assert_eq!(out.plan.statements.len(), 1);
    // The marker names the working state, which this workspace recorded.
    let drift = app.drift("dev").unwrap();
    assert!(!drift.drifted, "{drift:?}");
    assert_eq!(drift.expected_version.as_deref(), Some("working"));
    let again = app.deploy("dev", Some("working"), &options).unwrap();
    assert_eq!(again.result, tidemark_app::DeployResult::UpToDate);

    // prod only takes snapshots.
    let err = app
        .deploy(
            "prod",
            Some("working"),
            &DeployOptions {
                confirm: Some("prod".into()),
                ..DeployOptions::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("only takes snapshots"), "{err}");
}

/// A column the project dropped and added again under the same name (a new
/// id, another type) deploys as a drop plus an add, not an in-place change.
#[test]
fn a_re_added_column_deploys_as_drop_plus_add() {
    let (_dir, path) = demo();
    let mut app = App::open(&path, "tester").unwrap();
    app.add_ops_json(
        &json!([
            {"target": "col_orders_note", "op": "drop_column"},
            {"target": "tbl_orders", "op": "add_column",
             "payload": {"name": "note", "data_type": {"kind": "integer"}}},
        ])
        .to_string(),
    )
    .unwrap();
    app.snapshot_create(None, None, "note becomes a number", None, &[])
        .unwrap();
    let preview = app.plan("dev", None).unwrap();
    assert!(
        preview.script.contains("drops column orders.note"),
        "{}",
        preview.script
    );
    assert!(
        !preview.script.contains("from text to integer"),
        "{}",
        preview.script
    );
}
