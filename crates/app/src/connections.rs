//! Named connections: add, list, test, remove. Passwords never reach the
//! workspace file: they live in the OS keychain or in an environment variable
//! the connection names.

use crate::{App, AppError, AppResult};
use serde::Serialize;
use tidemark_db::{ConnectionSpec, Database};
use tidemark_store::{Connection, PasswordSource};

/// The keychain service under which connection passwords are kept.
const KEYCHAIN_SERVICE: &str = "tidemark";

/// The result of `connection test`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ConnectionCheck {
    /// Connection name.
    pub name: String,
    /// The URL (never with a password).
    pub url: String,
    /// Whether the database answered.
    pub ok: bool,
    /// How long connecting and pinging took.
    #[ts(type = "number")]
    pub millis: u64,
    /// Schemas and tables seen, when ok.
    pub tables: Option<usize>,
}

/// Splits `scheme://user:secret@host/…` into the URL without the secret and
/// the secret. URLs without a password come back unchanged.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find(['/', '?', ';']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    match userinfo.split_once(':') {
        Some((user, secret)) => (
            format!("{scheme}://{user}@{host}{tail}"),
            Some(percent_decode(secret)),
        ),
        None => (url.to_string(), None),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn keychain(name: &str) -> AppResult<keyring::Entry> {
    keyring::Entry::new(KEYCHAIN_SERVICE, name).map_err(|e| {
        AppError::Failure(format!(
            "the OS keychain is not available ({e}): name an environment variable with --password-env instead"
        ))
    })
}

impl App {
    /// Adds a named connection.
    ///
    /// A password given in the URL or as `password` is moved to the OS
    /// keychain; with `password_env` the password is read from that variable
    /// whenever the connection is used. The stored URL never holds a secret.
    pub fn connection_add(
        &mut self,
        name: &str,
        url: &str,
        password_env: Option<&str>,
        password: Option<String>,
    ) -> AppResult<Connection> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::BadInput("connection name is empty".into()));
        }
        let (clean_url, url_secret) = split_password(url);
        let spec = ConnectionSpec::parse(&clean_url)
            .map_err(|e| AppError::BadInput(format!("connection {name}: {e}")))?;
        let secret = password.or(url_secret);
        let source = match (password_env, &secret) {
            (Some(_), Some(_)) => {
                return Err(AppError::BadInput(format!(
                    "connection {name}: give the password either in the keychain (URL or --password-stdin) or through --password-env, not both"
                )))
            }
            (Some(var), None) => {
                if var.is_empty() || var.contains('=') {
                    return Err(AppError::BadInput(format!(
                        "--password-env {var:?} is not an environment variable name"
                    )));
                }
                PasswordSource::Env(var.to_string())
            }
            (None, Some(_)) => PasswordSource::Keychain,
            (None, None) => PasswordSource::None,
        };
        let connection = Connection {
            name: name.to_string(),
            kind: spec.kind().to_string(),
            url: spec.to_string(),
            password: source,
            created_at: self.now(),
        };
        if self.ws.connection(name).is_ok() {
            return Err(tidemark_store::StoreError::ConnectionExists(name.to_string()).into());
        }
        // The secret goes to the keychain first: if that fails, nothing is recorded.
        if let Some(secret) = &secret {
            keychain(name)?.set_password(secret).map_err(|e| {
                AppError::Failure(format!(
                    "could not store the password of {name} in the OS keychain ({e}): use --password-env VAR instead"
                ))
            })?;
        }
        self.ws
            .write(|tx| -> AppResult<()> { Ok(tx.add_connection(&connection)?) })?;
        Ok(connection)
    }

    /// Every connection.
    pub fn connection_list(&self) -> AppResult<Vec<Connection>> {
        Ok(self.ws.connections()?)
    }

    /// Removes a connection and its keychain entry.
    pub fn connection_remove(&mut self, name: &str) -> AppResult<()> {
        let connection = self.ws.connection(name)?;
        self.ws
            .write(|tx| -> AppResult<()> { Ok(tx.remove_connection(name)?) })?;
        if connection.password == PasswordSource::Keychain {
            // The row is gone; a keychain entry left behind would only be orphaned.
            let _ = keychain(name).and_then(|e| {
                e.delete_credential()
                    .map_err(|e| AppError::Failure(e.to_string()))
            });
        }
        Ok(())
    }

    /// The password of a connection, from wherever it lives.
    pub(crate) fn password_of(&self, c: &Connection) -> AppResult<Option<String>> {
        match &c.password {
            PasswordSource::None => Ok(None),
            PasswordSource::Env(var) => std::env::var(var).map(Some).map_err(|_| {
                AppError::BadInput(format!(
                    "connection {} reads its password from ${var}, which is not set: export {var}=… and retry",
                    c.name
                ))
            }),
            PasswordSource::Keychain => keychain(&c.name)?.get_password().map(Some).map_err(|e| {
                AppError::Failure(format!(
                    "could not read the password of connection {} from the OS keychain: {e}",
                    c.name
                ))
            }),
        }
    }

    /// Opens a live connection by name.
    pub(crate) fn open_database(&self, name: &str) -> AppResult<Box<dyn Database>> {
        let c = self.ws.connection(name)?;
        let spec = ConnectionSpec::parse(&c.url).map_err(|e| {
            AppError::Integrity(format!("stored connection {name} is unreadable: {e}"))
        })?;
        let password = self.password_of(&c)?;
        self.block_on(tidemark_db::connect(&spec, password.as_deref()))
            .map_err(|e| AppError::Database(format!("connection {name}: {e}")))
    }

    /// Connects, pings and reads the catalog of a connection.
    pub fn connection_test(&self, name: &str) -> AppResult<ConnectionCheck> {
        let c = self.ws.connection(name)?;
        let started = std::time::Instant::now();
        let mut db = self.open_database(name)?;
        let state = self
            .block_on(async {
                db.ping().await?;
                let state = db.introspect(&[]).await?;
                db.close().await?;
                Ok::<_, tidemark_db::DbError>(state)
            })
            .map_err(|e| AppError::Database(format!("connection {name}: {e}")))?;
        Ok(ConnectionCheck {
            name: c.name,
            url: c.url,
            ok: true,
            millis: started.elapsed().as_millis() as u64,
            tables: Some(
                state
                    .catalogs
                    .iter()
                    .flat_map(|c| &c.schemas)
                    .map(|s| s.tables.len())
                    .sum(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn password_is_split_out_of_urls() {
        assert_eq!(
            split_password("postgres://app:s%40cret@db:5432/shop?sslmode=require"),
            (
                "postgres://app@db:5432/shop?sslmode=require".to_string(),
                Some("s@cret".to_string())
            )
        );
        assert_eq!(
            split_password("postgres://app@db/shop"),
            ("postgres://app@db/shop".to_string(), None)
        );
        assert_eq!(
            split_password("sqlite:/tmp/a.db"),
            ("sqlite:/tmp/a.db".to_string(), None)
        );
        assert_eq!(
            split_password("mysql://root:p:w@h/db"),
            ("mysql://root@h/db".to_string(), Some("p:w".to_string()))
        );
    }
}
