//! Broker targets against the real NATS JetStream server on 127.0.0.1:4222
//! (started here if it is down): a PostgreSQL table's inserts and updates
//! arrive on the subject, every change once after dedupe by idempotency id
//! and in cursor order per key, also when the real `tidemark` binary is
//! killed with SIGKILL in the middle of `sync run`, and when the NATS server
//! goes away during `sync watch` (the outage shows in the run history).
//! Each test publishes to its own subject and deletes its stream.

#[path = "../../sync/tests/common/mod.rs"]
mod common;

use common::{Kind, Rng, TestDb};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NATS: &str = "127.0.0.1:4222";
const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// The tests share one NATS server, and one of them stops it.
static NATS_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn nats_up() -> bool {
    TcpStream::connect_timeout(&NATS.parse().unwrap(), Duration::from_millis(300)).is_ok()
}

/// Starts the NATS server (JetStream, file storage) if it is not running,
/// installing it first if it is missing, and waits for its port.
fn start_nats() {
    if !Path::new(NATS_SERVER).exists() {
        let status = Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "nats-server"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .expect("run apt-get");
        assert!(status.success(), "could not install nats-server");
    }
    if !nats_up() {
        let status = Command::new("start-stop-daemon")
            .args([
                "--start",
                "--oknodo",
                "--background",
                "--exec",
                NATS_SERVER,
                "--",
            ])
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                "4222",
                "-js",
                "-sd",
                "/var/lib/nats-server",
            ])
            .args(["-l", "/var/log/nats-server.log"])
            .status()
            .expect("run start-stop-daemon");
        assert!(
            status.success(),
            "start-stop-daemon failed to start nats-server"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while !nats_up() {
        assert!(Instant::now() < deadline, "nats-server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops the NATS server with a plain `kill` of its pid and waits until it
/// is gone.
fn stop_nats() {
    let out = Command::new("pidof")
        .arg(NATS_SERVER)
        .output()
        .expect("run pidof");
    let pids = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pids.is_empty(), "no nats-server to stop");
    for pid in pids.split_whitespace() {
        let status = Command::new("kill").arg(pid).status().expect("run kill");
        assert!(status.success(), "kill {pid} failed");
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let alive = Command::new("pidof")
            .arg(NATS_SERVER)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !alive && !nats_up() {
            return;
        }
        assert!(Instant::now() < deadline, "nats-server did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Makes sure the NATS server runs again when a test ends, also on failure.
struct NatsRestart;

impl Drop for NatsRestart {
    fn drop(&mut self) {
        start_nats();
    }
}

/// Deletes a test's stream when the test ends, also on failure.
struct StreamGuard(String);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let name = self.0.clone();
        let done = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async {
                    if let Ok(c) = async_nats::connect(NATS).await {
                        let _ = async_nats::jetstream::new(c).delete_stream(&name).await;
                    }
                })
        });
        let _ = done.join();
    }
}

/// A unique subject and the stream Tidemark creates for it.
fn subject() -> (String, StreamGuard) {
    let id = &uuid::Uuid::new_v4().simple().to_string()[..12];
    (
        format!("tm_test.{id}.changes"),
        StreamGuard(format!("tidemark_tm_test_{id}_changes")),
    )
}

fn tidemark(ws: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env_remove("TIDEMARK_WORKSPACE")
        .output()
        .expect("run tidemark")
}

