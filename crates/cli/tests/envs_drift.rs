//! Drift through the real binary on PostgreSQL, MariaDB and SQLite: nothing
//! on an untouched database; an out-of-band added column, dropped index and
//! changed default each reported; `import --env` brings them into the
//! project; and what "the drift disappears" means, exactly:
//!
//! 1. right after the import, the working state equals the live database:
//!    a plan from the live database to the working state has no change;
//! 2. the marker still names the old snapshot, so `drift` still reports the
//!    same items (honestly: the database is not what that snapshot says);
//! 3. after a new snapshot is deployed (no statement runs, only the marker
//!    moves), `drift` is clean.

mod common;
mod envs_support;

use common::Ws;
use envs_support::{add_env, project_up_to, Kind, TargetDb};
use serde_json::Value;

/// `(kind, object_type, object_name)` of each drift item, sorted.
fn items(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["object_type"].as_str().unwrap().to_string(),
                i["object_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Makes the three out-of-band changes in the database's own way.
fn tamper(db: &TargetDb) {
    match db.kind {
        Kind::Postgres => db.exec(&[
            "ALTER TABLE orders ADD COLUMN coupon varchar(40)",
            "DROP INDEX orders_status_idx",
            "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'open'",
        ]),
        Kind::MariaDb => db.exec(&[
            "ALTER TABLE orders ADD COLUMN coupon varchar(40)",
            "DROP INDEX orders_status_idx ON orders",
            "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'open'",
        ]),
        Kind::Sqlite => {
            // SQLite cannot change a default in place: rebuild the table the
            // way a hand-made hotfix would (its index goes with it), then add
            // the column.
            let conn = rusqlite::Connection::open(db.path.as_ref().unwrap()).unwrap();
            let create: String = conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'orders'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(create.contains("DEFAULT 'new'"), "{create}");
            let rebuilt = create
                .replacen("\"orders\"", "\"orders_hotfix\"", 1)
                .replace("DEFAULT 'new'", "DEFAULT 'open'");
            conn.execute_batch(&format!(
                "PRAGMA foreign_keys = OFF;
                 BEGIN;
                 {rebuilt};
                 INSERT INTO orders_hotfix SELECT * FROM orders;
                 DROP TABLE orders;
                 ALTER TABLE orders_hotfix RENAME TO orders;
                 COMMIT;
                 PRAGMA foreign_keys = ON;
                 ALTER TABLE orders ADD COLUMN coupon varchar(40);"
            ))
            .unwrap();
        }
    }
}

fn drift_round_trip(kind: Kind) {
    let ws = Ws::new();
    // 0.1.0 and 0.2.0: the working state is the deployed snapshot.
    project_up_to(&ws, 2);
    let db = TargetDb::new(kind, &ws);
    add_env(&ws, "prod", &db, &[]);
    ws.ok(&["deploy", "--env", "prod"]);
    db.exec(&["INSERT INTO customers (email, name) VALUES ('ann@example.com', 'Ann')"]);

    // Untouched: no drift, exit 0, in JSON and in words.
    let clean = ws.json(&["drift", "--env", "prod"]);
    assert_eq!(
        clean["drifted"], false,
        "false drift on {kind:?}: {clean:#}"
    );
    assert_eq!(clean["items"], serde_json::json!([]));
    assert_eq!(clean["expected_version"], "0.2.0");
    assert_eq!(clean["marker"]["version"], "0.2.0");
    let human = ws.ok(&["drift", "--env", "prod"]).stdout;
    assert!(human.contains("No drift"), "{human}");
    // Nothing to deploy either: the same snapshot again is up to date.
    let again = ws.json(&["deploy", "--env", "prod", "--snapshot", "0.2.0"]);
    assert_eq!(again["result"], "up_to_date", "{again:#}");

    tamper(&db);
    let r = ws.run(&["--json", "drift", "--env", "prod"]);
    assert_eq!(r.code, 3, "drift exits 3:\n{}\n{}", r.stdout, r.stderr);
    let report = r.json();
    assert_eq!(report["drifted"], true);
    assert_eq!(
        items(&report),
        [
            (
                "extra".into(),
                "column".into(),
                "public.orders.coupon".into()
            ),
            (
                "missing".into(),
                "index".into(),
                "public.orders.orders_status_idx".into()
            ),
            (
                "modified".into(),
                "column".into(),
                "public.orders.status".into()
            ),
        ],
        "{report:#}"
    );
    let default_item = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["object_name"] == "public.orders.status")
        .unwrap();
    let detail = default_item["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("default:") && detail.contains("new") && detail.contains("open"),
        "{detail}"
    );
    let human = ws.run(&["drift", "--env", "prod"]);
    assert_eq!(human.code, 3);
    assert!(human.stdout.contains("coupon"), "{}", human.stdout);

    // A deployment with statements is blocked by the drift, and says why.
    let r = ws.run(&["deploy", "--env", "prod", "--allow-breaking"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("drifted"), "{}", r.stderr);
    assert!(r.stderr.contains("import --env prod"), "{}", r.stderr);

    // Bring the hotfix into the project.
    let imported = ws.json(&["import", "--env", "prod"]);
    let ops: Vec<&str> = imported["added"]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op"].as_str().unwrap())
        .collect();
    let mut sorted = ops.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["add_column", "drop_index", "set_default"],
        "{imported:#}"
    );
    assert_eq!(imported["compared_with"], "snapshot 0.2.0");

    // 1. The working state now equals the live database.
    let plan = ws.json(&["plan", "--env", "prod", "--snapshot", "working"]);
    assert_eq!(plan["changes"], 0, "{plan:#}");
    assert_eq!(plan["statements"], serde_json::json!([]));
    // 2. The marker still names 0.2.0, which the database no longer is.
    let still = ws.run(&["--json", "drift", "--env", "prod"]);
    assert_eq!(still.code, 3);
    assert_eq!(items(&still.json()), items(&report));
    // 3. Seal and deploy: nothing runs, the marker moves, no drift.
    ws.ok(&[
        "snapshot",
        "create",
        "--version",
        "0.2.1",
        "--name",
        "prod hotfix",
    ]);
    let deployed = ws.json(&["deploy", "--env", "prod", "--snapshot", "0.2.1"]);
    assert_eq!(deployed["result"], "deployed", "{deployed:#}");
    assert_eq!(deployed["plan"]["statements"], serde_json::json!([]));
    let after = ws.run(&["--json", "drift", "--env", "prod"]);
    assert_eq!(after.code, 0, "{}", after.stdout);
    assert_eq!(after.json()["expected_version"], "0.2.1");
    assert_eq!(
        db.rows("SELECT email FROM customers"),
        ["ann@example.com"],
        "data untouched"
    );
}

#[test]
fn postgres_drift_is_reported_and_imported() {
    drift_round_trip(Kind::Postgres);
}

#[test]
fn mariadb_drift_is_reported_and_imported() {
    drift_round_trip(Kind::MariaDb);
}

#[test]
fn sqlite_drift_is_reported_and_imported() {
    drift_round_trip(Kind::Sqlite);
}

/// A database Tidemark never deployed: no marker is a problem only when it
/// holds tables; `import --connection` reads it into an empty project.
#[test]
fn missing_marker_and_import_of_a_whole_database() {
    let ws = Ws::new();
    ws.ok(&["project", "new", "legacy"]);
    let db = TargetDb::new(Kind::Postgres, &ws);
    ws.ok(&["connection", "add", "legacy-db", "--url", &db.url]);
    ws.ok(&["env", "add", "prod", "--connection", "legacy-db"]);

    let empty = ws.json(&["drift", "--env", "prod"]);
    assert_eq!(
        empty["drifted"], false,
        "an empty database has nothing to drift"
    );

    db.exec(&[
        "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         email varchar(200) NOT NULL UNIQUE, balance numeric(12,2) NOT NULL DEFAULT 0, \
         CONSTRAINT accounts_balance_check CHECK (balance >= 0))",
        "CREATE TABLE entries (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         account_id bigint NOT NULL REFERENCES accounts (id), amount numeric(12,2) NOT NULL)",
        "CREATE INDEX entries_account_idx ON entries (account_id)",
    ]);
    let r = ws.run(&["--json", "drift", "--env", "prod"]);
    assert_eq!(r.code, 3);
    let report = r.json();
    assert!(
        report["marker_problem"]
            .as_str()
            .unwrap()
            .contains("no Tidemark marker"),
        "{report:#}"
    );
    assert_eq!(report["items"].as_array().unwrap().len(), 2);
    let r = ws.run(&["import", "--env", "prod"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("import --connection legacy-db"),
        "{}",
        r.stderr
    );

    // --schema names a schema the database lacks: refused, nothing added.
    let r = ws.run(&["import", "--connection", "legacy-db", "--schema", "nope"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
    assert_eq!(ws.json(&["ops"]), serde_json::json!([]));

    let imported = ws.json(&["import", "--connection", "legacy-db", "--schema", "public"]);
    let ops = imported["added"]["ops"].as_array().unwrap();
    assert!(ops
        .iter()
        .all(|o| o["op"].as_str().unwrap().starts_with("add_") || o["op"] == "set_comment"));
    assert_eq!(imported["compared_with"], "an empty project");
    // Imported again: nothing left to add.
    let again = ws.json(&["import", "--connection", "legacy-db"]);
    assert_eq!(again["added"]["ops"], serde_json::json!([]), "{again:#}");

    // Seal it and adopt the database: no statement runs (so the missing
    // marker does not block it), the marker appears, no drift.
    ws.ok(&[
        "snapshot",
        "create",
        "--version",
        "1.0.0",
        "--name",
        "adopted",
    ]);
    let out = ws.json(&["deploy", "--env", "prod"]);
    assert_eq!(out["plan"]["statements"], serde_json::json!([]), "{out:#}");
    let drift = ws.json(&["drift", "--env", "prod"]);
    assert_eq!(drift["drifted"], false, "{drift:#}");
    assert_eq!(db.markers(), ["1.0.0|succeeded"]);
}

/// A marker naming a snapshot the project does not have, or the right
/// version with another hash, is drift in itself: reported, and it blocks a
/// deployment that would run statements.
#[test]
fn a_marker_naming_an_unknown_snapshot_is_reported() {
    let ws = Ws::new();
    project_up_to(&ws, 2);
    let db = TargetDb::new(Kind::Sqlite, &ws);
    add_env(&ws, "qa", &db, &[]);
    ws.ok(&["deploy", "--env", "qa", "--snapshot", "0.1.0"]);

    db.exec(&["UPDATE tidemark_deployments SET version = '9.9.9'"]);
    let r = ws.run(&["--json", "drift", "--env", "qa"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let report = r.json();
    assert_eq!(report["marker"]["version"], "9.9.9");
    let problem = report["marker_problem"].as_str().unwrap();
    assert!(
        problem.contains("9.9.9") && problem.contains("does not have"),
        "{problem}"
    );
    let r = ws.run(&["deploy", "--env", "qa"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("9.9.9"), "{}", r.stderr);
    assert_eq!(ws.json(&["history", "--env", "qa"])[0]["status"], "refused");

    db.exec(&["UPDATE tidemark_deployments SET version = '0.1.0', hash = 'feedface'"]);
    let r = ws.run(&["--json", "drift", "--env", "qa"]);
    assert_eq!(r.code, 3);
    let problem = r.json()["marker_problem"].as_str().unwrap().to_string();
    assert!(
        problem.contains("feedface") && problem.contains("hash"),
        "{problem}"
    );
    let status = ws.json(&["status"]);
    assert_eq!(status["environments"][0]["drift"], "drifted");
    assert!(status["environments"][0]["problem"]
        .as_str()
        .unwrap()
        .contains("hash"));
}
