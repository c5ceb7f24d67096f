//! The foundation through the real binary: demo, timeline, ops, snapshots,
//! diff, verify, export/import, and bad input leaving the workspace untouched.

mod common;
use common::{tree, Ws};

#[test]
fn demo_has_three_snapshots_in_order() {
    let ws = Ws::demo();
    let list = ws.json(&["snapshot", "list"]);
    let versions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0.1.0", "0.2.0", "1.0.0"]);
    let human = ws.ok(&["snapshot", "list"]).stdout;
    assert!(human.starts_with("shop — 3 snapshot(s)"), "{human}");
    // Newest on top.
    let pos = |v: &str| human.find(&format!("● {v}")).unwrap();
    assert!(pos("1.0.0") < pos("0.2.0") && pos("0.2.0") < pos("0.1.0"));
    ws.ok(&["snapshot", "verify"]);
}

#[test]
fn rename_shows_as_rename_in_diff_json() {
    let ws = Ws::demo();
    let diff = ws.json(&["diff", "--from", "0.2.0", "--to", "1.0.0"]);
    let changes = diff["changes"].as_array().unwrap();
    let renames: Vec<_> = changes
        .iter()
        .filter(|c| c["change"] == "rename_column")
        .collect();
    assert_eq!(renames.len(), 1, "{diff:#}");
    assert_eq!(renames[0]["from"], "name");
    assert_eq!(renames[0]["to"], "full_name");
    assert_eq!(renames[0]["severity"], "breaking");
    // Not a drop plus an add.
    assert!(!changes.iter().any(|c| c["change"] == "drop_column"
        || (c["change"] == "add_column" && c["column"]["name"] == "full_name")));
    assert_eq!(diff["severity"], "breaking");
}

#[test]
fn ops_then_snapshot_then_diff_against_working() {
    let ws = Ws::new();
    ws.ok(&["project", "new", "app"]);
    let ops = r#"[
      {"target":"root","op":"add_catalog","payload":{"id":"c1","name":"app"}},
      {"target":"c1","op":"add_schema","payload":{"id":"s1","name":"public"}},
      {"target":"s1","op":"add_table","payload":{"id":"t1","name":"users"}},
      {"target":"t1","op":"add_column","payload":{"name":"id","data_type":{"kind":"big_int"},"nullable":false}}
    ]"#;
    let added = ws.run_with_stdin(&["--json", "op", "add", "-"], ops).json();
    assert_eq!(added["ops"].as_array().unwrap().len(), 4);
    assert_eq!(added["uncommitted"], 4);
    // Filled-in ids are fresh and prefixed.
    let col_id = added["ops"][3]["payload"]["id"].as_str().unwrap();
    assert!(col_id.starts_with("col_"), "{col_id}");
    assert_eq!(ws.json(&["ops"]).as_array().unwrap().len(), 4);

    let s = ws.json(&["snapshot", "create", "--name", "first"]);
    assert_eq!(s["version"], "0.1.0");
    assert_eq!(s["ops"], 4);
    assert_eq!(s["hash"].as_str().unwrap().len(), 64);
    assert_eq!(ws.json(&["ops"]).as_array().unwrap().len(), 0);

    let one = r#"{"target":"t1","op":"add_column","payload":{"name":"email","data_type":{"kind":"text"}}}"#;
    ws.run_with_stdin(&["op", "add", "-"], one);
    let d = ws.json(&["diff", "--from", "0.1.0", "--to", "working"]);
    assert_eq!(d["changes"][0]["change"], "add_column");
    assert_eq!(d["changes"][0]["severity"], "safe");

    let s = ws.json(&[
        "snapshot", "create", "--bump", "major", "--name", "email", "--tag", "ga",
    ]);
    assert_eq!(s["version"], "1.0.0");
    assert_eq!(s["tags"][0], "ga");
    assert_eq!(s["previous_version"], "0.1.0");
}

