//! A project's life through dev → test → prod on real servers, through the
//! real binary: deploy, promote, a breaking release refused then allowed,
//! data in untouched columns preserved, a rollback, history and status.

mod common;
mod envs_support;

use common::Ws;
use envs_support::{add_env, assert_fails, project, statuses, Kind, TargetDb};

fn lifecycle(kind: Kind) {
    let ws = Ws::new();
    project(&ws);
    let dev = TargetDb::new(kind, &ws);
    let test = TargetDb::new(kind, &ws);
    let prod = TargetDb::new(kind, &ws);
    add_env(&ws, "dev", &dev, &[]);
    add_env(&ws, "test", &test, &[]);
    add_env(&ws, "prod", &prod, &["--protected"]);

    let envs = ws.json(&["env", "list"]);
    let names: Vec<(&str, &str, bool)> = envs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["color"].as_str().unwrap(),
                e["protected"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("dev", "blue", false),
            ("test", "violet", false),
            ("prod", "orange", true)
        ]
    );

    // 0.1.0 to dev, then through test to prod.
    let out = ws.json(&["deploy", "--env", "dev", "--snapshot", "0.1.0"]);
    assert_eq!(out["result"], "deployed", "{out:#}");
    assert_eq!(out["plan"]["from_version"], serde_json::Value::Null);
    let seed = |db: &TargetDb, who: &str| {
        db.exec(&[
            &format!("INSERT INTO customers (email, name) VALUES ('ann@{who}', 'Ann {who}')"),
            &format!("INSERT INTO customers (email, name) VALUES ('bob@{who}', 'Bob {who}')"),
            "INSERT INTO orders (customer_id, status, note) VALUES (1, 'paid', 'gift wrap')",
            "INSERT INTO orders (customer_id, status) VALUES (2, 'new')",
        ]);
    };
    seed(&dev, "dev");
    ws.ok(&["promote", "--from", "dev", "--to", "test"]);
    seed(&test, "test");

    // prod is protected: no --yes, no deployment, nothing recorded.
    let before = statuses(&ws, "prod");
    let r = ws.run(&["promote", "--from", "test", "--to", "prod"]);
    assert_fails(&r, 2, &["prod", "protected", "--yes"]);
    assert_eq!(statuses(&ws, "prod"), before);
    assert!(
        prod.introspect().tables().next().is_none(),
        "prod untouched"
    );
    ws.ok(&["promote", "--from", "test", "--to", "prod", "--yes"]);
    seed(&prod, "prod");

    // 0.2.0 (safe) everywhere.
    ws.ok(&["deploy", "--env", "dev", "--snapshot", "0.2.0"]);
    ws.ok(&["promote", "--from", "dev", "--to", "test"]);
    ws.ok(&["promote", "--from", "test", "--to", "prod", "--yes"]);

    // 1.0.0 renames customers.name and drops orders.note: refused without
    // --allow-breaking, naming the steps, and recorded as refused.
    let plan = ws.json(&["plan", "--env", "dev", "--format", "json"]);
    assert_eq!(plan["to_version"], "1.0.0");
    assert_eq!(plan["severity"], "breaking");
    let sql = plan["script"].as_str().unwrap();
    assert!(
        sql.contains("RENAME COLUMN"),
        "a rename, not drop + add:\n{sql}"
    );
    let r = ws.run(&["deploy", "--env", "dev"]);
    assert_fails(&r, 2, &["breaking", "renames column", "--allow-breaking"]);
    assert_eq!(statuses(&ws, "dev")[0], "1.0.0 refused");
    assert_eq!(
        ws.json(&["drift", "--env", "dev"])["expected_version"],
        "0.2.0",
        "the refused deployment changed nothing"
    );

    let out = ws.json(&["deploy", "--env", "dev", "--allow-breaking"]);
    assert_eq!(out["result"], "deployed", "{out:#}");
    // Data in untouched columns survives, and the renamed column keeps its values.
    assert_eq!(
        dev.rows("SELECT email, full_name FROM customers ORDER BY email"),
        ["ann@dev|Ann dev", "bob@dev|Bob dev"]
    );
    assert_eq!(
        dev.rows("SELECT customer_id, status FROM orders ORDER BY id"),
        ["1|paid", "2|new"]
    );
    ws.ok(&[
        "promote",
        "--from",
        "dev",
        "--to",
        "test",
        "--allow-breaking",
    ]);
    let r = ws.run(&[
        "promote",
        "--from",
        "test",
        "--to",
        "prod",
        "--allow-breaking",
    ]);
    assert_fails(&r, 2, &["--yes"]);
    ws.ok(&[
        "promote",
        "--from",
        "test",
        "--to",
        "prod",
        "--yes",
        "--allow-breaking",
    ]);
    assert_eq!(
        prod.rows("SELECT email, full_name FROM customers ORDER BY email"),
        ["ann@prod|Ann prod", "bob@prod|Bob prod"]
    );

    // Everyone at 1.0.0, clean, nobody behind; promoting again is a no-op.
    let status = ws.json(&["status"]);
    for env in status["environments"].as_array().unwrap() {
        let name = env["environment"]["name"].as_str().unwrap();
        assert_eq!(env["version"], "1.0.0", "{name}: {env:#}");
        assert_eq!(env["drift"], "clean", "{name}: {env:#}");
        assert_eq!(env["behind_latest"], 0, "{name}");
        assert_eq!(env["deployed_by"], "tester", "{name}");
    }
    let again = ws.json(&["promote", "--from", "dev", "--to", "test"]);
    assert_eq!(again["result"], "up_to_date");

    // Rollback of prod to 0.2.0: renaming back is breaking, so it is refused
    // by name; with --allow-breaking it runs and the names come back.
    let r = ws.run(&["rollback", "--env", "prod", "--to", "0.2.0", "--yes"]);
    assert_fails(&r, 2, &["renames column", "full_name", "--allow-breaking"]);
    let r = ws.run(&["rollback", "--env", "prod", "--to", "1.0.0", "--yes"]);
    assert_fails(&r, 2, &["not earlier"]);
    let out = ws.json(&[
        "rollback",
        "--env",
        "prod",
        "--to",
        "0.2.0",
        "--yes",
        "--allow-breaking",
    ]);
    assert_eq!(out["action"], "rollback");
    assert_eq!(out["plan"]["from_version"], "1.0.0");
    assert_eq!(
        prod.rows("SELECT email, name FROM customers ORDER BY email"),
        ["ann@prod|Ann prod", "bob@prod|Bob prod"]
    );
    let drift = ws.json(&["drift", "--env", "prod"]);
    assert_eq!(drift["drifted"], false, "{drift:#}");
    assert_eq!(drift["expected_version"], "0.2.0");

    // The status board: prod is behind test now.
    let status = ws.json(&["status"]);
    let prod_row = &status["environments"][2];
    assert_eq!(prod_row["version"], "0.2.0");
    assert_eq!(prod_row["behind_previous"], 1);
    assert_eq!(prod_row["behind_latest"], 1);

    // History: every attempt, newest first, refusals included.
    assert_eq!(
        statuses(&ws, "dev"),
        [
            "1.0.0 succeeded",
            "1.0.0 refused",
            "0.2.0 succeeded",
            "0.1.0 succeeded"
        ]
    );
    assert_eq!(
        statuses(&ws, "prod"),
        [
            "0.2.0 succeeded",
            "0.2.0 refused",
            "1.0.0 succeeded",
            "0.2.0 succeeded",
            "0.1.0 succeeded"
        ]
    );
    let all = ws.json(&["history"]);
    let first = &all.as_array().unwrap()[0];
    assert_eq!(first["environment"], "prod");
    assert_eq!(first["action"], "rollback");
    assert_eq!(first["from_version"], "1.0.0");
    assert_eq!(first["deployed_by"], "tester");
    assert!(first["sql"].as_str().unwrap().contains("RENAME COLUMN"));
    let human = ws.ok(&["history", "--env", "prod"]).stdout;
    assert!(human.contains("1.0.0 → 0.2.0"), "{human}");
    assert!(human.contains("refused"), "{human}");

    // The target says what it holds, whoever asks.
    assert_eq!(
        prod.markers(),
        [
            "0.1.0|succeeded",
            "0.2.0|succeeded",
            "1.0.0|succeeded",
            "0.2.0|succeeded"
        ]
    );
}

#[test]
fn postgres_dev_test_prod() {
    lifecycle(Kind::Postgres);
}

#[test]
fn mariadb_dev_test_prod() {
    lifecycle(Kind::MariaDb);
}

#[test]
fn sqlite_dev_test_prod() {
    lifecycle(Kind::Sqlite);
}
