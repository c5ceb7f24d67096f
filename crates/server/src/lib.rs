//! `tidemark serve`: the same calls as the desktop app, over HTTP, plus the
//! built web UI, for use in a browser on this machine.
//!
//! **Security model**: the server binds the loopback interface unless the
//! caller opts in to another address. Every `/api/*` request must carry the
//! per-start random token (`Authorization: Bearer TOKEN`; the SSE endpoint
//! also takes `?token=` because `EventSource` cannot set headers). Requests
//! whose `Host` header is not this server's own address are refused, which
//! defeats DNS rebinding, and no CORS headers are ever sent, so other origins
//! cannot read responses.
//!
//! Routes: `POST /api/call` (a [`Call`] as JSON → the result or an
//! [`ApiError`]), `GET /api/events` (server-sent [`ProgressEvent`]s and a
//! heartbeat), and everything else from the UI folder with `index.html` as the
//! fallback.

mod guard;
mod progress;
mod token;

pub use progress::{call_label, Backend, ProgressEvent, ProgressHub, QUIET_PERIOD};
pub use token::Token;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tidemark_app::api::{ApiError, ApiErrorKind, Call};
use tidemark_app::App;
use tokio::sync::watch;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The port `tidemark serve` uses unless told otherwise; `0` picks a free one.
pub const DEFAULT_PORT: u16 = 7457;

/// How often the event stream sends a `heartbeat` event.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The Content-Security-Policy sent with every response: the UI loads only
/// its own files and talks only to this server.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'none'";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The UI folder has no `index.html`.
    #[error("the UI is not built ({0} has no index.html): run `make run` or `npm --prefix ui run build`, or point --ui-dir / $TIDEMARK_UI_DIR at a built UI")]
    UiMissing(PathBuf),
    /// A non-loopback address was asked for without opting in.
    #[error("refusing to listen on {0}: it is not a loopback address; pass it with --bind to expose the workspace to your network")]
    NotLoopback(IpAddr),
    /// The workspace could not be opened.
    #[error("cannot open the workspace {path}: {message}")]
    Workspace {
        /// The workspace file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}{hint}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// A suggestion, e.g. to use another port.
        hint: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Serving failed after the start.
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The workspace file to open (created if missing).
    pub workspace: PathBuf,
    /// The built UI (a folder with `index.html`).
    pub ui_dir: PathBuf,
    /// The address to listen on; 127.0.0.1 by default.
    pub bind: IpAddr,
    /// The port; [`DEFAULT_PORT`] by default, `0` for any free port.
    pub port: u16,
    /// Must be true to listen on a non-loopback address.
    pub allow_non_loopback: bool,
    /// Who is recorded as the author of snapshots.
    pub actor: String,
}

