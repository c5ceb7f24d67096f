//! Connection specs: where a database lives, parsed from a URL.
//!
//! A spec never holds a password. Passwords and tokens travel separately (the
//! app reads them from the OS keychain or an environment variable), so a spec
//! can be stored, logged and shown in an error message as it is.

use crate::error::DbError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use tidemark_sql::DialectKind;

/// A database server reached over TCP (PostgreSQL, MySQL, SQL Server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSpec {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name; `None` lets the driver pick its default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Database to connect to.
    pub database: String,
    /// Driver options from the URL's query string (e.g. `sslmode`), validated
    /// per kind when parsing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

/// Where a database lives. Parse one with [`ConnectionSpec::parse`] (or
/// `str::parse`); its `Display` is the canonical URL, free of secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectionSpec {
    /// `postgres://[user@]host[:port]/database[?sslmode=…]`
    Postgres(ServerSpec),
    /// `mysql://[user@]host[:port]/database` (also `mariadb://`).
    MySql(ServerSpec),
    /// `sqlite:PATH`, `sqlite://PATH` or `sqlite::memory:`; `?mode=rwc`
    /// creates the file when it does not exist.
    Sqlite {
        /// Path of the database file (`:memory:` for an in-memory database).
        path: PathBuf,
        /// Whether to create the file if it does not exist.
        #[serde(default)]
        create: bool,
    },
    /// `sqlserver://host[:port];database=…[;user=…]` or
    /// `mssql://[user@]host[:port]/database`.
    SqlServer(ServerSpec),
    /// `databricks://host/warehouse_id[?catalog=…&schema=…]`.
    Databricks {
        /// Workspace host, e.g. `adb-123.4.azuredatabricks.net`.
        host: String,
        /// SQL warehouse id.
        warehouse_id: String,
        /// Default catalog, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        catalog: Option<String>,
        /// Default schema, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
    },
}

/// Query-string keys that would carry a secret; a URL holding one is refused
/// so the secret cannot end up in the workspace file.
const SECRET_KEYS: &[&str] = &[
    "password",
    "pwd",
    "pass",
    "passwd",
    "token",
    "access_token",
    "secret",
];

fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(key))
}

impl ConnectionSpec {
    /// Parses a connection URL.
    ///
    /// A URL that carries a password (`user:secret@host`, `?password=…`) is
    /// refused: pass the password to [`crate::connect`] instead. The error
    /// message shows the URL with the secret masked.
    pub fn parse(input: &str) -> Result<Self, DbError> {
        let invalid = |reason: &str| DbError::InvalidSpec {
            input: redact_url(input),
            reason: reason.to_string(),
        };
        let input_trimmed = input.trim();
        let (scheme, rest) = match input_trimmed.split_once(':') {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => return Err(invalid("no scheme (expected e.g. postgres://, sqlite:)")),
        };
        match scheme.as_str() {
            "sqlite" => parse_sqlite(rest).map_err(|r| invalid(&r)),
            "postgres" | "postgresql" => {
                let server = parse_server(rest, 5432, &["sslmode", "connect_timeout"])
                    .map_err(|r| invalid(&r))?;
                if let Some(mode) = server.params.get("sslmode") {
                    const MODES: &[&str] = &[
                        "disable",
                        "allow",
                        "prefer",
                        "require",
                        "verify-ca",
                        "verify-full",
                    ];
                    if !MODES.contains(&mode.as_str()) {
                        return Err(invalid(&format!("unknown sslmode `{mode}`")));
                    }
                }
                Ok(ConnectionSpec::Postgres(server))
            }
            "mysql" | "mariadb" => {
                let server = parse_server(rest, 3306, &["ssl-mode", "connect_timeout"])
                    .map_err(|r| invalid(&r))?;
                if let Some(mode) = server.params.get("ssl-mode") {
                    const MODES: &[&str] = &[
                        "disabled",
                        "preferred",
                        "required",
                        "verify_ca",
                        "verify_identity",
                    ];
                    if !MODES.contains(&mode.to_ascii_lowercase().as_str()) {
                        return Err(invalid(&format!("unknown ssl-mode `{mode}`")));
                    }
                }
                Ok(ConnectionSpec::MySql(server))
            }
            "sqlserver" | "mssql" => {
                const KEYS: &[&str] = &[
                    "encrypt",
                    "trustservercertificate",
                    "instance",
                    "connect_timeout",
                ];
                let server = if rest.contains(';') {
                    parse_ado_server(rest, KEYS)
                } else {
                    parse_server(rest, 1433, KEYS)
                }
                .map_err(|r| invalid(&r))?;
                Ok(ConnectionSpec::SqlServer(server))
            }
            "databricks" => parse_databricks(rest).map_err(|r| invalid(&r)),
            _ => Err(invalid(&format!(
                "unknown scheme `{scheme}` (expected postgres, mysql, mariadb, sqlite, sqlserver, mssql or databricks)"
            ))),
        }
    }

