//! The reducer, op by op: what each action does, what each rejection says,
//! that a rejected op changes nothing, and that renames reach every key,
//! index and foreign key that names the renamed object.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;
use tidemark_model::{
    reduce, Action, DataType, FkAction, ModelError, ObjectId, ObjectKind, Op, Reducer, State,
    TableRef,
};

fn ts() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn op(target: &str, action: Action) -> Op {
    Op {
        id: format!("op_{}_{target}", action.name()),
        ts: ts(),
        target: ObjectId::new(target),
        action,
    }
}

fn id(s: &str) -> ObjectId {
    ObjectId::new(s)
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn add_catalog(id_: &str, name: &str) -> Op {
    op(
        ObjectId::ROOT,
        Action::AddCatalog {
            id: id(id_),
            name: name.into(),
        },
    )
}

fn add_schema(catalog: &str, id_: &str, name: &str) -> Op {
    op(
        catalog,
        Action::AddSchema {
            id: id(id_),
            name: name.into(),
        },
    )
}

fn add_table(schema: &str, id_: &str, name: &str) -> Op {
    op(
        schema,
        Action::AddTable {
            id: id(id_),
            name: name.into(),
        },
    )
}

fn add_column_at(table: &str, id_: &str, name: &str, position: Option<usize>) -> Op {
    op(
        table,
        Action::AddColumn {
            id: id(id_),
            name: name.into(),
            data_type: DataType::Integer,
            nullable: true,
            default: None,
            comment: None,
            identity: false,
            position,
        },
    )
}

fn add_column(table: &str, id_: &str, name: &str) -> Op {
    add_column_at(table, id_, name, None)
}

fn add_pk(table: &str, id_: &str, columns: &[&str]) -> Op {
    op(
        table,
        Action::AddPrimaryKey {
            id: id(id_),
            name: None,
            columns: strings(columns),
        },
    )
}

fn add_unique(table: &str, id_: &str, name: &str, columns: &[&str]) -> Op {
    op(
        table,
        Action::AddUnique {
            id: id(id_),
            name: name.into(),
            columns: strings(columns),
        },
    )
}

fn add_index(table: &str, id_: &str, name: &str, columns: &[&str]) -> Op {
    op(
        table,
        Action::AddIndex {
            id: id(id_),
            name: name.into(),
            columns: strings(columns),
            unique: false,
        },
    )
}

fn add_fk(
    table: &str,
    id_: &str,
    name: &str,
    columns: &[&str],
    references: (&str, &str),
    ref_columns: &[&str],
) -> Op {
    op(
        table,
        Action::AddForeignKey {
            id: id(id_),
            name: name.into(),
            columns: strings(columns),
            references: TableRef {
                schema: references.0.into(),
                table: references.1.into(),
            },
            ref_columns: strings(ref_columns),
            on_delete: FkAction::Cascade,
            on_update: FkAction::NoAction,
        },
    )
}

fn target_op(target: &str, action: Action) -> Op {
    op(target, action)
}

/// app.main.customers(id, email, name) with a primary key and a unique email;
/// app.main.orders(id, customer_id, total) with a key, a foreign key to
/// customers, an index and a check; app.sales.invoices(id, customer_id) with a
/// foreign key into main.customers.
fn shop_ops() -> Vec<Op> {
    vec![
        add_catalog("cat_1", "app"),
        add_schema("cat_1", "sch_main", "main"),
        add_schema("cat_1", "sch_sales", "sales"),
        add_table("sch_main", "tbl_c", "customers"),
        add_column("tbl_c", "col_c_id", "id"),
        add_column("tbl_c", "col_c_email", "email"),
        add_column("tbl_c", "col_c_name", "name"),
        add_pk("tbl_c", "pk_c", &["id"]),
        add_unique("tbl_c", "uq_c_email", "customers_email_key", &["email"]),
        add_table("sch_main", "tbl_o", "orders"),
        add_column("tbl_o", "col_o_id", "id"),
        add_column("tbl_o", "col_o_cust", "customer_id"),
        add_column("tbl_o", "col_o_total", "total"),
        add_pk("tbl_o", "pk_o", &["id"]),
        add_fk(
            "tbl_o",
            "fk_o_c",
            "orders_customer_id_fkey",
            &["customer_id"],
            ("main", "customers"),
            &["id"],
        ),
        add_index(
            "tbl_o",
            "ix_o_cust",
            "orders_customer_id_idx",
            &["customer_id"],
        ),
        target_op(
            "tbl_o",
            Action::AddCheck {
                id: id("chk_o_total"),
                name: "orders_total_check".into(),
                expression: "total >= 0".into(),
            },
        ),
        add_table("sch_sales", "tbl_i", "invoices"),
        add_column("tbl_i", "col_i_id", "id"),
        add_column("tbl_i", "col_i_cust", "customer_id"),
        add_fk(
            "tbl_i",
            "fk_i_c",
            "invoices_customer_id_fkey",
            &["customer_id"],
            ("main", "customers"),
            &["id"],
        ),
    ]
}

fn shop() -> Reducer {
    let mut reducer = Reducer::new(State::default());
    reducer
        .apply_all(&shop_ops())
        .expect("the shop fixture applies");
    reducer
}

/// Applies an op that must fail, checks the state did not move, and returns the error.
fn reject(reducer: &mut Reducer, op: Op) -> ModelError {
    let before = reducer.state().clone();
    let err = reducer
        .apply(&op)
        .expect_err("the op should have been rejected");
    assert_eq!(reducer.state(), &before, "a rejected op changed the state");
    assert!(
        !err.to_string().contains('\n'),
        "message is one line: {err}"
    );
    err
}

fn table<'a>(state: &'a State, schema: &str, name: &str) -> &'a tidemark_model::Table {
    state
        .find_table(schema, name)
        .unwrap_or_else(|| panic!("no table {schema}.{name}"))
}

