//! `tidemark serve` end to end over real sockets: token, Host check, calls,
//! static files and the event stream.

use reqwest::header::{AUTHORIZATION, HOST};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use tidemark_server::{ProgressEvent, ServeError, ServeOptions, Server};
use tokio::sync::oneshot;

struct Running {
    addr: SocketAddr,
    token: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
    _dir: tempfile::TempDir,
}

impl Running {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

fn write_ui(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Tidemark</title>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log('ui')").unwrap();
}

/// A demo workspace and a UI folder. The demo deploys to its SQLite
/// environments with a runtime of its own, so it is made off the test's runtime.
async fn options(dir: &Path) -> ServeOptions {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || options_blocking(&dir))
        .await
        .unwrap()
}

fn options_blocking(dir: &Path) -> ServeOptions {
    let workspace = dir.join("demo.tmdb");
    tidemark_app::create_demo(&workspace, false).unwrap();
    let ui = dir.join("ui");
    write_ui(&ui);
    let mut opts = ServeOptions::new(workspace, ui);
    opts.port = 0;
    opts.actor = "tester".into();
    opts
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::bind(options(dir.path()).await).await.unwrap();
    let (addr, token) = (server.local_addr(), server.token().to_string());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        token,
        stop: Some(tx),
        task,
        _dir: dir,
    }
}

async fn call(s: &Running, body: Value) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/call", s.base()))
        .header(AUTHORIZATION, format!("Bearer {}", s.token))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn binds_loopback_by_default_and_prints_a_token_url() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path()).await;
    assert_eq!(opts.bind, IpAddr::V4(Ipv4Addr::LOCALHOST));
    let server = Server::bind(opts).await.unwrap();
    let addr = server.local_addr();
    assert_eq!(addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_ne!(addr.port(), 0);
    let token = server.token();
    assert!(token.len() >= 32 && token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        server.url(),
        format!("http://127.0.0.1:{}/#token={token}", addr.port())
    );
}

#[tokio::test]
async fn refuses_a_non_loopback_address_without_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path()).await;
    opts.bind = "0.0.0.0".parse().unwrap();
    let err = Server::bind(opts).await.err().expect("must refuse");
    assert!(matches!(err, ServeError::NotLoopback(_)), "{err}");
    assert!(err.to_string().contains("--bind"), "{err}");
}

#[tokio::test]
async fn refuses_to_start_without_a_built_ui() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path()).await;
    opts.ui_dir = dir.path().join("nowhere");
    let err = Server::bind(opts).await.err().expect("must refuse");
    assert!(
        err.to_string().contains("npm --prefix ui run build"),
        "{err}"
    );
}

