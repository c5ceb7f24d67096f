//! Scans and incremental diffs against the local PostgreSQL server, through
//! the real binary: a known set of changes gives exactly those changes, an
//! unchanged database gives none, `--format postgres` writes the same rows as
//! the workspace, and a diff that fails part-way leaves no rows behind.

mod common;
mod scan_common;

use common::Ws;
use scan_common::{
    change_of, change_set, differences, expected, summary_counts, workspace_summary, ScratchDb,
};
use serde_json::{json, Value};

const SETUP: &[&str] = &[
    "CREATE SCHEMA sales",
    "CREATE TABLE sales.customers (id bigint PRIMARY KEY, email text NOT NULL, \
     legacy_code text, score integer DEFAULT 0)",
    "COMMENT ON TABLE sales.customers IS 'people who buy'",
    "CREATE TABLE sales.orders (id bigint PRIMARY KEY, \
     customer_id bigint REFERENCES sales.customers (id), total numeric(10,2) NOT NULL DEFAULT 0)",
    "CREATE INDEX orders_by_customer ON sales.orders (customer_id)",
    "CREATE TABLE sales.old_audit (id integer, note text)",
];

/// The known changes: one table added and one dropped, a column added, one
/// dropped and one altered, a table comment changed. Rows are written and
/// statistics refreshed too, which must not show up as schema changes.
const CHANGES: &[&str] = &[
    "CREATE TABLE sales.refunds (id bigint PRIMARY KEY, amount numeric(10,2))",
    "DROP TABLE sales.old_audit",
    "ALTER TABLE sales.customers ADD COLUMN phone text",
    "ALTER TABLE sales.customers DROP COLUMN legacy_code",
    "ALTER TABLE sales.customers ALTER COLUMN score TYPE bigint",
    "COMMENT ON TABLE sales.customers IS 'customers'",
    "INSERT INTO sales.customers (id, email) SELECT g, 'c' || g FROM generate_series(1, 500) g",
    "ANALYZE sales.customers",
];

/// A workspace with connection `pg` pointing at `db`.
fn workspace_for(db: &ScratchDb) -> Ws {
    let ws = Ws::new();
    ws.ok(&["connection", "add", "pg", "--url", &db.url]);
    ws
}

fn scan(ws: &Ws) -> Value {
    ws.json(&["scan", "--connection-id", "pg"])
}

fn diff(ws: &Ws, extra: &[&str]) -> Value {
    let mut args = vec!["incremental-diff", "--connection-id", "pg"];
    args.extend_from_slice(extra);
    ws.json(&args)
}

fn show(ws: &Ws, id: &str) -> Value {
    ws.json(&["diff", "show", id])
}

