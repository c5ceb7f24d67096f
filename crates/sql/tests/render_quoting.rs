//! Names and literals that would break out of a statement if quoting were
//! wrong. Each rendered statement is read back with sqlparser: it must be one
//! statement, and the names in it must be exactly the names we started with.

mod common;

use common::{col, qn, state_with, table};
use sqlparser::ast::{ObjectNamePart, Statement};
use sqlparser::dialect::{
    DatabricksDialect, Dialect as ParserDialect, MsSqlDialect, MySqlDialect, PostgreSqlDialect,
    SQLiteDialect,
};
use sqlparser::parser::Parser;
use tidemark_model::{Change, DataType, Facts, State};
use tidemark_sql::{dialect, plan_changes, DialectKind};

const NASTY: [&str; 8] = [
    "a\"; DROP TABLE x; --",
    "sp ace",
    "ü",
    "select",
    "a`b",
    "a]b",
    "a'b",
    "x]; DROP TABLE y; --",
];

fn parser(kind: DialectKind) -> Box<dyn ParserDialect> {
    match kind {
        DialectKind::Postgres => Box::new(PostgreSqlDialect {}),
        DialectKind::Mysql => Box::new(MySqlDialect {}),
        DialectKind::Sqlite => Box::new(SQLiteDialect {}),
        DialectKind::SqlServer => Box::new(MsSqlDialect {}),
        DialectKind::Databricks => Box::new(DatabricksDialect {}),
    }
}

fn one_statement(kind: DialectKind, sql: &str) -> Statement {
    let mut statements = Parser::parse_sql(parser(kind).as_ref(), sql)
        .unwrap_or_else(|e| panic!("{kind}: {e}\n{sql}"));
    assert_eq!(
        statements.len(),
        1,
        "{kind}: more than one statement in\n{sql}"
    );
    statements.remove(0)
}

fn last_part(name: &sqlparser::ast::ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => ident.value.clone(),
        other => panic!("unexpected name part {other:?}"),
    }
}

fn create_table_plan(kind: DialectKind, name: &str) -> Vec<String> {
    let schema = common::schema_for(kind);
    let mut t = table(name, vec![col(name, DataType::Integer, true)]);
    t.comment = None;
    let to: State = state_with(schema, vec![t.clone()]);
    let from = state_with(schema, vec![]);
    let changes = vec![Change::AddTable {
        table: qn(kind, name),
        definition: t,
    }];
    let plan = plan_changes(kind, changes, &from, &to, &Facts::default()).expect("plan");
    let mut sql: Vec<String> = plan.statements.into_iter().map(|s| s.sql).collect();
    sql.extend(
        plan.down
            .expect("down plan")
            .statements
            .into_iter()
            .map(|s| s.sql),
    );
    sql
}

#[test]
fn hostile_names_stay_names_in_every_dialect() {
    for kind in DialectKind::ALL {
        for name in NASTY {
            let sql = create_table_plan(kind, name);
            assert_eq!(sql.len(), 2, "{kind}: CREATE TABLE and its DROP TABLE");
            match one_statement(kind, &sql[0]) {
                Statement::CreateTable(ct) => {
                    assert_eq!(last_part(&ct.name), name, "{kind}: table name");
                    assert_eq!(ct.columns.len(), 1, "{kind}: one column");
                    assert_eq!(ct.columns[0].name.value, name, "{kind}: column name");
                }
                other => panic!("{kind}: expected CREATE TABLE, got {other}"),
            }
            match one_statement(kind, &sql[1]) {
                Statement::Drop { names, .. } => {
                    assert_eq!(names.len(), 1);
                    assert_eq!(last_part(&names[0]), name, "{kind}: dropped name");
                }
                other => panic!("{kind}: expected DROP TABLE, got {other}"),
            }
        }
    }
}