fn ok(ws: &Path, args: &[&str]) -> String {
    let out = tidemark(ws, args);
    assert!(
        out.status.success(),
        "tidemark {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn spawn(ws: &Path, args: &[&str], log: Option<&Path>) -> Child {
    let (out, err) = match log {
        Some(p) => {
            let f = std::fs::File::create(p).expect("log file");
            (Stdio::from(f.try_clone().unwrap()), Stdio::from(f))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env_remove("TIDEMARK_WORKSPACE")
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn tidemark")
}

/// The source table and a model of every version of every row it held.
struct Source {
    rows: BTreeMap<i64, (String, i64, String)>,
    versions: BTreeMap<(i64, String), (String, i64)>,
    next_id: i64,
    tick: i64,
    rng: Rng,
}

impl Source {
    fn new(seed: u64) -> Source {
        Source {
            rows: BTreeMap::new(),
            versions: BTreeMap::new(),
            next_id: 1,
            tick: 0,
            rng: Rng::new(seed),
        }
    }

    fn create() -> Vec<String> {
        vec![
            "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty bigint, \
              updated_at timestamp(6) NOT NULL)"
                .into(),
        ]
    }

    /// A fresh timestamp, later than every one before; `tie` repeats the
    /// last one (rows sharing a tracking value).
    fn stamp(&mut self, tie: bool) -> String {
        if !tie || self.tick == 0 {
            self.tick += 1 + self.rng.below(3) as i64;
        }
        common::ts_text(self.tick * 1_000)
    }

    fn record(&mut self, id: i64, name: String, qty: i64, ts: String) {
        self.rows.insert(id, (name, qty, ts));
    }

    /// Call once the statements ran and before any sync can see them: the
    /// rows as they are now are changes a sync must publish (a row inserted
    /// and updated again before a sync ran only ever shows its last
    /// version).
    fn settle(&mut self) {
        for (id, (name, qty, ts)) in &self.rows {
            self.versions
                .insert((*id, ts.clone()), (name.clone(), *qty));
        }
    }

    fn insert(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let id = self.next_id;
                self.next_id += 1;
                let ts = self.stamp(i % 4 != 0);
                let name = format!("item {id} 'v1'");
                let qty = self.rng.below(1000) as i64;
                let sql = format!(
                    "INSERT INTO items VALUES ({id}, '{}', {qty}, '{ts}')",
                    name.replace('\'', "''")
                );
                self.record(id, name, qty, ts);
                sql
            })
            .collect()
    }

    /// Updates `n` distinct existing rows, each to a new tracking value.
    fn update(&mut self, n: usize) -> Vec<String> {
        let ids: Vec<i64> = self.rows.keys().copied().collect();
        let mut chosen = BTreeSet::new();
        while chosen.len() < n.min(ids.len()) {
            chosen.insert(ids[self.rng.below(ids.len() as u64) as usize]);
        }
        chosen
            .into_iter()
            .map(|id| {
                let tie = self.rng.chance(30);
                let ts = self.stamp(tie);
                let name = format!("item {id} v{}", self.rng.below(1_000_000));
                let qty = self.rng.below(1000) as i64;
                let sql = format!(
                    "UPDATE items SET name = '{name}', qty = {qty}, updated_at = '{ts}' WHERE id = {id}"
                );
                self.record(id, name, qty, ts);
                sql
            })
            .collect()
    }
}

/// Everything on the stream, in stream order.
async fn read_stream(stream: &str) -> Vec<(String, Value)> {
    let client = async_nats::connect(NATS).await.expect("connect to NATS");
    let js = async_nats::jetstream::new(client);
    let mut s = js
        .get_stream(stream)
        .await
        .expect("the job's stream exists");
    let info = s.info().await.expect("stream info").clone();
    let mut out = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        if info.state.messages == 0 {
            break;
        }
        let m = s.get_raw_message(seq).await.expect("read a message");
        let id = m
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.to_string())
            .expect("every message carries Nats-Msg-Id");
        let v: Value = serde_json::from_slice(&m.payload).expect("a JSON event");
        out.push((id, v));
    }
    out
}

