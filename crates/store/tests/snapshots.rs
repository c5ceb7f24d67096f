//! Snapshots: storing, ordering, chain checks and hash verification on load.

mod common;

use common::*;
use semver::Version;
use tidemark_model::SnapshotHash;
use tidemark_store::{SnapshotFault, StoreError, Workspace};

fn v(text: &str) -> Version {
    Version::parse(text).unwrap()
}

/// A project with ops `op_1..=op_6` and snapshots 0.9.0 (op_1, op_2) and
/// 0.10.0 (op_3, op_4); op_5 and op_6 are uncommitted.
fn two_snapshots(path: &std::path::Path) -> (Workspace, String) {
    let (mut ws, project) = workspace_with_project(path);
    ws.append_ops(&project.id, &ops("op_", 6)).unwrap();
    ws.insert_snapshot(&project.id, &sealed("0.9.0", None, &["op_1", "op_2"]))
        .unwrap();
    ws.insert_snapshot(
        &project.id,
        &sealed("0.10.0", Some("snap_0.9.0"), &["op_3", "op_4"]),
    )
    .unwrap();
    (ws, project.id)
}

#[test]
fn a_snapshot_round_trips_exactly() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project) = workspace_with_project(&path);
    ws.append_ops(&project.id, &ops("op_", 2)).unwrap();
    let snapshot = sealed("0.1.0", None, &["op_1", "op_2"]);
    ws.insert_snapshot(&project.id, &snapshot).unwrap();
    drop(ws);

    let ws = Workspace::open_existing(&path).unwrap();
    assert_eq!(ws.snapshot(&project.id, &v("0.1.0")).unwrap(), snapshot);
    assert_eq!(ws.snapshots(&project.id).unwrap(), vec![snapshot.clone()]);
    assert_eq!(ws.latest_snapshot(&project.id).unwrap(), Some(snapshot));
}

#[test]
fn snapshots_are_ordered_by_semantic_version_not_text() {
    let (_dir, path) = temp_workspace_path();
    let (ws, project_id) = two_snapshots(&path);
    let versions: Vec<String> = ws
        .snapshots(&project_id)
        .unwrap()
        .iter()
        .map(|s| s.version.to_string())
        .collect();
    assert_eq!(versions, ["0.9.0", "0.10.0"]);
    assert_eq!(ws.latest_version(&project_id).unwrap(), Some(v("0.10.0")));
    assert_eq!(
        ws.latest_snapshot(&project_id).unwrap().unwrap().id,
        "snap_0.10.0"
    );
    let checked: Vec<Version> = ws
        .verify_snapshots(&project_id)
        .unwrap()
        .into_iter()
        .map(|(version, outcome)| {
            assert_eq!(outcome, Ok(()));
            version
        })
        .collect();
    assert_eq!(checked, [v("0.9.0"), v("0.10.0")]);
}

#[test]
fn a_project_without_snapshots_has_no_latest_and_unknown_versions() {
    let (_dir, path) = temp_workspace_path();
    let (ws, project) = workspace_with_project(&path);
    assert_eq!(ws.latest_snapshot(&project.id).unwrap(), None);
    assert_eq!(ws.latest_version(&project.id).unwrap(), None);
    assert!(ws.snapshots(&project.id).unwrap().is_empty());
    let err = ws.snapshot(&project.id, &v("1.0.0")).unwrap_err();
    assert!(matches!(&err, StoreError::UnknownSnapshot(x) if *x == v("1.0.0")));
    assert!(err.is_bad_input());
}

#[test]
fn a_duplicate_version_is_refused() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project_id) = two_snapshots(&path);
    let mut again = sealed("0.10.0", Some("snap_0.10.0"), &["op_5"]);
    again.id = "snap_other".into();
    let err = ws.insert_snapshot(&project_id, &again).unwrap_err();
    assert!(
        matches!(&err, StoreError::DuplicateVersion(x) if *x == v("0.10.0")),
        "{err:?}"
    );
    assert!(err.is_bad_input());
    assert_eq!(ws.uncommitted_ops(&project_id).unwrap().len(), 2);
}

#[test]
fn a_version_not_above_the_latest_is_refused_naming_both() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project_id) = two_snapshots(&path);
    let err = ws
        .insert_snapshot(
            &project_id,
            &sealed("0.9.5", Some("snap_0.10.0"), &["op_5"]),
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::VersionNotIncreasing { version, latest }
            if *version == v("0.9.5") && *latest == v("0.10.0")),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("0.9.5") && message.contains("0.10.0"),
        "{message}"
    );
    assert!(err.is_bad_input());
    assert_eq!(ws.snapshots(&project_id).unwrap().len(), 2);
    assert_eq!(ws.uncommitted_ops(&project_id).unwrap().len(), 2);
}

