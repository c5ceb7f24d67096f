//! What goes wrong, through the real binary: a statement failing half way
//! through a PostgreSQL deployment, names that do not exist, a database that
//! cannot be reached, a wrong password.
//!
//! What is recorded (the rule these tests hold the code to): an attempt is
//! recorded once it has a plan, that is once the database was reached and
//! read. Refused attempts (drift, breaking steps) and failed ones (with the
//! failing statement and the database's message) are in the history; bad
//! names, a missing confirmation, an unreachable database or a rejected
//! password record nothing, since nothing was planned or run.

mod common;
mod envs_support;

use common::Ws;
use envs_support::{
    add_env, assert_fails, contains_bytes, exec_on, history, project_up_to, run_env,
    workspace_bytes, Kind, TargetDb, MY_HOST, PG_HOST,
};
use serde_json::json;

#[test]
fn a_failing_statement_leaves_postgres_as_it_was_and_is_recorded() {
    let ws = Ws::new();
    project_up_to(&ws, 1);
    // 0.2.0: a new column (runs), a unique constraint the data breaks
    // (fails), an index (never reached).
    let ops = json!([
        {"target": "tbl_customers", "op": "add_column", "payload": {"name": "phone", "data_type": {"kind": "varchar", "length": 32}}},
        {"target": "tbl_customers", "op": "add_unique", "payload": {"name": "customers_name_key", "columns": ["name"]}},
        {"target": "tbl_orders", "op": "add_index", "payload": {"name": "orders_customer_idx", "columns": ["customer_id"]}},
    ]);
    let r = ws.run_with_stdin(&["op", "add", "-"], &ops.to_string());
    assert_eq!(r.code, 0, "{}", r.stderr);
    ws.ok(&[
        "snapshot",
        "create",
        "--version",
        "0.2.0",
        "--name",
        "unique names",
    ]);

    let db = TargetDb::new(Kind::Postgres, &ws);
    add_env(&ws, "dev", &db, &[]);
    ws.ok(&["deploy", "--env", "dev", "--snapshot", "0.1.0"]);
    db.exec(&["INSERT INTO customers (email, name) VALUES ('a@x', 'Sam'), ('b@x', 'Sam')"]);
    let before = db.introspect();
    let markers = db.markers();
    let plan = ws.json(&["plan", "--env", "dev", "--format", "json"]);
    let statements = plan["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 3, "{plan:#}");
    assert!(statements[1]["sql"].as_str().unwrap().contains("UNIQUE"));

    let r = ws.run(&["deploy", "--env", "dev"]);
    assert_fails(
        &r,
        1,
        &[
            "statement 2 of 3",
            "rolled back",
            "customers_name_key",
            "23505",
        ],
    );
    assert_eq!(db.introspect(), before, "the database is exactly as before");
    assert_eq!(db.markers(), markers, "the marker did not move");
    assert_eq!(
        db.rows("SELECT count(*) FROM customers"),
        ["2"],
        "rows untouched"
    );

    let last = &history(&ws)[0];
    assert_eq!(last["status"], "failed", "{last:#}");
    assert_eq!(last["to_version"], "0.2.0");
    assert_eq!(last["from_version"], "0.1.0");
    assert!(last["finished_at"].is_string());
    let failed = last["failed_statement"].as_str().unwrap();
    assert!(
        failed.contains("customers_name_key") && failed.contains("UNIQUE"),
        "{failed}"
    );
    let error = last["error"].as_str().unwrap();
    assert!(error.contains("could not create unique index"), "{error}");
    assert!(error.contains("statement 2 of 3"), "{error}");

    // Fix the data and deploy again: it goes through.
    db.exec(&["UPDATE customers SET name = 'Samantha' WHERE email = 'b@x'"]);
    ws.ok(&["deploy", "--env", "dev"]);
    assert_eq!(history(&ws)[0]["status"], "succeeded");
    assert_eq!(
        ws.json(&["drift", "--env", "dev"])["expected_version"],
        "0.2.0"
    );
}

#[test]
fn unknown_names_are_bad_input_and_record_nothing() {
    let ws = Ws::new();
    project_up_to(&ws, 2);
    let db = TargetDb::new(Kind::Sqlite, &ws);
    add_env(&ws, "dev", &db, &[]);
    add_env(
        &ws,
        "prod",
        &TargetDb::new(Kind::Sqlite, &ws),
        &["--protected"],
    );
    ws.ok(&["deploy", "--env", "dev", "--snapshot", "0.1.0"]);
    let recorded = history(&ws);

    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["deploy", "--env", "nope"], vec!["nope", "environment"]),
        (vec!["plan", "--env", "nope"], vec!["nope"]),
        (vec!["drift", "--env", "nope"], vec!["nope"]),
        (vec!["history", "--env", "nope"], vec!["nope"]),
        (vec!["import", "--env", "nope"], vec!["nope"]),
        (
            vec!["rollback", "--env", "nope", "--to", "0.1.0"],
            vec!["nope"],
        ),
        (
            vec!["promote", "--from", "dev", "--to", "nope"],
            vec!["nope"],
        ),
        (
            vec!["promote", "--from", "nope", "--to", "dev"],
            vec!["nope"],
        ),
        (
            vec!["promote", "--from", "dev", "--to", "dev"],
            vec!["itself"],
        ),
        (
            vec!["deploy", "--env", "dev", "--snapshot", "9.9.9"],
            vec!["9.9.9"],
        ),
        (
            vec!["plan", "--env", "dev", "--snapshot", "9.9.9"],
            vec!["9.9.9"],
        ),
        (
            vec!["rollback", "--env", "dev", "--to", "7.0.0"],
            vec!["7.0.0"],
        ),
        (
            vec!["deploy", "--env", "dev", "--snapshot", "x.y"],
            vec!["x.y"],
        ),
        (
            vec!["env", "add", "qa", "--connection", "nope"],
            vec!["nope", "connection"],
        ),
        (
            vec!["env", "add", "dev", "--connection", "dev-db"],
            vec!["dev", "already exists"],
        ),
        (vec!["env", "remove", "nope"], vec!["nope"]),
        (
            vec!["import", "--connection", "nope"],
            vec!["nope", "connection"],
        ),
        (vec!["deploy", "--env", "prod"], vec!["prod", "--yes"]),
        (
            vec!["deploy", "--env", "prod", "--snapshot", "working", "--yes"],
            vec!["only takes snapshots"],
        ),
    ];
    for (args, needles) in cases {
        let r = ws.run(&args);
        assert_eq!(r.code, 2, "{args:?}:\n{}", r.stderr);
        assert_fails(&r, 2, &needles);
    }
    // The import flags are exclusive, and --dialect goes with --sql only.
    for args in [
        vec!["import", "--env", "dev", "--connection", "dev-db"],
        vec!["import", "--sql", "x.sql", "--env", "dev"],
        vec!["import", "--env", "dev", "--dialect", "postgres"],
        vec!["import", "--sql", "x.sql"],
        vec!["import"],
    ] {
        assert_eq!(ws.run(&args).code, 2, "{args:?}");
    }
    assert_eq!(history(&ws), recorded, "nothing was recorded");
    assert_eq!(
        db.markers(),
        ["0.1.0|succeeded"],
        "the target did not change"
    );
}