impl ServeOptions {
    /// Loopback, the default port, the default actor.
    pub fn new(workspace: impl Into<PathBuf>, ui_dir: impl Into<PathBuf>) -> Self {
        ServeOptions {
            workspace: workspace.into(),
            ui_dir: ui_dir.into(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            allow_non_loopback: false,
            actor: tidemark_app::default_actor(),
        }
    }
}

#[derive(Clone)]
struct AppState {
    backend: Backend,
    token: Arc<Token>,
    /// Turns true when the server shuts down, ending open event streams
    /// (which would otherwise keep a graceful shutdown waiting forever).
    closing: watch::Receiver<bool>,
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    token: Arc<Token>,
    router: Router,
    workspace: PathBuf,
    progress: ProgressHub,
    closing: watch::Sender<bool>,
}

impl Server {
    /// Checks the options, opens the workspace, and binds the address.
    pub async fn bind(opts: ServeOptions) -> Result<Server, ServeError> {
        if !opts.bind.is_loopback() && !opts.allow_non_loopback {
            return Err(ServeError::NotLoopback(opts.bind));
        }
        if !opts.ui_dir.join("index.html").is_file() {
            return Err(ServeError::UiMissing(opts.ui_dir));
        }
        let app =
            App::open(&opts.workspace, opts.actor.clone()).map_err(|e| ServeError::Workspace {
                path: opts.workspace.clone(),
                message: e.to_string(),
            })?;
        let requested = SocketAddr::new(opts.bind, opts.port);
        let listener = tokio::net::TcpListener::bind(requested)
            .await
            .map_err(|source| ServeError::Bind {
                addr: requested,
                hint: if source.kind() == std::io::ErrorKind::AddrInUse {
                    " (another program uses the port: pass --port 0 for a free one)"
                } else {
                    ""
                },
                source,
            })?;
        let addr = listener.local_addr()?;
        let token = Arc::new(Token::generate()?);
        let (closing, closing_rx) = watch::channel(false);
        let state = AppState {
            backend: Backend::new(app),
            token: token.clone(),
            closing: closing_rx,
        };
        let progress = state.backend.progress().clone();
        let router = router(state, &opts.ui_dir, guard::HostPolicy::new(addr));
        Ok(Server {
            listener,
            addr,
            token,
            router,
            workspace: opts.workspace,
            progress,
            closing,
        })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// This start's API token.
    pub fn token(&self) -> &str {
        self.token.as_str()
    }

    /// Where progress events go: they reach every `/api/events` client.
    pub fn progress(&self) -> &ProgressHub {
        &self.progress
    }

    /// The workspace file being served.
    pub fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// The address to open in a browser, with the token in the fragment
    /// (fragments never reach the server's logs or a proxy).
    pub fn url(&self) -> String {
        let host = match self.addr.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        format!("http://{host}:{}/#token={}", self.addr.port(), self.token())
    }

    /// Serves until `shutdown` completes.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let closing = self.closing;
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                let _ = closing.send(true);
            })
            .await?;
        Ok(())
    }
}

/// Binds, prints the URL to stdout, and serves until Ctrl-C.
pub async fn serve(opts: ServeOptions) -> Result<(), ServeError> {
    let server = Server::bind(opts).await?;
    println!(
        "Tidemark is serving {} at {}",
        server.workspace().display(),
        server.url()
    );
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

fn router(state: AppState, ui_dir: &Path, hosts: guard::HostPolicy) -> Router {
    let ui = ServeDir::new(ui_dir).fallback(ServeFile::new(ui_dir.join("index.html")));
    let api = Router::new()
        .route("/api/call", post(call))
        .route("/api/events", get(events))
        .route("/api/{*rest}", any(unknown_api))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.token.clone(),
            guard::require_token,
        ));
    Router::new()
        .merge(api)
        .fallback_service(ui)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(hosts),
            guard::require_own_host,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

fn api_error(status: StatusCode, error: ApiError) -> Response {
    (status, Json(error)).into_response()
}

async fn call(State(state): State<AppState>, body: Bytes) -> Response {
    let call: Call = match serde_json::from_slice(&body) {
        Ok(call) => call,
        Err(e) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                ApiError {
                    kind: ApiErrorKind::BadInput,
                    message: format!(
                        "malformed call: {e}; expected {{\"command\": \"...\", \"args\": {{...}}}}"
                    ),
                },
            )
        }
    };
    match state.backend.call(call).await {
        Ok(value) => Json(value).into_response(),
        Err(e) => {
            let status = match e.kind {
                ApiErrorKind::BadInput => StatusCode::BAD_REQUEST,
                ApiErrorKind::Failure => StatusCode::INTERNAL_SERVER_ERROR,
            };
            api_error(status, e)
        }
    }
}

async fn unknown_api() -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        ApiError {
            kind: ApiErrorKind::BadInput,
            message: "no such API route: use POST /api/call or GET /api/events".into(),
        },
    )
}

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.backend.progress().subscribe();
    let mut closing = state.closing.clone();
    let stream = futures::stream::unfold(receiver, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    let sse = Event::default()
                        .event("progress")
                        .json_data(&event)
                        .unwrap_or_else(|_| Event::default().comment("unencodable event"));
                    return Some((Ok(sse), rx));
                }
                // A slow client missed some events; the next ones still matter.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let stream = stream.take_until(async move {
        let _ = closing.wait_for(|closed| *closed).await;
    });
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(HEARTBEAT)
            .event(Event::default().event("heartbeat").data("{}")),
    )
}
