//! Normalization: a state and the way a database reports it back compare
//! equal, and normalizing twice changes nothing.

mod common;

use common::{col, column_mut, shop, table_mut};
use proptest::prelude::*;
use tidemark_model::{
    Change, CheckConstraint, DataType, Facts, FkAction, Index, ObjectId, State, UniqueConstraint,
};
use tidemark_sql::{dialect, plan, DialectKind};

fn norm(kind: DialectKind, state: &State) -> State {
    dialect(kind).normalize(state)
}

/// A column of a (normalized) state, by table and column name.
fn column_of<'a>(state: &'a State, table: &str, column: &str) -> &'a tidemark_model::Column {
    state.catalogs[0].schemas[0]
        .tables
        .iter()
        .find(|t| t.name == table)
        .and_then(|t| t.columns.iter().find(|c| c.name == column))
        .expect("column")
}

fn table_of<'a>(state: &'a State, table: &str) -> &'a tidemark_model::Table {
    state.catalogs[0].schemas[0]
        .tables
        .iter()
        .find(|t| t.name == table)
        .expect("table")
}

/// The shop with a column's default set as a database would report it.
fn with_default(kind: DialectKind, table: &str, column: &str, default: Option<&str>) -> State {
    let mut s = shop(kind);
    column_mut(&mut s, table, column).default = default.map(str::to_string);
    s
}

#[test]
fn normalizing_is_idempotent_for_every_dialect() {
    for kind in DialectKind::ALL {
        for case in common::cases(kind) {
            for state in [&case.from, &case.to] {
                let once = norm(kind, state);
                assert_eq!(norm(kind, &once), once, "{kind} {}", case.name);
            }
        }
    }
}

#[test]
fn an_unchanged_database_shows_no_difference() {
    // A live database reads back with its own spellings; after normalization
    // the plan between project and database is empty.
    let kind = DialectKind::Postgres;
    let project = shop(kind);
    let mut live = project.clone();
    let orders = table_mut(&mut live, "orders");
    orders.columns[2].default = Some("'0'::numeric".into());
    orders.columns[4].default = Some("'new'::character varying".into());
    orders.columns[4].data_type = DataType::Raw {
        sql: "character varying(20)".into(),
    };
    orders.columns[1].data_type = DataType::Raw { sql: "int8".into() };
    orders.checks[0].expression = "(amount >= (0)::numeric)".into();
    orders.indexes.push(Index {
        id: ObjectId::new("live_pkey_index"),
        name: "orders_pkey".into(),
        columns: vec!["id".into()],
        unique: true,
    });
    assert_ne!(project, live);
    let p = plan(
        kind,
        &norm(kind, &live),
        &norm(kind, &project),
        &Facts::default(),
    )
    .unwrap();
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
}

