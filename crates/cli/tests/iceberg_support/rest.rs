//! A real Iceberg REST catalog for the tests: `rustberg` 0.3.0 on
//! 127.0.0.1, with an embedded redb catalog and a `file://` warehouse in a
//! temporary folder, and one API key.
//!
//! The binary is `$TIDEMARK_RUSTBERG`, else
//! `~/.cache/tidemark/tools/bin/rustberg` (installed by `scripts/deps.sh`).
//!
//! Clients authenticate with `Authorization: Bearer <token>` (the REST
//! `token` property); `X-API-Key: <token>` works too. The `warehouse`
//! property may be left unset; when set it must equal [`warehouse_url`]
//! exactly. Tables are placed at `<warehouse_url>/<ns>/.../<table>`.
//!
//! [`warehouse_url`]: RestCatalogServer::warehouse_url

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable rustberg reads the API key from.
const KEY_ENV: &str = "TIDEMARK_RUSTBERG_KEY";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

pub struct RestCatalogServer {
    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub url: String,
    /// The API key; send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// Local folder of the warehouse.
    pub warehouse: PathBuf,
    /// The warehouse as rustberg names it (`file:///...`), which is what
    /// `GET /v1/config` returns in `overrides.warehouse`.
    pub warehouse_url: String,
    /// Where the server's stdout and stderr go.
    pub log: PathBuf,
    child: Child,
    dir: tempfile::TempDir,
}

/// The rustberg binary, or a panic saying how to install it.
pub fn rustberg_binary() -> PathBuf {
    let bin = match std::env::var_os("TIDEMARK_RUSTBERG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/tidemark/tools/bin/rustberg")
        }
    };
    assert!(
        bin.is_file(),
        "the Iceberg REST catalog server is missing ({}): run `bash scripts/deps.sh` \
         or point $TIDEMARK_RUSTBERG at a rustberg 0.3.0 binary",
        bin.display()
    );
    bin
}

impl RestCatalogServer {
    /// Starts a fresh server and waits until it answers `GET /v1/config`.
    pub fn start() -> RestCatalogServer {
        let bin = rustberg_binary();
        // rustberg accepts only `rb_` + up to 61 characters of [A-Za-z0-9_-].
        let mut token = format!(
            "rb_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        token.truncate(64);
        // A port picked here may be taken before the server binds it.
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = tempfile::Builder::new()
                .prefix("tidemark-rest-")
                .tempdir()
                .expect("create tempdir");
            match Self::launch(&bin, dir, &token) {
                Ok(server) => return server,
                Err(log) if log.contains("in use") => last_log = log,
                Err(log) => panic!("rustberg did not start; its log:\n{log}"),
            }
        }
        panic!("rustberg could not bind a port; its log:\n{last_log}");
    }

    fn launch(bin: &Path, dir: tempfile::TempDir, token: &str) -> Result<Self, String> {
        let root = dir.path().to_path_buf();
        let catalog = root.join("catalog");
        let warehouse = root.join("warehouse");
        fs::create_dir_all(&catalog).expect("create catalog folder");
        fs::create_dir_all(&warehouse).expect("create warehouse folder");
        let warehouse_url = file_url(&warehouse);
        let port = free_port();
        let config = root.join("rustberg.toml");
        fs::write(
            &config,
            format!(
                r#"[server]
host = "127.0.0.1"
port = {port}

[server.auth]
api_key_enabled = true

[[server.auth.api_keys]]
name = "tidemark-tests"
tenant = "default"
roles = ["admin"]
key_env = "{KEY_ENV}"

[storage]
catalog_url = "{catalog}"
warehouse_location = "{warehouse_url}"

[rate_limit]
enabled = false
track_auth_failures = false

[logging]
level = "info"
with_span_events = false

[audit]
sink = "file"
path = "{audit}"
fail_closed = true
"#,
                catalog = file_url(&catalog),
                audit = root.join("audit.jsonl").display(),
            ),
        )
        .expect("write rustberg.toml");

        let log = root.join("rustberg.log");
        let out = File::create(&log).expect("create log file");
        let err = out.try_clone().expect("clone log file");
        let mut cmd = Command::new(bin);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("RUSTBERG_") {
                cmd.env_remove(name);
            }
        }
        let child = cmd
            .arg("--config")
            .arg(&config)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--insecure-http", "--log-level", "info"])
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env(KEY_ENV, token)
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));

        let mut server = RestCatalogServer {
            url: format!("http://127.0.0.1:{port}"),
            token: token.to_string(),
            warehouse,
            warehouse_url,
            log,
            child,
            dir,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("(exited with {status})\n{}", server.log_text()));
            }
            let last = match server.try_request("GET", "/v1/config", None) {
                Ok((200, _)) => return Ok(server),
                Ok((status, body)) => format!("{status} {body}"),
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                let text = server.log_text();
                panic!(
                    "rustberg did not answer GET /v1/config with 200 within {READY_TIMEOUT:?} \
                     (last: {last}); its log:\n{text}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The temporary folder holding the configuration, catalog and warehouse.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Environment for `pyice.py` pointed at [`Self::url`].
    pub fn pyice_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PYICE_TOKEN", self.token.clone()),
            ("PYICE_WAREHOUSE", self.warehouse_url.clone()),
        ]
    }

    /// One authenticated request; `path` starts with `/` (e.g. `/v1/namespaces`).
    /// Returns the status and body. Panics when the server cannot be reached.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        self.try_request(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {}{path}: {e}", self.url))
    }

    /// [`Self::request`] with a JSON body and a JSON answer (`null` when empty).
    pub fn request_json(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let body = body.map(|b| b.to_string());
        let (status, text) = self.request(method, path, body.as_deref());
        let value = if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
        };
        (status, value)
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let body = body.unwrap_or("");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Accept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.token,
            body.len()
        );
        if !body.is_empty() {
            req.push_str("Content-Type: application/json\r\n");
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes())?;
        stream.flush()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let _ = stream.shutdown(Shutdown::Both);
        parse_response(&raw)
    }
}

impl Drop for RestCatalogServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn file_url(path: &Path) -> String {
    let abs = path.canonicalize().expect("absolute path");
    format!("file://{}", abs.display())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn invalid(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_string())
}

fn parse_response(raw: &[u8]) -> std::io::Result<(u16, String)> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let mut body = &raw[end + 4..];
    if !chunked {
        return Ok((status, String::from_utf8_lossy(body).into_owned()));
    }
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| invalid("truncated chunk"))?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| invalid("bad chunk size"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            break;
        }
        if body.len() < size {
            return Err(invalid("truncated chunk"));
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
    Ok((status, String::from_utf8_lossy(&out).into_owned()))
}