/// Each bad input: exit 2, one line on stderr naming the problem, and the
/// workspace file byte-identical.
#[test]
fn bad_input_exits_2_and_changes_nothing() {
    let ws = Ws::demo();
    let before = ws.bytes();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["op", "add", "-"], "{not json", "malformed op JSON"),
        (
            vec!["op", "add", "-"],
            r#"{"target":"tbl_nope","op":"add_column","payload":{"name":"x","data_type":{"kind":"text"}}}"#,
            "tbl_nope",
        ),
        (
            vec!["op", "add", "-"],
            r#"{"target":"tbl_customers","op":"add_column","payload":{"name":"email","data_type":{"kind":"text"}}}"#,
            "email",
        ),
        (
            vec!["op", "add", "-"],
            r#"{"target":"tbl_customers","op":"add_colum","payload":{}}"#,
            "add_colum",
        ),
        (
            vec!["snapshot", "create", "--version", "1.x", "--name", "n"],
            "",
            "bad version '1.x'",
        ),
        (
            vec!["snapshot", "create", "--version", "0.3.0", "--name", "n"],
            "",
            "not above the latest snapshot 1.0.0",
        ),
        (vec!["snapshot", "show", "9.9.9"], "", "9.9.9"),
        (vec!["project", "use", "nope"], "", "nope"),
        (vec!["project", "new", "shop"], "", "shop"),
        (
            vec!["diff", "--from", "0.1.0", "--to", "7.0.0"],
            "",
            "7.0.0",
        ),
    ];
    for (args, stdin, needle) in cases {
        let r = ws.run_with_stdin(&args, stdin);
        assert_eq!(r.code, 2, "{args:?} should exit 2:\n{}", r.stderr);
        assert!(
            r.stderr.contains(needle),
            "{args:?}: stderr lacks {needle:?}:\n{}",
            r.stderr
        );
        assert_eq!(
            r.stderr.trim_end().lines().count(),
            1,
            "{args:?}: not one line:\n{}",
            r.stderr
        );
        assert_eq!(ws.bytes(), before, "{args:?} changed the workspace file");
    }
    // A valid op after all that still works (nothing half-written blocked it).
    let r = ws.run_with_stdin(
        &["op", "add", "-"],
        r#"{"target":"tbl_customers","op":"add_column","payload":{"name":"vip","data_type":{"kind":"boolean"}}}"#,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn newer_workspace_schema_is_refused_and_untouched() {
    let ws = Ws::demo();
    {
        let conn = rusqlite::Connection::open(&ws.file).unwrap();
        // Pretend a future Tidemark wrote the file.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        let stored: Option<i64> = conn
            .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
            .ok();
        if stored.is_some() {
            conn.execute(
                "INSERT INTO schema_version(version, applied_at) VALUES (999, 'future')",
                [],
            )
            .unwrap();
        } else {
            conn.pragma_update(None, "user_version", version + 999)
                .unwrap();
        }
    }
    let before = ws.bytes();
    let r = ws.run(&["snapshot", "list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("newer"), "{}", r.stderr);
    assert_eq!(ws.bytes(), before);
}

#[test]
fn flipped_byte_fails_verify_naming_the_snapshot() {
    let ws = Ws::demo();
    {
        let conn = rusqlite::Connection::open(&ws.file).unwrap();
        let state: String = conn
            .query_row(
                "SELECT state FROM snapshots WHERE version = '0.2.0'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        // Flip one byte inside a name: still valid JSON, different content.
        let flipped = state.replacen("order_items", "order_itens", 1);
        assert_ne!(flipped, state);
        conn.execute(
            "UPDATE snapshots SET state = ?1 WHERE version = '0.2.0'",
            [&flipped],
        )
        .unwrap();
    }
    let r = ws.run(&["snapshot", "verify"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("0.2.0"), "{}", r.stdout);
    assert!(r.stdout.contains("✓ 0.1.0 ok"), "{}", r.stdout);
    let j = ws.run(&["--json", "snapshot", "verify"]).json();
    let bad: Vec<_> = j["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ok"] == false)
        .map(|s| s["version"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bad, ["0.2.0"]);
    // Loading it for use is refused too, naming both hashes.
    let r = ws.run(&["snapshot", "show", "0.2.0"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("0.2.0") && r.stderr.contains("stored hash"),
        "{}",
        r.stderr
    );
}

#[test]
fn export_import_export_is_byte_identical() {
    let ws = Ws::demo();
    // An uncommitted op travels too.
    ws.run_with_stdin(
        &["op", "add", "-"],
        r#"{"target":"tbl_orders","op":"set_comment","payload":{"comment":"Orders placed"}}"#,
    );
    let first = ws.path("export1");
    ws.ok(&["project", "export", first.to_str().unwrap()]);
    let files = tree(&first);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "ops.json",
            "project.json",
            "snapshots/v0.1.0.json",
            "snapshots/v0.2.0.json",
            "snapshots/v1.0.0.json"
        ]
    );

    let other = Ws::new();
    let imported = other.json(&["project", "import", first.to_str().unwrap()]);
    assert_eq!(imported["snapshots"], 3);
    let second = other.path("export2");
    other.ok(&["project", "export", second.to_str().unwrap()]);
    assert_eq!(tree(&second), files);

    let a = ws.json(&["snapshot", "list"]);
    let b = other.json(&["snapshot", "list"]);
    let hashes = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["hash"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(hashes(&a), hashes(&b));
    other.ok(&["snapshot", "verify"]);
    assert_eq!(other.json(&["ops"]).as_array().unwrap().len(), 1);
}

#[test]
fn import_refuses_a_tampered_export() {
    let ws = Ws::demo();
    let dir = ws.path("export");
    ws.ok(&["project", "export", dir.to_str().unwrap()]);
    let file = dir.join("snapshots/v0.2.0.json");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("\"quantity\"", "\"qty\"", 1)).unwrap();
    let other = Ws::new();
    let r = other.run(&["project", "import", dir.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("0.2.0"), "{}", r.stderr);
    assert_eq!(
        other.json(&["project", "list"]).as_array().unwrap().len(),
        0
    );
}

#[test]
fn ddl_import_adds_ops() {
    let ws = Ws::new();
    ws.ok(&["project", "new", "ddl"]);
    let file = ws.write(
        "schema.sql",
        "CREATE TABLE customers (id BIGSERIAL PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE);\n\
         CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers(id), total NUMERIC(10,2) DEFAULT 0);\n\
         CREATE INDEX orders_customer_idx ON orders (customer_id);\n\
         INSERT INTO customers (email) VALUES ('a@example.com');\n",
    );
    let r = ws.json(&[
        "import",
        "--sql",
        file.to_str().unwrap(),
        "--dialect",
        "postgres",
    ]);
    assert!(r["added"]["ops"].as_array().unwrap().len() >= 8, "{r:#}");
    assert_eq!(r["skipped"].as_array().unwrap().len(), 1);
    let s = ws.json(&["snapshot", "create", "--name", "from ddl"]);
    assert_eq!(s["tables"], 2);
    // A second import of the same file collides and changes nothing.
    let before = ws.bytes();
    let again = ws.run(&[
        "import",
        "--sql",
        file.to_str().unwrap(),
        "--dialect",
        "postgres",
    ]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert_eq!(ws.bytes(), before);
}

#[test]
fn diff_renders_a_flagged_plan_per_dialect() {
    let ws = Ws::demo();
    let pg = ws.ok(&[
        "diff",
        "--from",
        "0.2.0",
        "--to",
        "1.0.0",
        "--dialect",
        "postgres",
    ]);
    assert!(
        pg.stdout
            .contains(r#"ALTER TABLE "public"."customers" RENAME COLUMN "name" TO "full_name";"#),
        "{}",
        pg.stdout
    );
    assert!(pg.stdout.contains("-- [breaking]"), "{}", pg.stdout);
    let my = ws.ok(&[
        "diff",
        "--from",
        "0.2.0",
        "--to",
        "1.0.0",
        "--dialect",
        "mysql",
    ]);
    assert!(
        my.stdout.contains("RENAME COLUMN `name` TO `full_name`"),
        "{}",
        my.stdout
    );
    let plan = ws.json(&[
        "diff",
        "--from",
        "0.1.0",
        "--to",
        "1.0.0",
        "--dialect",
        "sqlserver",
        "--format",
        "json",
    ]);
    assert_eq!(plan["dialect"], "sql_server");
    assert!(plan["statements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["severity"] == "breaking"));
    assert!(plan["down"].is_object(), "a down plan exists: {plan:#}");
    let bad = ws.run(&[
        "diff",
        "--from",
        "0.1.0",
        "--to",
        "1.0.0",
        "--dialect",
        "oracle",
    ]);
    assert_eq!(bad.code, 2);
}
