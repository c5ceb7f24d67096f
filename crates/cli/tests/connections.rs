//! Connections against the real PostgreSQL server; secrets never reach the
//! workspace file, the output or an error.

mod common;
use common::Ws;
use std::process::Command;

fn psql(sql: &str) {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A login role with a password, dropped on the way out.
struct Role(String);

impl Role {
    fn new(password: &str) -> Role {
        let name = format!("tm_role_{}", std::process::id());
        psql(&format!("DROP ROLE IF EXISTS {name}"));
        psql(&format!("CREATE ROLE {name} LOGIN PASSWORD '{password}'"));
        Role(name)
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        psql(&format!("DROP ROLE IF EXISTS {}", self.0));
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn password_env_connection_works_and_no_secret_is_stored() {
    let ws = Ws::new();
    let added = ws.json(&[
        "connection",
        "add",
        "local",
        "--url",
        "postgres://postgres@127.0.0.1:5432/postgres",
        "--password-env",
        "TM_TEST_UNUSED_PASSWORD",
    ]);
    assert_eq!(added["password"]["source"], "env");
    let list = ws.json(&["connection", "list"]);
    assert_eq!(
        list[0]["url"],
        "postgres://postgres@127.0.0.1:5432/postgres"
    );

    // The variable is unset: a clear bad-input error naming it.
    let r = ws.run(&["connection", "test", "local"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("$TM_TEST_UNUSED_PASSWORD"),
        "{}",
        r.stderr
    );

    let no_pw = ws.json(&[
        "connection",
        "add",
        "trust",
        "--url",
        "postgres://postgres@127.0.0.1:5432/postgres",
    ]);
    assert_eq!(no_pw["password"]["source"], "none");
    let ok = ws.json(&["connection", "test", "trust"]);
    assert_eq!(ok["ok"], true);

    let dup = ws.run(&["connection", "add", "trust", "--url", "sqlite:x.db"]);
    assert_eq!(dup.code, 2);
    assert!(dup.stderr.contains("already exists"), "{}", dup.stderr);
    ws.ok(&["connection", "remove", "trust"]);
    assert_eq!(
        ws.json(&["connection", "list"]).as_array().unwrap().len(),
        1
    );
}

#[test]
fn wrong_password_fails_without_echoing_it() {
    let role = Role::new("right-horse-battery");
    let ws = Ws::new();
    let url = format!("postgres://{}@127.0.0.1:5432/postgres", role.0);
    ws.ok(&[
        "connection",
        "add",
        "pw",
        "--url",
        &url,
        "--password-env",
        "TM_PW",
    ]);
    let secret = "wrong-staple-Zq9";
    let out = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args([
            "--workspace",
            ws.file.to_str().unwrap(),
            "connection",
            "test",
            "pw",
        ])
        .env("TM_PW", secret)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The server runs trust auth here, so a wrong password may still get in;
    // either way the secret must not appear anywhere.
    assert!(!stderr.contains(secret), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
    assert!(!contains(&ws.bytes(), secret));
}

#[test]
fn a_password_in_the_url_never_reaches_the_workspace() {
    let ws = Ws::new();
    let secret = "Sup3r-Secret-Value";
    let r = ws.run(&[
        "connection",
        "add",
        "k",
        "--url",
        &format!("postgres://postgres:{secret}@127.0.0.1:5432/postgres"),
    ]);
    // Either the OS keychain took it, or the command refused and stored nothing.
    let list = ws.json(&["connection", "list"]);
    if r.code == 0 {
        assert_eq!(list[0]["password"]["source"], "keychain");
        assert_eq!(
            list[0]["url"],
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        ws.ok(&["connection", "remove", "k"]);
    } else {
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("keychain") && r.stderr.contains("--password-env"),
            "{}",
            r.stderr
        );
        assert!(list.as_array().unwrap().is_empty());
    }
    assert!(!r.stderr.contains(secret) && !r.stdout.contains(secret));
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", ws.file.display());
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(!contains(&bytes, secret), "secret found in {path}");
        }
    }
}

#[test]
fn unreachable_database_is_a_failure_naming_the_connection() {
    let ws = Ws::new();
    ws.ok(&[
        "connection",
        "add",
        "gone",
        "--url",
        "postgres://postgres@127.0.0.1:1/postgres",
    ]);
    let r = ws.run(&["connection", "test", "gone"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("gone") && r.stderr.contains("127.0.0.1:1"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
}
