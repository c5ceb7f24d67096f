//! Every change kind rendered for every dialect, one snapshot per (dialect,
//! change kind), as the script a reviewer would read. A change the dialect
//! cannot express snapshots its error.

mod common;

use tidemark_model::Facts;
use tidemark_sql::{plan_changes, DialectKind};

fn render_all(kind: DialectKind) {
    for case in common::cases(kind) {
        let output = match plan_changes(kind, case.changes, &case.from, &case.to, &Facts::default())
        {
            Ok(plan) => plan.to_sql_script(),
            Err(e) => format!("error: {e}\n"),
        };
        insta::assert_snapshot!(format!("{kind}__{}", case.name), output);
    }
}

#[test]
fn postgres() {
    render_all(DialectKind::Postgres);
}

#[test]
fn mysql() {
    render_all(DialectKind::Mysql);
}

#[test]
fn sqlite() {
    render_all(DialectKind::Sqlite);
}

#[test]
fn sqlserver() {
    render_all(DialectKind::SqlServer);
}

#[test]
fn databricks() {
    render_all(DialectKind::Databricks);
}
