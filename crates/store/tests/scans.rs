//! Scan runs, labels and incremental diffs in the workspace file.

mod common;

use common::{at, temp_workspace_path};
use serde_json::json;
use tidemark_store::{
    AssetType, ChangeCounts, ChangeType, DiffChange, DiffFormat, DiffRun, DiffStatus, ScanObject,
    ScanRun, ScanStatus, Workspace,
};

fn run(id: &str, seconds: i64, status: ScanStatus) -> ScanRun {
    ScanRun {
        id: id.into(),
        connection: "shop".into(),
        kind: "postgres".into(),
        target: "postgres://app@db:5432/shop".into(),
        schemas: vec!["public".into()],
        started_at: at(seconds),
        completed_at: at(seconds + 1),
        status,
        error_message: (status == ScanStatus::Failed).then(|| "connection refused".into()),
        schema_count: 1,
        table_count: 1,
        column_count: 1,
    }
}

fn objects() -> Vec<ScanObject> {
    vec![
        ScanObject {
            object_type: AssetType::Schema,
            path: "public".into(),
            schema_name: "public".into(),
            table_name: None,
            column_name: None,
            attributes: r#"{"comment":null}"#.into(),
            custom_attributes: "{}".into(),
            info: "{}".into(),
        },
        ScanObject {
            object_type: AssetType::Column,
            path: "public.orders.id".into(),
            schema_name: "public".into(),
            table_name: Some("orders".into()),
            column_name: Some("id".into()),
            attributes: r#"{"data_type":"bigint"}"#.into(),
            custom_attributes: r#"{"pii":"false"}"#.into(),
            info: r#"{"position":1}"#.into(),
        },
    ]
}

#[test]
fn scan_runs_round_trip_and_only_completed_ones_count_as_latest() {
    let (_dir, path) = temp_workspace_path();
    let mut ws = Workspace::open(&path).unwrap();
    ws.write(|tx| {
        tx.insert_scan_run(&run("r1", 10, ScanStatus::Completed), &objects())?;
        tx.insert_scan_run(&run("r2", 20, ScanStatus::Completed), &objects())?;
        tx.insert_scan_run(&run("r3", 30, ScanStatus::Failed), &[])
    })
    .unwrap();
    let all: Vec<String> = ws
        .scan_runs("shop")
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all, ["r3", "r2", "r1"]);
    let latest = ws.latest_completed_scan_runs("shop", 2).unwrap();
    assert_eq!(
        latest.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r2", "r1"]
    );
    assert_eq!(latest[0], run("r2", 20, ScanStatus::Completed));
    let failed = ws.scan_run("r3").unwrap().unwrap();
    assert_eq!(failed.error_message.as_deref(), Some("connection refused"));
    assert!(ws.scan_run("nope").unwrap().is_none());
    let mut stored = ws.scan_objects("r1").unwrap();
    stored.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(stored, objects());
    assert!(ws.scan_runs("other").unwrap().is_empty());
}

#[test]
fn labels_are_set_replaced_and_unset() {
    let (_dir, path) = temp_workspace_path();
    let mut ws = Workspace::open(&path).unwrap();
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    ws.write(|tx| {
        tx.set_scan_labels(
            "shop",
            "public.orders",
            &[pair("owner", "a"), pair("pii", "no")],
            &[],
            at(1),
        )
    })
    .unwrap();
    ws.write(|tx| {
        tx.set_scan_labels(
            "shop",
            "public.orders",
            &[pair("owner", "b")],
            &["pii".into()],
            at(2),
        )
    })
    .unwrap();
    let labels = ws.scan_labels("shop").unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(
        (labels[0].key.as_str(), labels[0].value.as_str()),
        ("owner", "b")
    );
    assert_eq!(labels[0].updated_at, at(2));
    assert!(ws.scan_labels("other").unwrap().is_empty());
}

