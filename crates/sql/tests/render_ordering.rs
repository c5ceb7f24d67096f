//! Plans put statements in an order the database accepts, and group the
//! changes a dialect makes in one go.

mod common;

use common::{col, fk, qn, schema_for, shop, state_with, table, table_mut};
use tidemark_model::{Change, DataType, Facts, QualifiedName, Severity, State};
use tidemark_sql::{plan, plan_changes, DialectKind, Plan};

fn position(plan: &Plan, needle: &str) -> usize {
    plan.statements
        .iter()
        .position(|s| s.sql.contains(needle))
        .unwrap_or_else(|| {
            panic!(
                "no statement contains {needle:?}:\n{}",
                plan.to_sql_script()
            )
        })
}

fn empty(kind: DialectKind) -> State {
    state_with(schema_for(kind), vec![])
}

#[test]
fn a_foreign_key_is_dropped_before_the_table_it_references() {
    let kind = DialectKind::Postgres;
    let from = shop(kind);
    let mut to = from.clone();
    to.catalogs[0].schemas[0]
        .tables
        .retain(|t| t.name != "customers");
    table_mut(&mut to, "orders").foreign_keys.clear();
    let p = plan(kind, &from, &to, &Facts::default()).unwrap();
    assert!(
        position(&p, "DROP CONSTRAINT \"orders_customer_fk\"")
            < position(&p, "DROP TABLE \"public\".\"customers\""),
        "{}",
        p.to_sql_script()
    );
}

#[test]
fn tables_are_created_before_the_keys_that_point_at_them() {
    let kind = DialectKind::Postgres;
    let mut to = shop(kind);
    // Children first in the to state: the plan must still create parents first.
    to.catalogs[0].schemas[0].tables.reverse();
    let p = plan(kind, &empty(kind), &to, &Facts::default()).unwrap();
    let customers = position(&p, "CREATE TABLE \"public\".\"customers\"");
    let orders = position(&p, "CREATE TABLE \"public\".\"orders\"");
    let lines = position(&p, "CREATE TABLE \"public\".\"order_lines\"");
    assert!(
        customers < orders && orders < lines,
        "{}",
        p.to_sql_script()
    );
    for (i, s) in p.statements.iter().enumerate() {
        if s.sql.contains("FOREIGN KEY") {
            assert!(i > lines, "key before a table:\n{}", p.to_sql_script());
        }
    }
}

#[test]
fn sqlite_declares_new_keys_inside_create_table_in_dependency_order() {
    let kind = DialectKind::Sqlite;
    let mut to = shop(kind);
    to.catalogs[0].schemas[0].tables.reverse();
    let p = plan(kind, &empty(kind), &to, &Facts::default()).unwrap();
    let customers = position(&p, "CREATE TABLE \"customers\"");
    let orders = position(&p, "CREATE TABLE \"orders\"");
    let lines = position(&p, "CREATE TABLE \"order_lines\"");
    assert!(
        customers < orders && orders < lines,
        "{}",
        p.to_sql_script()
    );
    assert!(p.statements[lines].sql.contains(
        "CONSTRAINT \"order_lines_order_fk\" FOREIGN KEY (\"order_id\") REFERENCES \"orders\" (\"id\") ON DELETE CASCADE"
    ));
    assert!(p
        .statements
        .iter()
        .all(|s| !s.sql.starts_with("ALTER TABLE")));
    // Every key change is accounted for by a note.
    let fk_changes = p
        .changes
        .iter()
        .filter(|c| matches!(c, Change::AddForeignKey { .. }))
        .count();
    assert_eq!(fk_changes, 2);
    assert_eq!(p.notes.len(), fk_changes, "{}", p.to_sql_script());
}

