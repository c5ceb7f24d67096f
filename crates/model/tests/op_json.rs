use tidemark_model::{Action, ObjectId, Op};

#[test]
fn op_json_is_flat_and_round_trips() {
    let json = r#"{"id":"op_1","ts":"2026-01-01T00:00:00Z","target":"sch_1","op":"add_table","payload":{"id":"tbl_1","name":"customers"}}"#;
    let op: Op = serde_json::from_str(json).unwrap();
    assert_eq!(op.target, ObjectId::new("sch_1"));
    assert!(matches!(&op.action, Action::AddTable { name, .. } if name == "customers"));
    assert_eq!(serde_json::to_string(&op).unwrap(), json);
    let drop = r#"{"id":"op_2","ts":"2026-01-01T00:00:00Z","target":"tbl_1","op":"drop_table"}"#;
    let op: Op = serde_json::from_str(drop).unwrap();
    assert_eq!(op.action, Action::DropTable);
    assert_eq!(serde_json::to_string(&op).unwrap(), drop);
}