#[test]
fn a_snapshot_must_chain_onto_the_latest() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project_id) = two_snapshots(&path);
    for previous in [None, Some("snap_0.9.0")] {
        let err = ws
            .insert_snapshot(&project_id, &sealed("0.11.0", previous, &["op_5"]))
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::InvalidSnapshot { reason, .. }
                if reason.contains("previous") && reason.contains("0.10.0")),
            "{err:?}"
        );
    }
    ws.insert_snapshot(
        &project_id,
        &sealed("0.11.0", Some("snap_0.10.0"), &["op_5"]),
    )
    .unwrap();
}

#[test]
fn a_snapshot_may_only_include_uncommitted_ops_of_its_project() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project_id) = two_snapshots(&path);
    let zoo = ws.create_project("p_zoo", "zoo", at(1)).unwrap();
    ws.append_ops(&zoo.id, &ops("zoo_", 1)).unwrap();

    let cases = [
        (vec!["op_5", "op_1"], "snapshot snap_0.9.0 already includes"),
        (vec!["op_5", "nope"], "not in the project's log"),
        (vec!["zoo_1"], "not in the project's log"),
        (vec!["op_5", "op_5"], "twice"),
    ];
    for (included, expected) in cases {
        let err = ws
            .insert_snapshot(
                &project_id,
                &sealed("1.0.0", Some("snap_0.10.0"), &included),
            )
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::InvalidSnapshot { reason, .. } if reason.contains(expected)),
            "{included:?}: {err:?}"
        );
    }
    // Nothing of the refused inserts stuck.
    assert_eq!(ws.snapshots(&project_id).unwrap().len(), 2);
    assert_eq!(ws.uncommitted_ops(&project_id).unwrap().len(), 2);
    assert_eq!(ws.uncommitted_ops(&zoo.id).unwrap().len(), 1);
}

#[test]
fn a_snapshot_whose_hash_does_not_match_is_not_stored() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project) = workspace_with_project(&path);
    ws.append_ops(&project.id, &ops("op_", 1)).unwrap();
    let mut snapshot = sealed("0.1.0", None, &["op_1"]);
    snapshot.state = state_with("edited_after_sealing");
    let err = ws.insert_snapshot(&project.id, &snapshot).unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidSnapshot { reason, .. } if reason.contains("does not match")),
        "{err:?}"
    );
    assert!(err.is_bad_input());
    assert!(ws.snapshots(&project.id).unwrap().is_empty());
}

#[test]
fn a_state_tampered_in_the_file_fails_to_load_naming_the_version_and_both_hashes() {
    let (_dir, path) = temp_workspace_path();
    let (ws, project_id) = two_snapshots(&path);
    drop(ws);
    let stored_hash = sealed("0.9.0", None, &["op_1", "op_2"]).hash;
    let tampered = state_with("renamed_by_hand");
    let computed = SnapshotHash::compute(&tampered, &["op_1".into(), "op_2".into()]);
    raw(&path)
        .execute(
            "UPDATE snapshots SET state = ?1 WHERE version = ?2",
            rusqlite::params![serde_json::to_string(&tampered).unwrap(), "0.9.0"],
        )
        .unwrap();

    let ws = Workspace::open_existing(&path).unwrap();
    let err = ws.snapshots(&project_id).unwrap_err();
    let StoreError::Corrupt(mismatch) = &err else {
        panic!("expected Corrupt, got {err:?}")
    };
    assert_eq!(mismatch.version, "0.9.0");
    assert_eq!(mismatch.stored, stored_hash);
    assert_eq!(mismatch.computed, computed);
    let message = err.to_string();
    for part in ["0.9.0", &stored_hash.0, &computed.0] {
        assert!(message.contains(part), "{message} lacks {part}");
    }
    assert!(!err.is_bad_input());
    assert!(matches!(
        ws.snapshot(&project_id, &v("0.9.0")).unwrap_err(),
        StoreError::Corrupt(_)
    ));
    // The untouched snapshot still loads.
    assert!(ws.snapshot(&project_id, &v("0.10.0")).is_ok());

    let report = ws.verify_snapshots(&project_id).unwrap();
    assert_eq!(report.len(), 2);
    assert_eq!(report[0].0, v("0.9.0"));
    assert!(matches!(&report[0].1, Err(SnapshotFault::HashMismatch(m)) if m.computed == computed));
    assert_eq!(report[1], (v("0.10.0"), Ok(())));
}