fn column_names(state: &State, schema: &str, name: &str) -> Vec<String> {
    table(state, schema, name)
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect()
}

// ---- every action ------------------------------------------------------

#[test]
fn every_action_applies() {
    let mut ops = shop_ops();
    ops.extend([
        target_op(
            "cat_1",
            Action::RenameCatalog {
                name: "shop".into(),
            },
        ),
        target_op(
            "cat_1",
            Action::SetComment {
                comment: Some("the shop".into()),
            },
        ),
        target_op(
            "sch_sales",
            Action::RenameSchema {
                name: "billing".into(),
            },
        ),
        target_op(
            "sch_main",
            Action::SetComment {
                comment: Some("core".into()),
            },
        ),
        target_op(
            "tbl_c",
            Action::RenameTable {
                name: "clients".into(),
            },
        ),
        target_op(
            "tbl_c",
            Action::SetComment {
                comment: Some("people who buy".into()),
            },
        ),
        target_op(
            "col_c_name",
            Action::RenameColumn {
                name: "full_name".into(),
            },
        ),
        target_op(
            "col_c_name",
            Action::ChangeColumnType {
                data_type: DataType::Varchar { length: Some(200) },
            },
        ),
        target_op("col_c_name", Action::SetNullable { nullable: false }),
        target_op(
            "col_c_name",
            Action::SetDefault {
                default: Some("''".into()),
            },
        ),
        target_op("col_c_id", Action::SetIdentity { identity: true }),
        target_op(
            "col_c_name",
            Action::SetComment {
                comment: Some("as written".into()),
            },
        ),
        target_op(
            "tbl_c",
            Action::ReorderColumns {
                order: vec![id("col_c_name"), id("col_c_id"), id("col_c_email")],
            },
        ),
        target_op(
            "tbl_c",
            Action::SetTableProperty {
                key: "owner".into(),
                value: "sales".into(),
            },
        ),
        target_op(
            "tbl_c",
            Action::SetTableProperty {
                key: "tier".into(),
                value: "gold".into(),
            },
        ),
        target_op("tbl_c", Action::UnsetTableProperty { key: "tier".into() }),
        target_op("uq_c_email", Action::DropUnique),
        target_op("ix_o_cust", Action::DropIndex),
        target_op("chk_o_total", Action::DropCheck),
        target_op("fk_i_c", Action::DropForeignKey),
        target_op("tbl_o", Action::DropPrimaryKey),
        target_op("col_o_total", Action::DropColumn),
        add_table("sch_main", "tbl_tmp", "scratch"),
        target_op("tbl_tmp", Action::DropTable),
        add_schema("cat_1", "sch_tmp", "tmp"),
        target_op("sch_tmp", Action::DropSchema),
        add_catalog("cat_tmp", "other"),
        target_op("cat_tmp", Action::DropCatalog),
    ]);
    let names: BTreeSet<&str> = ops.iter().map(|o| o.action.name()).collect();
    assert_eq!(names.len(), 30, "the tour covers every action: {names:?}");

    let state = reduce(State::default(), &ops).expect("every op applies");

    assert_eq!(state.catalogs.len(), 1);
    let catalog = &state.catalogs[0];
    assert_eq!(catalog.name, "shop");
    assert_eq!(catalog.comment.as_deref(), Some("the shop"));
    let schema_names: Vec<&str> = catalog.schemas.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(schema_names, ["main", "billing"]);
    assert_eq!(catalog.schemas[0].comment.as_deref(), Some("core"));

    let clients = table(&state, "main", "clients");
    assert_eq!(clients.comment.as_deref(), Some("people who buy"));
    assert_eq!(
        column_names(&state, "main", "clients"),
        ["full_name", "id", "email"]
    );
    let full_name = clients.column("full_name").unwrap();
    assert_eq!(full_name.data_type, DataType::Varchar { length: Some(200) });
    assert!(!full_name.nullable);
    assert_eq!(full_name.default.as_deref(), Some("''"));
    assert_eq!(full_name.comment.as_deref(), Some("as written"));
    assert!(clients.column("id").unwrap().identity);
    assert!(clients.uniques.is_empty());
    assert_eq!(
        clients.properties.iter().collect::<Vec<_>>(),
        [(&"owner".to_string(), &"sales".to_string())]
    );

    let orders = table(&state, "main", "orders");
    assert_eq!(
        column_names(&state, "main", "orders"),
        ["id", "customer_id"]
    );
    assert!(orders.primary_key.is_none());
    assert!(orders.indexes.is_empty());
    assert!(orders.checks.is_empty());
    assert_eq!(orders.foreign_keys.len(), 1);
    assert_eq!(orders.foreign_keys[0].references.table, "clients");
    assert_eq!(orders.foreign_keys[0].on_delete, FkAction::Cascade);

    let invoices = table(&state, "billing", "invoices");
    assert!(invoices.foreign_keys.is_empty());
    assert!(state.find_table("main", "scratch").is_none());
}

#[test]
fn add_primary_key_defaults_its_name_and_keeps_a_given_one() {
    let mut r = Reducer::new(State::default());
    r.apply_all(&[
        add_catalog("c", "app"),
        add_schema("c", "s", "main"),
        add_table("s", "t", "users"),
        add_column("t", "t_id", "id"),
        add_pk("t", "pk", &["id"]),
        add_table("s", "u", "tags"),
        add_column("u", "u_id", "id"),
        target_op(
            "u",
            Action::AddPrimaryKey {
                id: id("pk_u"),
                name: Some("tags_primary".into()),
                columns: strings(&["id"]),
            },
        ),
    ])
    .unwrap();
    let pk = table(r.state(), "main", "users")
        .primary_key
        .clone()
        .unwrap();
    assert_eq!(pk.name, "users_pkey");
    assert_eq!(pk.columns, ["id"]);
    let pk = table(r.state(), "main", "tags")
        .primary_key
        .clone()
        .unwrap();
    assert_eq!(pk.name, "tags_primary");
}

