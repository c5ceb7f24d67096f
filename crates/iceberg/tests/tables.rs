//! Create, append, list snapshots, time travel and added-rows reads against
//! a real embedded catalog in a temporary folder.

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use std::collections::HashMap;
use std::sync::Arc;
use tidemark_iceberg::{At, TableRef, Warehouse};

fn batch(ids: &[i64], names: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names.to_vec())),
        ],
    )
    .unwrap()
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    let mut out = Vec::new();
    for b in batches {
        let c = b
            .column_by_name("id")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        out.extend((0..c.len()).map(|i| c.value(i)));
    }
    out.sort();
    out
}

#[tokio::test]
async fn append_snapshots_time_travel_and_added_rows() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(&dir.path().join("ws-iceberg"))
        .await
        .unwrap();
    let t = TableRef::parse("sales.orders").unwrap();
    assert!(!wh.exists(&t).await.unwrap());
    let b1 = batch(&[1, 2, 3], &["a", "b", "c"]);
    wh.create_table(&t, &b1.schema(), &["id".to_string()])
        .await
        .unwrap();
    assert_eq!(wh.tables().await.unwrap(), vec![t.clone()]);
    assert_eq!(wh.current_snapshot(&t).await.unwrap(), None);

    let props = |w: &str| HashMap::from([("tidemark.watermark".to_string(), w.to_string())]);
    let s1 = wh.append(&t, &[b1], props("3")).await.unwrap().unwrap();
    let s2 = wh
        .append(&t, &[batch(&[4], &["d"]), batch(&[5], &["e"])], props("5"))
        .await
        .unwrap()
        .unwrap();
    // No rows: no snapshot.
    assert_eq!(wh.append(&t, &[], props("5")).await.unwrap(), None);

    let snaps = wh.snapshots(&t).await.unwrap();
    assert_eq!(snaps.len(), 2);
    assert_eq!(snaps[0].id, s1);
    assert_eq!(snaps[1].id, s2);
    assert_eq!(snaps[1].parent, Some(s1));
    assert_eq!(snaps[1].added_rows, Some(2));
    assert_eq!(snaps[1].summary["tidemark.watermark"], "5");

    let (_, now) = wh.scan(&t, At::Current, None).await.unwrap();
    assert_eq!(ids(&now), vec![1, 2, 3, 4, 5]);
    let (_, then) = wh.scan(&t, At::Snapshot(s1), None).await.unwrap();
    assert_eq!(ids(&then), vec![1, 2, 3]);
    let (_, limited) = wh.scan(&t, At::Current, Some(2)).await.unwrap();
    assert_eq!(limited.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    let before = snaps[0].committed_at - chrono::Duration::seconds(1);
    let (_, nothing) = wh.scan(&t, At::AsOf(before), None).await.unwrap();
    assert!(nothing.is_empty());
    let (_, at_first) = wh
        .scan(&t, At::AsOf(snaps[0].committed_at), None)
        .await
        .unwrap();
    assert_eq!(ids(&at_first), vec![1, 2, 3]);

    let (_, added) = wh.added_rows(&t, Some(s1), s2).await.unwrap();
    assert_eq!(ids(&added), vec![4, 5]);
    let (_, all) = wh.added_rows(&t, None, s2).await.unwrap();
    assert_eq!(ids(&all), vec![1, 2, 3, 4, 5]);
    assert!(wh.added_rows(&t, Some(s2), s1).await.is_err());
    assert!(wh.scan(&t, At::Snapshot(42), None).await.is_err());

    // A reopened catalog sees the same tables.
    drop(wh);
    let wh = Warehouse::open(&dir.path().join("ws-iceberg"))
        .await
        .unwrap();
    assert_eq!(wh.snapshots(&t).await.unwrap().len(), 2);
}

#[tokio::test]
async fn bad_names_and_types_are_refused() {
    assert!(TableRef::parse("orders").is_err());
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(dir.path()).await.unwrap();
    let odd = Schema::new(vec![Field::new(
        "l",
        DataType::List(Arc::new(Field::new("x", DataType::Int32, true))),
        true,
    )]);
    let t = TableRef::parse("a.b").unwrap();
    let err = wh.create_table(&t, &odd, &[]).await.unwrap_err();
    assert!(err.is_bad_input(), "{err}");
    assert!(wh
        .scan(&t, At::Current, None)
        .await
        .unwrap_err()
        .is_bad_input());
}
