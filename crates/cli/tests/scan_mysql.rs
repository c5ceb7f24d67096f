//! Scans and incremental diffs against the local MariaDB server, through the
//! real binary. MariaDB exposes CREATE_TIME / UPDATE_TIME and row estimates
//! that move when rows are written or a table is rebuilt: they are recorded,
//! but must never turn into "modified" objects on their own.

mod common;
mod scan_common;

use common::Ws;
use scan_common::{
    change_of, change_set, differences, expected, summary_counts, workspace_summary, ScratchDb,
};
use serde_json::{json, Value};

const SETUP: &[&str] = &[
    "CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(200) NOT NULL, \
     legacy_code varchar(10), score int DEFAULT 0) COMMENT 'people who buy'",
    "CREATE TABLE orders (id bigint PRIMARY KEY AUTO_INCREMENT, customer_id bigint, \
     total decimal(10,2) NOT NULL DEFAULT 0, \
     CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id))",
    "CREATE TABLE old_audit (id int, note text)",
    "INSERT INTO customers (id, email) VALUES (1, 'a@example.com')",
];

/// Row writes and a table rebuild: they move UPDATE_TIME, the row estimate
/// and (on MariaDB) CREATE_TIME, but change no schema.
const NOT_SCHEMA_CHANGES: &[&str] = &[
    "INSERT INTO customers (id, email) VALUES (2, 'b@example.com'), (3, 'c@example.com')",
    "INSERT INTO orders (customer_id, total) VALUES (1, 10), (2, 20)",
    "OPTIMIZE TABLE customers",
];

fn workspace_for(db: &ScratchDb) -> Ws {
    let ws = Ws::new();
    ws.ok(&["connection", "add", "maria", "--url", &db.url]);
    ws
}

fn scan(ws: &Ws) -> Value {
    ws.json(&["scan", "--connection-id", "maria"])
}

fn diff(ws: &Ws) -> Value {
    ws.json(&["incremental-diff", "--connection-id", "maria"])
}

/// Scans taken a second apart, so MariaDB's second-resolution times can move.
fn pause() {
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

#[test]
fn known_changes_give_exactly_those_changes() {
    let db = ScratchDb::mariadb();
    db.exec(SETUP);
    let ws = workspace_for(&db);
    ws.ok(&[
        "scan",
        "label",
        "--connection-id",
        "maria",
        &format!("{}.orders", db.name),
        "owner=sales",
    ]);
    let first = scan(&ws);
    assert_eq!(
        (
            &first["schema_count"],
            &first["table_count"],
            &first["column_count"]
        ),
        (&json!(1), &json!(3), &json!(9))
    );
    pause();
    db.exec(NOT_SCHEMA_CHANGES);
    db.exec(&[
        "CREATE TABLE refunds (id bigint PRIMARY KEY, amount decimal(10,2))",
        "DROP TABLE old_audit",
        "ALTER TABLE customers ADD COLUMN phone varchar(30)",
        "ALTER TABLE customers DROP COLUMN legacy_code",
        "ALTER TABLE customers MODIFY COLUMN score bigint DEFAULT 0",
        "ALTER TABLE customers COMMENT = 'customers'",
    ]);
    ws.ok(&[
        "scan",
        "label",
        "--connection-id",
        "maria",
        &format!("{}.orders", db.name),
        "owner=finance",
    ]);
    scan(&ws);

    let report = diff(&ws);
    let id = report["diff"]["diff_sync_id"].as_str().unwrap();
    assert_eq!(report["diff"]["status"], "completed");
    let detail = ws.json(&["diff", "show", id]);
    let s = db.name.as_str();
    let obj = |rest: &str| format!("{s}.{rest}");
    let want = [
        ("table", "added", obj("refunds")),
        ("table", "removed", obj("old_audit")),
        ("table", "modified", obj("customers")),
        ("table", "modified", obj("orders")),
        ("column", "added", obj("refunds.id")),
        ("column", "added", obj("refunds.amount")),
        ("column", "added", obj("customers.phone")),
        ("column", "removed", obj("old_audit.id")),
        ("column", "removed", obj("old_audit.note")),
        ("column", "removed", obj("customers.legacy_code")),
        ("column", "modified", obj("customers.score")),
    ];
    let want: Vec<(&str, &str, &str)> = want.iter().map(|(a, c, o)| (*a, *c, o.as_str())).collect();
    assert_eq!(change_set(&detail), expected(&want));
    assert_eq!(
        differences(change_of(&detail, &obj("customers"))),
        [(
            "attribute".to_string(),
            "comment".to_string(),
            json!("people who buy"),
            json!("customers")
        )]
    );
    assert_eq!(
        differences(change_of(&detail, &obj("orders"))),
        [(
            "custom_attribute".to_string(),
            "owner".to_string(),
            json!("sales"),
            json!("finance")
        )]
    );
    assert_eq!(
        differences(change_of(&detail, &obj("customers.score"))),
        [(
            "attribute".to_string(),
            "data_type".to_string(),
            json!("integer"),
            json!("bigint")
        )]
    );
    // The table facts MariaDB gives are recorded.
    let refunds = &change_of(&detail, &obj("refunds"))["sync_run_2_data"];
    assert_eq!(refunds["attributes"]["properties"]["engine"], "InnoDB");
    assert!(refunds["info"]["created_at"].is_string(), "{refunds:#}");
    assert_eq!(
        summary_counts(&workspace_summary(&ws.file, id)),
        [0, 0, 0, 1, 1, 2, 3, 3, 1, 11]
    );
}

#[test]
fn row_writes_and_rebuilds_are_not_schema_changes() {
    let db = ScratchDb::mariadb();
    db.exec(SETUP);
    let ws = workspace_for(&db);
    let first = scan(&ws);
    pause();
    db.exec(NOT_SCHEMA_CHANGES);
    let second = scan(&ws);
    let report = diff(&ws);
    assert_eq!(report["diff"]["status"], "completed");
    assert_eq!(report["total"], 0, "{report:#}");
    let id = report["diff"]["diff_sync_id"].as_str().unwrap();
    assert_eq!(summary_counts(&workspace_summary(&ws.file, id)), [0; 10]);

    // The informational facts did move, which is what this test is about.
    let info = |run: &Value| -> Value {
        let conn = rusqlite::Connection::open(&ws.file).unwrap();
        let text: String = conn
            .query_row(
                "SELECT info FROM scan_objects WHERE run_id = ?1 AND path = ?2",
                [
                    run["id"].as_str().unwrap(),
                    &format!("{}.customers", db.name),
                ],
                |r| r.get(0),
            )
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let (before, after) = (info(&first), info(&second));
    assert_ne!(
        before, after,
        "row writes should move UPDATE_TIME or the row estimate"
    );
    assert!(after["updated_at"].is_string() || after["estimated_rows"] != before["estimated_rows"]);
}