#[test]
fn add_column_inserts_at_a_position_or_appends() {
    let mut r = shop();
    r.apply(&add_column_at("tbl_c", "col_first", "first", Some(0)))
        .unwrap();
    r.apply(&add_column_at("tbl_c", "col_last", "last", Some(4)))
        .unwrap();
    r.apply(&add_column_at("tbl_c", "col_mid", "mid", Some(2)))
        .unwrap();
    assert_eq!(
        column_names(r.state(), "main", "customers"),
        ["first", "id", "mid", "email", "name", "last"]
    );
}

#[test]
fn identity_on_a_nullable_column_is_taken_as_given() {
    let mut r = shop();
    r.apply(&target_op(
        "tbl_c",
        Action::AddColumn {
            id: id("col_seq"),
            name: "seq".into(),
            data_type: DataType::BigInt,
            nullable: true,
            default: None,
            comment: Some("odd but allowed".into()),
            identity: true,
            position: None,
        },
    ))
    .unwrap();
    let seq = table(r.state(), "main", "customers").column("seq").unwrap();
    assert!(seq.identity && seq.nullable);
}

#[test]
fn indexes_may_hold_expressions_but_not_misspelt_columns() {
    let mut r = shop();
    r.apply(&add_index(
        "tbl_c",
        "ix_lower",
        "customers_lower_email_idx",
        &["lower(email)", "name DESC"],
    ))
    .unwrap();
    let err = reject(
        &mut r,
        add_index("tbl_c", "ix_bad", "customers_emial_idx", &["emial"]),
    );
    assert!(matches!(err, ModelError::UnknownColumn { ref column, .. } if column == "emial"));
    assert_eq!(
        err.to_string(),
        "add_index: table main.customers has no column named emial"
    );
}

#[test]
fn index_names_are_per_schema_and_constraint_names_per_table() {
    let mut r = shop();
    // Same index name in another schema is fine.
    r.apply(&add_index(
        "tbl_i",
        "ix_i_cust",
        "orders_customer_id_idx",
        &["customer_id"],
    ))
    .unwrap();
    // Same constraint name on another table is fine.
    r.apply(&add_unique(
        "tbl_o",
        "uq_o",
        "customers_email_key",
        &["total"],
    ))
    .unwrap();
    let err = reject(
        &mut r,
        add_index("tbl_c", "ix_c", "orders_customer_id_idx", &["email"]),
    );
    assert_eq!(
        err.to_string(),
        "add_index: schema main already has an index named orders_customer_id_idx"
    );
}

#[test]
fn dropping_an_index_frees_its_name_and_id() {
    let mut r = shop();
    r.apply(&target_op("ix_o_cust", Action::DropIndex)).unwrap();
    r.apply(&add_index(
        "tbl_c",
        "ix_o_cust",
        "orders_customer_id_idx",
        &["email"],
    ))
    .unwrap();
    assert_eq!(r.kind_of(&id("ix_o_cust")), Some(ObjectKind::Index));
}

#[test]
fn self_referencing_tables_rename_and_drop() {
    let mut r = Reducer::new(State::default());
    r.apply_all(&[
        add_catalog("c", "hr"),
        add_schema("c", "s", "public"),
        add_table("s", "e", "employees"),
        add_column("e", "e_id", "id"),
        add_column("e", "e_mgr", "manager_id"),
        add_pk("e", "e_pk", &["id"]),
        add_fk(
            "e",
            "e_fk",
            "employees_manager_fkey",
            &["manager_id"],
            ("public", "employees"),
            &["id"],
        ),
        target_op(
            "e_id",
            Action::RenameColumn {
                name: "emp_id".into(),
            },
        ),
        target_op(
            "e_mgr",
            Action::RenameColumn {
                name: "boss_id".into(),
            },
        ),
        target_op(
            "e",
            Action::RenameTable {
                name: "staff".into(),
            },
        ),
        target_op("s", Action::RenameSchema { name: "hr".into() }),
    ])
    .unwrap();
    let fk = &table(r.state(), "hr", "staff").foreign_keys[0];
    assert_eq!(fk.columns, ["boss_id"]);
    assert_eq!(fk.ref_columns, ["emp_id"]);
    assert_eq!(
        fk.references,
        TableRef {
            schema: "hr".into(),
            table: "staff".into()
        }
    );
    // Its only referrer is itself, so the table can go.
    r.apply(&target_op("e", Action::DropTable)).unwrap();
    assert_eq!(r.state().table_count(), 0);
    assert_eq!(r.kind_of(&id("e_fk")), None);
}

// ---- rename propagation ------------------------------------------------

#[test]
fn renaming_a_referenced_column_updates_keys_here_and_foreign_keys_elsewhere() {
    let mut r = shop();
    r.apply(&target_op(
        "col_c_id",
        Action::RenameColumn {
            name: "customer_no".into(),
        },
    ))
    .unwrap();
    let s = r.state();
    let customers = table(s, "main", "customers");
    assert_eq!(
        customers.primary_key.as_ref().unwrap().columns,
        ["customer_no"]
    );
    let orders_fk = &table(s, "main", "orders").foreign_keys[0];
    assert_eq!(orders_fk.ref_columns, ["customer_no"]);
    assert_eq!(orders_fk.columns, ["customer_id"], "own columns untouched");
    let invoices_fk = &table(s, "sales", "invoices").foreign_keys[0];
    assert_eq!(invoices_fk.ref_columns, ["customer_no"]);
    // orders.id has the old name but lives elsewhere: it must not change.
    assert_eq!(
        column_names(s, "main", "orders"),
        ["id", "customer_id", "total"]
    );
    assert_eq!(
        table(s, "main", "orders")
            .primary_key
            .as_ref()
            .unwrap()
            .columns,
        ["id"]
    );
}