#[test]
fn an_unreachable_database_fails_with_one_line_and_records_nothing() {
    let ws = Ws::new();
    project_up_to(&ws, 1);
    // Nothing listens on port 1.
    ws.ok(&[
        "connection",
        "add",
        "gone",
        "--url",
        "postgres://postgres@127.0.0.1:1/nowhere?connect_timeout=3",
    ]);
    ws.ok(&["env", "add", "dev", "--connection", "gone"]);
    for args in [
        vec!["deploy", "--env", "dev"],
        vec!["plan", "--env", "dev"],
        vec!["drift", "--env", "dev"],
        vec!["import", "--env", "dev"],
    ] {
        let r = ws.run(&args);
        assert_fails(&r, 1, &["gone", "127.0.0.1:1"]);
    }
    assert_eq!(history(&ws), Vec::<serde_json::Value>::new());
    // The board still shows the environment, with the reason.
    let status = ws.json(&["status"]);
    let row = &status["environments"][0];
    assert_eq!(row["drift"], "unknown");
    assert!(row["problem"].as_str().unwrap().contains("cannot connect"));
}

#[test]
fn a_wrong_password_is_refused_without_showing_it() {
    let ws = Ws::new();
    project_up_to(&ws, 1);
    let db = TargetDb::new(Kind::MariaDb, &ws);
    let user = format!(
        "tm_env_u_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let right = format!("Right-{}", uuid::Uuid::new_v4().simple());
    let wrong = format!("Wrong-{}", uuid::Uuid::new_v4().simple());
    let admin = format!("{MY_HOST}/mysql");
    exec_on(
        &admin,
        &[
            format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{right}'"),
            format!("GRANT ALL PRIVILEGES ON `{}`.* TO '{user}'@'%'", db.name),
        ],
    );
    struct DropUser(String, String);
    impl Drop for DropUser {
        fn drop(&mut self) {
            exec_on(&self.0, &[format!("DROP USER IF EXISTS '{}'@'%'", self.1)]);
        }
    }
    let _user_guard = DropUser(admin.clone(), user.clone());

    let url = format!("mysql://{user}@127.0.0.1:3306/{}", db.name);
    ws.ok(&[
        "connection",
        "add",
        "guarded",
        "--url",
        &url,
        "--password-env",
        "TM_ENV_TEST_PASSWORD",
    ]);
    ws.ok(&["env", "add", "dev", "--connection", "guarded"]);
    let vars = [("TM_ENV_TEST_PASSWORD", wrong.as_str())];
    let r = run_env(&ws, &["deploy", "--env", "dev"], &vars);
    assert_fails(&r, 1, &["guarded", "Access denied"]);
    assert!(!r.stderr.contains(&wrong) && !r.stdout.contains(&wrong));
    let r = run_env(&ws, &["--json", "drift", "--env", "dev"], &vars);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains(&wrong) && !r.stderr.contains(&wrong));
    assert_eq!(history(&ws), Vec::<serde_json::Value>::new());

    // The right password works, and is stored nowhere.
    let vars = [("TM_ENV_TEST_PASSWORD", right.as_str())];
    let r = run_env(&ws, &["deploy", "--env", "dev"], &vars);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(&right));
    let bytes = workspace_bytes(&ws);
    assert!(!contains_bytes(&bytes, &right) && !contains_bytes(&bytes, &wrong));
    assert!(!db
        .rows("SELECT sql_text FROM tidemark_deployments")
        .iter()
        .any(|s| s.contains(&right)));
}