    /// The kind of database this spec points at.
    pub fn kind(&self) -> DialectKind {
        match self {
            ConnectionSpec::Postgres(_) => DialectKind::Postgres,
            ConnectionSpec::MySql(_) => DialectKind::Mysql,
            ConnectionSpec::Sqlite { .. } => DialectKind::Sqlite,
            ConnectionSpec::SqlServer(_) => DialectKind::SqlServer,
            ConnectionSpec::Databricks { .. } => DialectKind::Databricks,
        }
    }

    /// The URL with no credentials, safe for logs and error messages.
    ///
    /// A spec never holds a password, so this is its `Display`; the method
    /// exists so call sites say what they rely on.
    pub fn redacted(&self) -> String {
        self.to_string()
    }
}

impl std::str::FromStr for ConnectionSpec {
    type Err = DbError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConnectionSpec::parse(s)
    }
}

impl fmt::Display for ConnectionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionSpec::Postgres(s) => write_server(f, "postgres", s),
            ConnectionSpec::MySql(s) => write_server(f, "mysql", s),
            ConnectionSpec::SqlServer(s) => write_server(f, "mssql", s),
            ConnectionSpec::Sqlite { path, create } => {
                write!(f, "sqlite:{}", path.display())?;
                if *create {
                    f.write_str("?mode=rwc")?;
                }
                Ok(())
            }
            ConnectionSpec::Databricks {
                host,
                warehouse_id,
                catalog,
                schema,
            } => {
                write!(f, "databricks://{host}/{}", encode(warehouse_id))?;
                let mut sep = '?';
                for (k, v) in [("catalog", catalog), ("schema", schema)] {
                    if let Some(v) = v {
                        write!(f, "{sep}{k}={}", encode(v))?;
                        sep = '&';
                    }
                }
                Ok(())
            }
        }
    }
}

fn write_server(f: &mut fmt::Formatter<'_>, scheme: &str, s: &ServerSpec) -> fmt::Result {
    write!(f, "{scheme}://")?;
    if let Some(user) = &s.user {
        write!(f, "{}@", encode(user))?;
    }
    if s.host.contains(':') {
        write!(f, "[{}]", s.host)?;
    } else {
        f.write_str(&s.host)?;
    }
    write!(f, ":{}/{}", s.port, encode(&s.database))?;
    let mut sep = '?';
    for (k, v) in &s.params {
        write!(f, "{sep}{k}={}", encode(v))?;
        sep = '&';
    }
    Ok(())
}

/// Masks anything in a connection string that looks like a secret: the
/// password of `user:password@host`, and the values of `password=`, `pwd=`,
/// `token=` and similar keys (in `?a=b&c=d` and `;a=b;c=d` forms).
///
/// Used on raw user input before it goes into an error message; parsed specs
/// never hold secrets in the first place.
pub fn redact_url(input: &str) -> String {
    let mut out = input.to_string();
    // user:password@host → user:***@host (only inside the authority part).
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = out[auth_start..]
            .find(['/', '?', ';', '#'])
            .map_or(out.len(), |i| auth_start + i);
        if let Some(at) = out[auth_start..auth_end].rfind('@') {
            let at = auth_start + at;
            if let Some(colon) = out[auth_start..at].find(':') {
                let colon = auth_start + colon;
                out.replace_range(colon + 1..at, "***");
            }
        }
    }
    // key=value pairs separated by ?, &, or ;.
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(eq) = rest.find('=') {
        let before = &rest[..eq];
        let key_start = before.rfind(['?', '&', ';', '/']).map_or(0, |i| i + 1);
        let key = before[key_start..].trim();
        result.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        let value_end = after.find(['&', ';']).unwrap_or(after.len());
        if is_secret_key(key) {
            result.push_str("***");
        } else {
            result.push_str(&after[..value_end]);
        }
        rest = &after[value_end..];
    }
    result.push_str(rest);
    result
}