#[test]
fn renaming_a_referencing_column_updates_its_key_index_and_unique() {
    let mut r = shop();
    r.apply(&add_unique(
        "tbl_o",
        "uq_o",
        "orders_customer_total_key",
        &["customer_id", "total"],
    ))
    .unwrap();
    r.apply(&target_op(
        "col_o_cust",
        Action::RenameColumn {
            name: "buyer_id".into(),
        },
    ))
    .unwrap();
    let orders = table(r.state(), "main", "orders");
    assert_eq!(orders.foreign_keys[0].columns, ["buyer_id"]);
    assert_eq!(orders.foreign_keys[0].ref_columns, ["id"]);
    assert_eq!(orders.indexes[0].columns, ["buyer_id"]);
    assert_eq!(orders.uniques[0].columns, ["buyer_id", "total"]);
    // Check expressions are SQL text and stay as written.
    assert_eq!(orders.checks[0].expression, "total >= 0");
}

#[test]
fn renaming_a_table_or_schema_updates_foreign_keys_in_all_schemas() {
    let mut r = shop();
    r.apply(&target_op(
        "tbl_c",
        Action::RenameTable {
            name: "clients".into(),
        },
    ))
    .unwrap();
    r.apply(&target_op(
        "sch_main",
        Action::RenameSchema {
            name: "core".into(),
        },
    ))
    .unwrap();
    let expected = TableRef {
        schema: "core".into(),
        table: "clients".into(),
    };
    let s = r.state();
    assert_eq!(
        table(s, "core", "orders").foreign_keys[0].references,
        expected
    );
    assert_eq!(
        table(s, "sales", "invoices").foreign_keys[0].references,
        expected
    );
    // The old name is free again and new keys resolve the new one.
    r.apply(&add_table("sch_main", "tbl_c2", "customers"))
        .unwrap();
    r.apply(&add_column("tbl_c2", "col_c2", "id")).unwrap();
    r.apply(&add_fk(
        "tbl_i",
        "fk_i_new",
        "invoices_client_fkey",
        &["id"],
        ("core", "clients"),
        &["id"],
    ))
    .unwrap();
    let err = reject(
        &mut r,
        add_fk(
            "tbl_i",
            "fk_i_old",
            "invoices_old_fkey",
            &["id"],
            ("main", "customers"),
            &["id"],
        ),
    );
    assert!(matches!(err, ModelError::UnknownTable { .. }), "{err}");
}

#[test]
fn renaming_to_the_current_name_is_a_no_op() {
    let mut r = shop();
    let before = r.state().clone();
    r.apply(&target_op(
        "col_c_id",
        Action::RenameColumn { name: "id".into() },
    ))
    .unwrap();
    r.apply(&target_op(
        "tbl_c",
        Action::RenameTable {
            name: "customers".into(),
        },
    ))
    .unwrap();
    r.apply(&target_op(
        "sch_main",
        Action::RenameSchema {
            name: "main".into(),
        },
    ))
    .unwrap();
    r.apply(&target_op(
        "cat_1",
        Action::RenameCatalog { name: "app".into() },
    ))
    .unwrap();
    assert_eq!(r.state(), &before);
}

#[test]
fn a_reducer_built_from_a_stored_state_still_propagates_and_protects() {
    // The state goes through JSON, as a snapshot would, and a fresh reducer
    // must rebuild its foreign-key index from it.
    let json = serde_json::to_string(shop().state()).unwrap();
    let state: State = serde_json::from_str(&json).unwrap();
    let mut r = Reducer::new(state);
    r.apply(&target_op(
        "tbl_c",
        Action::RenameTable {
            name: "clients".into(),
        },
    ))
    .unwrap();
    assert_eq!(
        table(r.state(), "sales", "invoices").foreign_keys[0]
            .references
            .table,
        "clients"
    );
    let err = reject(&mut r, target_op("tbl_c", Action::DropTable));
    assert!(matches!(err, ModelError::InUse { .. }), "{err}");
}

// ---- drops -------------------------------------------------------------

#[test]
fn dropping_a_schema_drops_its_tables_and_frees_their_ids_and_names() {
    let mut r = shop();
    r.apply(&target_op("sch_sales", Action::DropSchema))
        .unwrap();
    assert!(r.state().find_table("sales", "invoices").is_none());
    for gone in ["sch_sales", "tbl_i", "col_i_id", "col_i_cust", "fk_i_c"] {
        assert_eq!(r.kind_of(&id(gone)), None, "{gone} still indexed");
    }
    // invoices no longer references customers: once orders lets go, customers can go.
    r.apply(&target_op("fk_o_c", Action::DropForeignKey))
        .unwrap();
    r.apply(&target_op("tbl_c", Action::DropTable)).unwrap();
    // Ids and names are reusable.
    r.apply(&add_schema("cat_1", "sch_sales", "sales")).unwrap();
    r.apply(&add_table("sch_sales", "tbl_i", "invoices"))
        .unwrap();
    r.apply(&add_column("tbl_i", "col_i_id", "id")).unwrap();
}

#[test]
fn dropping_a_table_keeps_later_tables_reachable() {
    let mut r = shop();
    r.apply(&add_table("sch_main", "tbl_x", "extra")).unwrap();
    r.apply(&target_op("fk_o_c", Action::DropForeignKey))
        .unwrap();
    r.apply(&target_op("fk_i_c", Action::DropForeignKey))
        .unwrap();
    r.apply(&target_op("tbl_c", Action::DropTable)).unwrap();
    // orders and extra moved down one place; ops on them must still land.
    r.apply(&target_op(
        "tbl_x",
        Action::RenameTable {
            name: "more".into(),
        },
    ))
    .unwrap();
    r.apply(&add_column("tbl_o", "col_o_note", "note")).unwrap();
    let s = r.state();
    assert_eq!(s.catalogs[0].schemas[0].tables[1].name, "more");
    assert!(table(s, "main", "orders").column("note").is_some());
    assert_eq!(s.table_count(), 3);
}