#[test]
fn dropped_tables_that_reference_each_other_drop_their_keys_first() {
    let kind = DialectKind::Postgres;
    let s = schema_for(kind);
    let mut a = table(
        "a",
        vec![
            col("id", DataType::Integer, false),
            col("b_id", DataType::Integer, true),
        ],
    );
    let mut b = table(
        "b",
        vec![
            col("id", DataType::Integer, false),
            col("a_id", DataType::Integer, true),
        ],
    );
    a.foreign_keys
        .push(fk("a_b_fk", &["b_id"], s, "b", &["id"]));
    b.foreign_keys
        .push(fk("b_a_fk", &["a_id"], s, "a", &["id"]));
    let from = state_with(s, vec![a.clone(), b.clone()]);
    let changes = vec![
        Change::DropTable {
            table: qn(kind, "a"),
            definition: a,
        },
        Change::DropTable {
            table: qn(kind, "b"),
            definition: b,
        },
    ];
    let p = plan_changes(kind, changes, &from, &empty(kind), &Facts::default()).unwrap();
    let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TABLE \"public\".\"a\" DROP CONSTRAINT \"a_b_fk\"",
            "ALTER TABLE \"public\".\"b\" DROP CONSTRAINT \"b_a_fk\"",
            "DROP TABLE \"public\".\"a\"",
            "DROP TABLE \"public\".\"b\"",
        ]
    );
    assert!(p
        .statements
        .iter()
        .all(|s| s.severity == Severity::Breaking));
}

#[test]
fn drops_come_before_renames_and_renames_before_additions() {
    let kind = DialectKind::Postgres;
    let from = shop(kind);
    let mut to = from.clone();
    let orders = table_mut(&mut to, "orders");
    orders.name = "purchases".into();
    let note = orders.columns.remove(3);
    orders
        .columns
        .push(col("paid_at", DataType::TimestampTz, true));
    let purchases = QualifiedName {
        name: "purchases".into(),
        ..qn(kind, "orders")
    };
    // Given backwards on purpose.
    let changes = vec![
        Change::AddColumn {
            table: purchases,
            column: col("paid_at", DataType::TimestampTz, true),
            position: 4,
        },
        Change::RenameTable {
            from: qn(kind, "orders"),
            to: "purchases".into(),
        },
        Change::DropColumn {
            table: qn(kind, "orders"),
            column: note,
        },
    ];
    let p = plan_changes(kind, changes, &from, &to, &Facts::default()).unwrap();
    let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TABLE \"public\".\"orders\" DROP COLUMN \"note\"",
            "ALTER TABLE \"public\".\"orders\" RENAME TO \"purchases\"",
            "ALTER TABLE \"public\".\"purchases\" ADD COLUMN \"paid_at\" timestamptz",
        ]
    );
    // Statements point back at the changes as given.
    assert_eq!(
        p.statements.iter().map(|s| s.change).collect::<Vec<_>>(),
        [2, 1, 0]
    );
}

#[test]
fn postgres_makes_a_column_not_null_and_drops_its_default_before_adding_identity() {
    let kind = DialectKind::Postgres;
    let from = shop(kind);
    let mut to = from.clone();
    let c = common::column_mut(&mut to, "order_lines", "line_no");
    c.identity = true;
    let t = qn(kind, "order_lines");
    let mut from2 = from.clone();
    let old = common::column_mut(&mut from2, "order_lines", "line_no");
    old.nullable = true;
    old.default = Some("0".into());
    let changes = vec![
        Change::SetColumnIdentity {
            table: t.clone(),
            column: "line_no".into(),
            identity: true,
        },
        Change::SetColumnDefault {
            table: t.clone(),
            column: "line_no".into(),
            from: Some("0".into()),
            to: None,
        },
        Change::SetColumnNullable {
            table: t,
            column: "line_no".into(),
            nullable: false,
        },
    ];
    let p = plan_changes(kind, changes, &from2, &to, &Facts::default()).unwrap();
    let not_null = position(&p, "SET NOT NULL");
    let drop_default = position(&p, "DROP DEFAULT");
    let identity = position(&p, "ADD GENERATED BY DEFAULT AS IDENTITY");
    let setval = position(
        &p,
        "setval(pg_get_serial_sequence('\"public\".\"order_lines\"', 'line_no')",
    );
    assert!(not_null < identity && drop_default < identity && identity < setval);
}

fn status_changes(kind: DialectKind) -> (State, State, Vec<Change>) {
    let from = shop(kind);
    let mut to = from.clone();
    let c = common::column_mut(&mut to, "orders", "status");
    c.data_type = DataType::Varchar { length: Some(40) };
    c.nullable = false;
    c.default = Some("'pending'".into());
    let t = qn(kind, "orders");
    let changes = vec![
        Change::ChangeColumnType {
            table: t.clone(),
            column: "status".into(),
            from: DataType::Varchar { length: Some(20) },
            to: DataType::Varchar { length: Some(40) },
        },
        Change::SetColumnNullable {
            table: t.clone(),
            column: "status".into(),
            nullable: false,
        },
        Change::SetColumnDefault {
            table: t,
            column: "status".into(),
            from: Some("'new'".into()),
            to: Some("'pending'".into()),
        },
    ];
    (from, to, changes)
}

