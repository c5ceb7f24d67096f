//! A small shop schema and one hand-written change list per change kind,
//! shared by the rendering tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use tidemark_model::{
    Catalog, Change, CheckConstraint, Column, DataType, FkAction, ForeignKey, Index, ObjectId,
    PrimaryKey, QualifiedName, Schema, State, Table, TableRef, UniqueConstraint,
};
use tidemark_sql::DialectKind;

/// The schema each dialect's fixture lives in (SQLite's is `main`).
pub fn schema_for(kind: DialectKind) -> &'static str {
    match kind {
        DialectKind::Postgres => "public",
        DialectKind::Mysql => "shop",
        DialectKind::Sqlite => "main",
        DialectKind::SqlServer => "dbo",
        DialectKind::Databricks => "sales",
    }
}

pub fn col(name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        id: ObjectId::new(format!("col_{name}")),
        name: name.into(),
        data_type,
        nullable,
        default: None,
        comment: None,
        identity: false,
    }
}

pub fn table(name: &str, columns: Vec<Column>) -> Table {
    Table {
        id: ObjectId::new(format!("tbl_{name}")),
        name: name.into(),
        columns,
        primary_key: None,
        uniques: vec![],
        indexes: vec![],
        foreign_keys: vec![],
        checks: vec![],
        comment: None,
        properties: BTreeMap::new(),
    }
}

pub fn pk(name: &str, columns: &[&str]) -> PrimaryKey {
    PrimaryKey {
        id: ObjectId::new(format!("pk_{name}")),
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
    }
}

pub fn fk(
    name: &str,
    columns: &[&str],
    schema: &str,
    table: &str,
    ref_columns: &[&str],
) -> ForeignKey {
    ForeignKey {
        id: ObjectId::new(format!("fk_{name}")),
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        references: TableRef {
            schema: schema.into(),
            table: table.into(),
        },
        ref_columns: ref_columns.iter().map(|c| c.to_string()).collect(),
        on_delete: FkAction::NoAction,
        on_update: FkAction::NoAction,
    }
}

pub fn customers() -> Table {
    let mut id = col("id", DataType::BigInt, false);
    id.identity = true;
    let mut t = table(
        "customers",
        vec![
            id,
            col("email", DataType::Varchar { length: Some(255) }, false),
            col("name", DataType::Text, true),
        ],
    );
    t.primary_key = Some(pk("customers_pkey", &["id"]));
    t.uniques.push(UniqueConstraint {
        id: ObjectId::new("uq_customers_email"),
        name: "customers_email_key".into(),
        columns: vec!["email".into()],
    });
    t
}

pub fn orders(schema: &str) -> Table {
    let mut id = col("id", DataType::BigInt, false);
    id.identity = true;
    let mut amount = col(
        "amount",
        DataType::Decimal {
            precision: Some(12),
            scale: Some(2),
        },
        false,
    );
    amount.default = Some("0".into());
    let mut note = col("note", DataType::Text, true);
    note.comment = Some("free text".into());
    let mut status = col("status", DataType::Varchar { length: Some(20) }, true);
    status.default = Some("'new'".into());
    let mut t = table(
        "orders",
        vec![
            id,
            col("customer_id", DataType::BigInt, false),
            amount,
            note,
            status,
        ],
    );
    t.primary_key = Some(pk("orders_pkey", &["id"]));
    t.indexes.push(Index {
        id: ObjectId::new("ix_orders_customer"),
        name: "orders_customer_idx".into(),
        columns: vec!["customer_id".into()],
        unique: false,
    });
    t.foreign_keys.push(fk(
        "orders_customer_fk",
        &["customer_id"],
        schema,
        "customers",
        &["id"],
    ));
    t.checks.push(CheckConstraint {
        id: ObjectId::new("ck_orders_amount"),
        name: "orders_amount_check".into(),
        expression: "amount >= 0".into(),
    });
    t.comment = Some("Orders placed in the shop".into());
    t
}

