//! A column dropped and added again under the same name, with a new id, is a
//! drop plus an add (its data is gone), not an in-place type change.

use tidemark_model::{diff, Catalog, Change, Column, DataType, ObjectId, Schema, State, Table};

fn state(columns: Vec<Column>) -> State {
    State {
        catalogs: vec![Catalog {
            id: ObjectId::new("c"),
            name: "c".into(),
            comment: None,
            schemas: vec![Schema {
                id: ObjectId::new("s"),
                name: "s".into(),
                comment: None,
                tables: vec![Table {
                    id: ObjectId::new("t"),
                    name: "t".into(),
                    columns,
                    primary_key: None,
                    uniques: vec![],
                    indexes: vec![],
                    foreign_keys: vec![],
                    checks: vec![],
                    comment: None,
                    properties: Default::default(),
                }],
            }],
        }],
    }
}

fn column(id: &str, name: &str, data_type: DataType) -> Column {
    Column {
        id: ObjectId::new(id),
        name: name.into(),
        data_type,
        nullable: true,
        default: None,
        comment: None,
        identity: false,
    }
}

#[test]
fn re_added_column_with_a_new_id_is_drop_plus_add() {
    let from = state(vec![
        column("c1", "id", DataType::Integer),
        column("c2", "flag", DataType::Boolean),
    ]);
    let to = state(vec![
        column("c1", "id", DataType::Integer),
        column("c3", "flag", DataType::Date),
    ]);
    let changes = diff(&from, &to);
    assert!(
        matches!(changes.as_slice(), [Change::DropColumn { column: a, .. }, Change::AddColumn { column: b, .. }]
            if a.id.as_str() == "c2" && b.id.as_str() == "c3"),
        "{changes:#?}"
    );
}

#[test]
fn columns_with_ids_of_their_own_still_line_up_by_name() {
    let from = state(vec![
        column("c1", "id", DataType::Integer),
        column("c2", "flag", DataType::Boolean),
    ]);
    // A live database read: every id differs, so names pair the columns.
    let to = state(vec![
        column("col:s.t.id", "id", DataType::Integer),
        column("col:s.t.flag", "flag", DataType::Date),
    ]);
    let changes = diff(&from, &to);
    assert!(
        matches!(changes.as_slice(), [Change::ChangeColumnType { column, .. }] if column == "flag"),
        "{changes:#?}"
    );
}