fn parse_sqlite(rest: &str) -> Result<ConnectionSpec, String> {
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err("no file path after `sqlite:`".into());
    }
    let mut create = false;
    for (k, v) in parse_query(query.unwrap_or(""))? {
        match (k.as_str(), v.as_str()) {
            ("mode", "rwc") => create = true,
            ("mode", "rw") => create = false,
            ("mode", other) => return Err(format!("unknown mode `{other}` (expected rw or rwc)")),
            (other, _) => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(ConnectionSpec::Sqlite {
        path: PathBuf::from(decode(path)?),
        create,
    })
}

/// `//[user@]host[:port]/database[?k=v&…]`
fn parse_server(rest: &str, default_port: u16, allowed: &[&str]) -> Result<ServerSpec, String> {
    let rest = rest
        .strip_prefix("//")
        .ok_or("expected `//` after the scheme")?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, q),
        None => (rest, ""),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((a, p)) => (a, p),
        None => (before_query, ""),
    };
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => {
            if u.contains(':') {
                return Err(
                    "the URL contains a password; pass the password separately, not in the URL"
                        .into(),
                );
            }
            (Some(decode(u)?), h)
        }
        None => (None, authority),
    };
    let (host, port) = parse_host_port(hostport, default_port)?;
    let database = decode(path)?;
    if database.is_empty() {
        return Err("no database name (expected …/DATABASE)".into());
    }
    let mut params = BTreeMap::new();
    for (k, v) in parse_query(query)? {
        check_param(&k, &v, allowed)?;
        params.insert(k.to_ascii_lowercase(), v);
    }
    Ok(ServerSpec {
        host,
        port,
        user: user.filter(|u| !u.is_empty()),
        database,
        params,
    })
}

/// `//host[:port];database=…;user=…;encrypt=…` (the form SQL Server tools use).
fn parse_ado_server(rest: &str, allowed: &[&str]) -> Result<ServerSpec, String> {
    let rest = rest
        .strip_prefix("//")
        .ok_or("expected `//` after the scheme")?;
    let mut parts = rest.split(';');
    let hostport = parts.next().unwrap_or_default();
    let (host, port) = parse_host_port(hostport, 1433)?;
    let mut database = None;
    let mut user = None;
    let mut params = BTreeMap::new();
    for part in parts.filter(|p| !p.trim().is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, found `{part}`"))?;
        let key = k.trim().to_ascii_lowercase();
        let value = v.trim().to_string();
        match key.as_str() {
            "database" | "databasename" => database = Some(value),
            "user" | "username" | "uid" | "user id" => user = Some(value),
            "instancename" => {
                params.insert("instance".to_string(), value);
            }
            _ => {
                check_param(&key, &value, allowed)?;
                params.insert(key, value);
            }
        }
    }
    let database = database.ok_or("no database (expected ;database=NAME)")?;
    Ok(ServerSpec {
        host,
        port,
        user,
        database,
        params,
    })
}

fn parse_databricks(rest: &str) -> Result<ConnectionSpec, String> {
    let rest = rest
        .strip_prefix("//")
        .ok_or("expected `//` after the scheme")?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, q),
        None => (rest, ""),
    };
    let (host, warehouse) = before_query
        .split_once('/')
        .ok_or("no warehouse id (expected databricks://HOST/WAREHOUSE_ID)")?;
    if host.contains('@') {
        return Err("put no credentials in the URL; pass the access token separately".into());
    }
    if host.is_empty() {
        return Err("no host".into());
    }
    let warehouse_id = decode(warehouse.trim_end_matches('/'))?;
    if warehouse_id.is_empty() || warehouse_id.contains('/') {
        return Err("expected exactly one warehouse id after the host".into());
    }
    let mut catalog = None;
    let mut schema = None;
    for (k, v) in parse_query(query)? {
        check_param(&k, &v, &["catalog", "schema"])?;
        match k.as_str() {
            "catalog" => catalog = Some(v),
            _ => schema = Some(v),
        }
    }
    Ok(ConnectionSpec::Databricks {
        host: host.to_string(),
        warehouse_id,
        catalog,
        schema,
    })
}