#[test]
fn known_changes_give_exactly_those_changes() {
    let db = ScratchDb::postgres();
    db.exec(SETUP);
    let ws = workspace_for(&db);
    ws.ok(&[
        "scan",
        "label",
        "--connection-id",
        "pg",
        "sales.orders",
        "owner=sales",
    ]);

    let first = scan(&ws);
    assert_eq!(first["status"], "completed");
    assert_eq!(
        (
            &first["schema_count"],
            &first["table_count"],
            &first["column_count"]
        ),
        (&json!(2), &json!(3), &json!(9))
    );

    // One run is not enough: bad input, exit code 2, and the fix in the message.
    let early = ws.run(&["incremental-diff", "--connection-id", "pg"]);
    assert_eq!(early.code, 2, "{}", early.stderr);
    assert!(
        early.stderr.contains("tidemark scan --connection-id pg"),
        "{}",
        early.stderr
    );

    db.exec(CHANGES);
    ws.ok(&[
        "scan",
        "label",
        "--connection-id",
        "pg",
        "sales.orders",
        "owner=finance",
    ]);
    let second = scan(&ws);

    let report = diff(&ws, &[]);
    let id = report["diff"]["diff_sync_id"].as_str().unwrap().to_string();
    assert_eq!(report["diff"]["status"], "completed");
    assert_eq!(report["older"]["id"], first["id"]);
    assert_eq!(report["newer"]["id"], second["id"]);
    assert_eq!(report["total"], 11);

    let detail = show(&ws, &id);
    assert_eq!(
        change_set(&detail),
        expected(&[
            ("table", "added", "sales.refunds"),
            ("table", "removed", "sales.old_audit"),
            ("table", "modified", "sales.customers"),
            ("table", "modified", "sales.orders"),
            ("column", "added", "sales.refunds.id"),
            ("column", "added", "sales.refunds.amount"),
            ("column", "added", "sales.customers.phone"),
            ("column", "removed", "sales.old_audit.id"),
            ("column", "removed", "sales.old_audit.note"),
            ("column", "removed", "sales.customers.legacy_code"),
            ("column", "modified", "sales.customers.score"),
        ])
    );
    assert_eq!(
        differences(change_of(&detail, "sales.customers")),
        [(
            "attribute".to_string(),
            "comment".to_string(),
            json!("people who buy"),
            json!("customers")
        )]
    );
    assert_eq!(
        differences(change_of(&detail, "sales.orders")),
        [(
            "custom_attribute".to_string(),
            "owner".to_string(),
            json!("sales"),
            json!("finance")
        )]
    );
    assert_eq!(
        differences(change_of(&detail, "sales.customers.score")),
        [(
            "attribute".to_string(),
            "data_type".to_string(),
            json!("integer"),
            json!("bigint")
        )]
    );
    let added = change_of(&detail, "sales.refunds.amount");
    assert!(added["sync_run_1_data"].is_null());
    assert_eq!(
        added["sync_run_2_data"]["attributes"]["data_type"],
        "decimal(10,2)"
    );
    // Row estimates are recorded (here after ANALYZE), not compared.
    let customers = change_of(&detail, "sales.customers");
    assert_eq!(customers["sync_run_2_data"]["info"]["estimated_rows"], 500);
    let removed = change_of(&detail, "sales.old_audit");
    assert!(removed["sync_run_2_data"].is_null());
    assert!(removed["sync_run_1_data"]["attributes"].is_object());

    // The summary view agrees: schemas, tables, columns × added, removed, modified.
    let summary = workspace_summary(&ws.file, &id);
    assert_eq!(summary_counts(&summary), [0, 0, 0, 1, 1, 2, 3, 3, 1, 11]);
    assert_eq!(summary["status"], "completed");

    // The human output has the table and the query.
    let human = ws.ok(&["diff", "list", "--connection-id", "pg"]).stdout;
    assert!(human.contains(&id), "{human}");
}

#[test]
fn an_unchanged_database_gives_a_completed_diff_with_no_changes() {
    let db = ScratchDb::postgres();
    db.exec(SETUP);
    let ws = workspace_for(&db);
    scan(&ws);
    scan(&ws);
    let run = ws.ok(&["incremental-diff", "--connection-id", "pg"]);
    assert!(
        run.stdout
            .contains("Incremental diff completed successfully"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("SELECT * FROM diff_summary WHERE diff_sync_id = '"),
        "{}",
        run.stdout
    );
    let list = ws.json(&["diff", "list", "--connection-id", "pg"]);
    let id = list[0]["diff_sync_id"].as_str().unwrap();
    assert_eq!(list[0]["status"], "completed");
    assert!(show(&ws, id)["changes"].as_array().unwrap().is_empty());
    assert_eq!(summary_counts(&workspace_summary(&ws.file, id)), [0; 10]);
}

/// The comparable part of a change row: everything but its id and time.
fn comparable(asset: &str, row: &serde_json::Map<String, Value>) -> Value {
    json!({
        "asset": asset,
        "schema_name": row["schema_name"],
        "table_name": row.get("table_name").cloned().unwrap_or(Value::Null),
        "column_name": row.get("column_name").cloned().unwrap_or(Value::Null),
        "change_type": row["change_type"],
        "sync_run_1_data": row["sync_run_1_data"],
        "sync_run_2_data": row["sync_run_2_data"],
        "differences": row["differences"],
    })
}

fn workspace_rows(ws: &Ws, id: &str) -> Vec<Value> {
    let conn = rusqlite::Connection::open(&ws.file).unwrap();
    let mut rows = Vec::new();
    for asset in ["schema", "table", "column"] {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT json_object('schema_name', schema_name, \
                   'table_name', {t}, 'column_name', {c}, 'change_type', change_type, \
                   'sync_run_1_data', json(sync_run_1_data), 'sync_run_2_data', json(sync_run_2_data), \
                   'differences', json(differences)) \
                 FROM incremental_diff_{asset} WHERE diff_sync_id = ?1",
                t = if asset == "schema" { "NULL" } else { "table_name" },
                c = if asset == "column" { "column_name" } else { "NULL" },
            ))
            .unwrap();
        let texts: Vec<String> = stmt
            .query_map([id], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for text in texts {
            let row: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
            rows.push(comparable(asset, &row));
        }
    }
    rows.sort_by_key(|v| v.to_string());
    rows
}

