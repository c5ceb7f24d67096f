//! The front-end calls of the Scans screen (`scan_run`, `scan_list`,
//! `incremental_diff`, `diff_show`, `diff_list`) as JSON requests, against a
//! SQLite database.

use serde_json::{json, Value};
use tidemark_app::api::{ApiErrorKind, Call};
use tidemark_app::App;
use tidemark_db::{connect, ConnectionSpec};

fn exec(url: &str, statements: &[&str]) {
    let spec = ConnectionSpec::parse(url).unwrap();
    let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut db = connect(&spec, None).await.unwrap();
            db.execute(&statements, true).await.unwrap();
            db.close().await.unwrap();
        });
}

fn call(app: &mut App, request: Value) -> Result<Value, tidemark_app::api::ApiError> {
    let call: Call = serde_json::from_value(request).expect("a valid call");
    app.call(call)
}

#[test]
fn the_scans_screen_calls() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let url = format!("sqlite:{}?mode=rwc", db.display());
    exec(
        &url,
        &[
            "CREATE TABLE orders (id integer PRIMARY KEY, note text NOT NULL DEFAULT '')",
            "CREATE TABLE legacy (id integer)",
        ],
    );
    let mut app = App::open(&dir.path().join("ws.tmdb"), "tester").unwrap();
    app.connection_add("shop", &url, None, None).unwrap();

    let first = call(
        &mut app,
        json!({"command": "scan_run", "args": {"connection": "shop"}}),
    )
    .unwrap();
    assert_eq!(first["status"], "completed");
    assert_eq!(first["table_count"], 2);

    // One run: bad input with the fix in the message.
    let err = call(
        &mut app,
        json!({"command": "incremental_diff", "args": {"connection": "shop"}}),
    )
    .unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::BadInput);
    assert!(err.message.contains("scan"), "{}", err.message);

    exec(
        &url,
        &[
            "DROP TABLE legacy",
            "ALTER TABLE orders ADD COLUMN total real",
        ],
    );
    let second = call(
        &mut app,
        json!({"command": "scan_run", "args": {"connection": "shop", "schemas": ["main"]}}),
    )
    .unwrap();
    assert_eq!(second["schemas"], json!(["main"]));

    let runs = call(
        &mut app,
        json!({"command": "scan_list", "args": {"connection": "shop"}}),
    )
    .unwrap();
    assert_eq!(runs[0]["id"], second["id"]);
    assert_eq!(runs[1]["id"], first["id"]);

    let report = call(
        &mut app,
        json!({"command": "incremental_diff", "args": {"connection": "shop"}}),
    )
    .unwrap();
    assert_eq!(report["diff"]["status"], "completed");
    // The two runs asked for different schema lists: said, not hidden.
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1);
    // legacy and its column removed, orders.total added.
    assert_eq!(report["counts"]["table"]["removed"], 1);
    assert_eq!(report["counts"]["column"]["removed"], 1);
    assert_eq!(report["counts"]["column"]["added"], 1);
    assert_eq!(report["total"], 3);

    let id = report["diff"]["diff_sync_id"].as_str().unwrap();
    let detail = call(
        &mut app,
        json!({"command": "diff_show", "args": {"id": id}}),
    )
    .unwrap();
    let objects: Vec<String> = detail["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}.{}",
                c["asset_type"].as_str().unwrap(),
                c["change_type"].as_str().unwrap(),
                c["table_name"].as_str().unwrap(),
                c["column_name"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        objects,
        [
            "table removed legacy.-",
            "column removed legacy.id",
            "column added orders.total",
        ]
    );
    let list = call(
        &mut app,
        json!({"command": "diff_list", "args": {"connection": "shop"}}),
    )
    .unwrap();
    assert_eq!(list[0]["diff_sync_id"], id);

    let missing = call(
        &mut app,
        json!({"command": "diff_show", "args": {"id": "nope"}}),
    )
    .unwrap_err();
    assert_eq!(missing.kind, ApiErrorKind::BadInput);
}