#[test]
fn type_aliases_collapse() {
    let cases: &[(DialectKind, &str, DataType)] = &[
        (DialectKind::Postgres, "int4", DataType::Integer),
        (DialectKind::Postgres, "integer", DataType::Integer),
        (DialectKind::Postgres, "serial", DataType::Integer),
        (
            DialectKind::Postgres,
            "character varying(30)",
            DataType::Varchar { length: Some(30) },
        ),
        (
            DialectKind::Postgres,
            "VARCHAR(30)",
            DataType::Varchar { length: Some(30) },
        ),
        (
            DialectKind::Postgres,
            "timestamp with time zone",
            DataType::TimestampTz,
        ),
        (
            DialectKind::Postgres,
            "numeric(10)",
            DataType::Decimal {
                precision: Some(10),
                scale: Some(0),
            },
        ),
        (DialectKind::Postgres, "jsonb", DataType::Json),
        (
            DialectKind::Postgres,
            "json",
            DataType::Raw { sql: "json".into() },
        ),
        (
            DialectKind::Postgres,
            "text[]",
            DataType::Raw {
                sql: "text[]".into(),
            },
        ),
        (DialectKind::Mysql, "tinyint(1)", DataType::Boolean),
        (
            DialectKind::Mysql,
            "tinyint(4)",
            DataType::Raw {
                sql: "tinyint(4)".into(),
            },
        ),
        (DialectKind::Mysql, "int(11)", DataType::Integer),
        (
            DialectKind::Mysql,
            "int(10) unsigned",
            DataType::Raw {
                sql: "int(10) unsigned".into(),
            },
        ),
        (
            DialectKind::Mysql,
            "decimal",
            DataType::Decimal {
                precision: Some(10),
                scale: Some(0),
            },
        ),
        (DialectKind::Mysql, "longtext", DataType::Text),
        (
            DialectKind::Mysql,
            "text",
            DataType::Raw { sql: "text".into() },
        ),
        (DialectKind::Mysql, "datetime", DataType::Timestamp),
        (DialectKind::Mysql, "timestamp", DataType::TimestampTz),
        (DialectKind::Sqlite, "INT", DataType::Integer),
        (DialectKind::Sqlite, "VARCHAR", DataType::Text),
        (DialectKind::Sqlite, "datetime", DataType::Timestamp),
        (DialectKind::Sqlite, "", DataType::Raw { sql: "".into() }),
        (DialectKind::SqlServer, "bit", DataType::Boolean),
        (DialectKind::SqlServer, "nvarchar(max)", DataType::Text),
        (
            DialectKind::SqlServer,
            "nvarchar(12)",
            DataType::Varchar { length: Some(12) },
        ),
        (
            DialectKind::SqlServer,
            "varchar(12)",
            DataType::Raw {
                sql: "varchar(12)".into(),
            },
        ),
        (DialectKind::SqlServer, "datetime2(7)", DataType::Timestamp),
        (
            DialectKind::SqlServer,
            "datetime2(3)",
            DataType::Raw {
                sql: "datetime2(3)".into(),
            },
        ),
        (DialectKind::SqlServer, "float", DataType::Double),
        (DialectKind::SqlServer, "uniqueidentifier", DataType::Uuid),
        (DialectKind::Databricks, "STRING", DataType::Text),
        (DialectKind::Databricks, "long", DataType::BigInt),
        (DialectKind::Databricks, "timestamp", DataType::TimestampTz),
        (
            DialectKind::Databricks,
            "TIMESTAMP_NTZ",
            DataType::Timestamp,
        ),
    ];
    for (kind, native, expected) in cases {
        assert_eq!(
            &dialect(*kind).parse_native_type(native),
            expected,
            "{kind} {native:?}"
        );
    }
}

#[test]
fn the_type_round_trip_shows_what_a_dialect_keeps() {
    let round = |kind: DialectKind, t: DataType| {
        let mut s = shop(kind);
        column_mut(&mut s, "orders", "note").data_type = t;
        column_of(&norm(kind, &s), "orders", "note")
            .data_type
            .clone()
    };
    assert_eq!(
        round(DialectKind::Mysql, DataType::Varchar { length: None }),
        DataType::Text
    );
    assert_eq!(
        round(DialectKind::Sqlite, DataType::Varchar { length: None }),
        DataType::Text
    );
    assert_eq!(
        round(DialectKind::Postgres, DataType::Varchar { length: None }),
        DataType::Varchar { length: None }
    );
    assert_eq!(
        round(DialectKind::Mysql, DataType::Uuid),
        DataType::Char { length: 36 }
    );
    assert_eq!(
        round(DialectKind::SqlServer, DataType::Json),
        DataType::Text
    );
    assert_eq!(
        round(DialectKind::Databricks, DataType::Time),
        DataType::Text
    );
    assert_eq!(
        round(DialectKind::Postgres, DataType::Raw { sql: "INT4".into() }),
        DataType::Integer
    );
}

