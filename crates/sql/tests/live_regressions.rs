//! Plans and normalizations that the live round-trip tests (crates/db
//! tests `roundtrip_*`) found wrong against real servers, pinned here
//! without a server: each test names what the database did.

mod common;

use common::*;
use tidemark_model::{
    CheckConstraint, DataType, Facts, Index, ObjectId, State, Table, UniqueConstraint,
};
use tidemark_sql::{dialect, plan, DialectKind};

fn statements(kind: DialectKind, from: &State, to: &State) -> Vec<String> {
    plan(kind, from, to, &Facts::default())
        .expect("plan")
        .statements
        .into_iter()
        .map(|s| s.sql)
        .collect()
}

/// The position of the one statement that contains `needle`.
fn at(statements: &[String], needle: &str) -> usize {
    let found: Vec<usize> = (0..statements.len())
        .filter(|&i| statements[i].contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one statement with {needle}: {statements:#?}"
    );
    found[0]
}

fn unique(name: &str, columns: &[&str]) -> UniqueConstraint {
    UniqueConstraint {
        id: ObjectId::new(format!("uq_{name}")),
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
    }
}

fn int(name: &str) -> tidemark_model::Column {
    col(name, DataType::Integer, false)
}

fn keyed(name: &str) -> Table {
    let mut t = table(name, vec![int("id")]);
    t.primary_key = Some(pk(&format!("{name}_pkey"), &["id"]));
    t
}

#[test]
fn postgres_adds_a_unique_that_repeats_the_primary_key_after_create_table() {
    // Inside CREATE TABLE, PostgreSQL silently drops such a constraint.
    let mut t = keyed("t");
    t.uniques.push(unique("t_id_key", &["id"]));
    let sql = statements(
        DialectKind::Postgres,
        &state_with("public", vec![]),
        &state_with("public", vec![t]),
    );
    assert!(!sql[0].contains("t_id_key"), "{}", sql[0]);
    assert_eq!(
        sql[1],
        r#"ALTER TABLE "public"."t" ADD CONSTRAINT "t_id_key" UNIQUE ("id")"#
    );
}

#[test]
fn postgres_type_change_reparses_checks_and_recasts_the_default() {
    // PostgreSQL keeps a check as parsed against the old type, and cannot
    // always cast the old default to the new one.
    let from = shop(DialectKind::Postgres);
    let mut to = from.clone();
    column_mut(&mut to, "orders", "amount").data_type = DataType::Double;
    let sql = statements(DialectKind::Postgres, &from, &to);
    let steps = [
        r#"DROP CONSTRAINT "orders_amount_check""#,
        r#"ALTER COLUMN "amount" DROP DEFAULT"#,
        r#"ALTER COLUMN "amount" TYPE double precision"#,
        r#"ALTER COLUMN "amount" SET DEFAULT 0"#,
        r#"ADD CONSTRAINT "orders_amount_check" CHECK (amount >= 0)"#,
    ];
    let order: Vec<usize> = steps.iter().map(|s| at(&sql, s)).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{sql:#?}");
}

#[test]
fn renames_wait_for_the_names_they_take_and_swaps_use_a_temporary_name() {
    let from = state_with(
        "public",
        vec![table("t", vec![int("a"), int("b"), int("x"), int("y")])],
    );
    let mut to = from.clone();
    let t = table_mut(&mut to, "t");
    // a → b while b → c: b must go first.
    t.columns[0].name = "b".into();
    t.columns[1].name = "c".into();
    // x ↔ y.
    t.columns[2].name = "y".into();
    t.columns[3].name = "x".into();
    for kind in [
        DialectKind::Postgres,
        DialectKind::Mysql,
        DialectKind::Sqlite,
    ] {
        let q = |n: &str| dialect(kind).quote_ident(n);
        let sql = statements(kind, &from, &to);
        let rename = |a: &str, b: &str| at(&sql, &format!("RENAME COLUMN {} TO {}", q(a), q(b)));
        assert!(rename("b", "c") < rename("a", "b"), "{kind}: {sql:#?}");
        // Both out of the way before any other rename, both back after.
        let temporary: Vec<usize> = (0..sql.len())
            .filter(|&i| sql[i].contains("tidemark_tmp_"))
            .collect();
        assert_eq!(temporary.len(), 4, "{kind}: {sql:#?}");
        assert!(temporary[1] < rename("b", "c"), "{kind}: {sql:#?}");
        assert!(temporary[2] > rename("a", "b"), "{kind}: {sql:#?}");
    }
}

#[test]
fn a_table_that_loses_every_column_adds_the_new_ones_first() {
    // MySQL and SQLite refuse to drop a table's last column.
    let from = state_with("shop", vec![table("t", vec![int("old")])]);
    let mut to = from.clone();
    let t = table_mut(&mut to, "t");
    t.columns = vec![col("new", DataType::Text, true)];
    t.columns[0].id = ObjectId::new("col_brand_new");
    let sql = statements(DialectKind::Mysql, &from, &to);
    assert!(at(&sql, "ADD COLUMN `new`") < at(&sql, "DROP COLUMN `old`"));
}

#[test]
fn a_foreign_key_is_rebound_around_the_key_it_depends_on() {
    // PostgreSQL ties a foreign key to the constraint it was created
    // against, even when another one covers the same columns.
    let mut parent = keyed("p");
    parent.uniques.push(unique("p_id_key", &["id"]));
    let mut child = table("c", vec![int("pid")]);
    child
        .foreign_keys
        .push(fk("c_p_fk", &["pid"], "public", "p", &["id"]));
    let from = state_with("public", vec![parent, child]);
    let mut to = from.clone();
    table_mut(&mut to, "p").uniques.clear();
    let sql = statements(DialectKind::Postgres, &from, &to);
    let drop_fk = at(&sql, r#""c" DROP CONSTRAINT "c_p_fk""#);
    let drop_key = at(&sql, r#"DROP CONSTRAINT "p_id_key""#);
    let add_fk = at(&sql, r#"ADD CONSTRAINT "c_p_fk" FOREIGN KEY"#);
    assert!(drop_fk < drop_key && drop_key < add_fk, "{sql:#?}");

    // A foreign key of a table the plan drops goes first, for good.
    let mut to = from.clone();
    let tables = &mut to.catalogs[0].schemas[0].tables;
    tables.retain(|t| t.name != "c");
    tables[0].uniques.clear();
    let sql = statements(DialectKind::Postgres, &from, &to);
    assert!(at(&sql, r#"DROP CONSTRAINT "c_p_fk""#) < at(&sql, r#"DROP CONSTRAINT "p_id_key""#));
    assert!(
        !sql.iter().any(|s| s.contains("ADD CONSTRAINT")),
        "{sql:#?}"
    );
}

#[test]
fn mysql_rebinds_a_foreign_key_around_the_last_index_that_serves_it() {
    // MySQL will not drop the index a foreign key of the table uses.
    let mut child = table("c", vec![int("pid"), int("n")]);
    child.indexes.push(Index {
        id: ObjectId::new("ix_c"),
        name: "c_pid_n_idx".into(),
        columns: vec!["pid".into(), "n".into()],
        unique: false,
    });
    child
        .foreign_keys
        .push(fk("c_p_fk", &["pid"], "shop", "p", &["id"]));
    let from = state_with("shop", vec![keyed("p"), child]);
    let mut to = from.clone();
    table_mut(&mut to, "c").indexes.clear();
    let sql = statements(DialectKind::Mysql, &from, &to);
    let drop_fk = at(&sql, "DROP FOREIGN KEY `c_p_fk`");
    let drop_ix = at(&sql, "DROP INDEX `c_pid_n_idx`");
    let add_fk = at(&sql, "ADD CONSTRAINT `c_p_fk`");
    assert!(drop_fk < drop_ix && drop_ix < add_fk, "{sql:#?}");
}

#[test]
fn mysql_drops_the_index_it_made_for_a_foreign_key() {
    // DROP FOREIGN KEY leaves MySQL's own index (named after the key).
    let mut child = table("c", vec![int("pid")]);
    child
        .foreign_keys
        .push(fk("c_p_fk", &["pid"], "shop", "p", &["id"]));
    let from = state_with("shop", vec![keyed("p"), child]);
    let mut to = from.clone();
    table_mut(&mut to, "c").foreign_keys.clear();
    let sql = statements(DialectKind::Mysql, &from, &to);
    assert_eq!(
        sql,
        [
            "ALTER TABLE `shop`.`c` DROP FOREIGN KEY `c_p_fk`",
            "ALTER TABLE `shop`.`c` DROP INDEX `c_p_fk`"
        ]
    );

    // With an index of the user's over the key's columns, MySQL made none.
    let from = shop(DialectKind::Mysql);
    let mut to = from.clone();
    table_mut(&mut to, "orders").foreign_keys.clear();
    let sql = statements(DialectKind::Mysql, &from, &to);
    assert_eq!(
        sql,
        ["ALTER TABLE `shop`.`orders` DROP FOREIGN KEY `orders_customer_fk`"]
    );
}

#[test]
fn mysql_keeps_an_auto_increment_column_a_key() {
    // A new AUTO_INCREMENT column gets its key in the same statement.
    let from = state_with("shop", vec![table("t", vec![int("a")])]);
    let mut to = from.clone();
    let t = table_mut(&mut to, "t");
    let mut id = int("id");
    id.identity = true;
    t.columns.push(id);
    t.primary_key = Some(pk("PRIMARY", &["id"]));
    let planned = plan(DialectKind::Mysql, &from, &to, &Facts::default()).unwrap();
    let sql: Vec<&str> = planned.statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sql,
        ["ALTER TABLE `shop`.`t` ADD COLUMN `id` int NOT NULL AUTO_INCREMENT, ADD PRIMARY KEY (`id`)"]
    );
    assert!(planned.notes[0].reason.contains("AUTO_INCREMENT"));

    // Its key goes with AUTO_INCREMENT, before the column does.
    let sql = statements(DialectKind::Mysql, &to, &from);
    let modify = at(&sql, "MODIFY COLUMN `id` int NOT NULL, DROP PRIMARY KEY");
    assert!(modify < at(&sql, "DROP COLUMN `id`"), "{sql:#?}");
}

#[test]
fn sqlite_moves_a_dropped_column_aside_when_a_rename_takes_its_name() {
    // The rebuild that drops `a` runs after the renames.
    let mut t = table("t", vec![int("a"), int("b")]);
    t.checks.push(CheckConstraint {
        id: ObjectId::new("ck_b"),
        name: "b_positive".into(),
        expression: "b >= 0".into(),
    });
    let from = state_with("main", vec![t]);
    let mut to = from.clone();
    let t = table_mut(&mut to, "t");
    t.checks.clear();
    t.columns.remove(0);
    t.columns[0].name = "a".into();
    let sql = statements(DialectKind::Sqlite, &from, &to);
    let aside = at(&sql, r#"RENAME COLUMN "a" TO "tidemark_dropped_"#);
    assert!(aside < at(&sql, r#"RENAME COLUMN "b" TO "a""#), "{sql:#?}");
    let copy = &sql[at(&sql, "INSERT INTO")];
    assert_eq!(
        copy,
        r#"INSERT INTO "tidemark_new_t" ("a") SELECT "a" FROM "t""#
    );
}

#[test]
fn normalization_folds_what_servers_report_differently() {
    let normalized = |kind: DialectKind, t: Table| {
        let state = state_with(schema_for(kind), vec![t]);
        dialect(kind).normalize(&state).catalogs[0].schemas[0].tables[0].clone()
    };
    let with_default = |ty: DataType, default: &str| {
        let mut c = col("c", ty, true);
        c.default = Some(default.into());
        table("t", vec![c])
    };
    // MariaDB: 0.00 for the default 0 of a decimal(10,2); 'x\'y' for 'x''y'.
    let money = DataType::Decimal {
        precision: Some(10),
        scale: Some(2),
    };
    let my = DialectKind::Mysql;
    assert_eq!(
        normalized(my, with_default(money.clone(), "0.00")),
        normalized(my, with_default(money, "0"))
    );
    let text = DataType::Varchar { length: Some(9) };
    assert_eq!(
        normalized(my, with_default(text.clone(), r"'x\'y'")),
        normalized(my, with_default(text, "'x''y'"))
    );

    // MySQL: the index over a foreign key's columns, whatever its name.
    let mut child = table("c", vec![int("pid")]);
    child
        .foreign_keys
        .push(fk("c_fk", &["pid"], "shop", "p", &["id"]));
    let mut renamed = child.clone();
    renamed.indexes.push(Index {
        id: ObjectId::new("ix"),
        name: "an_older_key".into(),
        columns: vec!["pid".into()],
        unique: false,
    });
    assert_eq!(normalized(my, renamed), normalized(my, child));

    // PostgreSQL: IN lists as stored, and the text cast of a varchar column.
    let check = |expression: &str| {
        let mut t = table(
            "t",
            vec![col("s", DataType::Varchar { length: Some(1) }, true)],
        );
        t.checks.push(CheckConstraint {
            id: ObjectId::new("ck"),
            name: "s_check".into(),
            expression: expression.into(),
        });
        normalized(DialectKind::Postgres, t)
    };
    assert_eq!(
        check(
            "((s)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"
        ),
        check("s IN ('a', 'b')")
    );

    // SQLite: one index per column list; the rowid has none.
    let lite = DialectKind::Sqlite;
    let keys = |ty: DataType, uniques: &[&str]| {
        let mut t = table("t", vec![col("id", ty, false)]);
        t.primary_key = Some(pk("t_pkey", &["id"]));
        t.uniques = uniques.iter().map(|u| unique(u, &["id"])).collect();
        normalized(lite, t).uniques.len()
    };
    assert_eq!(keys(DataType::Integer, &["u1", "u2"]), 1);
    assert_eq!(keys(DataType::BigInt, &["u1", "u2"]), 0);
}

#[test]
fn postgres_rebinds_a_foreign_key_whose_key_has_the_same_columns_in_another_order() {
    // PostgreSQL matched the foreign key on (id, x) to the primary key on
    // (x, id), created first, although a unique on (id, x) also exists;
    // dropping the primary key then fails with 2BP01.
    let mut t = table("t", vec![int("id"), int("x"), int("a"), int("b")]);
    t.primary_key = Some(pk("t_pk", &["x", "id"]));
    t.uniques.push(unique("t_id_x", &["id", "x"]));
    t.foreign_keys
        .push(fk("t_self_fk", &["a", "b"], "shop", "t", &["id", "x"]));
    let from = state_with("shop", vec![t]);
    let mut to = from.clone();
    table_mut(&mut to, "t").primary_key = None;
    let sql = statements(DialectKind::Postgres, &from, &to);
    let drop_fk = at(&sql, "DROP CONSTRAINT \"t_self_fk\"");
    let drop_pk = at(&sql, "DROP CONSTRAINT \"t_pk\"");
    let add_fk = at(&sql, "ADD CONSTRAINT \"t_self_fk\"");
    assert!(drop_fk < drop_pk && drop_pk < add_fk, "{sql:#?}");
}

#[test]
fn a_renamed_table_that_loses_every_column_drops_them_under_its_new_name() {
    // Its old columns go after its new ones, which is after the rename:
    // PostgreSQL answered 42P01 to a DROP COLUMN on the old name.
    let from = state_with("shop", vec![table("old", vec![int("id")])]);
    let mut to = from.clone();
    let t = table_mut(&mut to, "old");
    t.name = "new".into();
    t.columns = vec![col("name", DataType::SmallInt, true)];
    for kind in [DialectKind::Postgres, DialectKind::Mysql] {
        let sql = statements(kind, &from, &to);
        let rename = at(&sql, "RENAME");
        let drop = at(&sql, "DROP COLUMN");
        assert!(rename < drop, "{sql:#?}");
        assert!(!sql[drop].contains("old"), "{sql:#?}");
        assert!(sql[drop].contains("new"), "{sql:#?}");
    }
}