#[tokio::test]
async fn api_calls_need_the_token() {
    let s = start().await;
    let client = reqwest::Client::new();
    let body = json!({"command": "snapshot_list"});
    let url = format!("{}/api/call", s.base());

    let none = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let err: Value = none.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("token"), "{err}");

    let wrong = client
        .post(&url)
        .header(AUTHORIZATION, format!("Bearer {}", "0".repeat(64)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    // The query form is only for the event stream.
    let query = client
        .post(format!("{url}?token={}", s.token))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), StatusCode::UNAUTHORIZED);

    let events = client
        .get(format!("{}/api/events", s.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn snapshot_list_returns_the_three_demo_snapshots() {
    let s = start().await;
    let (status, list) = call(&s, json!({"command": "snapshot_list"})).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let versions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0.1.0", "0.2.0", "1.0.0"]);
    s.stop().await;
}

#[tokio::test]
async fn errors_come_back_as_kind_and_message() {
    let s = start().await;
    let (status, err) = call(
        &s,
        json!({"command": "snapshot_show", "args": {"version": "9.9.9"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["kind"], "bad_input");
    assert!(err["message"].as_str().unwrap().contains("9.9.9"), "{err}");

    let (status, err) = call(&s, json!({"command": "no_such_thing"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("malformed call"),
        "{err}"
    );
    s.stop().await;
}

#[tokio::test]
async fn edits_and_snapshots_go_through_the_api() {
    let s = start().await;
    let (status, added) = call(
        &s,
        json!({"command": "add_ops", "args": {"ops": [
            {"target": "tbl_customers", "op": "add_column",
             "payload": {"name": "nickname", "data_type": {"kind": "text"}, "nullable": true}}
        ]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["uncommitted"], 1);
    let (status, created) = call(
        &s,
        json!({"command": "snapshot_create", "args": {"bump": "minor", "name": "Nicknames"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["version"], "1.1.0");
    let (_, list) = call(&s, json!({"command": "snapshot_list"})).await;
    assert_eq!(list.as_array().unwrap().len(), 4);
    s.stop().await;
}

#[tokio::test]
async fn a_foreign_host_header_is_rejected() {
    let s = start().await;
    let client = reqwest::Client::new();
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{}", s.addr.port()),
        "127.0.0.1:1".to_string(),
    ] {
        let resp = client
            .post(format!("{}/api/call", s.base()))
            .header(HOST, &host)
            .header(AUTHORIZATION, format!("Bearer {}", s.token))
            .json(&json!({"command": "snapshot_list"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "Host: {host}");
        let page = client
            .get(format!("{}/", s.base()))
            .header(HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "Host: {host}");
    }
    let ok = client
        .get(format!("{}/", s.base()))
        .header(HOST, format!("localhost:{}", s.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn serves_the_ui_with_an_index_fallback_and_no_cors() {
    let s = start().await;
    let client = reqwest::Client::new();
    let index = client.get(format!("{}/", s.base())).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert!(index.headers().get("access-control-allow-origin").is_none());
    assert!(index.headers().get("content-security-policy").is_some());
    assert!(index.text().await.unwrap().contains("<title>Tidemark"));

    let js = client
        .get(format!("{}/assets/app.js", s.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(js.text().await.unwrap(), "console.log('ui')");

    let deep = client
        .get(format!("{}/timeline/1.0.0", s.base()))
        .send()
        .await
        .unwrap();
    assert!(deep.text().await.unwrap().contains("<title>Tidemark"));

    let preflight = client
        .request(reqwest::Method::OPTIONS, format!("{}/api/call", s.base()))
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    s.stop().await;
}

#[tokio::test]
async fn the_event_stream_takes_the_query_token_and_carries_progress() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::bind(options(dir.path()).await).await.unwrap();
    let (base, token, hub) = (
        format!("http://{}", server.local_addr()),
        server.token().to_string(),
        server.progress().clone(),
    );
    assert!(server.url().ends_with(&format!("#token={token}")));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));

    let mut resp = reqwest::Client::new()
        .get(format!("{base}/api/events?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));

    let event = ProgressEvent {
        job: "job-test".into(),
        label: "scan".into(),
        done: 3,
        total: Some(10),
        finished: false,
        error: None,
        sync: None,
    };
    // The subscription starts when the response starts; emit until seen.
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !text.contains("job-test") {
        assert!(tokio::time::Instant::now() < deadline, "no event: {text:?}");
        hub.emit(event.clone());
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(std::time::Duration::from_millis(200), resp.chunk()).await
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(text.contains("event: progress"), "{text}");
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("a data line");
    let got: Value = serde_json::from_str(data).unwrap();
    assert_eq!(got, serde_json::to_value(&event).unwrap());
    // Shutting down ends the open stream instead of waiting for the client.
    let _ = tx.send(());
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("shutdown with an open event stream")
        .unwrap()
        .unwrap();
    drop(resp);
}

#[tokio::test]
async fn calls_that_reach_live_databases_run_off_the_async_threads() {
    // env_status opens the demo's SQLite environments with a runtime of its
    // own; it must not run on a thread that drives async tasks.
    let s = start().await;
    let (status, report) = call(&s, json!({"command": "env_status"})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let names: Vec<&str> = report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["environment"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev", "test", "prod"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_run_reports_every_batch_as_a_progress_event() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("demo.tmdb");
    tidemark_app::create_demo(&workspace, false).unwrap();
    let app = tidemark_app::App::open(&workspace, "tester").unwrap();
    let backend = tidemark_server::Backend::new(app);
    let mut events = backend.progress().subscribe();
    let result = backend
        .call(
            serde_json::from_value(json!({"command": "sync_run", "args": {"name": "events"}}))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(result["run"]["status"], "succeeded", "{result}");
    let rows = result["run"]["rows_loaded"].as_u64().unwrap();
    let batches = result["run"]["batches"].as_u64().unwrap();
    assert_eq!(rows, 5000);
    assert!(batches > 2, "{batches} batches");

    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    let progress: Vec<_> = seen.iter().filter_map(|e| e.sync.as_ref()).collect();
    assert!(
        seen.iter()
            .all(|e| e.job == seen[0].job && e.label.starts_with("sync events")),
        "{seen:?}"
    );
    // One event per committed batch (plus the start and the end), rows growing.
    let per_batch: Vec<u64> = progress.iter().map(|p| p.batches).collect();
    for b in 1..=batches {
        assert!(
            per_batch.contains(&b),
            "batch {b} was reported: {per_batch:?}"
        );
    }
    assert!(progress.windows(2).all(|w| w[0].rows <= w[1].rows));
    let last = seen.last().unwrap();
    assert!(last.finished && last.error.is_none(), "{last:?}");
    assert_eq!(last.done, rows);
    assert_eq!(
        last.sync.as_ref().map(|p| p.watermark.is_some()),
        Some(true)
    );
    drop(backend);
}