fn arb_type() -> impl Strategy<Value = DataType> {
    prop_oneof![
        Just(DataType::Boolean),
        Just(DataType::SmallInt),
        Just(DataType::Integer),
        Just(DataType::BigInt),
        (
            proptest::option::of(1u32..80),
            proptest::option::of(0u32..40)
        )
            .prop_map(|(precision, scale)| DataType::Decimal { precision, scale }),
        Just(DataType::Real),
        Just(DataType::Double),
        proptest::option::of(1u32..9000).prop_map(|length| DataType::Varchar { length }),
        (1u32..9000).prop_map(|length| DataType::Char { length }),
        Just(DataType::Text),
        Just(DataType::Binary),
        Just(DataType::Date),
        Just(DataType::Time),
        Just(DataType::Timestamp),
        Just(DataType::TimestampTz),
        Just(DataType::Uuid),
        Just(DataType::Json),
        "[a-z]{1,8}( [a-z]{1,8})?(\\([0-9]{1,2}\\))?".prop_map(|sql| DataType::Raw { sql }),
    ]
}

proptest! {
    #[test]
    fn the_type_round_trip_is_stable(t in arb_type()) {
        for kind in DialectKind::ALL {
            let d = dialect(kind);
            let once = d.parse_native_type(&d.native_type(&t));
            let twice = d.parse_native_type(&d.native_type(&once));
            prop_assert_eq!(&once, &twice, "{} {:?}", kind, t);
        }
    }
}

#[test]
fn default_spellings_collapse() {
    let same = |kind: DialectKind, table: &str, column: &str, a: Option<&str>, b: Option<&str>| {
        assert_eq!(
            norm(kind, &with_default(kind, table, column, a)),
            norm(kind, &with_default(kind, table, column, b)),
            "{kind}: {a:?} vs {b:?}"
        );
    };
    let pg = DialectKind::Postgres;
    same(
        pg,
        "orders",
        "status",
        Some("'new'::character varying"),
        Some("'new'"),
    );
    same(pg, "orders", "status", Some("('new'::text)"), Some("'new'"));
    same(
        pg,
        "orders",
        "status",
        Some("NULL::character varying"),
        None,
    );
    same(pg, "orders", "status", Some("NULL"), None);
    same(pg, "orders", "amount", Some("'-1'::numeric"), Some("-1"));
    same(pg, "orders", "amount", Some("((0))"), Some("0"));
    same(
        pg,
        "orders",
        "note",
        Some("now()"),
        Some("CURRENT_TIMESTAMP"),
    );
    let ms = DialectKind::SqlServer;
    same(ms, "orders", "amount", Some("((0))"), Some("0"));
    same(
        ms,
        "orders",
        "note",
        Some("(getdate())"),
        Some("current_timestamp"),
    );
    let my = DialectKind::Mysql;
    same(my, "orders", "amount", Some("'0'"), Some("0"));
    same(
        my,
        "orders",
        "note",
        Some("current_timestamp()"),
        Some("CURRENT_TIMESTAMP"),
    );
    same(my, "orders", "status", Some("_utf8mb4'new'"), Some("'new'"));
    // A string column keeps its quotes: '0' is text there.
    let text = norm(my, &with_default(my, "orders", "status", Some("'0'")));
    assert_eq!(
        column_of(&text, "orders", "status").default.as_deref(),
        Some("'0'")
    );
}

#[test]
fn boolean_defaults_collapse_to_the_dialects_spelling() {
    for (kind, truthy, expected) in [
        (DialectKind::Mysql, "b'1'", "1"),
        (DialectKind::Mysql, "TRUE", "1"),
        (DialectKind::Mysql, "'1'", "1"),
        (DialectKind::Postgres, "'t'::boolean", "true"),
        (DialectKind::Postgres, "TRUE", "true"),
        (DialectKind::SqlServer, "((1))", "1"),
        (DialectKind::Sqlite, "true", "1"),
        (DialectKind::Databricks, "1", "true"),
    ] {
        let mut s = shop(kind);
        let c = column_mut(&mut s, "orders", "note");
        c.data_type = DataType::Boolean;
        c.default = Some(truthy.into());
        let n = norm(kind, &s);
        assert_eq!(
            column_of(&n, "orders", "note").default.as_deref(),
            Some(expected),
            "{kind} {truthy}"
        );
    }
}