/// What the stream holds, checked against the model: after dedupe by
/// idempotency id every version appears exactly once, nothing else appears,
/// ids are stable per (key, cursor), and each key's versions come in cursor
/// order. Returns (messages, duplicates) or the first problem found.
fn check_events(
    job: &str,
    messages: &[(String, Value)],
    model: &Source,
) -> Result<(usize, usize), String> {
    let mut seen: HashMap<String, (i64, String)> = HashMap::new();
    let mut by_version: HashMap<(i64, String), String> = HashMap::new();
    let mut last_cursor: HashMap<i64, String> = HashMap::new();
    let mut duplicates = 0;
    for (header_id, e) in messages {
        let id = e["id"].as_str().ok_or("event without id")?.to_string();
        if *header_id != id {
            return Err(format!(
                "Nats-Msg-Id {header_id} differs from the event id {id}"
            ));
        }
        if id.len() != 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("{id} is not a SHA-256 hex id"));
        }
        if e["job"] != job || !e["table"].as_str().unwrap_or("").ends_with("items") {
            return Err(format!("wrong job or table in {e}"));
        }
        if e["op"] != "upsert" {
            return Err(format!("unexpected operation in {e}"));
        }
        let key = e["key"]["id"].as_i64().ok_or("event without key id")?;
        let cursor = e["cursor"]
            .as_str()
            .ok_or("event without cursor")?
            .to_string();
        if e["row"]["id"].as_i64() != Some(key)
            || e["row"]["updated_at"].as_str() != Some(cursor.as_str())
        {
            return Err(format!("key or cursor does not match the row in {e}"));
        }
        if let Some(prev) = seen.get(&id) {
            if *prev != (key, cursor.clone()) {
                return Err(format!("id {id} names two changes"));
            }
            duplicates += 1;
            continue;
        }
        if let Some(other) = by_version.insert((key, cursor.clone()), id.clone()) {
            return Err(format!(
                "change id={key} at {cursor} has two ids: {other} and {id}"
            ));
        }
        seen.insert(id, (key, cursor.clone()));
        let Some((name, qty)) = model.versions.get(&(key, cursor.clone())) else {
            return Err(format!("event for a change that never happened: {e}"));
        };
        if e["row"]["name"] != name.as_str() || e["row"]["qty"].as_i64() != Some(*qty) {
            return Err(format!(
                "event {e} does not hold the row's values {name:?}, {qty}"
            ));
        }
        if let Some(prev) = last_cursor.get(&key) {
            if *prev >= cursor {
                return Err(format!(
                    "key {key}: change at {cursor} arrived after {prev}"
                ));
            }
        }
        last_cursor.insert(key, cursor);
    }
    let missing: Vec<&(i64, String)> = model
        .versions
        .keys()
        .filter(|v| !by_version.contains_key(*v))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} changes never arrived, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(3)]
        ));
    }
    Ok((messages.len(), duplicates))
}

