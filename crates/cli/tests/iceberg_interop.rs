//! Apache Iceberg acceptance tests with real readers: PostgreSQL → Iceberg
//! through the real `tidemark` binary over several incremental runs, every
//! table checked through PyIceberg on the same SQL catalog file (rows,
//! values, snapshots, time travel), rows PyIceberg appends read back by
//! Tidemark, and SIGKILL at random points of an append.
//!
//! PyIceberg runs from a virtual environment under the user's cache folder
//! (`~/.cache/tidemark/pyiceberg-venv`), created on first use.

#[path = "../../sync/tests/common/mod.rs"]
mod common;
#[path = "iceberg_support/rest.rs"]
mod rest;

use common::{Kind, Rng, TestDb};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

fn tidemark(ws: &Path, args: &[&str]) -> std::process::Output {
    tidemark_with(ws, args, &[])
}

/// `tidemark` with extra environment variables (a REST catalog's token).
fn tidemark_with(ws: &Path, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env_remove("TIDEMARK_WORKSPACE")
        .envs(envs.iter().copied())
        .output()
        .expect("run tidemark")
}

fn ok(ws: &Path, args: &[&str]) -> String {
    ok_with(ws, args, &[])
}

fn ok_with(ws: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = tidemark_with(ws, args, envs);
    assert!(
        out.status.success(),
        "tidemark {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(ws: &Path, args: &[&str]) -> Value {
    json_with(ws, args, &[])
}

fn json_with(ws: &Path, args: &[&str], envs: &[(&str, &str)]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok_with(ws, &all, envs)).expect("tidemark prints JSON")
}

static VENV: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The venv's python with PyIceberg installed (created once, reused).
fn python() -> PathBuf {
    let mut guard = VENV.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = guard.as_ref() {
        return p.clone();
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    let venv = PathBuf::from(home).join(".cache/tidemark/pyiceberg-venv");
    let py = venv.join("bin/python");
    let ready = py.exists()
        && Command::new(&py)
            .args(["-c", "import pyiceberg.catalog.sql, pyarrow, sqlalchemy"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        let st = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(st.success(), "creating the PyIceberg venv failed");
        let st = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "pyiceberg[sql-sqlite,pyarrow]"])
            .status()
            .expect("pip install");
        assert!(st.success(), "pip install pyiceberg failed");
    }
    *guard = Some(py.clone());
    py
}

fn pyice(dir: &Path, args: &[&str]) -> Value {
    pyice_at(dir.as_os_str(), args, &[])
}

/// `pyice.py` on a catalog folder or, given a URL, a REST catalog (with
/// the server's `pyice_env`).
fn pyice_at(catalog: &std::ffi::OsStr, args: &[&str], envs: &[(&str, String)]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/iceberg_support/pyice.py");
    let out = Command::new(python())
        .arg(script)
        .arg(catalog)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "pyice {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("pyice prints JSON")
}

/// Rows of `tidemark iceberg read --json`, normalized like pyice.py does:
/// timestamps as Unix microseconds.
fn tidemark_rows(ws: &Path, table: &str, snapshot: Option<i64>) -> Vec<Value> {
    tidemark_rows_in(ws, &[], &[], table, snapshot)
}

/// [`tidemark_rows`] with catalog options (`--catalog-url …`) and their
/// environment.
fn tidemark_rows_in(
    ws: &Path,
    catalog: &[&str],
    envs: &[(&str, &str)],
    table: &str,
    snapshot: Option<i64>,
) -> Vec<Value> {
    let snap = snapshot.map(|s| s.to_string());
    let mut args = vec!["iceberg", "read", table];
    if let Some(s) = &snap {
        args.extend(["--snapshot", s]);
    }
    args.extend_from_slice(catalog);
    let v = json_with(ws, &args, envs);
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let mut m = row.as_object().unwrap().clone();
            if let Some(Value::String(ts)) = m.get("updated_at") {
                let us = chrono::DateTime::parse_from_rfc3339(ts)
                    .unwrap_or_else(|e| panic!("timestamp {ts}: {e}"))
                    .timestamp_micros();
                m.insert("updated_at".into(), Value::from(us));
            }
            Value::Object(m)
        })
        .collect()
}

/// Snapshots in history order (parent before child): a table's metadata
/// lists them in no particular order.
fn in_history_order(snaps: &Value) -> Vec<Value> {
    let all = snaps.as_array().unwrap();
    let mut out: Vec<Value> = Vec::new();
    let mut parent: Option<i64> = None;
    while let Some(s) = all.iter().find(|s| s["parent"].as_i64() == parent) {
        parent = s["id"].as_i64();
        out.push(s.clone());
    }
    assert_eq!(out.len(), all.len(), "a linear history: {snaps}");
    out
}

fn sorted(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_key(|r| r.to_string());
    rows
}

fn snapshot_ids(ws: &Path, table: &str) -> Vec<i64> {
    snapshot_ids_in(ws, &[], &[], table)
}

