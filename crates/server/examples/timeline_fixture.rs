//! Writes a project export folder with many snapshots, for the UI's
//! long-timeline test: `cargo run -p tidemark-server --example timeline_fixture -- DIR COUNT`,
//! then `tidemark project import DIR`.
//!
//! Snapshots are built with the model's own reducer and hashing, so the import
//! checks them like any other export; creating them one by one through the
//! CLI would take minutes.

use chrono::{Duration, Utc};
use serde_json::json;
use std::path::PathBuf;
use tidemark_model::{Op, Reducer, Snapshot, SnapshotHash, State};

fn op(id: String, ts: chrono::DateTime<Utc>, body: serde_json::Value) -> Op {
    let mut value = body;
    value["id"] = json!(id);
    value["ts"] = json!(ts.to_rfc3339());
    serde_json::from_value(value).expect("a valid op")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: timeline_fixture DIR COUNT")?);
    let count: usize = args
        .next()
        .ok_or("usage: timeline_fixture DIR COUNT")?
        .parse()?;
    let snap_dir = dir.join("snapshots");
    std::fs::create_dir_all(&snap_dir)?;

    let start = Utc::now() - Duration::hours(count as i64 * 6);
    let mut reducer = Reducer::new(State::default());
    let mut previous: Option<String> = None;
    for i in 0..count {
        let ts = start + Duration::hours(i as i64 * 6);
        let ops: Vec<Op> = if i == 0 {
            vec![
                op(
                    "op_big_0_0".into(),
                    ts,
                    json!({"target": "root", "op": "add_catalog", "payload": {"id": "cat_big", "name": "big"}}),
                ),
                op(
                    "op_big_0_1".into(),
                    ts,
                    json!({"target": "cat_big", "op": "add_schema", "payload": {"id": "sch_big", "name": "public"}}),
                ),
                op(
                    "op_big_0_2".into(),
                    ts,
                    json!({"target": "sch_big", "op": "add_table", "payload": {"id": "tbl_events", "name": "events"}}),
                ),
                op(
                    "op_big_0_3".into(),
                    ts,
                    json!({"target": "tbl_events", "op": "add_column",
                    "payload": {"id": "col_events_id", "name": "id", "data_type": {"kind": "big_int"}, "nullable": false}}),
                ),
            ]
        } else {
            vec![op(
                format!("op_big_{i}"),
                ts,
                json!({"target": "tbl_events", "op": "set_comment", "payload": {"comment": format!("revision {i}")}}),
            )]
        };
        for o in &ops {
            reducer.apply(o)?;
        }
        let state = reducer.state().clone();
        let ops_included: Vec<String> = ops.iter().map(|o| o.id.clone()).collect();
        let hash = SnapshotHash::compute(&state, &ops_included);
        let version = semver::Version::new(
            1 + (i / 100) as u64,
            ((i / 10) % 10) as u64,
            (i % 10) as u64,
        );
        let id = format!("snap_big_{i}");
        let snapshot = Snapshot {
            id: id.clone(),
            version: version.clone(),
            name: format!("Revision {i} of the events table"),
            comment: None,
            tags: if i % 25 == 0 {
                vec!["release".into()]
            } else {
                vec![]
            },
            created_by: ["ana", "bo", "chen"][i % 3].into(),
            created_at: ts,
            previous: previous.replace(id),
            ops_included,
            state,
            hash,
        };
        let file = json!({"snapshot": snapshot, "ops": ops});
        std::fs::write(
            snap_dir.join(format!("v{version}.json")),
            serde_json::to_string_pretty(&file)? + "\n",
        )?;
    }
    std::fs::write(dir.join("ops.json"), "[]\n")?;
    std::fs::write(
        dir.join("project.json"),
        serde_json::to_string_pretty(&json!({
            "format": 1, "id": "prj_big", "name": "big", "created_at": start,
        }))? + "\n",
    )?;
    println!("wrote {count} snapshots to {}", dir.display());
    Ok(())
}
