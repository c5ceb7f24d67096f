//! Identifier quoting for the few statements this layer writes itself
//! (row counts). Identifiers cannot be bound as parameters, so they are
//! quoted with the dialect's rules and embedded quote characters doubled.

/// `"name"` (PostgreSQL, SQLite, standard SQL).
pub(crate) fn double_quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `` `name` `` (MySQL, MariaDB, Databricks).
pub(crate) fn backticked(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `[name]` (SQL Server).
pub(crate) fn bracketed(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_quotes_are_doubled() {
        assert_eq!(double_quoted("a\"b"), "\"a\"\"b\"");
        assert_eq!(backticked("a`b"), "`a``b`");
        assert_eq!(bracketed("a]b"), "[a]]b]");
        assert_eq!(double_quoted("naïve"), "\"naïve\"");
    }
}