#[test]
fn identifier_quoting_doubles_the_closing_quote() {
    let q = |kind: DialectKind, name: &str| dialect(kind).quote_ident(name);
    assert_eq!(q(DialectKind::Postgres, "a\"b"), "\"a\"\"b\"");
    assert_eq!(q(DialectKind::Sqlite, "a\"b"), "\"a\"\"b\"");
    assert_eq!(q(DialectKind::Mysql, "a`b"), "`a``b`");
    assert_eq!(q(DialectKind::Databricks, "a`b"), "`a``b`");
    assert_eq!(q(DialectKind::SqlServer, "a]b"), "[a]]b]");
    // Characters that are not the closing quote need no escape.
    assert_eq!(q(DialectKind::SqlServer, "a[b"), "[a[b]");
    assert_eq!(q(DialectKind::Postgres, "ü select; x"), "\"ü select; x\"");
}

#[test]
fn literal_quoting_escapes_quotes_and_backslashes_where_they_escape() {
    let l = |kind: DialectKind, v: &str| dialect(kind).quote_literal(v);
    let value = "it's a \\ test";
    assert_eq!(l(DialectKind::Postgres, value), "'it''s a \\ test'");
    assert_eq!(l(DialectKind::Sqlite, value), "'it''s a \\ test'");
    assert_eq!(l(DialectKind::Mysql, value), "'it''s a \\\\ test'");
    assert_eq!(l(DialectKind::SqlServer, value), "N'it''s a \\ test'");
    // Spark reads '' as the end of one literal and the start of another.
    assert_eq!(l(DialectKind::Databricks, value), "'it\\'s a \\\\ test'");
}

#[test]
fn hostile_comments_stay_one_statement() {
    let comments = [
        "'; DROP TABLE x; --",
        "back\\'; DROP TABLE x; --",
        "line\nbreak */ /* x",
    ];
    for kind in [
        DialectKind::Postgres,
        DialectKind::Mysql,
        DialectKind::SqlServer,
        DialectKind::Databricks,
    ] {
        for comment in comments {
            let table = qn(kind, "orders");
            let change = Change::SetColumnComment {
                table: table.clone(),
                column: "note".into(),
                from: None,
                to: Some(comment.into()),
            };
            let mut to = common::shop(kind);
            common::column_mut(&mut to, "orders", "note").comment = Some(comment.into());
            let from = common::shop(kind);
            let plan = plan_changes(kind, vec![change], &from, &to, &Facts::default()).unwrap();
            for s in &plan.statements {
                // MySQL and Databricks carry column comments in statements
                // sqlparser reads (MODIFY COLUMN / ALTER COLUMN COMMENT is
                // not among them for Databricks), so only count statements.
                if kind == DialectKind::Databricks {
                    assert!(s
                        .sql
                        .ends_with(&format!("COMMENT {}", dialect(kind).quote_literal(comment))));
                    continue;
                }
                one_statement(kind, &s.sql);
            }
        }
    }
}

#[test]
fn a_reason_with_a_line_break_cannot_escape_its_script_comment() {
    // The name travels into the reason comment above the statement; were the
    // line break kept there, the rest would be a statement of the script.
    let kind = DialectKind::Postgres;
    let name = "x\nDROP TABLE customers; --";
    let schema = common::schema_for(kind);
    let t = table(name, vec![col("id", DataType::Integer, true)]);
    let plan = plan_changes(
        kind,
        vec![Change::AddTable {
            table: qn(kind, name),
            definition: t.clone(),
        }],
        &state_with(schema, vec![]),
        &state_with(schema, vec![t]),
        &Facts::default(),
    )
    .unwrap();
    let script = plan.to_sql_script();
    assert!(script.contains("-- [safe] adds table public.x DROP TABLE customers; --"));
    let statements = Parser::parse_sql(parser(kind).as_ref(), &script).unwrap();
    assert_eq!(statements.len(), plan.statements.len(), "{script}");
    assert!(matches!(statements[0], Statement::CreateTable(_)));
}