pub fn order_lines(schema: &str) -> Table {
    let mut quantity = col("quantity", DataType::Integer, false);
    quantity.default = Some("1".into());
    let mut t = table(
        "order_lines",
        vec![
            col("order_id", DataType::BigInt, false),
            col("line_no", DataType::Integer, false),
            col("sku", DataType::Varchar { length: Some(40) }, false),
            quantity,
        ],
    );
    t.primary_key = Some(pk("order_lines_pkey", &["order_id", "line_no"]));
    let mut key = fk(
        "order_lines_order_fk",
        &["order_id"],
        schema,
        "orders",
        &["id"],
    );
    key.on_delete = FkAction::Cascade;
    t.foreign_keys.push(key);
    t
}

pub fn state_with(schema: &str, tables: Vec<Table>) -> State {
    State {
        catalogs: vec![Catalog {
            id: ObjectId::new("cat_app"),
            name: "app".into(),
            comment: None,
            schemas: vec![Schema {
                id: ObjectId::new(format!("sch_{schema}")),
                name: schema.into(),
                comment: None,
                tables,
            }],
        }],
    }
}

/// The fixture's from state for a dialect.
pub fn shop(kind: DialectKind) -> State {
    let s = schema_for(kind);
    state_with(s, from_tables(kind))
}

pub fn qn(kind: DialectKind, name: &str) -> QualifiedName {
    QualifiedName {
        catalog: "app".into(),
        schema: schema_for(kind).into(),
        name: name.into(),
    }
}

pub fn table_mut<'a>(state: &'a mut State, name: &str) -> &'a mut Table {
    state.catalogs[0].schemas[0]
        .tables
        .iter_mut()
        .find(|t| t.name == name)
        .expect("fixture table")
}

pub fn column_mut<'a>(state: &'a mut State, table: &str, column: &str) -> &'a mut Column {
    table_mut(state, table)
        .columns
        .iter_mut()
        .find(|c| c.name == column)
        .expect("fixture column")
}

/// One case: a name, the to state, and the changes from the fixture to it.
pub struct Case {
    pub name: &'static str,
    pub from: State,
    pub to: State,
    pub changes: Vec<Change>,
}

