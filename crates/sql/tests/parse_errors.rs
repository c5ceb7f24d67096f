//! DDL import errors: each one is a single line that names the statement,
//! its line and what to fix, and an import that fails returns no ops.

use std::collections::BTreeMap;
use tidemark_model::{ObjectId, State};
use tidemark_sql::parse::{import_ddl, DdlImport, ImportContext, ParseError, SourceDialect};

fn import(sql: &str, dialect: SourceDialect) -> Result<DdlImport, ParseError> {
    let mut counters: BTreeMap<String, u32> = BTreeMap::new();
    let mut new_id = |prefix: &str| {
        let n = counters.entry(prefix.to_string()).or_default();
        *n += 1;
        ObjectId::new(format!("{prefix}_{n}"))
    };
    let mut ctx = ImportContext {
        catalog: "shop",
        default_schema: "main",
        new_id: &mut new_id,
    };
    import_ddl(sql, dialect, &State::default(), &mut ctx)
}

/// The error message of an import that must fail.
fn error(sql: &str, dialect: SourceDialect) -> String {
    match import(sql, dialect) {
        Ok(result) => panic!("expected an error, got {result:#?}"),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "one line: {message}");
            message
        }
    }
}

const ORDERS: &str = "CREATE TABLE orders (id int PRIMARY KEY, customer_id int, note text);\n";

#[test]
fn syntax_error_reports_dialect_line_and_column() {
    let sql = "CREATE TABLE customers (id int);\nCREATE TABLE orders (\n  id int,\n  total numeric(10,2) NOT NULL DEFAULT,\n  note text\n);";
    assert_eq!(
        error(sql, SourceDialect::Postgres),
        "syntax error in PostgreSQL DDL at line 4, column 39: Expected: an expression, found: ,"
    );
    let err = import(sql, SourceDialect::Postgres).unwrap_err();
    assert!(matches!(
        err,
        ParseError::Syntax {
            dialect: SourceDialect::Postgres,
            line: 4,
            column: 39,
            ..
        }
    ));
}

#[test]
fn tokenizer_error_is_a_syntax_error_too() {
    assert_eq!(
        error(
            "CREATE TABLE t (id int);\nCOMMENT ON TABLE t IS 'unterminated;",
            SourceDialect::Postgres
        ),
        "syntax error in PostgreSQL DDL at line 2, column 23: Unterminated string literal"
    );
}

#[test]
fn two_statements_without_a_semicolon_are_a_syntax_error() {
    assert_eq!(
        error(
            "CREATE TABLE a (id int)\nCREATE TABLE b (id int);",
            SourceDialect::Mysql
        ),
        "syntax error in MySQL DDL at line 2, column 1: Expected: end of statement, found: CREATE"
    );
}

#[test]
fn unreadable_alter_table_is_not_silently_skipped() {
    // sqlparser cannot read T-SQL's way of changing a column type; skipping
    // it would import the old type without a word.
    let sql = "CREATE TABLE t (id int, name varchar(10))\nGO\nALTER TABLE t ALTER COLUMN name nvarchar(20) NOT NULL\nGO";
    let message = error(sql, SourceDialect::SqlServer);
    assert!(
        message.starts_with("syntax error in SQL Server DDL at line 3, column "),
        "{message}"
    );
}

#[test]
fn unknown_table_in_create_index() {
    assert_eq!(
        error("CREATE INDEX idx_x ON orders (id);", SourceDialect::Sqlite),
        "line 1: CREATE INDEX idx_x: no table main.orders in the project or earlier in the file"
    );
    assert_eq!(
        error("CREATE INDEX ON shop.orders (id);", SourceDialect::Postgres),
        "line 1: CREATE INDEX ON shop.orders: no table shop.orders in the project or earlier in the file"
    );
}