#[test]
fn verify_reports_every_bad_snapshot_including_unreadable_ones() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project_id) = two_snapshots(&path);
    ws.insert_snapshot(
        &project_id,
        &sealed("1.0.0", Some("snap_0.10.0"), &["op_5"]),
    )
    .unwrap();
    drop(ws);
    {
        let conn = raw(&path);
        conn.execute(
            "UPDATE snapshots SET hash = ?1 WHERE version = ?2",
            rusqlite::params!["0".repeat(64), "0.9.0"],
        )
        .unwrap();
        conn.execute(
            "UPDATE snapshots SET state = ?1 WHERE version = ?2",
            rusqlite::params!["{\"catalogs\": [", "1.0.0"],
        )
        .unwrap();
    }

    let ws = Workspace::open_existing(&path).unwrap();
    let report = ws.verify_snapshots(&project_id).unwrap();
    let versions: Vec<String> = report.iter().map(|(v, _)| v.to_string()).collect();
    assert_eq!(versions, ["0.9.0", "0.10.0", "1.0.0"]);
    assert!(
        matches!(&report[0].1, Err(SnapshotFault::HashMismatch(m)) if m.stored.0 == "0".repeat(64))
    );
    assert_eq!(report[1].1, Ok(()));
    match &report[2].1 {
        Err(SnapshotFault::Unreadable { version, reason }) => {
            assert_eq!(version, "1.0.0");
            assert!(reason.contains("state"), "{reason}");
        }
        other => panic!("expected Unreadable, got {other:?}"),
    }

    let err = ws.snapshot(&project_id, &v("1.0.0")).unwrap_err();
    assert!(
        matches!(&err, StoreError::Unreadable { what, .. } if what == "snapshot 1.0.0"),
        "{err:?}"
    );
    assert!(err.to_string().contains("restore it from a backup"));
}

#[test]
fn a_version_edited_by_hand_is_caught_although_the_hash_does_not_cover_it() {
    let (_dir, path) = temp_workspace_path();
    let (ws, project_id) = two_snapshots(&path);
    drop(ws);
    raw(&path)
        .execute(
            "UPDATE snapshots SET version = ?1 WHERE version = ?2",
            rusqlite::params!["0.9.1", "0.9.0"],
        )
        .unwrap();

    let ws = Workspace::open_existing(&path).unwrap();
    let report = ws.verify_snapshots(&project_id).unwrap();
    assert!(
        matches!(&report[0].1, Err(SnapshotFault::Unreadable { reason, .. }) if reason.contains("numeric")),
        "{report:?}"
    );
    assert!(matches!(
        ws.snapshots(&project_id).unwrap_err(),
        StoreError::Unreadable { .. }
    ));
}

#[test]
fn a_whole_project_imports_in_one_transaction_or_not_at_all() {
    let (_dir, path) = temp_workspace_path();
    let mut ws = Workspace::open(&path).unwrap();
    let import = |ws: &mut Workspace, last_version: &str| {
        ws.write(|tx| {
            let project = tx.create_project("p_imp", "imported", at(0))?;
            tx.append_ops(&project.id, &ops("op_", 4))?;
            tx.insert_snapshot(&project.id, &sealed("0.1.0", None, &["op_1", "op_2"]))?;
            tx.insert_snapshot(
                &project.id,
                &sealed(last_version, Some("snap_0.1.0"), &["op_3"]),
            )?;
            Ok::<_, StoreError>(project)
        })
    };

    // The second snapshot is out of order: nothing at all is kept.
    let err = import(&mut ws, "0.0.9").unwrap_err();
    assert!(
        matches!(err, StoreError::VersionNotIncreasing { .. }),
        "{err:?}"
    );
    assert!(ws.projects().unwrap().is_empty());
    assert!(ws.ops("p_imp").unwrap().is_empty());

    let project = import(&mut ws, "0.2.0").unwrap();
    let committed: Vec<Option<String>> = ws
        .ops(&project.id)
        .unwrap()
        .into_iter()
        .map(|s| s.snapshot_id)
        .collect();
    assert_eq!(
        committed,
        [
            Some("snap_0.1.0".to_string()),
            Some("snap_0.1.0".to_string()),
            Some("snap_0.2.0".to_string()),
            None
        ]
    );
    assert_eq!(ws.snapshots(&project.id).unwrap().len(), 2);
}