/// PostgreSQL here trusts every local connection (pg_hba `trust`), so it
/// cannot reject a wrong password; what can be checked is that a role's
/// password travels from the environment variable and is stored nowhere.
#[test]
fn a_postgres_role_password_comes_from_the_environment_only() {
    let ws = Ws::new();
    project_up_to(&ws, 1);
    let db = TargetDb::new(Kind::Postgres, &ws);
    let role = format!(
        "tm_env_r_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let secret = format!("Pw-{}", uuid::Uuid::new_v4().simple());
    let admin = format!("{PG_HOST}/postgres");
    exec_on(
        &admin,
        &[
            format!("CREATE ROLE \"{role}\" LOGIN PASSWORD '{secret}'"),
            format!("ALTER DATABASE \"{}\" OWNER TO \"{role}\"", db.name),
        ],
    );
    db.exec(&[&format!("ALTER SCHEMA public OWNER TO \"{role}\"")]);
    struct DropRole(String, String, String);
    impl Drop for DropRole {
        fn drop(&mut self) {
            // This guard runs before the database's (it was declared
            // later): hand everything back so the role can go.
            exec_on(
                &self.0,
                &[
                    format!("ALTER DATABASE \"{}\" OWNER TO postgres", self.2),
                    format!("REASSIGN OWNED BY \"{}\" TO postgres", self.1),
                ],
            );
            let db_url = format!("{PG_HOST}/{}", self.2);
            exec_on(
                &db_url,
                &[format!("REASSIGN OWNED BY \"{}\" TO postgres", self.1)],
            );
            exec_on(&db_url, &[format!("DROP OWNED BY \"{}\"", self.1)]);
            exec_on(&self.0, &[format!("DROP ROLE IF EXISTS \"{}\"", self.1)]);
        }
    }
    let _role_guard = DropRole(admin, role.clone(), db.name.clone());

    let url = format!("postgres://{role}@127.0.0.1:5432/{}", db.name);
    ws.ok(&[
        "connection",
        "add",
        "app-role",
        "--url",
        &url,
        "--password-env",
        "TM_ENV_PG_PASSWORD",
    ]);
    ws.ok(&["env", "add", "dev", "--connection", "app-role"]);
    let r = run_env(&ws, &["deploy", "--env", "dev"], &[]);
    assert_fails(&r, 2, &["TM_ENV_PG_PASSWORD", "not set"]);
    let r = run_env(
        &ws,
        &["--json", "deploy", "--env", "dev"],
        &[("TM_ENV_PG_PASSWORD", &secret)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(&secret));
    assert_eq!(
        db.rows("SELECT tableowner FROM pg_tables WHERE tablename = 'customers'"),
        std::slice::from_ref(&role),
        "deployed as the role"
    );
    assert!(!contains_bytes(&workspace_bytes(&ws), &secret));
}

/// MariaDB commits each DDL statement: a failure half way leaves the
/// statements before it applied. The history, the target's marker and the
/// drift report all say so, and the next deployment plans from what is
/// really there.
#[test]
fn a_failing_statement_on_mariadb_is_recorded_with_what_stayed_applied() {
    let ws = Ws::new();
    project_up_to(&ws, 1);
    let ops = json!([
        {"target": "tbl_customers", "op": "add_column", "payload": {"name": "phone", "data_type": {"kind": "varchar", "length": 32}}},
        {"target": "tbl_orders", "op": "add_unique", "payload": {"name": "orders_status_key", "columns": ["status"]}},
    ]);
    let r = ws.run_with_stdin(&["op", "add", "-"], &ops.to_string());
    assert_eq!(r.code, 0, "{}", r.stderr);
    ws.ok(&[
        "snapshot",
        "create",
        "--version",
        "0.2.0",
        "--name",
        "one order per status",
    ]);
    let db = TargetDb::new(Kind::MariaDb, &ws);
    add_env(&ws, "dev", &db, &[]);
    ws.ok(&["deploy", "--env", "dev", "--snapshot", "0.1.0"]);
    db.exec(&[
        "INSERT INTO customers (email, name) VALUES ('a@x', 'Sam')",
        "INSERT INTO orders (customer_id) VALUES (1), (1)",
    ]);

    let r = ws.run(&["deploy", "--env", "dev"]);
    assert_fails(
        &r,
        1,
        &["statement 2 of 2", "Duplicate entry", "stay applied"],
    );
    let last = &history(&ws)[0];
    assert_eq!(last["status"], "failed");
    assert!(last["failed_statement"]
        .as_str()
        .unwrap()
        .contains("orders_status_key"));
    assert_eq!(db.markers(), ["0.1.0|succeeded", "0.2.0|failed"]);
    let drift = ws.run(&["--json", "drift", "--env", "dev"]);
    assert_eq!(drift.code, 3);
    let report = drift.json();
    assert_eq!(report["expected_version"], "0.1.0");
    assert_eq!(report["items"][0]["object_name"], "public.customers.phone");

    // Fixed data, same snapshot: only the constraint is left to add.
    db.exec(&["UPDATE orders SET status = 'paid' WHERE id = 2"]);
    let plan = ws.json(&["plan", "--env", "dev", "--format", "json"]);
    assert_eq!(plan["statements"].as_array().unwrap().len(), 1, "{plan:#}");
    ws.ok(&["env", "remove", "dev"]);
    ws.ok(&[
        "env",
        "add",
        "dev",
        "--connection",
        "dev-db",
        "--allow-drift",
    ]);
    ws.ok(&["deploy", "--env", "dev"]);
    assert_eq!(
        db.markers(),
        ["0.1.0|succeeded", "0.2.0|failed", "0.2.0|succeeded"]
    );
    assert_eq!(ws.json(&["drift", "--env", "dev"])["drifted"], false);
}

/// One environment is one database: a project with two catalogs (or, on
/// SQLite and MySQL, two schemas) is refused by name before anything runs.
#[test]
fn a_project_that_is_not_one_database_is_refused() {
    let ws = Ws::new();
    project_up_to(&ws, 1);
    let db = TargetDb::new(Kind::Sqlite, &ws);
    add_env(&ws, "dev", &db, &[]);
    let ops = json!([
        {"target": "cat_app", "op": "add_schema", "payload": {"id": "sch_audit", "name": "audit"}},
        {"target": "sch_audit", "op": "add_table", "payload": {"id": "tbl_log", "name": "log"}},
    ]);
    let r = ws.run_with_stdin(&["op", "add", "-"], &ops.to_string());
    assert_eq!(r.code, 0, "{}", r.stderr);
    ws.ok(&[
        "snapshot",
        "create",
        "--version",
        "0.2.0",
        "--name",
        "two schemas",
    ]);
    let r = ws.run(&["deploy", "--env", "dev"]);
    assert_fails(&r, 2, &["2 schemas (public, audit)", "SQLite"]);

    let ops = json!([{"target": "root", "op": "add_catalog", "payload": {"id": "cat_more", "name": "more"}}]);
    let r = ws.run_with_stdin(&["op", "add", "-"], &ops.to_string());
    assert_eq!(r.code, 0, "{}", r.stderr);
    ws.ok(&[
        "snapshot",
        "create",
        "--version",
        "0.3.0",
        "--name",
        "two catalogs",
    ]);
    let r = ws.run(&["plan", "--env", "dev"]);
    assert_fails(&r, 2, &["2 catalogs (app, more)", "single database"]);
    assert_eq!(history(&ws), Vec::<serde_json::Value>::new());
    assert!(db.introspect().tables().next().is_none());
}