/// Every change kind, one case each, for a dialect's fixture.
pub fn cases(kind: DialectKind) -> Vec<Case> {
    let from = shop(kind);
    let s = schema_for(kind).to_string();
    let orders_qn = qn(kind, "orders");
    let customers_qn = qn(kind, "customers");
    let mut out = Vec::new();
    let mut case_from = |name: &'static str,
                         edit_from: &dyn Fn(&mut State),
                         edit: &dyn Fn(&mut State) -> Vec<Change>| {
        let mut start = from.clone();
        edit_from(&mut start);
        let mut to = start.clone();
        let changes = edit(&mut to);
        out.push(Case {
            name,
            from: start,
            to,
            changes,
        });
    };
    macro_rules! case {
        ($name:expr, $edit:expr) => {
            case_from($name, &|_| {}, $edit)
        };
    }

    case!("add_catalog", &|to| {
        to.catalogs.push(Catalog {
            id: ObjectId::new("cat_analytics"),
            name: "analytics".into(),
            comment: None,
            schemas: vec![],
        });
        vec![Change::AddCatalog {
            name: "analytics".into(),
        }]
    });
    case!("drop_catalog", &|_| {
        vec![Change::DropCatalog {
            name: "archive".into(),
        }]
    });
    case!("rename_catalog", &|to| {
        to.catalogs[0].name = "shop_app".into();
        vec![Change::RenameCatalog {
            from: "app".into(),
            to: "shop_app".into(),
        }]
    });
    case!("add_schema", &|to| {
        to.catalogs[0].schemas.push(Schema {
            id: ObjectId::new("sch_audit"),
            name: "audit".into(),
            comment: Some("Audit trail".into()),
            tables: vec![],
        });
        vec![Change::AddSchema {
            catalog: "app".into(),
            name: "audit".into(),
            comment: Some("Audit trail".into()),
        }]
    });
    case!("drop_schema", &|_| {
        vec![Change::DropSchema {
            catalog: "app".into(),
            name: "staging".into(),
        }]
    });
    let s2 = s.clone();
    case!("rename_schema", &move |to| {
        to.catalogs[0].schemas[0].name = "store".into();
        vec![Change::RenameSchema {
            catalog: "app".into(),
            from: s2.clone(),
            to: "store".into(),
        }]
    });
    let s2 = s.clone();
    case!("set_schema_comment", &move |to| {
        to.catalogs[0].schemas[0].comment = Some("Shop data".into());
        vec![Change::SetSchemaComment {
            catalog: "app".into(),
            name: s2.clone(),
            from: None,
            to: Some("Shop data".into()),
        }]
    });
    let (s2, oq) = (s.clone(), orders_qn.clone());
    case!("add_table", &move |to| {
        let mut id = col("id", DataType::BigInt, false);
        id.identity = true;
        let mut at = col("created_at", DataType::TimestampTz, false);
        at.default = Some("CURRENT_TIMESTAMP".into());
        let mut event = col("event", DataType::Varchar { length: Some(40) }, false);
        event.comment = Some("What happened".into());
        let mut t = table(
            "order_events",
            vec![id, col("order_id", DataType::BigInt, false), event, at],
        );
        t.primary_key = Some(pk("order_events_pkey", &["id"]));
        t.checks.push(CheckConstraint {
            id: ObjectId::new("ck_event"),
            name: "order_events_event_check".into(),
            expression: "event <> ''".into(),
        });
        t.comment = Some("Order history".into());
        if kind == DialectKind::Databricks {
            t.properties
                .insert("delta.appendOnly".into(), "true".into());
        }
        let definition = t.clone();
        let key = fk(
            "order_events_order_fk",
            &["order_id"],
            &s2,
            "orders",
            &["id"],
        );
        let index = Index {
            id: ObjectId::new("ix_events_order"),
            name: "order_events_order_idx".into(),
            columns: vec!["order_id".into()],
            unique: false,
        };
        t.foreign_keys.push(key.clone());
        t.indexes.push(index.clone());
        to.catalogs[0].schemas[0].tables.push(t);
        let name = QualifiedName {
            name: "order_events".into(),
            ..oq.clone()
        };
        vec![
            Change::AddTable {
                table: name.clone(),
                definition,
            },
            Change::AddIndex {
                table: name.clone(),
                index,
            },
            Change::AddForeignKey {
                table: name,
                foreign_key: key,
            },
        ]
    });
    let (cq, oq) = (customers_qn.clone(), orders_qn.clone());
    case!("drop_table", &move |to| {
        to.catalogs[0].schemas[0].tables.clear();
        let s = &from_tables(kind);
        // Given parents first: the plan must drop children first.
        vec![
            Change::DropTable {
                table: cq.clone(),
                definition: s[0].clone(),
            },
            Change::DropTable {
                table: oq.clone(),
                definition: s[1].clone(),
            },
            Change::DropTable {
                table: QualifiedName {
                    name: "order_lines".into(),
                    ..oq.clone()
                },
                definition: s[2].clone(),
            },
        ]
    });
    let oq = orders_qn.clone();
    case!("rename_table", &move |to| {
        table_mut(to, "orders").name = "purchases".into();
        vec![Change::RenameTable {
            from: oq.clone(),
            to: "purchases".into(),
        }]
    });
    let oq = orders_qn.clone();
    case!("set_table_comment", &move |to| {
        table_mut(to, "orders").comment = Some("It's the orders".into());
        vec![Change::SetTableComment {
            table: oq.clone(),
            from: Some("Orders placed in the shop".into()),
            to: Some("It's the orders".into()),
        }]
    });
    let oq = orders_qn.clone();
    case!("set_table_property", &move |to| {
        table_mut(to, "orders")
            .properties
            .insert("owner".into(), "team-orders".into());
        vec![Change::SetTableProperty {
            table: oq.clone(),
            key: "owner".into(),
            from: None,
            to: "team-orders".into(),
        }]
    });
    let oq = orders_qn.clone();
    case_from(
        "unset_table_property",
        &|from| {
            table_mut(from, "orders")
                .properties
                .insert("owner".into(), "team-orders".into());
        },
        &move |to| {
            table_mut(to, "orders").properties.remove("owner");
            vec![Change::UnsetTableProperty {
                table: oq.clone(),
                key: "owner".into(),
                from: "team-orders".into(),
            }]
        },
    );
    let oq = orders_qn.clone();
    case!("add_column", &move |to| {
        let mut c = col("currency", DataType::Char { length: 3 }, false);
        c.default = Some("'EUR'".into());
        c.comment = Some("ISO 4217 code".into());
        table_mut(to, "orders").columns.insert(3, c.clone());
        vec![Change::AddColumn {
            table: oq.clone(),
            column: c,
            position: 3,
        }]
    });
    let oq = orders_qn.clone();
    case!("drop_column", &move |to| {
        let t = table_mut(to, "orders");
        let at = t.columns.iter().position(|c| c.name == "note").unwrap();
        let c = t.columns.remove(at);
        vec![Change::DropColumn {
            table: oq.clone(),
            column: c,
        }]
    });
    let oq = orders_qn.clone();
    case!("rename_column", &move |to| {
        column_mut(to, "orders", "note").name = "remark".into();
        vec![Change::RenameColumn {
            table: oq.clone(),
            from: "note".into(),
            to: "remark".into(),
        }]
    });
    let oq = orders_qn.clone();
    case!("change_column_type", &move |to| {
        let c = column_mut(to, "orders", "status");
        c.data_type = DataType::Varchar { length: Some(40) };
        vec![Change::ChangeColumnType {
            table: oq.clone(),
            column: "status".into(),
            from: DataType::Varchar { length: Some(20) },
            to: DataType::Varchar { length: Some(40) },
        }]
    });
    let oq = orders_qn.clone();
    case!("set_column_nullable", &move |to| {
        column_mut(to, "orders", "status").nullable = false;
        vec![Change::SetColumnNullable {
            table: oq.clone(),
            column: "status".into(),
            nullable: false,
        }]
    });
    let oq = orders_qn.clone();
    case!("set_column_default", &move |to| {
        column_mut(to, "orders", "status").default = Some("'pending'".into());
        vec![Change::SetColumnDefault {
            table: oq.clone(),
            column: "status".into(),
            from: Some("'new'".into()),
            to: Some("'pending'".into()),
        }]
    });
    let oq = orders_qn.clone();
    case!("set_column_identity", &move |to| {
        column_mut(to, "orders", "id").identity = false;
        vec![Change::SetColumnIdentity {
            table: oq.clone(),
            column: "id".into(),
            identity: false,
        }]
    });
    let oq = orders_qn.clone();
    case!("set_column_comment", &move |to| {
        column_mut(to, "orders", "note").comment = None;
        vec![Change::SetColumnComment {
            table: oq.clone(),
            column: "note".into(),
            from: Some("free text".into()),
            to: None,
        }]
    });
    let oq = orders_qn.clone();
    case!("reorder_columns", &move |to| {
        let t = table_mut(to, "orders");
        let status = t.columns.remove(4);
        t.columns.insert(1, status);
        let names = |t: &Table| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        vec![Change::ReorderColumns {
            table: oq.clone(),
            from: vec![
                "id".into(),
                "customer_id".into(),
                "amount".into(),
                "note".into(),
                "status".into(),
            ],
            to: names(t),
        }]
    });
    let lq = qn(kind, "order_lines");
    let lq2 = lq.clone();
    case!("drop_primary_key", &move |to| {
        let key = table_mut(to, "order_lines").primary_key.take().unwrap();
        vec![Change::DropPrimaryKey {
            table: lq2.clone(),
            key,
        }]
    });
    let lq2 = lq.clone();
    case_from(
        "add_primary_key",
        &|from| table_mut(from, "order_lines").primary_key = None,
        &move |to| {
            let key = pk("order_lines_pkey", &["order_id", "line_no"]);
            table_mut(to, "order_lines").primary_key = Some(key.clone());
            vec![Change::AddPrimaryKey {
                table: lq2.clone(),
                key,
            }]
        },
    );
    let cq = customers_qn.clone();
    case!("add_unique", &move |to| {
        let u = UniqueConstraint {
            id: ObjectId::new("uq_customers_name"),
            name: "customers_name_key".into(),
            columns: vec!["name".into()],
        };
        table_mut(to, "customers").uniques.push(u.clone());
        vec![Change::AddUnique {
            table: cq.clone(),
            constraint: u,
        }]
    });
    let cq = customers_qn.clone();
    case!("drop_unique", &move |to| {
        let u = table_mut(to, "customers").uniques.remove(0);
        vec![Change::DropUnique {
            table: cq.clone(),
            constraint: u,
        }]
    });
    let oq = orders_qn.clone();
    case!("add_index", &move |to| {
        let index = Index {
            id: ObjectId::new("ix_orders_status"),
            name: "orders_status_idx".into(),
            columns: vec!["status".into(), "lower(note)".into()],
            unique: false,
        };
        table_mut(to, "orders").indexes.push(index.clone());
        vec![Change::AddIndex {
            table: oq.clone(),
            index,
        }]
    });
    let oq = orders_qn.clone();
    case!("drop_index", &move |to| {
        let index = table_mut(to, "orders").indexes.remove(0);
        vec![Change::DropIndex {
            table: oq.clone(),
            index,
        }]
    });
    let (s2, oq) = (s.clone(), orders_qn.clone());
    case!("add_foreign_key", &move |to| {
        let t = table_mut(to, "orders");
        t.columns.push(col("referrer_id", DataType::BigInt, true));
        let key = fk(
            "orders_referrer_fk",
            &["referrer_id"],
            &s2,
            "customers",
            &["id"],
        );
        t.foreign_keys.push(key.clone());
        vec![
            Change::AddColumn {
                table: oq.clone(),
                column: col("referrer_id", DataType::BigInt, true),
                position: 5,
            },
            Change::AddForeignKey {
                table: oq.clone(),
                foreign_key: key,
            },
        ]
    });
    let oq = orders_qn.clone();
    case!("drop_foreign_key", &move |to| {
        let key = table_mut(to, "orders").foreign_keys.remove(0);
        vec![Change::DropForeignKey {
            table: oq.clone(),
            foreign_key: key,
        }]
    });
    let oq = orders_qn.clone();
    case!("add_check", &move |to| {
        let check = CheckConstraint {
            id: ObjectId::new("ck_orders_status"),
            name: "orders_status_check".into(),
            expression: "status IN ('new', 'paid', 'shipped')".into(),
        };
        table_mut(to, "orders").checks.push(check.clone());
        vec![Change::AddCheck {
            table: oq.clone(),
            check,
        }]
    });
    let oq = orders_qn.clone();
    case!("drop_check", &move |to| {
        let check = table_mut(to, "orders").checks.remove(0);
        vec![Change::DropCheck {
            table: oq.clone(),
            check,
        }]
    });
    out
}

fn from_tables(kind: DialectKind) -> Vec<Table> {
    let s = schema_for(kind);
    vec![customers(), orders(s), order_lines(s)]
}