fn postgres_rows(db: &ScratchDb, schema: &str, id: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    for asset in ["schema", "table", "column"] {
        for row in db.pg_rows(&format!(
            "SELECT * FROM {schema}.incremental_diff_{asset} WHERE diff_sync_id = '{id}'"
        )) {
            rows.push(comparable(asset, &row));
        }
    }
    rows.sort_by_key(|v| v.to_string());
    rows
}

#[test]
fn postgres_format_writes_the_same_rows_as_the_workspace() {
    let db = ScratchDb::postgres();
    db.exec(SETUP);
    let ws = workspace_for(&db);
    ws.ok(&[
        "scan",
        "label",
        "--connection-id",
        "pg",
        "sales.orders",
        "owner=sales",
    ]);
    scan(&ws);
    db.exec(CHANGES);
    ws.ok(&[
        "scan",
        "label",
        "--connection-id",
        "pg",
        "sales.orders",
        "owner=finance",
    ]);
    scan(&ws);

    let local = diff(&ws, &[]);
    let local_id = local["diff"]["diff_sync_id"].as_str().unwrap();
    // A schema name that needs quoting.
    let remote = diff(
        &ws,
        &["--format", "postgres", "--output-schema", "Diff Out"],
    );
    let remote_id = remote["diff"]["diff_sync_id"].as_str().unwrap();
    assert_ne!(local_id, remote_id);
    assert_eq!(remote["diff"]["output_format"], "postgres");
    assert_eq!(remote["counts"], local["counts"]);
    assert!(
        remote["summary_query"]
            .as_str()
            .unwrap()
            .starts_with("SELECT * FROM \"Diff Out\".diff_summary"),
        "{remote:#}"
    );

    let in_workspace = workspace_rows(&ws, local_id);
    let in_postgres = postgres_rows(&db, "\"Diff Out\"", remote_id);
    assert_eq!(in_workspace.len(), 11);
    assert_eq!(in_workspace, in_postgres);

    // The run row and the summary view in PostgreSQL.
    let runs = db.pg_rows(&format!(
        "SELECT status, total_schemas_changed, total_tables_changed, total_columns_changed, \
                sync_run_1_id::text AS older, sync_run_2_id::text AS newer \
         FROM \"Diff Out\".diff_sync_runs WHERE diff_sync_id = '{remote_id}'"
    ));
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "completed");
    assert_eq!(
        (
            &runs[0]["total_tables_changed"],
            &runs[0]["total_columns_changed"]
        ),
        (&json!(4), &json!(7))
    );
    assert_eq!(runs[0]["older"], local["older"]["id"]);
    let summary = db.pg_rows(&format!(
        "SELECT * FROM \"Diff Out\".diff_summary WHERE diff_sync_id = '{remote_id}'"
    ));
    assert_eq!(summary_counts(&summary[0]), [0, 0, 0, 1, 1, 2, 3, 3, 1, 11]);
    // Column types a PostgreSQL user expects.
    let types = db.pg_rows(
        "SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns \
         WHERE table_schema = 'Diff Out' AND table_name = 'incremental_diff_column' \
           AND column_name IN ('diff_id', 'differences', 'created_at')",
    );
    let types: std::collections::BTreeMap<String, String> = types
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(types["diff_id"], "uuid");
    assert_eq!(types["differences"], "jsonb");
    assert_eq!(types["created_at"], "timestamp with time zone");

    // `diff show` reads the rows back from PostgreSQL.
    assert_eq!(
        change_set(&show(&ws, remote_id)),
        change_set(&show(&ws, local_id))
    );

    // The output schema lives in the scanned database, yet the next scan
    // does not report Tidemark's own tables as changes.
    scan(&ws);
    assert_eq!(diff(&ws, &[])["total"], 0);
}