#[test]
fn dropping_a_catalog_keeps_later_catalogs_reachable() {
    let mut r = shop();
    r.apply_all(&[
        add_catalog("cat_2", "warehouse"),
        add_schema("cat_2", "sch_w", "raw"),
        add_table("sch_w", "tbl_w", "events"),
        add_schema("cat_2", "sch_w2", "clean"),
        add_table("sch_w2", "tbl_w2", "facts"),
    ])
    .unwrap();
    r.apply(&target_op("cat_1", Action::DropCatalog)).unwrap();
    for gone in [
        "cat_1",
        "sch_main",
        "tbl_c",
        "col_o_cust",
        "pk_c",
        "ix_o_cust",
        "chk_o_total",
    ] {
        assert_eq!(r.kind_of(&id(gone)), None, "{gone} still indexed");
    }
    r.apply_all(&[
        target_op("cat_2", Action::RenameCatalog { name: "app".into() }),
        target_op(
            "sch_w2",
            Action::RenameSchema {
                name: "gold".into(),
            },
        ),
        add_column("tbl_w2", "col_w2", "amount"),
        target_op("tbl_w", Action::DropTable),
    ])
    .unwrap();
    let s = r.state();
    assert_eq!(s.catalogs.len(), 1);
    assert_eq!(s.catalogs[0].name, "app");
    assert!(table(s, "gold", "facts").column("amount").is_some());
    assert_eq!(s.table_count(), 1);
}

#[test]
fn dropping_a_schema_with_outgoing_foreign_keys_only_is_allowed() {
    // sales.invoices points into main; nothing points into sales.
    let mut r = shop();
    r.apply(&target_op("sch_sales", Action::DropSchema))
        .unwrap();
    assert_eq!(r.state().catalogs[0].schemas.len(), 1);
}

// ---- rejections ----------------------------------------------------------

#[test]
fn unknown_targets_name_the_id_and_what_was_expected() {
    let mut r = shop();
    let err = reject(&mut r, add_column("tbl_9", "col_new", "x"));
    assert_eq!(err.to_string(), "add_column: no table with id tbl_9");
    assert_eq!(
        err,
        ModelError::UnknownTarget {
            op: "add_column",
            expected: "table",
            id: id("tbl_9"),
        }
    );
    assert_eq!(err.kind(), "unknown_target");
    let err = reject(&mut r, target_op("nope", Action::DropColumn));
    assert_eq!(err.to_string(), "drop_column: no column with id nope");
    let err = reject(
        &mut r,
        target_op("nope", Action::SetComment { comment: None }),
    );
    assert_eq!(
        err.to_string(),
        "set_comment: no catalog, schema, table or column with id nope"
    );
    let err = reject(&mut r, add_schema("cat_9", "s9", "x"));
    assert_eq!(err.to_string(), "add_schema: no catalog with id cat_9");
    // A dropped object is unknown afterwards.
    r.apply(&target_op("uq_c_email", Action::DropUnique))
        .unwrap();
    let err = reject(&mut r, target_op("uq_c_email", Action::DropUnique));
    assert_eq!(
        err.to_string(),
        "drop_unique: no unique constraint with id uq_c_email"
    );
}

#[test]
fn wrong_target_kinds_say_what_the_id_is() {
    let mut r = shop();
    let err = reject(&mut r, add_column("sch_main", "col_new", "x"));
    assert_eq!(
        err.to_string(),
        "add_column: sch_main is schema main, not a table"
    );
    assert!(matches!(
        err,
        ModelError::WrongTargetKind {
            expected: "table",
            ..
        }
    ));
    let err = reject(&mut r, target_op("uq_c_email", Action::DropIndex));
    assert_eq!(
        err.to_string(),
        "drop_index: uq_c_email is unique constraint customers_email_key on main.customers, not an index"
    );
    let err = reject(
        &mut r,
        target_op("pk_c", Action::SetComment { comment: None }),
    );
    assert_eq!(
        err.to_string(),
        "set_comment: pk_c is primary key customers_pkey on main.customers, not a catalog, schema, table or column"
    );
    let err = reject(&mut r, target_op("pk_c", Action::DropPrimaryKey));
    assert!(err.to_string().contains("not a table"), "{err}");
    let err = reject(
        &mut r,
        target_op("tbl_c", Action::RenameColumn { name: "x".into() }),
    );
    assert_eq!(
        err.to_string(),
        "rename_column: tbl_c is table main.customers, not a column"
    );
    let err = reject(&mut r, target_op("col_c_id", Action::DropTable));
    assert_eq!(
        err.to_string(),
        "drop_table: col_c_id is column main.customers.id, not a table"
    );
    let err = reject(&mut r, add_catalog("cat_2", "x").retarget("cat_1"));
    assert_eq!(
        err.to_string(),
        "add_catalog: the target must be the root id \"root\", not cat_1"
    );
}

trait Retarget {
    fn retarget(self, target: &str) -> Op;
}

impl Retarget for Op {
    fn retarget(mut self, target: &str) -> Op {
        self.target = id(target);
        self
    }
}

#[test]
fn ids_are_unique_across_the_state_and_root_is_reserved() {
    let mut r = shop();
    let err = reject(&mut r, add_column("tbl_o", "col_c_email", "email"));
    assert_eq!(
        err.to_string(),
        "add_column: id col_c_email is already used by column main.customers.email; give the new object a fresh id"
    );
    let err = reject(&mut r, add_table("sch_main", "fk_o_c", "t"));
    assert!(
        err.to_string()
            .contains("already used by foreign key orders_customer_id_fkey on main.orders"),
        "{err}"
    );
    let err = reject(&mut r, add_catalog("root", "x"));
    assert!(matches!(err, ModelError::DuplicateId { .. }));
    assert!(err.to_string().contains("the root of the state"), "{err}");
    let err = reject(&mut r, add_pk("tbl_i", "cat_1", &["id"]));
    assert!(
        err.to_string().contains("already used by catalog app"),
        "{err}"
    );
}

