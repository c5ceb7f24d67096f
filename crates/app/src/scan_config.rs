//! The `--config` file of `scan` and `incremental-diff`: connections and
//! custom attributes declared in YAML, so both commands run in CI without any
//! interactive setup.
//!
//! ```yaml
//! connections:
//!   - name: warehouse
//!     url: postgres://reader@db.internal:5432/shop
//!     password_env: WAREHOUSE_PASSWORD   # the variable's name, never the password
//!     schemas: [public, sales]           # optional default for `scan`
//!     custom_attributes:
//!       public.customers:
//!         owner: crm-team
//!       public.customers.email:
//!         pii: true
//! # Labels for connections added with `tidemark connection add`:
//! custom_attributes:
//!   legacy:
//!     app.orders:
//!       owner: sales
//! ```
//!
//! A password literal is refused, as a `password` key or inside the URL, so a
//! config file can be committed with the code it serves.

use crate::scan_objects::parse_object_path;
use crate::{AppError, AppResult};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tidemark_db::{redact_url, ConnectionSpec};

/// Custom attributes of one connection: object path → key → value.
pub type Labels = BTreeMap<String, BTreeMap<String, String>>;

/// A connection declared in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigConnection {
    /// Its name, as passed to `--connection-id`.
    pub name: String,
    /// The URL, free of any password.
    pub url: String,
    /// The environment variable holding the password, if it needs one.
    pub password_env: Option<String>,
    /// The schemas `scan` reads when none is given on the command line.
    pub schemas: Vec<String>,
}

/// A parsed and checked config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanConfig {
    /// The file it was read from.
    pub path: PathBuf,
    /// Declared connections by name.
    pub connections: BTreeMap<String, ConfigConnection>,
    /// Custom attributes by connection name.
    pub custom_attributes: BTreeMap<String, Labels>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    connections: Vec<RawConnection>,
    #[serde(default)]
    custom_attributes: BTreeMap<String, BTreeMap<String, BTreeMap<String, serde_norway::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnection {
    name: String,
    url: String,
    #[serde(default)]
    password_env: Option<String>,
    /// Read only to refuse it with a message that says what to do instead.
    #[serde(default)]
    password: Option<serde_norway::Value>,
    #[serde(default)]
    schemas: Vec<String>,
    #[serde(default)]
    custom_attributes: BTreeMap<String, BTreeMap<String, serde_norway::Value>>,
}