#[test]
fn a_diff_that_fails_midway_is_marked_failed_and_leaves_no_rows() {
    let db = ScratchDb::postgres();
    db.exec(SETUP);
    let ws = workspace_for(&db);
    scan(&ws);
    db.exec(CHANGES);
    scan(&ws);
    // A first diff creates the output schema.
    diff(&ws, &["--format", "postgres"]);
    // Column rows are written after schema and table rows, in the same
    // transaction: failing them must take the table rows down too.
    db.exec(&[
        "CREATE FUNCTION tidemark_meta.refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'column rows refused by the test'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON tidemark_meta.incremental_diff_column \
         FOR EACH ROW EXECUTE FUNCTION tidemark_meta.refuse()",
    ]);
    let failed = ws.run(&[
        "incremental-diff",
        "--connection-id",
        "pg",
        "--format",
        "postgres",
    ]);
    assert_eq!(failed.code, 1, "{}\n{}", failed.stdout, failed.stderr);
    assert!(
        failed.stderr.contains("column rows refused by the test"),
        "{}",
        failed.stderr
    );

    let list = ws.json(&["diff", "list", "--connection-id", "pg"]);
    let run = &list[0];
    let id = run["diff_sync_id"].as_str().unwrap();
    assert!(failed.stderr.contains(id), "{}", failed.stderr);
    assert_eq!(run["status"], "failed");
    assert!(run["error_message"]
        .as_str()
        .unwrap()
        .contains("column rows refused by the test"));

    let remote = db.pg_rows(&format!(
        "SELECT status, error_message, completed_at IS NOT NULL AS ended \
         FROM tidemark_meta.diff_sync_runs WHERE diff_sync_id = '{id}'"
    ));
    assert_eq!(remote[0]["status"], "failed");
    assert_eq!(remote[0]["ended"], true);
    assert!(remote[0]["error_message"]
        .as_str()
        .unwrap()
        .contains("column rows refused by the test"));
    for asset in ["schema", "table", "column"] {
        let n = db.pg_rows(&format!(
            "SELECT count(*) AS n FROM tidemark_meta.incremental_diff_{asset} WHERE diff_sync_id = '{id}'"
        ));
        assert_eq!(n[0]["n"], 0, "{asset} rows of the failed diff");
    }
    // The earlier, completed diff is untouched.
    assert_eq!(list[1]["status"], "completed");

    // The same in the workspace: a trigger that refuses column rows.
    {
        let conn = rusqlite::Connection::open(&ws.file).unwrap();
        conn.execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON incremental_diff_column \
             BEGIN SELECT RAISE(ABORT, 'workspace column rows refused'); END;",
        )
        .unwrap();
    }
    let failed = ws.run(&["incremental-diff", "--connection-id", "pg"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    let list = ws.json(&["diff", "list", "--connection-id", "pg"]);
    let id = list[0]["diff_sync_id"].as_str().unwrap();
    assert_eq!(list[0]["status"], "failed");
    assert!(list[0]["error_message"]
        .as_str()
        .unwrap()
        .contains("workspace column rows refused"));
    let conn = rusqlite::Connection::open(&ws.file).unwrap();
    for asset in ["schema", "table", "column"] {
        let n: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM incremental_diff_{asset} WHERE diff_sync_id = ?1"),
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{asset} rows of the failed workspace diff");
    }
    let detail = show(&ws, id);
    assert_eq!(detail["diff"]["status"], "failed");
}
