//! The op log: order, seqs, committed vs uncommitted, atomic writes.

mod common;

use common::*;
use tidemark_store::{StoreError, Workspace};

#[test]
fn ops_are_appended_in_order_with_gapless_seqs() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project) = workspace_with_project(&path);
    assert_eq!(ws.last_seq(&project.id).unwrap(), 0);
    assert!(ws.ops(&project.id).unwrap().is_empty());

    assert_eq!(ws.append_ops(&project.id, &ops("a", 3)).unwrap(), 3);
    assert_eq!(ws.append_ops(&project.id, &[]).unwrap(), 3);
    assert_eq!(ws.append_ops(&project.id, &ops("b", 2)).unwrap(), 5);
    drop(ws);

    let ws = Workspace::open_existing(&path).unwrap();
    let stored = ws.ops(&project.id).unwrap();
    let seqs: Vec<i64> = stored.iter().map(|s| s.seq).collect();
    let ids: Vec<&str> = stored.iter().map(|s| s.op.id.as_str()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(ids, ["a1", "a2", "a3", "b1", "b2"]);
    assert_eq!(stored[0].op, add_table("a1"));
    assert!(stored.iter().all(|s| s.snapshot_id.is_none()));
    assert_eq!(ws.last_seq(&project.id).unwrap(), 5);
}

#[test]
fn each_project_has_its_own_log() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, shop) = workspace_with_project(&path);
    let zoo = ws.create_project("p_zoo", "zoo", at(1)).unwrap();
    ws.append_ops(&shop.id, &ops("s", 2)).unwrap();
    ws.append_ops(&zoo.id, &ops("z", 1)).unwrap();
    assert_eq!(ws.last_seq(&zoo.id).unwrap(), 1);
    assert_eq!(ws.ops(&zoo.id).unwrap()[0].seq, 1);
    assert_eq!(ws.ops(&shop.id).unwrap().len(), 2);
}

#[test]
fn a_snapshot_commits_exactly_the_ops_it_includes() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project) = workspace_with_project(&path);
    ws.append_ops(&project.id, &ops("op_", 4)).unwrap();
    assert_eq!(ws.uncommitted_ops(&project.id).unwrap().len(), 4);

    ws.insert_snapshot(
        &project.id,
        &sealed("0.1.0", None, &["op_1", "op_2", "op_3"]),
    )
    .unwrap();

    let uncommitted = ws.uncommitted_ops(&project.id).unwrap();
    assert_eq!(uncommitted.len(), 1);
    assert_eq!(
        (uncommitted[0].seq, uncommitted[0].op.id.as_str()),
        (4, "op_4")
    );
    let all = ws.ops(&project.id).unwrap();
    let snapshot_ids: Vec<Option<&str>> = all.iter().map(|s| s.snapshot_id.as_deref()).collect();
    assert_eq!(
        snapshot_ids,
        [
            Some("snap_0.1.0"),
            Some("snap_0.1.0"),
            Some("snap_0.1.0"),
            None
        ]
    );

    ws.append_ops(&project.id, &ops("late_", 1)).unwrap();
    let uncommitted: Vec<i64> = ws
        .uncommitted_ops(&project.id)
        .unwrap()
        .iter()
        .map(|s| s.seq)
        .collect();
    assert_eq!(uncommitted, [4, 5]);
}

#[test]
fn a_duplicate_op_id_appends_nothing_of_the_batch() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project) = workspace_with_project(&path);
    ws.append_ops(&project.id, &ops("op_", 2)).unwrap();

    let batch = vec![add_table("new_1"), add_table("op_2"), add_table("new_2")];
    let err = ws.append_ops(&project.id, &batch).unwrap_err();
    assert!(
        matches!(&err, StoreError::DuplicateOp(id) if id == "op_2"),
        "{err:?}"
    );
    assert!(err.is_bad_input());
    assert_eq!(ws.last_seq(&project.id).unwrap(), 2);

    // Within one write too, the failed call leaves nothing behind even when the
    // caller carries on and commits.
    ws.write(|tx| {
        assert!(tx.append_ops(&project.id, &batch).is_err());
        tx.append_ops(&project.id, &ops("ok_", 1))
    })
    .unwrap();
    let ids: Vec<String> = ws
        .ops(&project.id)
        .unwrap()
        .into_iter()
        .map(|s| s.op.id)
        .collect();
    assert_eq!(ids, ["op_1", "op_2", "ok_1"]);
}

