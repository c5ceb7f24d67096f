//! `scan` and `incremental-diff` driven by a `--config` file, as in CI: the
//! connection and custom attributes come from YAML, the password from the
//! environment variable the file names; logging flags and quiet `--json`.

mod common;
mod scan_common;

use common::{Run, Ws};
use scan_common::ScratchDb;
use std::process::Command;

const PASSWORD_VAR: &str = "TM_SCAN_TEST_PASSWORD";

/// Runs the binary with an extra environment.
fn run(ws: &Ws, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tidemark"));
    cmd.arg("--workspace")
        .arg(&ws.file)
        .args(args)
        .env_remove("TIDEMARK_WORKSPACE")
        .env_remove("TIDEMARK_LOG")
        .env_remove(PASSWORD_VAR);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn custom_attributes(ws: &Ws, run_id: &str, path: &str) -> serde_json::Value {
    let conn = rusqlite::Connection::open(&ws.file).unwrap();
    let text: String = conn
        .query_row(
            "SELECT custom_attributes FROM scan_objects WHERE run_id = ?1 AND path = ?2",
            [run_id, path],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_config_file_declares_the_connection_and_custom_attributes() {
    let db = ScratchDb::postgres();
    db.exec(&["CREATE TABLE items (id bigint PRIMARY KEY, sku text, price numeric(8,2))"]);
    let ws = Ws::new();
    let config = ws.write(
        "tidemark.yml",
        &format!(
            "connections:\n\
             \x20 - name: ci\n\
             \x20   url: {url}\n\
             \x20   password_env: {PASSWORD_VAR}\n\
             \x20   schemas: [public]\n\
             \x20   custom_attributes:\n\
             \x20     public.items:\n\
             \x20       owner: platform\n\
             \x20     public.items.sku:\n\
             \x20       pii: false\n",
            url = db.url
        ),
    );
    let config = config.to_str().unwrap();
    let env = [(PASSWORD_VAR, "not-needed-with-trust-auth")];

    // The password variable must be set.
    let missing = run(
        &ws,
        &["scan", "--connection-id", "ci", "--config", config],
        &[],
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains(PASSWORD_VAR), "{}", missing.stderr);

    // A workspace label on the same key: the config file wins.
    let labelled = run(
        &ws,
        &[
            "scan",
            "label",
            "--connection-id",
            "ci",
            "--config",
            config,
            "public.items",
            "owner=ops",
            "tier=gold",
        ],
        &env,
    );
    assert_eq!(labelled.code, 0, "{}", labelled.stderr);
    assert!(
        labelled.stdout.contains("owner=platform, tier=gold"),
        "{}",
        labelled.stdout
    );

    let log = ws.path("scan.log");
    let verbose = run(
        &ws,
        &[
            "scan",
            "--connection-id",
            "ci",
            "--config",
            config,
            "--verbose",
            "--log-file",
            log.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(verbose.code, 0, "{}", verbose.stderr);
    assert!(
        verbose.stdout.contains("Scan run recorded"),
        "{}",
        verbose.stdout
    );
    assert!(
        verbose.stderr.contains("scan recorded"),
        "verbose logs on stderr:\n{}",
        verbose.stderr
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("scan recorded"), "{logged}");
    assert!(!logged.contains("not-needed-with-trust-auth"));

    // Quiet with --json: nothing on stderr, one JSON document on stdout.
    let quiet = run(
        &ws,
        &[
            "--json",
            "scan",
            "--connection-id",
            "ci",
            "--config",
            config,
        ],
        &env,
    );
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(quiet.stderr, "");
    let second = quiet.json();
    assert_eq!(second["schemas"], serde_json::json!(["public"]));
    let run_id = second["id"].as_str().unwrap();
    assert_eq!(
        custom_attributes(&ws, run_id, "public.items"),
        serde_json::json!({"owner": "platform", "tier": "gold"})
    );
    assert_eq!(
        custom_attributes(&ws, run_id, "public.items.sku"),
        serde_json::json!({"pii": "false"})
    );

    let diff = run(
        &ws,
        &[
            "--json",
            "incremental-diff",
            "--connection-id",
            "ci",
            "--config",
            config,
        ],
        &env,
    );
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    assert_eq!(diff.json()["total"], 0);
    assert_eq!(diff.stderr, "");
}

#[test]
fn a_password_in_the_config_file_is_refused() {
    let ws = Ws::new();
    let config = ws.write(
        "bad.yml",
        "connections:\n  - name: ci\n    url: postgres://app@127.0.0.1:5432/x\n    password: s3cret-literal\n",
    );
    let r = ws.run(&[
        "scan",
        "--connection-id",
        "ci",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("password_env"), "{}", r.stderr);
    assert!(!r.stderr.contains("s3cret-literal"), "{}", r.stderr);

    let config = ws.write(
        "bad_url.yml",
        "connections:\n  - name: ci\n    url: postgres://app:s3cret-literal@127.0.0.1:5432/x\n",
    );
    let r = ws.run(&[
        "incremental-diff",
        "--connection-id",
        "ci",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("s3cret-literal"), "{}", r.stderr);
}

#[test]
fn unknown_connections_and_bad_flags_are_bad_input() {
    let ws = Ws::new();
    let r = ws.run(&["scan", "--connection-id", "nope"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no connection named nope"),
        "{}",
        r.stderr
    );
    let r = ws.run(&["incremental-diff", "--connection-id", "nope"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = ws.run(&["diff", "show", "00000000-0000-0000-0000-000000000000"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = ws.run(&["scan", "label", "--connection-id", "nope", "a.b", "k=v"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // A database that cannot be read: exit 1, and the run is recorded as failed.
    let gone = ws.path("gone.db");
    ws.ok(&[
        "connection",
        "add",
        "gone",
        "--url",
        &format!("sqlite:{}", gone.display()),
    ]);
    let r = ws.run(&["scan", "--connection-id", "gone"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let runs = ws.json(&["scan", "list", "--connection-id", "gone"]);
    assert_eq!(runs[0]["status"], "failed");
    assert!(runs[0]["error_message"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    // A failed run does not count towards a diff.
    let r = ws.run(&["incremental-diff", "--connection-id", "gone"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("0 completed scan runs"), "{}", r.stderr);
    // `diff` still needs --from and --to without a subcommand.
    let r = ws.run(&["diff", "--from", "0.1.0"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}