fn diff_run(id: &str) -> DiffRun {
    DiffRun {
        diff_sync_id: id.into(),
        connection_id: "shop".into(),
        sync_run_1_id: "r1".into(),
        sync_run_2_id: "r2".into(),
        started_at: at(40),
        completed_at: None,
        status: DiffStatus::Running,
        error_message: None,
        created_at: at(40),
        output_format: DiffFormat::Sqlite,
        output_url: None,
        output_schema: None,
        output_connection: None,
        counts: None,
    }
}

fn change(id: &str, asset: AssetType, change_type: ChangeType, column: Option<&str>) -> DiffChange {
    DiffChange {
        diff_id: id.into(),
        asset_type: asset,
        schema_name: "public".into(),
        table_name: (asset != AssetType::Schema).then(|| "orders".into()),
        column_name: column.map(Into::into),
        change_type,
        sync_run_1_data: (change_type != ChangeType::Added).then(|| json!({"attributes": {}})),
        sync_run_2_data: (change_type != ChangeType::Removed).then(|| json!({"attributes": {}})),
        differences: (change_type == ChangeType::Modified).then(
            || json!([{"kind": "attribute", "attribute": "comment", "from": null, "to": "x"}]),
        ),
        created_at: at(41),
    }
}

#[test]
fn a_completed_diff_has_its_rows_counts_and_summary_row() {
    let (_dir, path) = temp_workspace_path();
    let mut ws = Workspace::open(&path).unwrap();
    let changes = vec![
        change("c1", AssetType::Table, ChangeType::Modified, None),
        change("c2", AssetType::Column, ChangeType::Added, Some("note")),
        change("c3", AssetType::Column, ChangeType::Removed, Some("old")),
    ];
    let counts = ChangeCounts::of(&changes);
    ws.write(|tx| tx.insert_diff_run(&diff_run("d1"))).unwrap();
    assert_eq!(
        ws.diff_run("d1").unwrap().unwrap().status,
        DiffStatus::Running
    );
    ws.write(|tx| {
        tx.insert_diff_changes("d1", &changes)?;
        tx.complete_diff_run("d1", at(42), &counts)
    })
    .unwrap();
    let run = ws.diff_run("d1").unwrap().unwrap();
    assert_eq!(run.status, DiffStatus::Completed);
    assert_eq!(run.completed_at, Some(at(42)));
    assert_eq!(run.counts, Some(counts));
    assert_eq!(ws.diff_changes("d1").unwrap(), changes);
    assert_eq!(ws.diff_runs("shop").unwrap().len(), 1);

    // The view counts the rows.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let row: (i64, i64, i64, i64) = conn
        .query_row(
            "SELECT tables_modified, columns_added, columns_removed, total_changes \
             FROM diff_summary WHERE diff_sync_id = 'd1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, (1, 1, 1, 3));
}

#[test]
fn a_failed_insert_leaves_no_rows_and_the_run_can_be_marked_failed() {
    let (_dir, path) = temp_workspace_path();
    let mut ws = Workspace::open(&path).unwrap();
    ws.write(|tx| tx.insert_diff_run(&diff_run("d1"))).unwrap();
    // A table row goes in, then two column rows with the same id: the
    // second fails, and the table row must go too.
    let changes = vec![
        change("t1", AssetType::Table, ChangeType::Modified, None),
        change("same", AssetType::Column, ChangeType::Added, Some("note")),
        change("same", AssetType::Column, ChangeType::Removed, Some("old")),
    ];
    let result = ws.write(|tx| {
        tx.insert_diff_changes("d1", &changes)?;
        tx.complete_diff_run("d1", at(42), &ChangeCounts::of(&changes))
    });
    assert!(result.is_err());
    assert!(ws.diff_changes("d1").unwrap().is_empty());
    ws.write(|tx| tx.fail_diff_run("d1", at(43), "boom"))
        .unwrap();
    let run = ws.diff_run("d1").unwrap().unwrap();
    assert_eq!(run.status, DiffStatus::Failed);
    assert_eq!(run.error_message.as_deref(), Some("boom"));
    assert!(run.counts.is_none());
}