fn add_job(ws: &Path, job: &str, subject: &str, batch: &str) {
    ok(
        ws,
        &[
            "sync",
            "add",
            job,
            "--source",
            "src",
            "--table",
            "items",
            "--target",
            &format!("nats:{subject}"),
            "--nats-url",
            "nats://127.0.0.1:4222",
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            "upsert",
            "--batch-size",
            batch,
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_publishers_lose_no_change() {
    let _serial = NATS_LOCK.lock().await;
    start_nats();
    let seed = Rng::seed("killed_publishers_lose_no_change");
    let mut rng = Rng::new(seed ^ 0xb40c);
    let src = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    let (subject, stream) = subject();
    ok(&ws, &["connection", "add", "src", "--url", &src.url]);
    let mut model = Source::new(seed);
    src.exec(&Source::create()).await;
    src.exec(&model.insert(500)).await;
    model.settle();
    add_job(&ws, "feed", &subject, "10");

    // Kills land at random points of the publishing itself: once the
    // stream has grown by a random part of what is still to come.
    let client = async_nats::connect(NATS).await.expect("connect to NATS");
    let js = async_nats::jetstream::new(client);
    let stream_len = || async {
        match js.get_stream(&stream.0).await {
            Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        }
    };
    let (mut kills, mut killed_mid_run) = (0, 0);
    for round in 0..5 {
        if round > 0 {
            let mut ops = model.insert(150);
            ops.extend(model.update(100));
            src.exec(&ops).await;
            model.settle();
        }
        for _ in 0..2 {
            let before = stream_len().await;
            let pending = (model.versions.len() as u64).saturating_sub(before).max(1);
            let at = before + 1 + rng.below(pending);
            let mut child = KillOnDrop(spawn(&ws, &["sync", "run", "feed"], None));
            let deadline = Instant::now() + Duration::from_secs(30);
            let hit = loop {
                if child.0.try_wait().expect("poll child").is_some() {
                    break false;
                }
                if stream_len().await >= at {
                    break child.0.try_wait().expect("poll child").is_none();
                }
                assert!(Instant::now() < deadline, "`sync run` published nothing");
                tokio::time::sleep(Duration::from_millis(1)).await;
            };
            // Child::kill is SIGKILL on Unix.
            drop(child);
            kills += 1;
            killed_mid_run += usize::from(hit);
        }
        ok(&ws, &["sync", "run", "feed"]);
        let messages = read_stream(&stream.0).await;
        if let Err(e) = check_events("feed", &messages, &model) {
            panic!("round {round} (seed {seed}): {e}");
        }
    }
    eprintln!("{killed_mid_run} of {kills} kills hit a running publisher");
    assert!(
        killed_mid_run >= 8,
        "only {killed_mid_run} of {kills} kills hit a running `sync run`"
    );
    // The workspace holds the checkpoint, readable in `sync show`.
    let shown: Value = serde_json::from_str(&ok(&ws, &["--json", "sync", "show", "feed"])).unwrap();
    let wm = shown["checkpoint"]["watermark"]
        .as_str()
        .unwrap_or_default();
    let newest = model.rows.values().map(|r| r.2.clone()).max().unwrap();
    assert!(
        wm.contains(&newest),
        "checkpoint {wm} is not at the newest change {newest}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_outlives_a_broker_outage() {
    let _serial = NATS_LOCK.lock().await;
    start_nats();
    let _restart = NatsRestart;
    let seed = Rng::seed("watch_outlives_a_broker_outage");
    let src = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    let (subject, stream) = subject();
    ok(&ws, &["connection", "add", "src", "--url", &src.url]);
    let mut model = Source::new(seed);
    src.exec(&Source::create()).await;
    src.exec(&model.insert(200)).await;
    model.settle();
    add_job(&ws, "live", &subject, "20");

    let log = dir.path().join("watch.log");
    let mut watch = KillOnDrop(spawn(
        &ws,
        &["sync", "watch", "live", "--every", "1s"],
        Some(&log),
    ));
    if let Err(e) = wait_for_changes(&stream.0, "live", &model, 30).await {
        panic!(
            "before the outage: {e}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    stop_nats();
    let mut ops = model.insert(50);
    ops.extend(model.update(40));
    src.exec(&ops).await;
    model.settle();
    std::thread::sleep(Duration::from_secs(3));
    start_nats();
    // Inserts only: `watch` may already be publishing the changes above,
    // and an update racing with that could replace a version before any
    // sync saw it.
    src.exec(&model.insert(30)).await;
    model.settle();
    if let Err(e) = wait_for_changes(&stream.0, "live", &model, 40).await {
        panic!(
            "after the outage: {e}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    // Ctrl-C: stops after the batch in flight, exit code 0.
    let pid = watch.0.id().to_string();
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("run kill");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = watch.0.try_wait().expect("poll watch") {
            break s;
        }
        if Instant::now() > deadline {
            panic!("`sync watch` did not stop on Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.success(),
        "`sync watch` ended with {status}:\n{log_text}"
    );

    let history: Value = serde_json::from_str(&ok(
        &ws,
        &["--json", "sync", "history", "live", "--limit", "500"],
    ))
    .unwrap();
    let runs = history.as_array().expect("a list of runs");
    // Newest first: the outage is a stretch of failed runs between
    // successful ones, each with the error.
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    eprintln!("runs, newest first: {statuses:?}");
    let failed: Vec<&Value> = runs.iter().filter(|r| r["status"] == "failed").collect();
    assert!(
        !failed.is_empty(),
        "the outage is not in the history: {statuses:?}"
    );
    for r in &failed {
        let error = r["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("NATS"),
            "a failed run without the broker error: {r}"
        );
    }
    let first_failed = statuses.iter().rposition(|s| *s == "failed").unwrap();
    let last_failed = statuses.iter().position(|s| *s == "failed").unwrap();
    assert!(
        statuses[first_failed + 1..].contains(&"succeeded")
            && statuses[..last_failed].contains(&"succeeded"),
        "the failed runs are not between successful ones: {statuses:?}"
    );
    let messages = read_stream(&stream.0).await;
    check_events("live", &messages, &model).unwrap_or_else(|e| panic!("{e}"));
}

/// Waits until the stream holds exactly the model's changes (see
/// [`check_events`]); the last problem found if it does not in time.
async fn wait_for_changes(
    stream: &str,
    job: &str,
    model: &Source,
    secs: u64,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let messages = read_stream_if_any(stream).await;
        match check_events(job, &messages, model) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// A `tidemark` process this test started, killed if the test ends first.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// [`read_stream`], empty while the stream does not exist yet or the server
/// is away.
async fn read_stream_if_any(stream: &str) -> Vec<(String, Value)> {
    let Ok(client) = async_nats::connect(NATS).await else {
        return Vec::new();
    };
    let js = async_nats::jetstream::new(client);
    if js.get_stream(stream).await.is_err() {
        return Vec::new();
    }
    read_stream(stream).await
}