#[test]
fn mysql_makes_every_change_to_a_column_in_one_modify() {
    let kind = DialectKind::Mysql;
    let (from, to, changes) = status_changes(kind);
    let p = plan_changes(kind, changes, &from, &to, &Facts::default()).unwrap();
    let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        ["ALTER TABLE `shop`.`orders` MODIFY COLUMN `status` varchar(40) NOT NULL DEFAULT 'pending'"]
    );
    // The worst of the three verdicts, with every reason.
    assert_eq!(p.statements[0].severity, Severity::Risky);
    assert!(
        p.statements[0].reason.contains("widens") && p.statements[0].reason.contains("NOT NULL")
    );
    assert_eq!(p.notes.iter().map(|n| n.change).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn sqlserver_rebinds_the_default_around_a_type_change() {
    let kind = DialectKind::SqlServer;
    let (from, to, changes) = status_changes(kind);
    let p = plan_changes(kind, changes, &from, &to, &Facts::default()).unwrap();
    assert_eq!(p.statements.len(), 3, "{}", p.to_sql_script());
    assert!(p.statements[0].sql.starts_with("DECLARE @df sysname"));
    assert_eq!(
        p.statements[1].sql,
        "ALTER TABLE [dbo].[orders] ALTER COLUMN [status] nvarchar(40) NOT NULL"
    );
    assert_eq!(
        p.statements[2].sql,
        "ALTER TABLE [dbo].[orders] ADD CONSTRAINT [DF_orders_status] DEFAULT 'pending' FOR [status]"
    );
}

#[test]
fn sqlite_rebuilds_a_table_once_for_all_its_changes() {
    let kind = DialectKind::Sqlite;
    let (from, mut to, mut changes) = status_changes(kind);
    // A rename and a new index on the same table ride along.
    let t = table_mut(&mut to, "orders");
    t.columns[3].name = "remark".into();
    t.indexes.push(tidemark_model::Index {
        id: tidemark_model::ObjectId::new("ix_status"),
        name: "orders_status_idx".into(),
        columns: vec!["status".into()],
        unique: false,
    });
    changes.push(Change::RenameColumn {
        table: qn(kind, "orders"),
        from: "note".into(),
        to: "remark".into(),
    });
    changes.push(Change::AddIndex {
        table: qn(kind, "orders"),
        index: t.indexes[1].clone(),
    });
    let p = plan_changes(kind, changes, &from, &to, &Facts::default()).unwrap();
    let script = p.to_sql_script();
    assert_eq!(
        p.statements
            .iter()
            .filter(|s| s.sql.starts_with("CREATE TABLE \"tidemark_new_orders\""))
            .count(),
        1,
        "{script}"
    );
    let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(sql[0], "PRAGMA foreign_keys = OFF");
    // The rename runs in place first, so other tables' keys follow it.
    assert_eq!(
        sql[1],
        "ALTER TABLE \"orders\" RENAME COLUMN \"note\" TO \"remark\""
    );
    assert!(sql[2].contains("\"status\" VARCHAR(40) NOT NULL DEFAULT 'pending'"));
    assert!(sql[2].contains("\"remark\" TEXT"));
    assert_eq!(
        sql[3],
        "INSERT INTO \"tidemark_new_orders\" (\"id\", \"customer_id\", \"amount\", \"remark\", \"status\") SELECT \"id\", \"customer_id\", \"amount\", \"remark\", \"status\" FROM \"orders\""
    );
    assert_eq!(sql[4], "DROP TABLE \"orders\"");
    assert_eq!(
        sql[5],
        "ALTER TABLE \"tidemark_new_orders\" RENAME TO \"orders\""
    );
    assert_eq!(
        sql[6],
        "CREATE INDEX \"orders_customer_idx\" ON \"orders\" (\"customer_id\")"
    );
    assert_eq!(
        sql[7],
        "CREATE INDEX \"orders_status_idx\" ON \"orders\" (\"status\")"
    );
    assert_eq!(
        sql[8..],
        ["PRAGMA foreign_key_check", "PRAGMA foreign_keys = ON"]
    );
    assert_eq!(p.transaction_range(), 1..9);
    // Changes 1, 2 and 4 are done by the rebuild that change 0 leads.
    let mut noted: Vec<usize> = p.notes.iter().map(|n| n.change).collect();
    noted.sort();
    assert_eq!(noted, [1, 2, 4]);
}

#[test]
fn sqlite_adds_and_drops_plain_columns_in_place() {
    let kind = DialectKind::Sqlite;
    let from = shop(kind);
    let mut to = from.clone();
    let t = table_mut(&mut to, "customers");
    let name = t.columns.remove(2);
    let mut vip = col("vip", DataType::Boolean, false);
    vip.default = Some("0".into());
    t.columns.push(vip.clone());
    let changes = vec![
        Change::DropColumn {
            table: qn(kind, "customers"),
            column: name,
        },
        Change::AddColumn {
            table: qn(kind, "customers"),
            column: vip,
            position: 2,
        },
    ];
    let p = plan_changes(kind, changes, &from, &to, &Facts::default()).unwrap();
    let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TABLE \"customers\" DROP COLUMN \"name\"",
            "ALTER TABLE \"customers\" ADD COLUMN \"vip\" BOOLEAN NOT NULL DEFAULT 0",
        ]
    );
    assert_eq!(p.transaction_range(), 0..2);
}

