//! Create, append, list snapshots, time travel and added-rows reads against
//! a real embedded catalog in a temporary folder.

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use std::collections::{BTreeMap, HashMap};
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

#[tokio::test]
async fn a_new_nullable_column_evolves_the_schema_other_changes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wh = Warehouse::open(&dir.path().join("ws-iceberg"))
        .await
        .unwrap();
    let t = TableRef::parse("sales.orders").unwrap();
    let key = ["id".to_string()];
    let b1 = batch(&[1, 2], &["a", "b"]);
    wh.create_table(&t, &b1.schema(), &key).await.unwrap();
    let s1 = wh
        .append(&t, std::slice::from_ref(&b1), HashMap::new())
        .await
        .unwrap();

    // Unchanged columns: nothing to do.
    assert!(wh
        .evolve_schema(&t, &b1.schema(), &key)
        .await
        .unwrap()
        .is_empty());

    // Incompatible changes are refused, naming the column; the schema stays.
    let refused = |fields: Vec<Field>| {
        let wh = &wh;
        let t = &t;
        let key = &key;
        async move {
            let e = wh
                .evolve_schema(t, &Schema::new(fields), key)
                .await
                .unwrap_err();
            assert!(e.is_bad_input(), "{e}");
            e.to_string()
        }
    };
    let e = refused(vec![Field::new("id", DataType::Int64, false)]).await;
    assert!(
        e.contains("column name") && e.contains("no longer in the source"),
        "{e}"
    );
    let e = refused(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Int64, true),
    ])
    .await;
    assert!(e.contains("column name changed type"), "{e}");
    let e = refused(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("qty", DataType::Int32, false),
    ])
    .await;
    assert!(e.contains("new column qty is NOT NULL"), "{e}");
    assert_eq!(wh.arrow_schema(&t).await.unwrap().fields().len(), 2);

    // A new nullable column is added with a fresh field id.
    let wide = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("qty", DataType::Int32, true),
    ]));
    assert_eq!(
        wh.evolve_schema(&t, &wide, &key).await.unwrap(),
        vec!["qty".to_string()]
    );
    let schema = wh.arrow_schema(&t).await.unwrap();
    assert_eq!(schema.fields().len(), 3);
    assert_eq!(
        schema
            .field(2)
            .metadata()
            .get("PARQUET:field_id")
            .map(String::as_str),
        Some("3")
    );
    assert_eq!(wh.identifier_fields(&t).await.unwrap(), vec!["id"]);
    let b2 = RecordBatch::try_new(
        wide.clone(),
        vec![
            Arc::new(Int64Array::from(vec![3])),
            Arc::new(StringArray::from(vec!["c"])),
            Arc::new(arrow_array::Int32Array::from(vec![7])),
        ],
    )
    .unwrap();
    wh.append(&t, &[b2], HashMap::new()).await.unwrap();

    // Now: old rows read NULL for the new column, new rows their value.
    let (_, now) = wh.scan(&t, At::Current, None).await.unwrap();
    let mut qty = BTreeMap::new();
    for b in &now {
        let id = b.column_by_name("id").unwrap();
        let id = id.as_any().downcast_ref::<Int64Array>().unwrap();
        let q = b.column_by_name("qty").expect("qty is read");
        let q = q
            .as_any()
            .downcast_ref::<arrow_array::Int32Array>()
            .unwrap();
        for i in 0..b.num_rows() {
            qty.insert(id.value(i), (!q.is_null(i)).then(|| q.value(i)));
        }
    }
    assert_eq!(qty, BTreeMap::from([(1, None), (2, None), (3, Some(7))]));
    // The first snapshot still reads its two rows.
    let (_, old) = wh.scan(&t, At::Snapshot(s1.unwrap()), None).await.unwrap();
    assert_eq!(ids(&old), vec![1, 2]);
}