#[test]
fn unknown_table_in_alter_table_and_comment() {
    assert_eq!(
        error(
            "ALTER TABLE orders ADD CONSTRAINT pk PRIMARY KEY (id);",
            SourceDialect::Postgres
        ),
        "line 1: ALTER TABLE orders: no table main.orders in the project or earlier in the file"
    );
    assert_eq!(
        error("COMMENT ON TABLE orders IS 'x';", SourceDialect::Postgres),
        "line 1: COMMENT ON TABLE orders: no table main.orders in the project or earlier in the file"
    );
    // IF EXISTS makes a missing table a skip, not an error.
    let result = import(
        "ALTER TABLE IF EXISTS orders ADD COLUMN x int;",
        SourceDialect::Postgres,
    )
    .unwrap();
    assert!(result.ops.is_empty());
    assert_eq!(
        result.skipped,
        vec!["line 1: ALTER TABLE orders: no table main.orders"]
    );
}

#[test]
fn foreign_key_to_a_table_that_never_appears() {
    let sql = format!(
        "{ORDERS}ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);"
    );
    assert_eq!(
        error(&sql, SourceDialect::Postgres),
        "line 2: ALTER TABLE orders: no table main.customers in the project or earlier in the file"
    );
}

#[test]
fn duplicate_table_in_the_file() {
    let sql = format!("{ORDERS}CREATE TABLE ORDERS (id int);");
    assert_eq!(
        error(&sql, SourceDialect::Sqlite),
        "line 2: CREATE TABLE ORDERS: table main.orders already exists in the project or earlier in the file"
    );
    // PostgreSQL keeps a quoted upper-case name apart from `orders`.
    let sql = format!("{ORDERS}CREATE TABLE \"ORDERS\" (id int);");
    assert!(import(&sql, SourceDialect::Postgres).is_ok());
    // IF NOT EXISTS turns the duplicate into a reported skip.
    let sql = format!("{ORDERS}CREATE TABLE IF NOT EXISTS orders (id int);");
    let result = import(&sql, SourceDialect::Sqlite).unwrap();
    assert_eq!(
        result.skipped,
        vec!["line 2: CREATE TABLE orders: table main.orders already exists"]
    );
}

#[test]
fn duplicate_schema() {
    assert_eq!(
        error(
            "CREATE SCHEMA sales;\nCREATE SCHEMA sales;",
            SourceDialect::Postgres
        ),
        "line 2: CREATE SCHEMA sales: schema sales already exists in the project or earlier in the file"
    );
}

#[test]
fn duplicate_column() {
    assert_eq!(
        error(
            "CREATE TABLE t (id int, name text, ID bigint);",
            SourceDialect::Mysql
        ),
        "line 1: CREATE TABLE t: column ID already exists in table main.t"
    );
    let sql = format!("{ORDERS}ALTER TABLE orders ADD COLUMN note varchar(10);");
    assert_eq!(
        error(&sql, SourceDialect::Postgres),
        "line 2: ALTER TABLE orders: column note already exists in table main.orders"
    );
}