#[test]
fn databricks_enables_column_mapping_once_per_table() {
    let kind = DialectKind::Databricks;
    let from = shop(kind);
    let mut to = from.clone();
    let t = table_mut(&mut to, "orders");
    t.columns[3].name = "remark".into();
    t.columns[4].name = "state".into();
    let note = t.columns.remove(2);
    let orders = qn(kind, "orders");
    let changes = vec![
        Change::RenameColumn {
            table: orders.clone(),
            from: "note".into(),
            to: "remark".into(),
        },
        Change::RenameColumn {
            table: orders.clone(),
            from: "status".into(),
            to: "state".into(),
        },
        Change::DropColumn {
            table: orders,
            column: note,
        },
    ];
    let p = plan_changes(kind, changes.clone(), &from, &to, &Facts::default()).unwrap();
    let mapping: Vec<_> = p
        .statements
        .iter()
        .filter(|s| s.sql.contains("'delta.columnMapping.mode' = 'name'"))
        .collect();
    assert_eq!(mapping.len(), 1, "{}", p.to_sql_script());
    // Before the first change that needs it: the drop.
    assert_eq!(position(&p, "columnMapping"), 0);
    assert!(mapping[0].severity >= Severity::Risky);

    // A table that has it already needs nothing.
    let mut mapped = from.clone();
    table_mut(&mut mapped, "orders")
        .properties
        .insert("delta.columnMapping.mode".into(), "name".into());
    let p = plan_changes(kind, changes, &mapped, &to, &Facts::default()).unwrap();
    assert!(p
        .statements
        .iter()
        .all(|s| !s.sql.contains("columnMapping")));
}

#[test]
fn databricks_enables_column_defaults_on_a_table_without_any() {
    let kind = DialectKind::Databricks;
    let from = shop(kind);
    let mut to = from.clone();
    common::column_mut(&mut to, "customers", "name").default = Some("'anonymous'".into());
    let p = plan(kind, &from, &to, &Facts::default()).unwrap();
    let sql: Vec<&str> = p.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "ALTER TABLE `app`.`sales`.`customers` SET TBLPROPERTIES ('delta.feature.allowColumnDefaults' = 'supported')",
            "ALTER TABLE `app`.`sales`.`customers` ALTER COLUMN `name` SET DEFAULT 'anonymous'",
        ]
    );
    assert_eq!(p.statements[0].severity, Severity::Risky);
}

#[test]
fn every_change_of_every_plan_has_a_statement_or_a_note() {
    for kind in DialectKind::ALL {
        for case in common::cases(kind) {
            let Ok(p) = plan_changes(kind, case.changes, &case.from, &case.to, &Facts::default())
            else {
                continue;
            };
            for plan in std::iter::once(&p).chain(p.down.as_deref()) {
                for i in 0..plan.changes.len() {
                    let covered = plan.statements.iter().any(|s| s.change == i)
                        || plan.notes.iter().any(|n| n.change == i);
                    let noop = matches!(
                        &plan.changes[i],
                        Change::SetSchemaComment {
                            from: None,
                            to: None,
                            ..
                        }
                    );
                    assert!(covered || noop, "{kind} {}: change {i} left out", case.name);
                }
            }
        }
    }
}