#[test]
fn blank_names_ids_keys_and_expressions_are_rejected() {
    let mut r = shop();
    let err = reject(&mut r, add_table("sch_main", "tbl_new", ""));
    assert_eq!(err.to_string(), "add_table: the table name is empty");
    let err = reject(&mut r, add_column("tbl_c", "  ", "x"));
    assert_eq!(err.to_string(), "add_column: the column id is empty");
    let err = reject(
        &mut r,
        target_op("col_c_id", Action::RenameColumn { name: " ".into() }),
    );
    assert_eq!(err.to_string(), "rename_column: the column name is empty");
    let err = reject(
        &mut r,
        target_op(
            "tbl_c",
            Action::SetTableProperty {
                key: "".into(),
                value: "v".into(),
            },
        ),
    );
    assert_eq!(
        err.to_string(),
        "set_table_property: the property key is empty"
    );
    let err = reject(
        &mut r,
        target_op(
            "tbl_c",
            Action::AddCheck {
                id: id("chk_x"),
                name: "c".into(),
                expression: "".into(),
            },
        ),
    );
    assert_eq!(err.to_string(), "add_check: the check expression is empty");
    let err = reject(
        &mut r,
        target_op(
            "tbl_i",
            Action::AddPrimaryKey {
                id: id("pk_i"),
                name: Some("".into()),
                columns: strings(&["id"]),
            },
        ),
    );
    assert_eq!(
        err.to_string(),
        "add_primary_key: the primary key name is empty"
    );
    assert_eq!(err.kind(), "empty");
}

#[test]
fn sibling_names_collide_at_every_level() {
    let mut r = shop();
    let err = reject(&mut r, add_column("tbl_c", "col_new", "email"));
    assert_eq!(
        err.to_string(),
        "add_column: table main.customers already has a column named email"
    );
    assert_eq!(
        err,
        ModelError::NameCollision {
            op: "add_column",
            parent: "table main.customers".into(),
            existing: ObjectKind::Column,
            name: "email".into(),
        }
    );
    let err = reject(
        &mut r,
        target_op(
            "col_c_name",
            Action::RenameColumn {
                name: "email".into(),
            },
        ),
    );
    assert_eq!(
        err.to_string(),
        "rename_column: table main.customers already has a column named email"
    );
    let err = reject(&mut r, add_table("sch_main", "tbl_new", "orders"));
    assert_eq!(
        err.to_string(),
        "add_table: schema main already has a table named orders"
    );
    let err = reject(
        &mut r,
        target_op(
            "tbl_c",
            Action::RenameTable {
                name: "orders".into(),
            },
        ),
    );
    assert_eq!(
        err.to_string(),
        "rename_table: schema main already has a table named orders"
    );
    // Same table name in another schema is fine.
    r.apply(&add_table("sch_sales", "tbl_so", "orders"))
        .unwrap();
    let err = reject(&mut r, add_schema("cat_1", "sch_new", "sales"));
    assert_eq!(
        err.to_string(),
        "add_schema: catalog app already has a schema named sales"
    );
    let err = reject(
        &mut r,
        target_op(
            "sch_main",
            Action::RenameSchema {
                name: "sales".into(),
            },
        ),
    );
    assert!(matches!(
        err,
        ModelError::NameCollision {
            existing: ObjectKind::Schema,
            ..
        }
    ));
    let err = reject(&mut r, add_catalog("cat_new", "app"));
    assert_eq!(
        err.to_string(),
        "add_catalog: the project already has a catalog named app"
    );
    r.apply(&add_catalog("cat_2", "other")).unwrap();
    let err = reject(
        &mut r,
        target_op("cat_2", Action::RenameCatalog { name: "app".into() }),
    );
    assert!(matches!(
        err,
        ModelError::NameCollision {
            existing: ObjectKind::Catalog,
            ..
        }
    ));
}

#[test]
fn constraint_names_share_one_namespace_per_table() {
    let mut r = shop();
    let err = reject(
        &mut r,
        add_unique("tbl_o", "uq_new", "orders_customer_id_fkey", &["total"]),
    );
    assert_eq!(
        err.to_string(),
        "add_unique: table main.orders already has a foreign key named orders_customer_id_fkey"
    );
    let err = reject(
        &mut r,
        target_op(
            "tbl_o",
            Action::AddCheck {
                id: id("chk_new"),
                name: "orders_pkey".into(),
                expression: "id > 0".into(),
            },
        ),
    );
    assert_eq!(
        err.to_string(),
        "add_check: table main.orders already has a primary key named orders_pkey"
    );
    let err = reject(
        &mut r,
        add_fk(
            "tbl_o",
            "fk_new",
            "orders_total_check",
            &["total"],
            ("main", "customers"),
            &["id"],
        ),
    );
    assert!(
        err.to_string()
            .ends_with("already has a check constraint named orders_total_check"),
        "{err}"
    );
    r.apply(&add_unique("tbl_i", "uq_i", "invoices_pkey", &["id"]))
        .unwrap();
    let err = reject(&mut r, add_pk("tbl_i", "pk_i", &["id"]));
    assert_eq!(
        err.to_string(),
        "add_primary_key: table sales.invoices already has a unique constraint named invoices_pkey"
    );
}

#[test]
fn keys_must_name_existing_columns_once() {
    let mut r = shop();
    let err = reject(
        &mut r,
        add_unique("tbl_c", "uq_new", "customers_nope_key", &["nope"]),
    );
    assert_eq!(
        err.to_string(),
        "add_unique: table main.customers has no column named nope"
    );
    let err = reject(
        &mut r,
        add_unique("tbl_c", "uq_new", "k", &["email", "email"]),
    );
    assert_eq!(
        err.to_string(),
        "add_unique: unique constraint k on main.customers lists column email twice"
    );
    assert_eq!(err.kind(), "repeated_column");
    let err = reject(&mut r, add_pk("tbl_i", "pk_i", &[]));
    assert_eq!(
        err.to_string(),
        "add_primary_key: primary key invoices_pkey on sales.invoices lists no columns"
    );
    let err = reject(&mut r, add_index("tbl_c", "ix_new", "i", &[]));
    assert_eq!(err.kind(), "no_columns");
}

