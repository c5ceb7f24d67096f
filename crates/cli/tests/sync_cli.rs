//! `tidemark sync` as a user runs it: add (with auto detection and refused
//! bad input), list, show, run (one, --all in parallel, JSON), history,
//! watch stopped by Ctrl-C, remove.

#[path = "../../sync/tests/common/mod.rs"]
mod common;

use common::{assert_same, read_table, Kind, Rng, TestDb, Workload};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn tidemark(ws: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env_remove("TIDEMARK_WORKSPACE")
        .output()
        .expect("run tidemark")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(ws: &Path, args: &[&str]) -> String {
    let out = tidemark(ws, args);
    assert!(
        out.status.success(),
        "tidemark {args:?} failed:\n{}",
        text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(ws: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = tidemark(ws, &all);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("tidemark {args:?} printed no JSON ({e}):\n{}", text(&out)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_commands_work_end_to_end() {
    let seed = Rng::seed("the_sync_commands_work_end_to_end");
    let src = TestDb::create(Kind::Pg).await;
    let dst = TestDb::create(Kind::Lite).await;
    let mut w = Workload::new(Kind::Pg, seed);
    src.exec(&w.create_table()).await;
    src.exec(&w.insert(200, 50)).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    ok(&ws, &["connection", "add", "src", "--url", &src.url]);
    ok(&ws, &["connection", "add", "dst", "--url", &dst.url]);

    // Auto detection says what it chose.
    let added = ok(
        &ws,
        &[
            "sync",
            "add",
            "items",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "dst",
            "--detect",
            "auto",
            "--merge",
            "upsert",
            "--batch-size",
            "30",
            "--reconcile-deletes",
        ],
    );
    assert!(added.contains("updated_at"), "{added}");
    assert!(added.contains("auto: tracking updated_at"), "{added}");
    assert!(added.contains("first run creates it"), "{added}");

    // Bad input: exit code 2, a message naming the column and the fix, no job.
    let out = tidemark(
        &ws,
        &[
            "sync",
            "add",
            "bad",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "dst",
            "--detect",
            "timestamp",
            "--column",
            "updatedat",
            "--merge",
            "upsert",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`updatedat`") && text(&out).contains("updated_at"),
        "{}",
        text(&out)
    );
    let out = tidemark(
        &ws,
        &[
            "sync", "add", "bad", "--source", "src", "--table", "nope", "--target", "dst",
            "--detect", "full", "--merge", "upsert",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
    let out = tidemark(
        &ws,
        &[
            "sync",
            "add",
            "bad",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "dst",
            "--detect",
            "full",
            "--merge",
            "append",
            "--on-conflict",
            "overwrite",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    ok(
        &ws,
        &[
            "sync",
            "add",
            "copy",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "dst",
            "--target-table",
            "items_full",
            "--detect",
            "full",
            "--merge",
            "upsert",
            "--key",
            "id",
        ],
    );
    let list = json(&ws, &["sync", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");

    let runs = json(&ws, &["sync", "run", "--all", "--parallel", "2"]);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        assert_eq!(r["run"]["status"], "succeeded", "{r}");
        assert_eq!(r["run"]["rows_extracted"], 200, "{r}");
        assert_eq!(r["run"]["rows_inserted"], 200, "{r}");
    }
    // No changes: zero rows.
    let again = json(&ws, &["sync", "run", "items"]);
    assert_eq!(again[0]["run"]["rows_extracted"], 0, "{again}");
    assert_eq!(again[0]["run"]["full_sync"], false, "{again}");

    // Changes, then a run with the human output.
    let behind = w.newest_us();
    let mut ops = w.insert(20, 10);
    ops.extend(w.update(10, 0, behind, 0));
    ops.extend(w.delete(5));
    src.exec(&ops).await;
    let table = ok(&ws, &["sync", "run", "items"]);
    assert!(table.contains("succeeded"), "{table}");
    let (target, _) = read_table(&dst, "items", "id", None, false).await;
    assert_same("after the CLI run", &target, &w.expected());

    let show = ok(&ws, &["sync", "show", "items"]);
    assert!(
        show.contains("timestamp on updated_at (chosen by auto)"),
        "{show}"
    );
    assert!(show.contains("updated_at="), "{show}");
    let history = json(&ws, &["sync", "history", "items"]);
    assert_eq!(history.as_array().unwrap().len(), 3, "{history}");

    // watch: rounds until Ctrl-C, then a clean stop.
    let child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(&ws)
        .args(["sync", "watch", "items", "--every", "200ms"])
        .env_remove("TIDEMARK_WORKSPACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while json(&ws, &["sync", "history", "items"])
        .as_array()
        .unwrap()
        .len()
        < 5
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "watch ran no rounds"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "watch did not stop cleanly: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("stopping after the batch in flight"),
        "{}",
        text(&out)
    );

    ok(&ws, &["sync", "remove", "copy"]);
    let out = tidemark(&ws, &["sync", "show", "copy"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A `kafka:` job whose broker cannot be reached (a closed port on
/// 127.0.0.1) fails with one line naming the brokers, the history shows the
/// failed run, and no checkpoint is written. No Kafka broker runs here, so
/// publishing to a live one is not covered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_job_without_a_broker_fails_and_keeps_its_checkpoint() {
    let seed = Rng::seed("a_kafka_job_without_a_broker_fails_and_keeps_its_checkpoint");
    let src = TestDb::create(Kind::Pg).await;
    let mut w = Workload::new(Kind::Pg, seed);
    src.exec(&w.create_table()).await;
    src.exec(&w.insert(20, 5)).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    ok(&ws, &["connection", "add", "src", "--url", &src.url]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let brokers = format!("127.0.0.1:{port}");
    ok(
        &ws,
        &[
            "sync",
            "add",
            "feed",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "kafka:items.changes",
            "--brokers",
            &brokers,
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "upsert",
        ],
    );
    let shown = json(&ws, &["sync", "show", "feed"]);
    assert!(shown["checkpoint"].is_null(), "{shown}");

    let out = tidemark(&ws, &["sync", "run", "feed"]);
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("Kafka at"))
        .unwrap_or_else(|| panic!("no Kafka error in:\n{}", text(&out)));
    assert!(line.contains(&format!("Kafka at {brokers}")), "{line}");

    let history = json(&ws, &["sync", "history", "feed"]);
    let runs = history.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{history}");
    assert_eq!(runs[0]["status"], "failed", "{history}");
    let error = runs[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("Kafka at {brokers}")), "{error}");
    assert!(!error.contains('\n'), "{error}");
    let shown = json(&ws, &["sync", "show", "feed"]);
    assert!(shown["checkpoint"].is_null(), "{shown}");
}
