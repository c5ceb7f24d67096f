//! Every statement of the snapshot suite (and of its down plans), read back
//! by sqlparser in the target dialect. A statement sqlparser cannot read must be listed below
//! with the reason, and every listed exception must still be needed, so the
//! list stays honest as sqlparser grows.

mod common;

use sqlparser::dialect::{
    DatabricksDialect, Dialect as ParserDialect, MsSqlDialect, MySqlDialect, PostgreSqlDialect,
    SQLiteDialect,
};
use sqlparser::parser::Parser;
use tidemark_model::Facts;
use tidemark_sql::{plan_changes, DialectKind};

/// A statement shape sqlparser 0.63 lacks, for one dialect.
struct Exception {
    kind: DialectKind,
    /// Matches the statements this exception covers.
    matches: fn(&str) -> bool,
    /// Why the statement is right and the parser is the one missing it.
    reason: &'static str,
}

const EXCEPTIONS: &[Exception] = &[
    Exception {
        kind: DialectKind::SqlServer,
        matches: |s| s.contains(" ALTER COLUMN "),
        reason: "T-SQL restates the type in ALTER COLUMN (`ALTER COLUMN c nvarchar(40) NULL`); sqlparser only knows SET/DROP forms",
    },
    Exception {
        kind: DialectKind::SqlServer,
        matches: |s| s.contains(" DEFAULT ") && s.contains(" FOR ["),
        reason: "T-SQL adds a named default with `ADD CONSTRAINT DF DEFAULT x FOR col`; sqlparser lacks the DEFAULT … FOR table constraint",
    },
    Exception {
        kind: DialectKind::Databricks,
        matches: |s| s.starts_with("COMMENT ON "),
        reason: "sqlparser's Databricks dialect has no COMMENT ON statement",
    },
    Exception {
        kind: DialectKind::Databricks,
        matches: |s| s.starts_with("CREATE CATALOG ") || s.starts_with("DROP CATALOG "),
        reason: "sqlparser has no CREATE/DROP CATALOG",
    },
    Exception {
        kind: DialectKind::Databricks,
        matches: |s| s.starts_with("CREATE SCHEMA ") && s.contains(" COMMENT "),
        reason: "sqlparser's CREATE SCHEMA takes no COMMENT clause",
    },
    Exception {
        kind: DialectKind::Databricks,
        matches: |s| s.contains(" UNSET TBLPROPERTIES "),
        reason: "sqlparser has SET TBLPROPERTIES but not UNSET TBLPROPERTIES",
    },
    Exception {
        kind: DialectKind::Databricks,
        matches: |s| {
            s.contains(" ALTER COLUMN ")
                && (s.contains(" COMMENT ") || s.ends_with(" FIRST") || s.contains(" AFTER "))
        },
        reason: "sqlparser's ALTER COLUMN knows SET/DROP NOT NULL, defaults and TYPE, not COMMENT, FIRST or AFTER",
    },
    Exception {
        kind: DialectKind::Databricks,
        matches: |s| s.contains(" ADD COLUMN ") && (s.contains(" AFTER ") || s.contains(" FIRST")),
        reason: "sqlparser reads no column position (FIRST / AFTER) in ADD COLUMN",
    },
    Exception {
        kind: DialectKind::Databricks,
        matches: |s| s.starts_with("CREATE TABLE ") && s.contains("\n) COMMENT ") && s.contains(" TBLPROPERTIES ("),
        reason: "sqlparser's Databricks CREATE TABLE reads COMMENT or TBLPROPERTIES, not both",
    },
    Exception {
        kind: DialectKind::Postgres,
        matches: |s| s.ends_with(" DROP IDENTITY IF EXISTS"),
        reason: "sqlparser's ALTER COLUMN has ADD GENERATED but not DROP IDENTITY",
    },
    Exception {
        kind: DialectKind::Mysql,
        matches: |s| s.starts_with("ALTER TABLE ") && s.contains(" COMMENT = "),
        reason: "sqlparser reads no table options (COMMENT = …) in MySQL's ALTER TABLE",
    },
    Exception {
        kind: DialectKind::Sqlite,
        matches: |s| s == "PRAGMA foreign_keys = OFF" || s == "PRAGMA foreign_keys = ON",
        reason: "sqlparser takes a number or string as a PRAGMA value, not SQLite's ON / OFF",
    },
];

fn parser_dialect(kind: DialectKind) -> Box<dyn ParserDialect> {
    match kind {
        DialectKind::Postgres => Box::new(PostgreSqlDialect {}),
        DialectKind::Mysql => Box::new(MySqlDialect {}),
        DialectKind::Sqlite => Box::new(SQLiteDialect {}),
        DialectKind::SqlServer => Box::new(MsSqlDialect {}),
        DialectKind::Databricks => Box::new(DatabricksDialect {}),
    }
}

fn check(kind: DialectKind) {
    let parser = parser_dialect(kind);
    let exceptions: Vec<&Exception> = EXCEPTIONS.iter().filter(|e| e.kind == kind).collect();
    let mut used = vec![false; exceptions.len()];
    let mut failures = Vec::new();
    let mut parsed = 0;
    for case in common::cases(kind) {
        let Ok(plan) = plan_changes(kind, case.changes, &case.from, &case.to, &Facts::default())
        else {
            continue;
        };
        let downs = plan.down.iter().flat_map(|d| d.statements.iter());
        for s in plan.statements.iter().chain(downs) {
            match Parser::parse_sql(parser.as_ref(), &s.sql) {
                Ok(statements) if !statements.is_empty() => parsed += 1,
                result => match exceptions.iter().position(|e| (e.matches)(&s.sql)) {
                    Some(i) => used[i] = true,
                    None => {
                        failures.push(format!("{}: {:?}\n  {}", case.name, result.err(), s.sql))
                    }
                },
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{kind}: unreadable statements:\n{}",
        failures.join("\n")
    );
    for (e, used) in exceptions.iter().zip(used) {
        assert!(used, "{kind}: exception no longer needed: {}", e.reason);
    }
    assert!(parsed > 40, "{kind}: only {parsed} statements parsed");
}

#[test]
fn sqlserver_statements_parse() {
    check(DialectKind::SqlServer);
}

#[test]
fn databricks_statements_parse() {
    check(DialectKind::Databricks);
}

#[test]
fn postgres_statements_parse() {
    check(DialectKind::Postgres);
}

#[test]
fn mysql_statements_parse() {
    check(DialectKind::Mysql);
}

#[test]
fn sqlite_statements_parse() {
    check(DialectKind::Sqlite);
}