#[test]
fn foreign_keys_must_resolve_with_matching_columns() {
    let mut r = shop();
    let err = reject(
        &mut r,
        add_fk(
            "tbl_i",
            "fk_new",
            "invoices_order_fkey",
            &["id"],
            ("main", "ordres"),
            &["id"],
        ),
    );
    assert_eq!(
        err.to_string(),
        "add_foreign_key: foreign key invoices_order_fkey references main.ordres, which does not exist in catalog app"
    );
    let err = reject(
        &mut r,
        add_fk(
            "tbl_i",
            "fk_new",
            "f",
            &["id"],
            ("nowhere", "orders"),
            &["id"],
        ),
    );
    assert!(matches!(err, ModelError::UnknownTable { .. }));
    let err = reject(
        &mut r,
        add_fk(
            "tbl_i",
            "fk_new",
            "f",
            &["id", "customer_id"],
            ("main", "orders"),
            &["id"],
        ),
    );
    assert_eq!(
        err.to_string(),
        "add_foreign_key: foreign key f has 2 column(s) but references 1; list one referenced column per column"
    );
    assert_eq!(
        err,
        ModelError::ColumnCountMismatch {
            op: "add_foreign_key",
            name: "f".into(),
            columns: 2,
            ref_columns: 1
        }
    );
    let err = reject(
        &mut r,
        add_fk(
            "tbl_i",
            "fk_new",
            "f",
            &["id"],
            ("main", "orders"),
            &["order_no"],
        ),
    );
    assert_eq!(
        err.to_string(),
        "add_foreign_key: table main.orders has no column named order_no"
    );
    let err = reject(
        &mut r,
        add_fk(
            "tbl_i",
            "fk_new",
            "f",
            &["idd"],
            ("main", "orders"),
            &["id"],
        ),
    );
    assert_eq!(
        err.to_string(),
        "add_foreign_key: table sales.invoices has no column named idd"
    );
    // A foreign key stays in its catalog.
    r.apply_all(&[
        add_catalog("cat_2", "other"),
        add_schema("cat_2", "sch_o", "misc"),
        add_table("sch_o", "tbl_o2", "things"),
        add_column("tbl_o2", "col_o2", "id"),
    ])
    .unwrap();
    let err = reject(
        &mut r,
        add_fk(
            "tbl_o2",
            "fk_x",
            "f",
            &["id"],
            ("main", "customers"),
            &["id"],
        ),
    );
    assert!(
        err.to_string().ends_with("does not exist in catalog other"),
        "{err}"
    );
}

#[test]
fn columns_in_use_cannot_be_dropped() {
    let mut r = shop();
    let err = reject(&mut r, target_op("col_o_cust", Action::DropColumn));
    assert_eq!(
        err.to_string(),
        "drop_column: cannot drop column main.orders.customer_id: used by foreign key orders_customer_id_fkey on main.orders; drop that first"
    );
    assert_eq!(err.kind(), "in_use");
    let err = reject(&mut r, target_op("col_c_id", Action::DropColumn));
    assert!(
        err.to_string()
            .ends_with("used by primary key customers_pkey on main.customers; drop that first"),
        "{err}"
    );
    let err = reject(&mut r, target_op("col_c_email", Action::DropColumn));
    assert!(
        err.to_string()
            .contains("used by unique constraint customers_email_key"),
        "{err}"
    );
    // Without the foreign key, the index still holds the column.
    r.apply(&target_op("fk_o_c", Action::DropForeignKey))
        .unwrap();
    let err = reject(&mut r, target_op("col_o_cust", Action::DropColumn));
    assert!(
        err.to_string()
            .contains("used by index orders_customer_id_idx on main.orders"),
        "{err}"
    );
    // Without the primary key, the foreign key in another schema still holds customers.id.
    r.apply(&target_op("tbl_c", Action::DropPrimaryKey))
        .unwrap();
    let err = reject(&mut r, target_op("col_c_id", Action::DropColumn));
    assert_eq!(
        err.to_string(),
        "drop_column: cannot drop column main.customers.id: used by foreign key invoices_customer_id_fkey on sales.invoices; drop that first"
    );
    r.apply(&target_op("fk_i_c", Action::DropForeignKey))
        .unwrap();
    r.apply(&target_op("col_c_id", Action::DropColumn)).unwrap();
    assert_eq!(
        column_names(r.state(), "main", "customers"),
        ["email", "name"]
    );
}

#[test]
fn referenced_tables_and_schemas_cannot_be_dropped() {
    let mut r = shop();
    let err = reject(&mut r, target_op("tbl_c", Action::DropTable));
    assert_eq!(
        err.to_string(),
        "drop_table: cannot drop table main.customers: used by foreign key orders_customer_id_fkey on main.orders; drop that first"
    );
    let err = reject(&mut r, target_op("sch_main", Action::DropSchema));
    assert_eq!(
        err.to_string(),
        "drop_schema: cannot drop schema main: used by foreign key invoices_customer_id_fkey on sales.invoices, which references main.customers; drop that first"
    );
    // Inside the schema, orders → customers does not block the schema drop.
    r.apply(&target_op("fk_i_c", Action::DropForeignKey))
        .unwrap();
    r.apply(&target_op("sch_main", Action::DropSchema)).unwrap();
    assert_eq!(r.state().table_count(), 1);
}