fn snapshot_ids_in(ws: &Path, catalog: &[&str], envs: &[(&str, &str)], table: &str) -> Vec<i64> {
    let mut args = vec!["iceberg", "snapshots", table];
    args.extend_from_slice(catalog);
    json_with(ws, &args, envs)
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

const ITEMS: &str = "CREATE TABLE items (id bigint PRIMARY KEY, name text, amount numeric(10,2), qty integer, updated_at timestamptz NOT NULL, tag uuid)";

fn insert_sql(from: i64, to: i64, base_us: i64) -> String {
    format!(
        "INSERT INTO items SELECT i, 'item ' || i, (i * 1.25)::numeric(10,2), (i % 7)::int, \
         to_timestamp(({base_us} + i * 1000)::double precision / 1000000), \
         md5(i::text)::uuid FROM generate_series({from}, {to}) i"
    )
}

/// The latest row per id of an append-only change log.
fn latest_by_id(rows: &[Value]) -> BTreeMap<i64, Value> {
    let mut out: BTreeMap<i64, Value> = BTreeMap::new();
    for r in rows {
        let id = r["id"].as_i64().unwrap();
        let newer = out
            .get(&id)
            .is_none_or(|o| o["updated_at"].as_i64() <= r["updated_at"].as_i64());
        if newer {
            out.insert(id, r.clone());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_to_iceberg_and_pyiceberg_agree() {
    let db = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    let cat = dir.path().join("ws-iceberg");
    let t = "shop.items";
    ok(&ws, &["connection", "add", "src", "--url", &db.url]);
    let base = 1_700_000_000_000_000i64;
    db.exec(&[ITEMS.to_string(), insert_sql(1, 50, base)]).await;
    ok(
        &ws,
        &[
            "sync",
            "add",
            "to_lake",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "iceberg:shop.items",
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "append",
        ],
    );

    // Run 1: every row, one snapshot.
    ok(&ws, &["sync", "run", "to_lake"]);
    assert_eq!(snapshot_ids(&ws, t).len(), 1);
    // No changes: no snapshot.
    ok(&ws, &["sync", "run", "to_lake"]);
    assert_eq!(snapshot_ids(&ws, t).len(), 1);
    // Run 2: 10 inserts and 5 updates, one snapshot of 15 rows.
    db.exec(&[
        insert_sql(51, 60, base + 1_000_000_000),
        format!(
            "UPDATE items SET name = name || ' v2', qty = qty + 100, updated_at = to_timestamp({}::double precision / 1000000) + (id || ' ms')::interval WHERE id <= 5",
            base + 2_000_000_000
        ),
    ])
    .await;
    ok(&ws, &["sync", "run", "to_lake"]);
    // Run 3: 3 updates.
    db.exec(&[format!(
        "UPDATE items SET amount = amount + 1, updated_at = to_timestamp({}::double precision / 1000000) WHERE id IN (7, 52, 3)",
        base + 3_000_000_000
    )])
    .await;
    ok(&ws, &["sync", "run", "to_lake"]);
    ok(&ws, &["sync", "run", "to_lake"]);
    let snaps = json(&ws, &["iceberg", "snapshots", t]);
    let snaps = snaps.as_array().unwrap();
    assert_eq!(snaps.len(), 3, "one snapshot per run with changes");
    let added: Vec<u64> = snaps
        .iter()
        .map(|s| s["added_rows"].as_u64().unwrap())
        .collect();
    assert_eq!(added, vec![50, 15, 3]);
    for s in snaps {
        assert_eq!(s["summary"]["tidemark.job"], "to_lake");
        assert!(s["summary"]["tidemark.watermark"]
            .as_str()
            .unwrap()
            .starts_with("updated_at="));
    }
    let ids: Vec<i64> = snaps.iter().map(|s| s["id"].as_i64().unwrap()).collect();

    // Tidemark's rows: a change log whose latest versions equal the source.
    let now = tidemark_rows(&ws, t, None);
    assert_eq!(now.len(), 68);
    let latest = latest_by_id(&now);
    assert_eq!(latest.len(), 60);
    assert_eq!(latest[&3]["name"], "item 3 v2");
    assert_eq!(latest[&3]["amount"], "4.75");
    assert_eq!(latest[&52]["amount"], "66.00");
    assert_eq!(latest[&9]["tag"].as_str().unwrap().len(), 36);

    // PyIceberg sees the same snapshots and the same rows at each of them.
    let py_snaps = in_history_order(&pyice(&cat, &["snapshots", t]));
    let py_ids: Vec<i64> = py_snaps.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(py_ids, ids);
    assert_eq!(
        py_snaps[2]["summary"]["tidemark.position"],
        snaps[2]["summary"]["tidemark.position"]
    );
    for (i, id) in ids.iter().enumerate() {
        let ours = sorted(tidemark_rows(&ws, t, Some(*id)));
        let theirs = sorted(
            pyice(&cat, &["read", t, &id.to_string()])
                .as_array()
                .unwrap()
                .clone(),
        );
        assert_eq!(ours.len(), [50, 65, 68][i]);
        assert_eq!(ours, theirs, "snapshot {id}");
    }
    // Time travel: the first snapshot has the original rows only.
    let first = pyice(&cat, &["read", t, &ids[0].to_string()]);
    assert!(first
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !r["name"].as_str().unwrap().ends_with("v2")));

    // The reverse: rows PyIceberg appends are read by Tidemark.
    let appended = pyice(
        &cat,
        &[
            "append",
            t,
            r#"[{"id": 1001, "name": "from python", "amount": "9.99", "qty": 1, "updated_at": 1800000000000000, "tag": null},
                {"id": 1002, "name": "also python", "amount": null, "qty": null, "updated_at": 1800000000000001, "tag": null}]"#,
        ],
    );
    let after = snapshot_ids(&ws, t);
    assert_eq!(after.len(), 4);
    assert_eq!(Some(*after.last().unwrap()), appended["snapshot"].as_i64());
    let rows = tidemark_rows(&ws, t, None);
    assert_eq!(rows.len(), 70);
    let py_row = rows.iter().find(|r| r["id"] == 1001).expect("python's row");
    assert_eq!(py_row["name"], "from python");
    assert_eq!(py_row["amount"], "9.99");
    assert_eq!(py_row["updated_at"], 1_800_000_000_000_000i64);
    // The job's checkpoint survives a foreign snapshot: no changes, no commit.
    ok(&ws, &["sync", "run", "to_lake"]);
    assert_eq!(snapshot_ids(&ws, t).len(), 4);
    // Time travel by time through the CLI.
    let csv = ok(
        &ws,
        &[
            "iceberg",
            "read",
            t,
            "--snapshot",
            &ids[0].to_string(),
            "--format",
            "csv",
            "--limit",
            "3",
        ],
    );
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("id,name,amount,qty,updated_at,tag"));
    let none = json(
        &ws,
        &["iceberg", "read", t, "--as-of", "2001-01-01 00:00:00"],
    );
    assert_eq!(none["rows"].as_array().unwrap().len(), 0);
    let tables = json(&ws, &["iceberg", "tables"]);
    assert_eq!(tables[0]["table"], "shop.items");
    assert_eq!(tables[0]["snapshots"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_appends_leave_no_duplicates_and_no_orphan_snapshots() {
    let seed = Rng::seed("killed_appends_leave_no_duplicates_and_no_orphan_snapshots");
    let mut rng = Rng::new(seed ^ 0x1ce);
    let db = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    let cat = dir.path().join("ws-iceberg");
    let t = "lake.items";
    ok(&ws, &["connection", "add", "src", "--url", &db.url]);
    let base = 1_700_000_000_000_000i64;
    db.exec(&[ITEMS.to_string(), insert_sql(1, 20_000, base)])
        .await;
    ok(
        &ws,
        &[
            "sync",
            "add",
            "lake",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "iceberg:lake.items",
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "append",
            "--batch-size",
            "500",
        ],
    );
    let mut next = 20_001i64;
    let mut killed_running = 0;
    let mut rounds = 0;
    // The kill window adapts to how long runs take on this machine, so
    // kills land at every stage: start-up, extraction, writing, the commit.
    let mut window_ms = 300u64;
    while killed_running < 10 {
        rounds += 1;
        assert!(
            rounds <= 60,
            "seed {seed}: runs end before they can be killed"
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .arg("--workspace")
            .arg(&ws)
            .args(["sync", "run", "lake"])
            .env_remove("TIDEMARK_WORKSPACE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tidemark");
        std::thread::sleep(Duration::from_millis(rng.below(window_ms)));
        if child.try_wait().expect("poll").is_none() {
            killed_running += 1;
            window_ms = (window_ms * 5 / 4).min(3_000);
        } else {
            window_ms = (window_ms * 3 / 5).max(20);
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // More rows for the next round.
        let n = 5_000 + rng.below(15_000) as i64;
        db.exec(&[insert_sql(
            next,
            next + n - 1,
            base + rounds * 10_000_000_000,
        )])
        .await;
        next += n;
    }
    // A clean run catches up.
    ok(&ws, &["sync", "run", "lake"]);
    let total = next - 1;
    let rows = tidemark_rows(&ws, t, None);
    let mut ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    ids.sort();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "seed {seed}: duplicate rows");
    assert_eq!(ids.len() as i64, total, "seed {seed}: rows missing");
    // PyIceberg: the same rows, and every snapshot is a complete commit of
    // the job whose added rows add up to the table.
    let py_rows = pyice(&cat, &["read", t]);
    assert_eq!(py_rows.as_array().unwrap().len() as i64, total);
    let snaps = in_history_order(&pyice(&cat, &["snapshots", t]));
    let mut sum = 0i64;
    for s in &snaps {
        assert_eq!(s["summary"]["tidemark.job"], "lake", "seed {seed}");
        assert!(s["summary"]["tidemark.position"].is_string());
        sum += s["summary"]["added-records"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap();
    }
    assert_eq!(sum, total, "seed {seed}");
}

/// Every row of `items` as one text, for comparing two databases.
async fn table_text(db: &TestDb) -> String {
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (text,): (Option<String>,) = sqlx::query_as(
        "SELECT string_agg(format('%s|%s|%s|%s|%s|%s', id, name, amount, qty, \
         extract(epoch from updated_at)::numeric * 1000000, tag), E'\\n' ORDER BY id) FROM items",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    text.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_to_iceberg_to_database_chain() {
    let src = TestDb::create(Kind::Pg).await;
    let dst = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    ok(&ws, &["connection", "add", "src", "--url", &src.url]);
    ok(&ws, &["connection", "add", "dst", "--url", &dst.url]);
    let base = 1_700_000_000_000_000i64;
    src.exec(&[ITEMS.to_string(), insert_sql(1, 3_000, base)])
        .await;
    ok(
        &ws,
        &[
            "sync",
            "add",
            "in",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "iceberg:chain.items",
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "append",
        ],
    );
    // The Iceberg table exists once the first run has created it.
    ok(&ws, &["sync", "run", "in"]);
    ok(
        &ws,
        &[
            "sync",
            "add",
            "out",
            "--source",
            "iceberg:chain.items",
            "--target",
            "dst",
            "--detect",
            "full",
            "--merge",
            "upsert",
            "--key",
            "id",
            "--target-table",
            "items",
            "--batch-size",
            "700",
        ],
    );
    for round in 0..4i64 {
        if round > 0 {
            src.exec(&[
                insert_sql(3_000 + round * 100, 3_000 + round * 100 + 49, base + round * 5_000_000_000),
                format!(
                    "UPDATE items SET name = 'round {round}', qty = qty + 1, \
                     updated_at = to_timestamp({}::double precision / 1000000) + (id || ' us')::interval \
                     WHERE id % 97 = {round}",
                    base + round * 5_000_000_000 + 1_000_000_000
                ),
            ])
            .await;
        }
        ok(&ws, &["sync", "run", "in"]);
        ok(&ws, &["sync", "run", "out"]);
        assert_eq!(
            table_text(&src).await,
            table_text(&dst).await,
            "round {round}: the target equals the source"
        );
    }
    // The checkpoint in the target names the latest snapshot.
    let snaps = snapshot_ids(&ws, "chain.items");
    assert_eq!(snaps.len(), 4);
    let pool = sqlx::PgPool::connect(&dst.url).await.unwrap();
    let (col, cursor): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT cursor_column, cursor_value::text FROM tidemark_checkpoints WHERE job = 'out'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(col.as_deref(), Some("iceberg snapshot"));
    assert!(cursor.unwrap().contains(&snaps[3].to_string()));
    // Nothing new: nothing moves.
    let before = table_text(&dst).await;
    let run = json(&ws, &["sync", "run", "out"]);
    assert_eq!(run[0]["run"]["rows_extracted"], 0, "{run}");
    assert_eq!(table_text(&dst).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_from_two_processes_both_land() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("ws-iceberg");
    concurrent_appends(dir.path(), &[], &[], cat.as_os_str(), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_through_a_rest_catalog_both_land() {
    let server = rest::RestCatalogServer::start();
    let dir = tempfile::tempdir().unwrap();
    let catalog = [
        "--catalog-url",
        server.url.as_str(),
        "--catalog-token-env",
        "LAKE_TOKEN",
    ];
    let env = [("LAKE_TOKEN", server.token.as_str())];
    let url = std::ffi::OsStr::new(&server.url);
    concurrent_appends(dir.path(), &catalog, &env, url, &server.pyice_env()).await;
}

/// Two jobs append to one Iceberg table from two processes at once, four
/// rounds: every commit lands (the loser of a race retries on the new
/// base), and PyIceberg reads every row and every snapshot.
async fn concurrent_appends(
    dir: &Path,
    catalog: &[&str],
    envs: &[(&str, &str)],
    py_catalog: &std::ffi::OsStr,
    py_env: &[(&str, String)],
) {
    let db = TestDb::create(Kind::Pg).await;
    let ws = dir.join("ws.tmdb");
    ok(&ws, &["connection", "add", "src", "--url", &db.url]);
    let base = 1_700_000_000_000_000i64;
    db.exec(&[
        ITEMS.to_string(),
        ITEMS.replace("items", "items_b"),
        insert_sql(1, 1_000, base),
        insert_sql(100_001, 101_000, base).replace("INTO items", "INTO items_b"),
    ])
    .await;
    for (job, table) in [("a", "items"), ("b", "items_b")] {
        let mut add = vec![
            "sync",
            "add",
            job,
            "--source",
            "src",
            "--table",
            table,
            "--target",
            "iceberg:both.items",
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "append",
        ];
        add.extend_from_slice(catalog);
        ok_with(&ws, &add, envs);
    }
    // The first run of each creates nothing twice: create the table first.
    ok_with(&ws, &["sync", "run", "a"], envs);
    let mut expected_rows = 1_000;
    let mut expected_snaps = 1;
    for round in 1..=4i64 {
        if round > 1 {
            db.exec(&[
                insert_sql(
                    round * 1_000,
                    round * 1_000 + 299,
                    base + round * 1_000_000_000,
                ),
                insert_sql(
                    100_000 + round * 1_000,
                    100_000 + round * 1_000 + 299,
                    base + round * 1_000_000_000,
                )
                .replace("INTO items", "INTO items_b"),
            ])
            .await;
        }
        let spawn = |job: &str| {
            Command::new(env!("CARGO_BIN_EXE_tidemark"))
                .arg("--workspace")
                .arg(&ws)
                .args(["sync", "run", job])
                .env_remove("TIDEMARK_WORKSPACE")
                .envs(envs.iter().copied())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn tidemark")
        };
        let (a, b) = (spawn("a"), spawn("b"));
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        expected_rows += if round == 1 { 1_000 } else { 600 };
        expected_snaps += if round == 1 { 1 } else { 2 };
        assert_eq!(
            snapshot_ids_in(&ws, catalog, envs, "both.items").len(),
            expected_snaps,
            "round {round}: both commits landed"
        );
    }
    let py = pyice_at(py_catalog, &["read", "both.items"], py_env);
    assert_eq!(py.as_array().unwrap().len(), expected_rows);
    let snaps = in_history_order(&pyice_at(py_catalog, &["snapshots", "both.items"], py_env));
    let jobs: Vec<&str> = snaps
        .iter()
        .map(|s| s["summary"]["tidemark.job"].as_str().unwrap())
        .collect();
    assert_eq!(jobs.iter().filter(|j| **j == "a").count(), 4);
    assert_eq!(jobs.iter().filter(|j| **j == "b").count(), 4);
}

fn fields(cat: &Path, table: &str) -> Vec<(i64, String, bool)> {
    pyice(cat, &["fields", table])
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_i64().unwrap(),
                f["name"].as_str().unwrap().to_string(),
                f["required"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn refused(ws: &Path, job: &str, expect: &[&str]) {
    let out = tidemark(ws, &["sync", "run", job]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the run should fail:\n{text}");
    for e in expect {
        assert!(text.contains(e), "`{e}` missing from:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_nullable_source_column_evolves_the_iceberg_schema() {
    let db = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    let cat = dir.path().join("ws-iceberg");
    let t = "shop.items";
    ok(&ws, &["connection", "add", "src", "--url", &db.url]);
    let base = 1_700_000_000_000_000i64;
    db.exec(&[ITEMS.to_string(), insert_sql(1, 20, base)]).await;
    ok(
        &ws,
        &[
            "sync",
            "add",
            "to_lake",
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            "iceberg:shop.items",
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "append",
        ],
    );
    ok(&ws, &["sync", "run", "to_lake"]);
    let before = fields(&cat, t);
    assert_eq!(before.len(), 6);

    // A new nullable column: the next run adds it (fresh field id 7) and
    // the new rows carry it.
    db.exec(&[
        "ALTER TABLE items ADD COLUMN note text".to_string(),
        insert_sql(21, 25, base + 1_000_000_000),
        "UPDATE items SET note = 'note ' || id WHERE id > 20".to_string(),
    ])
    .await;
    let out = ok(&ws, &["sync", "run", "to_lake"]);
    assert!(out.contains("added column(s) note"), "{out}");
    let after = fields(&cat, t);
    assert_eq!(after[..6], before[..]);
    assert_eq!(after[6], (7, "note".to_string(), false));
    let snaps = snapshot_ids(&ws, t);
    assert_eq!(snaps.len(), 2);

    let rows = pyice(&cat, &["read", t]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 25);
    for r in rows {
        let id = r["id"].as_i64().unwrap();
        if id <= 20 {
            assert_eq!(r["note"], Value::Null, "{r}");
        } else {
            assert_eq!(r["note"], Value::from(format!("note {id}")), "{r}");
        }
    }
    // The first snapshot still reads with its schema: 20 rows, no `note`.
    let snaps_py = in_history_order(&pyice(&cat, &["snapshots", t]));
    let first = snaps_py[0]["id"].as_i64().unwrap().to_string();
    let old = pyice(&cat, &["read", t, &first]);
    let old = old.as_array().unwrap();
    assert_eq!(old.len(), 20);
    assert!(old.iter().all(|r| r.get("note").is_none()), "{old:?}");
    // Tidemark reads the same.
    assert_eq!(tidemark_rows(&ws, t, None).len(), 25);

    // Changes the table cannot follow stop the run before anything is
    // written, naming the column; schema and snapshots stay as they were.
    db.exec(&[
        "ALTER TABLE items ADD COLUMN must integer NOT NULL DEFAULT 0".to_string(),
        insert_sql(26, 27, base + 2_000_000_000),
    ])
    .await;
    refused(
        &ws,
        "to_lake",
        &["new column must is NOT NULL", "Nothing was written"],
    );
    db.exec(&[
        "ALTER TABLE items DROP COLUMN must".to_string(),
        "ALTER TABLE items DROP COLUMN tag".to_string(),
    ])
    .await;
    refused(&ws, "to_lake", &["column tag", "no longer in the source"]);
    db.exec(&[
        "ALTER TABLE items ADD COLUMN tag uuid".to_string(),
        "ALTER TABLE items ALTER COLUMN qty TYPE text".to_string(),
    ])
    .await;
    refused(
        &ws,
        "to_lake",
        &["column qty changed type", "int", "string"],
    );
    assert_eq!(fields(&cat, t), after);
    assert_eq!(snapshot_ids(&ws, t), snaps);
}

/// One round of source changes: new ids and updates of some old ones.
fn change_round(round: i64, base: i64) -> [String; 2] {
    [
        insert_sql(
            10_000 + round * 100,
            10_000 + round * 100 + 39,
            base + round * 5_000_000_000,
        ),
        format!(
            "UPDATE items SET name = 'round {round}', qty = qty + 1, \
             updated_at = to_timestamp({}::double precision / 1000000) + (id || ' us')::interval \
             WHERE id % 53 = {round}",
            base + round * 5_000_000_000 + 1_000_000_000
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_chained_job_runs_database_to_iceberg_to_database() {
    let src = TestDb::create(Kind::Pg).await;
    let dst = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    let cat = dir.path().join("ws-iceberg");
    ok(&ws, &["connection", "add", "src", "--url", &src.url]);
    ok(&ws, &["connection", "add", "dst", "--url", &dst.url]);
    let base = 1_700_000_000_000_000i64;
    src.exec(&[ITEMS.to_string(), insert_sql(1, 2_000, base)])
        .await;
    // The target table exists with a column too narrow for the names: the
    // second leg fails after the first has staged its snapshot.
    dst.exec(&[ITEMS.replace("name text", "name varchar(4)")])
        .await;
    let added = json(
        &ws,
        &[
            "sync",
            "add",
            "chain",
            "--source",
            "src",
            "--table",
            "items",
            "--via",
            "iceberg:stage.items",
            "--target",
            "dst",
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "upsert",
            "--batch-size",
            "500",
        ],
    );
    assert_eq!(added["job"]["via"], "iceberg:stage.items", "{added}");
    let out = tidemark(&ws, &["sync", "run", "chain"]);
    assert!(!out.status.success(), "the merge into varchar(4) fails");
    let staged = snapshot_ids(&ws, "stage.items");
    assert_eq!(staged.len(), 1, "the first leg committed its snapshot");
    assert_eq!(
        pyice(&cat, &["read", "stage.items"])
            .as_array()
            .unwrap()
            .len(),
        2_000
    );
    // Fixed, the next run stages nothing new and merges the pending snapshot.
    dst.exec(&["ALTER TABLE items ALTER COLUMN name TYPE text".to_string()])
        .await;
    let run = json(&ws, &["sync", "run", "chain"]);
    assert_eq!(run[0]["run"]["status"], "succeeded", "{run}");
    assert_eq!(run[0]["run"]["rows_extracted"], 0, "{run}");
    assert_eq!(run[0]["run"]["rows_loaded"], 2_000, "{run}");
    assert_eq!(
        snapshot_ids(&ws, "stage.items"),
        staged,
        "no empty snapshot"
    );
    assert_eq!(table_text(&src).await, table_text(&dst).await);
    for round in 1..=3i64 {
        src.exec(&change_round(round, base)).await;
        let before = snapshot_ids(&ws, "stage.items").len();
        let run = json(&ws, &["sync", "run", "chain"]);
        assert_eq!(run[0]["run"]["status"], "succeeded", "round {round}: {run}");
        assert!(
            run[0]["run"]["rows_extracted"].as_u64().unwrap() >= 40,
            "{run}"
        );
        assert_eq!(
            snapshot_ids(&ws, "stage.items").len(),
            before + 1,
            "round {round}: one snapshot per run"
        );
        assert_eq!(
            table_text(&src).await,
            table_text(&dst).await,
            "round {round}: the target equals the source"
        );
    }
    // Nothing changed: no snapshot, nothing loaded.
    let snaps = snapshot_ids(&ws, "stage.items");
    let run = json(&ws, &["sync", "run", "chain"]);
    assert_eq!(run[0]["run"]["rows_extracted"], 0, "{run}");
    assert_eq!(run[0]["run"]["rows_loaded"], 0, "{run}");
    assert_eq!(snapshot_ids(&ws, "stage.items"), snaps);
    // The source watermark is the job's, shown by `sync show`.
    let shown = json(&ws, &["sync", "show", "chain"]);
    assert!(
        shown["checkpoint"]["watermark"]
            .as_str()
            .is_some_and(|w| w.contains("updated_at")),
        "{shown}"
    );
    // A chained job merges; replace and SCD2 have no meaning here.
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
            "--via",
            "iceberg:stage.items",
            "--target",
            "dst",
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "scd2",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--merge scd2 does not apply to a chained job"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_catalog_serves_sync_reads_pyiceberg_and_a_chained_job() {
    let server = rest::RestCatalogServer::start();
    let src = TestDb::create(Kind::Pg).await;
    let dst = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    let env = [("LAKE_TOKEN", server.token.as_str())];
    let cat = [
        "--catalog-url",
        server.url.as_str(),
        "--catalog-token-env",
        "LAKE_TOKEN",
    ];
    let py_env = server.pyice_env();
    let url = std::ffi::OsStr::new(&server.url);
    ok(&ws, &["connection", "add", "src", "--url", &src.url]);
    ok(&ws, &["connection", "add", "dst", "--url", &dst.url]);
    let base = 1_700_000_000_000_000i64;
    src.exec(&[ITEMS.to_string(), insert_sql(1, 1_500, base)])
        .await;
    let mut add = vec![
        "sync",
        "add",
        "to_lake",
        "--source",
        "src",
        "--table",
        "items",
        "--target",
        "iceberg:lake.items",
        "--detect",
        "timestamp",
        "--column",
        "updated_at",
        "--merge",
        "append",
    ];
    add.extend_from_slice(&cat);
    let added = json_with(&ws, &add, &env);
    assert_eq!(added["job"]["iceberg_catalog"]["url"], server.url.as_str());
    assert_eq!(added["job"]["iceberg_catalog"]["token_env"], "LAKE_TOKEN");
    ok_with(&ws, &["sync", "run", "to_lake"], &env);
    src.exec(&change_round(1, base)).await;
    ok_with(&ws, &["sync", "run", "to_lake"], &env);
    // Nothing is in the embedded catalog; the table is in the REST one.
    assert_eq!(json(&ws, &["iceberg", "tables"]), serde_json::json!([]));
    let mut tables = vec!["iceberg", "tables"];
    tables.extend_from_slice(&cat);
    let listed = json_with(&ws, &tables, &env);
    assert_eq!(listed[0]["table"], "lake.items", "{listed}");
    assert_eq!(listed[0]["snapshots"], 2, "{listed}");
    // PyIceberg, through the same REST catalog, sees the same snapshots
    // (with the watermark in their summaries) and the same rows.
    let ours = snapshot_ids_in(&ws, &cat, &env, "lake.items");
    let theirs = in_history_order(&pyice_at(url, &["snapshots", "lake.items"], &py_env));
    let theirs_ids: Vec<i64> = theirs.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(sorted_ids(ours.clone()), sorted_ids(theirs_ids.clone()));
    assert!(theirs
        .iter()
        .all(|s| s["summary"]["tidemark.job"] == "to_lake"
            && s["summary"]["tidemark.watermark"].is_string()));
    let py_rows = pyice_at(url, &["read", "lake.items"], &py_env);
    let rows = tidemark_rows_in(&ws, &cat, &env, "lake.items", None);
    assert!(rows.len() > 1_500, "{}", rows.len());
    assert_eq!(sorted(rows), sorted(py_rows.as_array().unwrap().clone()));
    // Time travel agrees too.
    let first = theirs_ids[0];
    let py_first = pyice_at(url, &["read", "lake.items", &first.to_string()], &py_env);
    let first_rows = tidemark_rows_in(&ws, &cat, &env, "lake.items", Some(first));
    assert_eq!(first_rows.len(), 1_500);
    assert_eq!(
        sorted(first_rows),
        sorted(py_first.as_array().unwrap().clone())
    );
    // Rows PyIceberg appends through the catalog are read by Tidemark.
    let extra = serde_json::json!([{
        "id": 900_001, "name": "from pyiceberg", "amount": "3.50", "qty": 2,
        "updated_at": base, "tag": null
    }]);
    pyice_at(url, &["append", "lake.items", &extra.to_string()], &py_env);
    let rows = tidemark_rows_in(&ws, &cat, &env, "lake.items", None);
    assert!(rows.iter().any(|r| r["name"] == "from pyiceberg"));

    // A chained job through the REST catalog, over several runs.
    let mut chain = vec![
        "sync",
        "add",
        "chain",
        "--source",
        "src",
        "--table",
        "items",
        "--via",
        "iceberg:stage.items",
        "--target",
        "dst",
        "--detect",
        "timestamp",
        "--column",
        "updated_at",
        "--merge",
        "upsert",
    ];
    chain.extend_from_slice(&cat);
    ok_with(&ws, &chain, &env);
    for round in 0..3i64 {
        if round > 0 {
            src.exec(&change_round(round + 1, base)).await;
        }
        ok_with(&ws, &["sync", "run", "chain"], &env);
        assert_eq!(
            snapshot_ids_in(&ws, &cat, &env, "stage.items").len(),
            round as usize + 1,
            "round {round}: one snapshot per run"
        );
        assert_eq!(
            table_text(&src).await,
            table_text(&dst).await,
            "round {round}: the target equals the source"
        );
    }
    let run = json_with(&ws, &["sync", "run", "chain"], &env);
    assert_eq!(run[0]["run"]["rows_extracted"], 0, "{run}");
    assert_eq!(snapshot_ids_in(&ws, &cat, &env, "stage.items").len(), 3);
    // The token is in no file Tidemark wrote.
    let stored = std::fs::read(&ws).unwrap();
    let token = server.token.as_bytes();
    assert!(!stored.windows(token.len()).any(|w| w == token));
}

fn sorted_ids(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort();
    ids
}

/// `tidemark` fails with every one of `expect` in its output and without
/// `secret` anywhere in it.
fn fails_with(ws: &Path, args: &[&str], envs: &[(&str, &str)], expect: &[&str], secret: &str) {
    let out = tidemark_with(ws, args, envs);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{args:?} should fail:\n{text}");
    for e in expect {
        assert!(text.contains(e), "`{e}` missing from:\n{text}");
    }
    assert!(!text.contains(secret), "the token leaked:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_catalog_mistakes_are_refused_by_name_without_the_token() {
    let server = rest::RestCatalogServer::start();
    let db = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    ok(&ws, &["connection", "add", "src", "--url", &db.url]);
    db.exec(&[ITEMS.to_string(), insert_sql(1, 10, 1_700_000_000_000_000)])
        .await;
    let wrong = "rb_0123456789abcdef0123456789abcdef";
    let url = server.url.as_str();
    let tables = |extra: &[&'static str]| {
        let mut a = vec!["iceberg", "tables", "--catalog-url"];
        a.push(url);
        a.extend_from_slice(extra);
        a
    };
    fails_with(
        &ws,
        &tables(&["--catalog-token-env", "LAKE_TOKEN"]),
        &[("LAKE_TOKEN", wrong)],
        &["refused the token", "401"],
        wrong,
    );
    fails_with(
        &ws,
        &tables(&["--catalog-token-env", "LAKE_TOKEN"]),
        &[],
        &["LAKE_TOKEN", "is not set"],
        &server.token,
    );
    fails_with(
        &ws,
        &tables(&["--catalog-token-env", "rb_abc-def"]),
        &[],
        &["not an environment variable name"],
        &server.token,
    );
    let with_creds = url.replace("http://", &format!("http://user:{wrong}@"));
    fails_with(
        &ws,
        &["iceberg", "tables", "--catalog-url", &with_creds],
        &[],
        &["must not carry credentials", "--catalog-token-env"],
        wrong,
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = format!("http://127.0.0.1:{port}");
    fails_with(
        &ws,
        &["iceberg", "tables", "--catalog-url", &nowhere],
        &[],
        &["could not be reached", &nowhere],
        &server.token,
    );
    let with_v1 = format!("{url}/v1");
    fails_with(
        &ws,
        &tables(&["--catalog-token-env", "LAKE_TOKEN"])
            .into_iter()
            .map(|a| if a == url { with_v1.as_str() } else { a })
            .collect::<Vec<_>>(),
        &[("LAKE_TOKEN", &server.token)],
        &["no Iceberg REST API there", "without /v1"],
        &server.token,
    );
    fails_with(
        &ws,
        &["iceberg", "tables", "--catalog-token-env", "LAKE_TOKEN"],
        &[],
        &["give --catalog-url too"],
        &server.token,
    );
    // A job is refused before it is stored: a wrong token, and a catalog
    // on a job that has no Iceberg table.
    let job = |name: &'static str, target: &'static str, merge: &'static str| {
        vec![
            "sync",
            "add",
            name,
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            target,
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            merge,
            "--catalog-url",
            url,
            "--catalog-token-env",
            "LAKE_TOKEN",
        ]
    };
    fails_with(
        &ws,
        &job("lake", "iceberg:lake.items", "append"),
        &[("LAKE_TOKEN", wrong)],
        &["refused the token"],
        wrong,
    );
    fails_with(
        &ws,
        &job("plain", "src", "upsert"),
        &[("LAKE_TOKEN", &server.token)],
        &["only a job with an iceberg: source, target or --via"],
        &server.token,
    );
    assert_eq!(json(&ws, &["sync", "list"]), serde_json::json!([]));
}
