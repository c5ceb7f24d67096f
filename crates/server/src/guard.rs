//! Request checks that run before any handler: the `Host` header and the token.

use crate::token::Token;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tidemark_app::api::{ApiError, ApiErrorKind};

/// Which `Host` header values address this server.
///
/// A DNS-rebinding page reaches the server under the attacker's host name, so
/// only loopback names and IP literals are accepted: `localhost`, `127.0.0.1`
/// and `[::1]` with the bound port, plus, when bound to another address, that
/// address (or any IP literal when bound to all interfaces).
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    addr: SocketAddr,
}

impl HostPolicy {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        HostPolicy { addr }
    }

    pub(crate) fn allows(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        if port != Some(self.addr.port()) {
            return false;
        }
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let Ok(ip) = name.parse::<IpAddr>() else {
            return false;
        };
        let bound = self.addr.ip();
        ip.is_loopback() || ip == bound || bound.is_unspecified()
    }
}

/// Splits `name:port`, `[v6]:port`, `name` or `[v6]`.
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        return match after {
            "" => Some((name, None)),
            _ => Some((name, Some(after.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => Some((name, Some(port.parse().ok()?))),
        Some(_) => None,
        None => Some((host, None)),
    }
}

pub(crate) async fn require_own_host(
    State(policy): State<Arc<HostPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(host) if policy.allows(host) => next.run(request).await,
        _ => (
            StatusCode::FORBIDDEN,
            "this server answers only requests addressed to its own loopback address\n",
        )
            .into_response(),
    }
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn query_token(request: &Request) -> Option<&str> {
    request
        .uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
}

pub(crate) async fn require_token(
    State(token): State<Arc<Token>>,
    request: Request,
    next: Next,
) -> Response {
    // EventSource cannot set headers, so the event stream alone takes ?token=.
    let given = bearer(&request).or_else(|| {
        (request.uri().path() == "/api/events")
            .then(|| query_token(&request))
            .flatten()
    });
    if given.is_some_and(|t| token.matches(t)) {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(ApiError {
                kind: ApiErrorKind::BadInput,
                message: "missing or wrong API token: open the URL that `tidemark serve` printed (it carries the token)".into(),
            }),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(addr: &str) -> HostPolicy {
        HostPolicy::new(addr.parse().unwrap())
    }

    #[test]
    fn loopback_names_with_the_right_port_pass() {
        let p = policy("127.0.0.1:7457");
        assert!(p.allows("127.0.0.1:7457"));
        assert!(p.allows("localhost:7457"));
        assert!(p.allows("LOCALHOST:7457"));
        assert!(p.allows("[::1]:7457"));
    }

    #[test]
    fn other_names_ports_and_malformed_hosts_fail() {
        let p = policy("127.0.0.1:7457");
        assert!(!p.allows("evil.example:7457"));
        assert!(!p.allows("127.0.0.1.nip.io:7457"));
        assert!(!p.allows("127.0.0.1:80"));
        assert!(!p.allows("127.0.0.1"));
        assert!(!p.allows("192.168.1.5:7457"));
        assert!(!p.allows("[::1"));
        assert!(!p.allows(""));
    }

    #[test]
    fn a_non_loopback_bind_also_accepts_its_own_address() {
        let p = policy("192.168.1.5:7457");
        assert!(p.allows("192.168.1.5:7457"));
        assert!(!p.allows("10.0.0.1:7457"));
        assert!(!p.allows("files.example:7457"));
        let any = policy("0.0.0.0:7457");
        assert!(any.allows("10.0.0.1:7457"));
        assert!(!any.allows("files.example:7457"));
    }
}