#[test]
fn identity_columns_have_no_default_and_serial_is_identity() {
    let kind = DialectKind::Postgres;
    let mut s = shop(kind);
    let id = column_mut(&mut s, "order_lines", "line_no");
    id.default = Some("nextval('order_lines_line_no_seq'::regclass)".into());
    let n = norm(kind, &s);
    let c = column_of(&n, "order_lines", "line_no");
    assert!(c.identity);
    assert_eq!(c.default, None);

    let mut with_default = shop(kind);
    column_mut(&mut with_default, "orders", "id").default = Some("0".into());
    assert_eq!(norm(kind, &with_default), norm(kind, &shop(kind)));
}

#[test]
fn key_backing_indexes_are_implicit() {
    for kind in DialectKind::ALL {
        let mut live = shop(kind);
        let customers = table_mut(&mut live, "customers");
        customers.indexes.push(Index {
            id: ObjectId::new("ix1"),
            name: "customers_email_key".into(),
            columns: vec!["email".into()],
            unique: true,
        });
        customers.indexes.push(Index {
            id: ObjectId::new("ix2"),
            name: "sqlite_autoindex_customers_1".into(),
            columns: vec!["id".into()],
            unique: true,
        });
        assert_eq!(norm(kind, &live), norm(kind, &shop(kind)), "{kind}");
    }
}

#[test]
fn mysql_folds_what_it_creates_for_itself() {
    let kind = DialectKind::Mysql;
    let mut live = shop(kind);
    let orders = table_mut(&mut live, "orders");
    // MySQL's own index for the key, the key's RESTRICT, its PRIMARY name,
    // and column names in another case.
    orders.indexes.push(Index {
        id: ObjectId::new("ix_fk"),
        name: "orders_customer_fk".into(),
        columns: vec!["customer_id".into()],
        unique: false,
    });
    orders.foreign_keys[0].on_update = FkAction::Restrict;
    orders.primary_key.as_mut().unwrap().name = "PRIMARY".into();
    orders.columns[4].name = "STATUS".into();
    assert_eq!(norm(kind, &live), norm(kind, &shop(kind)));

    // A unique index is the unique constraint of the same name.
    let mut as_index = shop(kind);
    let customers = table_mut(&mut as_index, "customers");
    let u = customers.uniques.remove(0);
    customers.indexes.push(Index {
        id: u.id.clone(),
        name: u.name.clone(),
        columns: u.columns.clone(),
        unique: true,
    });
    assert_eq!(norm(kind, &as_index), norm(kind, &shop(kind)));

    // Table names keep their case: MySQL on Linux tells them apart.
    let mut upper = shop(kind);
    table_mut(&mut upper, "orders").name = "Orders".into();
    assert_ne!(norm(kind, &upper), norm(kind, &shop(kind)));
}

#[test]
fn restrict_is_no_action_only_where_the_database_says_so() {
    for (kind, equal) in [
        (DialectKind::Mysql, true),
        (DialectKind::SqlServer, true),
        (DialectKind::Postgres, false),
        (DialectKind::Sqlite, false),
    ] {
        let mut s = shop(kind);
        table_mut(&mut s, "orders").foreign_keys[0].on_delete = FkAction::Restrict;
        assert_eq!(norm(kind, &s) == norm(kind, &shop(kind)), equal, "{kind}");
    }
}