#[test]
fn appending_to_an_unknown_project_is_refused() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, _) = workspace_with_project(&path);
    let err = ws.append_ops("p_missing", &ops("op_", 1)).unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownProjectId(id) if id == "p_missing"),
        "{err:?}"
    );
}

#[test]
fn append_expecting_a_stale_last_seq_is_a_retryable_conflict() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, project) = workspace_with_project(&path);
    ws.append_ops(&project.id, &ops("op_", 2)).unwrap();
    let seen = ws.last_seq(&project.id).unwrap();

    // Another writer gets in between the read and the write.
    let mut other = Workspace::open(&path).unwrap();
    other.append_ops(&project.id, &ops("other_", 1)).unwrap();

    let err = ws
        .write(|tx| tx.append_ops_expecting(&project.id, seen, &ops("mine_", 1)))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Conflict {
                expected: 2,
                found: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(!err.is_bad_input());
    assert_eq!(ws.last_seq(&project.id).unwrap(), 3);

    let now = ws.last_seq(&project.id).unwrap();
    let last = ws
        .write(|tx| tx.append_ops_expecting(&project.id, now, &ops("mine_", 1)))
        .unwrap();
    assert_eq!(last, 4);
}

#[test]
fn a_write_that_fails_or_panics_is_rolled_back() {
    let (_dir, path) = temp_workspace_path();
    let mut ws = Workspace::open(&path).unwrap();

    let result: Result<(), StoreError> = ws.write(|tx| {
        let project = tx.create_project("p_shop", "shop", at(0))?;
        tx.append_ops(&project.id, &ops("op_", 3))?;
        // Reads inside the transaction see its own writes.
        assert_eq!(tx.last_seq(&project.id)?, 3);
        Err(StoreError::NoCurrentProject)
    });
    assert!(result.is_err());
    assert!(ws.projects().unwrap().is_empty());

    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), StoreError> = ws.write(|tx| {
            tx.create_project("p_shop", "shop", at(0))?;
            panic!("boom");
        });
    }));
    assert!(panicked.is_err());
    assert!(ws.projects().unwrap().is_empty());

    // The connection is usable again: no transaction was left open.
    ws.create_project("p_shop", "shop", at(0)).unwrap();
    drop(ws);
    assert_eq!(Workspace::open(&path).unwrap().projects().unwrap().len(), 1);
}

#[test]
fn write_passes_through_the_callers_own_error_type() {
    #[derive(Debug)]
    enum AppError {
        Store(StoreError),
        Rule(&'static str),
    }
    impl From<StoreError> for AppError {
        fn from(e: StoreError) -> Self {
            AppError::Store(e)
        }
    }

    let (_dir, path) = temp_workspace_path();
    let (mut ws, project) = workspace_with_project(&path);
    let err = ws
        .write(|tx| -> Result<(), AppError> {
            tx.append_ops(&project.id, &ops("op_", 1))?;
            Err(AppError::Rule("table already exists"))
        })
        .unwrap_err();
    let AppError::Rule(rule) = err else {
        panic!("expected the rule error, got {err:?}")
    };
    assert_eq!(rule, "table already exists");
    let err = ws
        .write(|tx| -> Result<(), AppError> {
            Ok(tx.create_project("p_x", "shop", at(0)).map(|_| ())?)
        })
        .unwrap_err();
    assert!(matches!(err, AppError::Store(StoreError::ProjectExists(_))));
    assert!(ws.ops(&project.id).unwrap().is_empty());
}