#[test]
fn reorder_must_be_a_permutation() {
    let mut r = shop();
    let order = |ids: &[&str]| {
        target_op(
            "tbl_c",
            Action::ReorderColumns {
                order: ids.iter().map(|s| id(s)).collect(),
            },
        )
    };
    let err = reject(&mut r, order(&["col_c_email", "col_c_id"]));
    assert_eq!(
        err.to_string(),
        "reorder_columns: the order for table main.customers is not a permutation of its columns: column name (col_c_name) is missing"
    );
    let err = reject(&mut r, order(&["col_c_email", "col_c_id", "col_c_id"]));
    assert!(
        err.to_string().ends_with("col_c_id is listed twice"),
        "{err}"
    );
    let err = reject(&mut r, order(&["col_c_email", "col_c_id", "col_o_id"]));
    assert!(
        err.to_string()
            .ends_with("col_o_id is not a column of this table"),
        "{err}"
    );
    let err = reject(
        &mut r,
        order(&["col_c_email", "col_c_id", "col_c_name", "col_o_id"]),
    );
    assert_eq!(err.kind(), "not_a_permutation");
    r.apply(&order(&["col_c_email", "col_c_name", "col_c_id"]))
        .unwrap();
    assert_eq!(
        column_names(r.state(), "main", "customers"),
        ["email", "name", "id"]
    );
}

#[test]
fn keys_properties_and_positions_are_checked() {
    let mut r = shop();
    let err = reject(&mut r, add_pk("tbl_c", "pk_new", &["email"]));
    assert_eq!(
        err.to_string(),
        "add_primary_key: table main.customers already has primary key customers_pkey; drop it first"
    );
    let err = reject(&mut r, target_op("tbl_i", Action::DropPrimaryKey));
    assert_eq!(
        err.to_string(),
        "drop_primary_key: table sales.invoices has no primary key"
    );
    let err = reject(
        &mut r,
        target_op(
            "tbl_c",
            Action::UnsetTableProperty {
                key: "owner".into(),
            },
        ),
    );
    assert_eq!(
        err.to_string(),
        "unset_table_property: table main.customers has no property owner"
    );
    assert_eq!(err.kind(), "property_missing");
    let err = reject(&mut r, add_column_at("tbl_c", "col_new", "x", Some(4)));
    assert_eq!(
        err.to_string(),
        "add_column: position 4 is beyond the end of table main.customers, which has 3 column(s); use at most 3"
    );
}

// ---- atomicity -----------------------------------------------------------

#[test]
fn a_rejected_op_leaves_no_trace_in_state_or_index() {
    let mut r = shop();
    // Each of these fails after some checks pass; none may claim its id.
    let failing = [
        add_column_at("tbl_c", "col_new", "x", Some(9)),
        add_pk("tbl_c", "col_new", &["id"]),
        add_unique("tbl_c", "col_new", "k", &["nope"]),
        add_fk(
            "tbl_c",
            "col_new",
            "f",
            &["id"],
            ("main", "orders"),
            &["id", "total"],
        ),
        add_index("tbl_c", "col_new", "orders_customer_id_idx", &["id"]),
        target_op("sch_main", Action::DropSchema),
        target_op("tbl_c", Action::DropTable),
        target_op("col_c_id", Action::DropColumn),
    ];
    for op in failing {
        reject(&mut r, op);
    }
    assert_eq!(r.kind_of(&id("col_new")), None);
    r.apply(&add_column("tbl_c", "col_new", "x")).unwrap();
    assert_eq!(r.kind_of(&id("col_new")), Some(ObjectKind::Column));
    // The drops that failed did not unhook anything either.
    r.apply(&target_op(
        "tbl_c",
        Action::RenameTable {
            name: "clients".into(),
        },
    ))
    .unwrap();
    assert_eq!(
        table(r.state(), "sales", "invoices").foreign_keys[0]
            .references
            .table,
        "clients"
    );
}

#[test]
fn reduce_reports_the_index_of_the_failing_op_and_state_apply_is_atomic() {
    let mut ops = shop_ops();
    ops.push(add_column("tbl_9", "col_x", "x"));
    ops.push(add_column("tbl_c", "col_y", "y"));
    let (index, err) = reduce(State::default(), &ops).unwrap_err();
    assert_eq!(index, shop_ops().len());
    assert_eq!(err.to_string(), "add_column: no table with id tbl_9");

    let mut state = reduce(State::default(), &shop_ops()).unwrap();
    let before = state.clone();
    let err = state
        .apply(&target_op("tbl_c", Action::DropTable))
        .unwrap_err();
    assert_eq!(err.op(), "drop_table");
    assert_eq!(state, before);
    state.apply(&add_column("tbl_c", "col_y", "y")).unwrap();
    assert!(table(&state, "main", "customers").column("y").is_some());
}

// ---- lookups -------------------------------------------------------------

#[test]
fn lookups_find_tables_and_columns() {
    let r = shop();
    let s = r.state();
    assert_eq!(s.table_count(), 3);
    assert_eq!(s.find_table("sales", "invoices").unwrap().id, id("tbl_i"));
    assert!(s.find_table("sales", "customers").is_none());
    assert_eq!(s.table_by_id(&id("tbl_o")).unwrap().name, "orders");
    assert!(s.table_by_id(&id("col_o_id")).is_none());
    let name = s.table_name(&id("tbl_i")).unwrap();
    assert_eq!(
        (name.catalog.as_str(), name.to_string().as_str()),
        ("app", "sales.invoices")
    );
    let path = s.column_path(&id("col_c_email")).unwrap();
    assert_eq!(path.catalog, "app");
    assert_eq!(path.to_string(), "main.customers.email");
    assert!(s.column_path(&id("tbl_c")).is_none());
    let listed: Vec<(&str, &str)> = s
        .tables()
        .map(|(_, sch, t)| (sch.name.as_str(), t.name.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("main", "customers"),
            ("main", "orders"),
            ("sales", "invoices")
        ]
    );
    assert_eq!(r.kind_of(&id("fk_i_c")), Some(ObjectKind::ForeignKey));
    assert_eq!(r.kind_of(&id("chk_o_total")), Some(ObjectKind::Check));
    assert_eq!(r.kind_of(&id("root")), None);
}