fn check_param(key: &str, value: &str, allowed: &[&str]) -> Result<(), String> {
    if key.eq_ignore_ascii_case("connect_timeout") && value.parse::<u64>().is_err() {
        return Err(format!(
            "connect_timeout must be whole seconds, not `{value}`"
        ));
    }
    if is_secret_key(key) {
        return Err(format!(
            "the URL contains `{key}`; pass secrets separately, not in the URL"
        ));
    }
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(key)) {
        Ok(())
    } else {
        Err(format!(
            "unknown option `{key}` (allowed: {})",
            allowed.join(", ")
        ))
    }
}

fn parse_host_port(hostport: &str, default_port: u16) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unclosed `[` in the host")?;
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return Err(format!("unexpected `{after}` after the host")),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("invalid port `{p}`"))?,
        None => default_port,
    };
    Ok((host.to_string(), port))
}

fn parse_query(query: &str) -> Result<Vec<(String, String)>, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Percent-decodes a URL component (user names and database names may be
/// non-ASCII, e.g. `na%C3%AFve`).
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in `{s}`"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("`{s}` does not decode to UTF-8"))
}

/// Percent-encodes what would break the URL structure when printed back;
/// non-ASCII characters stay readable.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if !ch.is_ascii() || ch.is_ascii_alphanumeric() || "-._~".contains(ch) {
            out.push(ch);
        } else {
            out.push_str(&format!("%{:02X}", ch as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(spec: &ConnectionSpec) -> &ServerSpec {
        match spec {
            ConnectionSpec::Postgres(s)
            | ConnectionSpec::MySql(s)
            | ConnectionSpec::SqlServer(s) => s,
            other => panic!("not a server spec: {other:?}"),
        }
    }

    #[test]
    fn postgres_url_with_user_port_and_options() {
        let spec =
            ConnectionSpec::parse("postgres://app@db.local:6543/shop?sslmode=require").unwrap();
        assert_eq!(spec.kind(), DialectKind::Postgres);
        let s = server(&spec);
        assert_eq!(s.host, "db.local");
        assert_eq!(s.port, 6543);
        assert_eq!(s.user.as_deref(), Some("app"));
        assert_eq!(s.database, "shop");
        assert_eq!(s.params.get("sslmode").map(String::as_str), Some("require"));
        assert_eq!(
            spec.to_string(),
            "postgres://app@db.local:6543/shop?sslmode=require"
        );
    }

    #[test]
    fn default_ports_and_aliases() {
        let pg = ConnectionSpec::parse("postgresql://localhost/x").unwrap();
        assert_eq!(server(&pg).port, 5432);
        assert_eq!(server(&pg).user, None);
        let my = ConnectionSpec::parse("mariadb://root@127.0.0.1/shop").unwrap();
        assert_eq!(my.kind(), DialectKind::Mysql);
        assert_eq!(server(&my).port, 3306);
        assert_eq!(my.to_string(), "mysql://root@127.0.0.1:3306/shop");
        let ms = ConnectionSpec::parse("mssql://sa@sql1/sales").unwrap();
        assert_eq!(ms.kind(), DialectKind::SqlServer);
        assert_eq!(server(&ms).port, 1433);
    }

    #[test]
    fn ipv6_host_round_trips() {
        let spec = ConnectionSpec::parse("postgres://u@[::1]:5433/db").unwrap();
        assert_eq!(server(&spec).host, "::1");
        assert_eq!(server(&spec).port, 5433);
        assert_eq!(spec.to_string(), "postgres://u@[::1]:5433/db");
    }

    #[test]
    fn percent_encoded_names_decode_and_re_encode() {
        let spec = ConnectionSpec::parse("postgres://na%C3%AFve%20user@h/caf%C3%A9%2Fdb").unwrap();
        assert_eq!(server(&spec).user.as_deref(), Some("naïve user"));
        assert_eq!(server(&spec).database, "café/db");
        let again = ConnectionSpec::parse(&spec.to_string()).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn sqlserver_ado_form() {
        let spec = ConnectionSpec::parse(
            "sqlserver://sql.example.com:1444;database=Sales;user=sa;encrypt=true;trustServerCertificate=true",
        )
        .unwrap();
        let s = server(&spec);
        assert_eq!(s.host, "sql.example.com");
        assert_eq!(s.port, 1444);
        assert_eq!(s.database, "Sales");
        assert_eq!(s.user.as_deref(), Some("sa"));
        assert_eq!(s.params.get("encrypt").map(String::as_str), Some("true"));
        assert_eq!(
            s.params.get("trustservercertificate").map(String::as_str),
            Some("true")
        );
    }

    #[test]
    fn sqlite_forms() {
        let a = ConnectionSpec::parse("sqlite:data/app.db").unwrap();
        assert_eq!(
            a,
            ConnectionSpec::Sqlite {
                path: PathBuf::from("data/app.db"),
                create: false
            }
        );
        let b = ConnectionSpec::parse("sqlite:///var/lib/app.db?mode=rwc").unwrap();
        assert_eq!(
            b,
            ConnectionSpec::Sqlite {
                path: PathBuf::from("/var/lib/app.db"),
                create: true
            }
        );
        assert_eq!(b.to_string(), "sqlite:/var/lib/app.db?mode=rwc");
        let m = ConnectionSpec::parse("sqlite::memory:").unwrap();
        assert_eq!(
            m,
            ConnectionSpec::Sqlite {
                path: PathBuf::from(":memory:"),
                create: false
            }
        );
    }

    #[test]
    fn databricks_form() {
        let spec = ConnectionSpec::parse(
            "databricks://adb-1.2.azuredatabricks.net/abc123?catalog=main&schema=sales",
        )
        .unwrap();
        assert_eq!(
            spec,
            ConnectionSpec::Databricks {
                host: "adb-1.2.azuredatabricks.net".into(),
                warehouse_id: "abc123".into(),
                catalog: Some("main".into()),
                schema: Some("sales".into()),
            }
        );
        assert_eq!(
            spec.to_string(),
            "databricks://adb-1.2.azuredatabricks.net/abc123?catalog=main&schema=sales"
        );
    }

    #[test]
    fn passwords_in_urls_are_refused_and_masked() {
        for url in [
            "postgres://app:hunter2secret@db/shop",
            "mysql://root:hunter2secret@db/shop",
            "postgres://app@db/shop?password=hunter2secret",
            "sqlserver://db;database=x;password=hunter2secret",
            "mssql://db/x?pwd=hunter2secret",
            "databricks://app:hunter2secret@host/wh",
        ] {
            let err = ConnectionSpec::parse(url).unwrap_err();
            let msg = err.to_string();
            assert!(!msg.contains("hunter2secret"), "{msg}");
            assert!(msg.contains("***"), "{msg}");
        }
    }

    #[test]
    fn bad_input_gives_clear_reasons() {
        let cases = [
            ("oracle://x/y", "unknown scheme"),
            ("postgres://db", "no database"),
            ("postgres://db:99999/x", "invalid port"),
            ("postgres://db/x?foo=1", "unknown option `foo`"),
            ("postgres://db/x?sslmode=maybe", "unknown sslmode"),
            ("mysql://db/x?connect_timeout=soon", "whole seconds"),
            ("sqlite:", "no file path"),
            ("sqlserver://db;user=sa", "no database"),
            ("databricks://host", "no warehouse id"),
            ("nothing", "no scheme"),
        ];
        for (url, reason) in cases {
            let msg = ConnectionSpec::parse(url).unwrap_err().to_string();
            assert!(msg.contains(reason), "{url}: {msg}");
            assert!(msg.contains(url), "{url}: {msg}");
        }
    }

    #[test]
    fn redact_url_masks_every_secret_form() {
        assert_eq!(
            redact_url("postgres://u:pw@h:1/d"),
            "postgres://u:***@h:1/d"
        );
        assert_eq!(
            redact_url("postgres://u@h/d?sslmode=require&password=pw"),
            "postgres://u@h/d?sslmode=require&password=***"
        );
        assert_eq!(
            redact_url("sqlserver://h;database=d;Password=pw;user=sa"),
            "sqlserver://h;database=d;Password=***;user=sa"
        );
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
    }
}