#[test]
fn check_spellings_collapse() {
    let check = |kind: DialectKind, expression: &str| {
        let mut s = shop(kind);
        table_mut(&mut s, "orders").checks[0] = CheckConstraint {
            id: ObjectId::new("ck_orders_amount"),
            name: "orders_amount_check".into(),
            expression: expression.into(),
        };
        norm(kind, &s)
    };
    assert_eq!(
        check(DialectKind::SqlServer, "([amount]>=(0))"),
        check(DialectKind::SqlServer, "amount >= 0")
    );
    assert_eq!(
        check(DialectKind::Postgres, "(amount >= (0)::numeric)"),
        check(DialectKind::Postgres, "amount   >=  0")
    );
    assert_eq!(
        check(
            DialectKind::Mysql,
            "(`status` in (_utf8mb4'new',_utf8mb4'paid'))"
        ),
        check(DialectKind::Mysql, "status IN ('new', 'paid')")
    );
    assert_eq!(
        check(DialectKind::Sqlite, "amount != 0"),
        check(DialectKind::Sqlite, "amount <> 0")
    );
    // Different checks stay different.
    assert_ne!(
        check(DialectKind::Postgres, "amount >= 0"),
        check(DialectKind::Postgres, "amount > 0")
    );
    // A quoted mixed-case name is a different column in PostgreSQL.
    assert_ne!(
        check(DialectKind::Postgres, "\"Amount\" >= 0"),
        check(DialectKind::Postgres, "amount >= 0")
    );
}

#[test]
fn what_a_dialect_cannot_store_is_left_out() {
    let mut s = shop(DialectKind::Sqlite);
    table_mut(&mut s, "orders")
        .properties
        .insert("owner".into(), "x".into());
    let n = norm(DialectKind::Sqlite, &s);
    let orders = table_of(&n, "orders");
    assert_eq!(orders.comment, None);
    assert!(orders.columns.iter().all(|c| c.comment.is_none()));
    assert!(orders.properties.is_empty());

    // Databricks keeps properties but not the ones Delta manages, and has no indexes.
    let mut s = shop(DialectKind::Databricks);
    let orders = table_mut(&mut s, "orders");
    orders.properties.insert("owner".into(), "x".into());
    orders
        .properties
        .insert("delta.minReaderVersion".into(), "2".into());
    orders.properties.insert(
        "delta.feature.allowColumnDefaults".into(),
        "supported".into(),
    );
    let n = norm(DialectKind::Databricks, &s);
    let orders = table_of(&n, "orders");
    assert_eq!(orders.properties.keys().collect::<Vec<_>>(), ["owner"]);
    assert!(orders.indexes.is_empty());
}

#[test]
fn sqlite_and_sqlserver_match_names_without_case() {
    for kind in [
        DialectKind::Sqlite,
        DialectKind::SqlServer,
        DialectKind::Databricks,
    ] {
        let mut s = shop(kind);
        let t = table_mut(&mut s, "customers");
        t.name = "Customers".into();
        t.columns[1].name = "EMAIL".into();
        t.uniques[0] = UniqueConstraint {
            id: ObjectId::new("uq_customers_email"),
            name: "Customers_Email_Key".into(),
            columns: vec!["EMAIL".into()],
        };
        table_mut(&mut s, "orders").foreign_keys[0].references.table = "CUSTOMERS".into();
        assert_eq!(norm(kind, &s), norm(kind, &shop(kind)), "{kind}");
    }
    // PostgreSQL does not.
    let mut s = shop(DialectKind::Postgres);
    column_mut(&mut s, "customers", "email").name = "EMAIL".into();
    assert_ne!(
        norm(DialectKind::Postgres, &s),
        norm(DialectKind::Postgres, &shop(DialectKind::Postgres))
    );
}

#[test]
fn a_new_nullable_column_still_plans_after_normalization() {
    // Normalization keeps states plannable: the plan between two normalized
    // states is the real change only.
    let kind = DialectKind::SqlServer;
    let from = shop(kind);
    let mut to = from.clone();
    table_mut(&mut to, "orders")
        .columns
        .push(col("paid_at", DataType::TimestampTz, true));
    let p = plan(
        kind,
        &norm(kind, &from),
        &norm(kind, &to),
        &Facts::default(),
    )
    .unwrap();
    assert!(
        matches!(p.changes.as_slice(), [Change::AddColumn { .. }]),
        "{:#?}",
        p.changes
    );
    assert_eq!(
        p.statements[0].sql,
        "ALTER TABLE [dbo].[orders] ADD [paid_at] datetimeoffset NULL"
    );
}