#[test]
fn unknown_columns_in_constraints_indexes_and_comments() {
    let cases = [
        (
            "CREATE TABLE t (id int, PRIMARY KEY (idd));",
            "line 1: CREATE TABLE t: no column idd in table main.t",
        ),
        (
            "CREATE TABLE t (id int, CONSTRAINT u UNIQUE (id, nam));",
            "line 1: CREATE TABLE t: no column nam in table main.t",
        ),
        (
            "CREATE TABLE t (id int, FOREIGN KEY (other_id) REFERENCES t (id));",
            "line 1: CREATE TABLE t: no column other_id in table main.t",
        ),
        (
            "CREATE TABLE t (id int, parent int REFERENCES t (parent_id));",
            "line 1: CREATE TABLE t: no column parent_id in table main.t",
        ),
        (
            "CREATE TABLE t (id int);\nCREATE INDEX t_x ON t (id, x);",
            "line 2: CREATE INDEX t_x: no column x in table main.t",
        ),
        (
            "CREATE TABLE t (id int);\nALTER TABLE t ADD CONSTRAINT t_u UNIQUE (x);",
            "line 2: ALTER TABLE t: no column x in table main.t",
        ),
        (
            "CREATE TABLE t (id int);\nALTER TABLE t ALTER COLUMN x SET NOT NULL;",
            "line 2: ALTER TABLE t: no column x in table main.t",
        ),
        (
            "CREATE TABLE t (id int);\nCOMMENT ON COLUMN t.x IS 'x';",
            "line 2: COMMENT ON COLUMN t.x: no column x in table main.t",
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(error(sql, SourceDialect::Postgres), expected, "{sql}");
    }
}

#[test]
fn second_primary_key() {
    assert_eq!(
        error(
            "CREATE TABLE t (id int PRIMARY KEY, code text, PRIMARY KEY (code));",
            SourceDialect::Sqlite
        ),
        "line 1: CREATE TABLE t: table main.t already has a primary key"
    );
}

#[test]
fn duplicate_index_name_on_a_table() {
    let sql = format!(
        "{ORDERS}CREATE INDEX orders_note ON orders (note);\nCREATE INDEX orders_note ON orders (customer_id);"
    );
    assert_eq!(
        error(&sql, SourceDialect::Postgres),
        "line 3: CREATE INDEX orders_note: index orders_note already exists on table main.orders"
    );
    let sql = format!(
        "{ORDERS}CREATE INDEX orders_note ON orders (note);\nCREATE INDEX IF NOT EXISTS orders_note ON orders (customer_id);"
    );
    let result = import(&sql, SourceDialect::Postgres).unwrap();
    assert_eq!(
        result.skipped,
        vec!["line 3: CREATE INDEX orders_note: index orders_note already exists"]
    );
}

#[test]
fn foreign_key_shapes_that_cannot_be_imported() {
    let sql =
        "CREATE TABLE a (x int, y int);\nCREATE TABLE b (x int, FOREIGN KEY (x) REFERENCES a);";
    assert_eq!(
        error(sql, SourceDialect::Postgres),
        "line 2: CREATE TABLE b: foreign key b_x_fkey names no referenced columns and main.a has no primary key"
    );
    let sql = "CREATE TABLE a (x int, y int);\nCREATE TABLE b (x int, FOREIGN KEY (x) REFERENCES a (x, y));";
    assert_eq!(
        error(sql, SourceDialect::Postgres),
        "line 2: CREATE TABLE b: foreign key b_x_fkey has 1 column(s) but references 2 column(s) of main.a"
    );
}

#[test]
fn names_outside_the_imported_catalog() {
    assert_eq!(
        error(
            "CREATE TABLE [other].[dbo].[t] (id int)",
            SourceDialect::SqlServer
        ),
        "line 1: CREATE TABLE [other].[dbo].[t]: [other].[dbo].[t] is in catalog other, but the import goes into catalog shop"
    );
    // The imported catalog's own name is fine.
    assert!(import("CREATE TABLE shop.dbo.t (id int)", SourceDialect::SqlServer).is_ok());
}

#[test]
fn expression_keys_are_refused() {
    assert_eq!(
        error(
            "CREATE TABLE t (email text, UNIQUE (lower(email)));",
            SourceDialect::Sqlite
        ),
        "line 1: CREATE TABLE t: key column lower(email) is not a plain column"
    );
}

#[test]
fn comments_on_unknown_schemas_and_tables() {
    assert_eq!(
        error("COMMENT ON SCHEMA sales IS 'x';", SourceDialect::Postgres),
        "line 1: COMMENT ON SCHEMA sales: no schema sales in the project or earlier in the file"
    );
    assert_eq!(
        error(
            "EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'x', @level0type=N'SCHEMA', @level0name=N'dbo', @level1type=N'TABLE', @level1name=N'nope'",
            SourceDialect::SqlServer
        ),
        "line 1: EXEC sys.sp_addextendedproperty: no table dbo.nope in the project or earlier in the file"
    );
    // The default schema exists even if nothing in the file created it.
    let result = import("COMMENT ON SCHEMA main IS 'x';", SourceDialect::Postgres).unwrap();
    let ops: Vec<&str> = result.ops.iter().map(|op| op.action.name()).collect();
    assert_eq!(ops, vec!["add_catalog", "add_schema", "set_comment"]);
}