/// Whether `name` can be an environment variable name.
pub(crate) fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A YAML scalar as a label value: strings as they are, booleans and
/// numbers as written (`pii: true` is the label `pii=true`).
fn scalar(value: &serde_norway::Value) -> Option<String> {
    match value {
        serde_norway::Value::String(s) => Some(s.clone()),
        serde_norway::Value::Bool(b) => Some(b.to_string()),
        serde_norway::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ScanConfig {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> AppResult<ScanConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| AppError::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses and checks config text; `path` names the file in messages.
    pub fn parse(text: &str, path: &Path) -> AppResult<ScanConfig> {
        let file = path.display().to_string();
        let bad = |message: String| AppError::BadInput(format!("config {file}: {message}"));
        let raw: RawConfig = if text.trim().is_empty() {
            RawConfig {
                connections: Vec::new(),
                custom_attributes: BTreeMap::new(),
            }
        } else {
            serde_norway::from_str(text).map_err(|e| bad(e.to_string()))?
        };
        let mut config = ScanConfig {
            path: path.to_path_buf(),
            ..ScanConfig::default()
        };
        for c in raw.connections {
            let name = c.name.trim().to_string();
            if name.is_empty() {
                return Err(bad("a connection has an empty name".into()));
            }
            if c.password.is_some() {
                return Err(bad(format!(
                    "connection {name} has a `password`: a config file must not hold secrets; \
                     put the password in an environment variable and name it with `password_env`"
                )));
            }
            // The message shows the URL with the secret masked.
            if redact_url(&c.url) != c.url {
                return Err(bad(format!(
                    "connection {name}: the URL {} holds a password; remove it from the URL, \
                     put it in an environment variable and name it with `password_env`",
                    redact_url(&c.url)
                )));
            }
            let spec = ConnectionSpec::parse(&c.url)
                .map_err(|e| bad(format!("connection {name}: {e}")))?;
            if let Some(var) = &c.password_env {
                if !valid_env_name(var) {
                    return Err(bad(format!(
                        "connection {name}: password_env {var:?} is not an environment variable name"
                    )));
                }
            }
            let labels = labels(&name, c.custom_attributes).map_err(&bad)?;
            if config.connections.contains_key(&name) {
                return Err(bad(format!("connection {name} is declared twice")));
            }
            if !labels.is_empty() {
                config.custom_attributes.insert(name.clone(), labels);
            }
            config.connections.insert(
                name.clone(),
                ConfigConnection {
                    name,
                    url: spec.to_string(),
                    password_env: c.password_env,
                    schemas: c.schemas,
                },
            );
        }
        for (connection, raw_labels) in raw.custom_attributes {
            let labels = labels(&connection, raw_labels).map_err(&bad)?;
            let merged = config.custom_attributes.entry(connection).or_default();
            for (path, pairs) in labels {
                merged.entry(path).or_default().extend(pairs);
            }
        }
        Ok(config)
    }

    /// The connection declared under `name`, if any.
    pub fn connection(&self, name: &str) -> Option<&ConfigConnection> {
        self.connections.get(name)
    }

    /// The custom attributes declared for a connection.
    pub fn labels(&self, connection: &str) -> Option<&Labels> {
        self.custom_attributes.get(connection)
    }
}

/// Checks paths and keys and turns YAML scalars into label values.
fn labels(
    connection: &str,
    raw: BTreeMap<String, BTreeMap<String, serde_norway::Value>>,
) -> Result<Labels, String> {
    let mut out = Labels::new();
    for (path, pairs) in raw {
        let parts = parse_object_path(&path)
            .map_err(|e| format!("custom attributes of {connection}: {e}"))?;
        let canonical = crate::scan_objects::object_path(&parts);
        let entry = out.entry(canonical).or_default();
        for (key, value) in pairs {
            if key.trim().is_empty() {
                return Err(format!(
                    "custom attributes of {connection}: {path} has an empty key"
                ));
            }
            let value = scalar(&value).ok_or_else(|| {
                format!(
                    "custom attributes of {connection}: {path}.{key} must be a string, number or boolean"
                )
            })?;
            entry.insert(key, value);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> AppResult<ScanConfig> {
        ScanConfig::parse(text, Path::new("ci.yml"))
    }

    #[test]
    fn connections_and_custom_attributes_are_read() {
        let config = parse(
            r#"
connections:
  - name: warehouse
    url: postgres://reader@db:5432/shop
    password_env: WAREHOUSE_PASSWORD
    schemas: [public]
    custom_attributes:
      public.customers:
        owner: crm
      public.customers.email:
        pii: true
custom_attributes:
  legacy:
    app.orders:
      retention_days: 30
"#,
        )
        .unwrap();
        let c = config.connection("warehouse").unwrap();
        assert_eq!(c.url, "postgres://reader@db:5432/shop");
        assert_eq!(c.password_env.as_deref(), Some("WAREHOUSE_PASSWORD"));
        assert_eq!(c.schemas, ["public"]);
        let labels = config.labels("warehouse").unwrap();
        assert_eq!(labels["public.customers"]["owner"], "crm");
        assert_eq!(labels["public.customers.email"]["pii"], "true");
        assert_eq!(
            config.labels("legacy").unwrap()["app.orders"]["retention_days"],
            "30"
        );
    }

    #[test]
    fn a_password_literal_is_refused_without_echoing_it() {
        let err =
            parse("connections:\n  - name: w\n    url: postgres://u@h/d\n    password: hunter2\n")
                .unwrap_err();
        let message = err.to_string();
        assert!(err.is_bad_input());
        assert!(message.contains("password_env"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");

        let err =
            parse("connections:\n  - name: w\n    url: postgres://u:hunter2@h/d\n").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("holds a password"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn mistakes_are_named() {
        for (text, expected) in [
            ("connections:\n  - name: w\n    url: nope\n", "connection w"),
            ("connections:\n  - name: w\n    url: 'sqlite::memory:'\n    password_env: 'A B'\n", "not an environment variable"),
            ("connections:\n  - name: w\n    url: 'sqlite::memory:'\n  - name: w\n    url: 'sqlite::memory:'\n", "declared twice"),
            ("custom_attributes:\n  w:\n    a.b.c.d:\n      k: v\n", "a.b.c.d"),
            ("custom_attributes:\n  w:\n    a:\n      k: [1, 2]\n", "string, number or boolean"),
            ("conections: []\n", "unknown field"),
        ] {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.starts_with("config ci.yml: "), "{message}");
            assert!(message.contains(expected), "{text}: {message}");
        }
        assert_eq!(parse("").unwrap().connections.len(), 0);
    }
}
