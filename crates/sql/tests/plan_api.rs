//! The plan as callers use it: dialect names, severities, down plans and
//! errors.

mod common;

use common::{column_mut, qn, shop, table_mut};
use tidemark_model::{diff, Change, DataType, Facts, Severity};
use tidemark_sql::{plan, plan_changes, DialectKind, Plan, SqlError};

#[test]
fn dialect_names_and_aliases() {
    for (name, kind) in [
        ("postgres", DialectKind::Postgres),
        ("PostgreSQL", DialectKind::Postgres),
        ("mysql", DialectKind::Mysql),
        ("mariadb", DialectKind::Mysql),
        ("sqlite", DialectKind::Sqlite),
        ("sqlserver", DialectKind::SqlServer),
        (" MSSQL ", DialectKind::SqlServer),
        ("databricks", DialectKind::Databricks),
    ] {
        assert_eq!(name.parse::<DialectKind>().unwrap(), kind, "{name}");
    }
    for kind in DialectKind::ALL {
        assert_eq!(kind.to_string().parse::<DialectKind>().unwrap(), kind);
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(serde_json::from_str::<DialectKind>(&json).unwrap(), kind);
        // The serialized name is accepted too.
        assert_eq!(json.trim_matches('"').parse::<DialectKind>().unwrap(), kind);
    }
    assert_eq!(
        serde_json::to_string(&DialectKind::SqlServer).unwrap(),
        "\"sql_server\""
    );
    assert_eq!(DialectKind::SqlServer.to_string(), "sqlserver");
    let err = "oracle".parse::<DialectKind>().unwrap_err();
    assert!(matches!(err, SqlError::UnknownDialect { .. }));
    let message = err.to_string();
    for name in ["postgres", "mysql", "sqlite", "sqlserver", "databricks"] {
        assert!(message.contains(name), "{message}");
    }
}

fn drop_note(kind: DialectKind) -> Plan {
    let from = shop(kind);
    let mut to = from.clone();
    table_mut(&mut to, "orders").columns.remove(3);
    plan(kind, &from, &to, &Facts::default()).unwrap()
}

#[test]
fn severity_is_the_worst_statement_and_breaking_lists_them() {
    let p = drop_note(DialectKind::Postgres);
    assert_eq!(p.severity(), Severity::Breaking);
    let breaking: Vec<&str> = p.breaking().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        breaking,
        ["ALTER TABLE \"public\".\"orders\" DROP COLUMN \"note\""]
    );
    let script = p.to_sql_script();
    assert!(script.contains("-- [breaking] drops column orders.note and its data\n"));
    assert!(script.contains("-- drop column orders.note: its data is gone\n"));
    // Nothing to do is safe.
    let same = plan(
        DialectKind::Postgres,
        &shop(DialectKind::Postgres),
        &shop(DialectKind::Postgres),
        &Facts::default(),
    )
    .unwrap();
    assert!(same.is_empty());
    assert_eq!(same.severity(), Severity::Safe);
}

#[test]
fn known_row_counts_reach_the_reasons() {
    let kind = DialectKind::Postgres;
    let from = shop(kind);
    let mut to = from.clone();
    let mut c = common::col("region", DataType::Text, false);
    c.default = None;
    table_mut(&mut to, "orders").columns.push(c);
    let mut facts = Facts::default();
    facts.row_counts.insert(qn(kind, "orders"), 1200);
    let p = plan(kind, &from, &to, &facts).unwrap();
    assert_eq!(p.severity(), Severity::Breaking);
    assert!(
        p.statements[0].reason.contains("1,200 rows"),
        "{}",
        p.statements[0].reason
    );
}

#[test]
fn the_down_plan_restores_the_shape_but_says_what_data_is_lost() {
    let p = drop_note(DialectKind::Postgres);
    assert_eq!(p.down_lossy, ["drop column orders.note: its data is gone"]);
    let down = p.down.as_deref().expect("down plan");
    assert!(down.down.is_none());
    assert_eq!(
        down.statements
            .iter()
            .map(|s| s.sql.as_str())
            .collect::<Vec<_>>(),
        [
            "ALTER TABLE \"public\".\"orders\" ADD COLUMN \"note\" text",
            "COMMENT ON COLUMN \"public\".\"orders\".\"note\" IS 'free text'",
        ]
    );
    // MySQL puts it back where it was.
    let p = drop_note(DialectKind::Mysql);
    assert_eq!(
        p.down.unwrap().statements[0].sql,
        "ALTER TABLE `shop`.`orders` ADD COLUMN `note` longtext NULL COMMENT 'free text' AFTER `amount`"
    );
}

#[test]
fn the_down_plan_makes_the_same_changes_as_diffing_backwards() {
    let kind = DialectKind::Postgres;
    for case in common::cases(kind) {
        if case.changes.iter().any(|c| {
            matches!(
                c,
                Change::AddCatalog { .. }
                    | Change::DropCatalog { .. }
                    | Change::RenameCatalog { .. }
                    | Change::DropSchema { .. }
            )
        }) {
            continue;
        }
        let Ok(p) = plan_changes(kind, case.changes, &case.from, &case.to, &Facts::default())
        else {
            continue;
        };
        let down = p.down.expect("down plan");
        let key = |c: &Change| serde_json::to_string(c).unwrap();
        let mut ours: Vec<String> = down.changes.iter().map(key).collect();
        let mut theirs: Vec<String> = diff(&case.to, &case.from).iter().map(key).collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{}", case.name);
    }
}

#[test]
fn a_type_change_that_only_widens_loses_nothing() {
    let kind = DialectKind::Postgres;
    let from = shop(kind);
    let mut widen = from.clone();
    column_mut(&mut widen, "orders", "status").data_type = DataType::Varchar { length: Some(40) };
    assert!(plan(kind, &from, &widen, &Facts::default())
        .unwrap()
        .down_lossy
        .is_empty());
    let mut narrow = from.clone();
    column_mut(&mut narrow, "orders", "status").data_type = DataType::Varchar { length: Some(5) };
    let p = plan(kind, &from, &narrow, &Facts::default()).unwrap();
    assert_eq!(
        p.down_lossy,
        ["change orders.status from varchar(20) to varchar(5): values were converted and may not convert back exactly"]
    );
}

#[test]
fn a_change_a_dialect_cannot_express_fails_the_plan() {
    let kind = DialectKind::SqlServer;
    let from = shop(kind);
    let mut to = from.clone();
    column_mut(&mut to, "orders", "id").identity = false;
    let err = plan(kind, &from, &to, &Facts::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sqlserver cannot make dbo.orders.id a plain column: SQL Server cannot add or remove IDENTITY on an existing column; add a new column and copy the values instead"
    );
}

#[test]
fn a_plan_that_cannot_be_undone_says_so() {
    // Dropping an identity column on Databricks works; adding it back cannot.
    let kind = DialectKind::Databricks;
    let from = shop(kind);
    let mut to = from.clone();
    table_mut(&mut to, "orders").columns.remove(0);
    table_mut(&mut to, "orders").primary_key = None;
    let p = plan(kind, &from, &to, &Facts::default()).unwrap();
    assert!(p.down.is_none());
    assert!(
        p.down_lossy
            .iter()
            .any(|l| l.starts_with("no down plan: databricks cannot add column sales.orders.id")),
        "{:?}",
        p.down_lossy
    );
}

#[test]
fn a_plan_serializes_for_the_ui() {
    let p = drop_note(DialectKind::Sqlite);
    let json = serde_json::to_string(&p).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    assert!(json.contains("\"dialect\":\"sqlite\""));
    assert!(json.contains("\"severity\":\"breaking\""));
}
