//! What each option does, against the real servers: merge modes, conflict
//! policies, soft and reconciled deletes, lag, fallbacks, and bad input that
//! is refused before any row moves.

mod common;

use common::{assert_same, read_rows, read_table, Kind, Rng, TestDb, Workload};
use tidemark_db::DbError;
use tidemark_sync::{
    ConflictPolicy, Detect, JobSpec, Merge, RunOptions, RunOutcome, RunReport, SyncError,
};

fn job(target_table: &str, merge: Merge) -> JobSpec {
    JobSpec {
        name: target_table.into(),
        source: "src".into(),
        source_table: "items".into(),
        target: "dst".into(),
        target_table: target_table.into(),
        detect: Detect::Timestamp,
        detect_auto: false,
        tracking_column: Some("updated_at".into()),
        merge,
        key: vec![],
        on_conflict: if merge == Merge::Append {
            ConflictPolicy::Skip
        } else {
            ConflictPolicy::Overwrite
        },
        batch_size: 10,
        lag_ms: 0,
        deleted_column: None,
        reconcile_deletes: false,
    }
}

async fn attempt(job: &JobSpec, src: &TestDb, dst: &TestDb) -> RunOutcome {
    let mut s = src.endpoint().await;
    let mut d = dst.endpoint().await;
    tidemark_sync::run(job, &mut *s, &mut *d, &RunOptions::new()).await
}

async fn sync(job: &JobSpec, src: &TestDb, dst: &TestDb) -> RunReport {
    let out = attempt(job, src, dst).await;
    if let Some(e) = out.error {
        panic!("sync {} failed: {e}", job.name);
    }
    out.report
}

async fn setup(name: &str, from: Kind, to: Kind, rows: usize) -> (TestDb, TestDb, Workload) {
    let seed = Rng::seed(name);
    let src = TestDb::create(from).await;
    let dst = TestDb::create(to).await;
    let mut w = Workload::new(from, seed);
    src.exec(&w.create_table()).await;
    src.exec(&w.insert(rows, rows / 3)).await;
    (src, dst, w)
}

fn bad_input(out: RunOutcome) -> String {
    match out.error {
        Some(e @ SyncError::BadInput(_)) => e.to_string(),
        other => panic!("expected bad input, got {other:?}"),
    }
}

#[tokio::test]
async fn a_run_with_no_changes_reports_zero_rows() {
    let (src, dst, _w) = setup("no_changes", Kind::Pg, Kind::Pg, 50).await;
    let j = job("copy", Merge::Upsert);
    let first = sync(&j, &src, &dst).await;
    assert_eq!(first.rows_extracted, 50);
    let again = sync(&j, &src, &dst).await;
    assert!(!again.full);
    assert_eq!(
        (
            again.rows_extracted,
            again.rows_loaded,
            again.batches,
            again.deleted
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(again.watermark, first.watermark, "the watermark stays put");
}

#[tokio::test]
async fn a_late_commit_is_missed_without_lag_and_caught_with_it() {
    let (src, dst, mut w) = setup("lag", Kind::Pg, Kind::Pg, 40).await;
    let plain = job("plain", Merge::Upsert);
    let mut lagged = job("lagged", Merge::Upsert);
    lagged.lag_ms = 5_000;
    sync(&plain, &src, &dst).await;
    sync(&lagged, &src, &dst).await;
    // An update whose transaction took its timestamp 1 s before the newest
    // row already synced.
    let behind = w.newest_us();
    let ops = w.update(100, 1, behind, 1_000_000);
    src.exec(&ops[..1]).await;
    // Keep the model to that one update.
    let mut w2 = Workload::new(Kind::Pg, 0);
    w2.rows = w.rows.clone();
    let p = sync(&plain, &src, &dst).await;
    let l = sync(&lagged, &src, &dst).await;
    assert_eq!(
        p.rows_loaded, 0,
        "without lag the late row is behind the watermark"
    );
    assert_eq!(l.updated, 1, "with lag it is re-read and applied: {l:?}");
    let (lagged_rows, _) = read_table(&dst, "lagged", "id", None, false).await;
    let (source_rows, _) = read_table(&src, "items", "id", None, false).await;
    assert_same("lagged", &lagged_rows, &source_rows);
    let (plain_rows, _) = read_table(&dst, "plain", "id", None, false).await;
    assert_ne!(plain_rows, source_rows);
}

#[tokio::test]
async fn append_never_duplicates_and_never_changes_a_row() {
    let (src, dst, mut w) = setup("append", Kind::Pg, Kind::My, 30).await;
    let mut j = job("events", Merge::Append);
    j.lag_ms = 3_600_000;
    sync(&j, &src, &dst).await;
    let before = w.expected();
    let behind = w.newest_us();
    let updates = w.update(30, 0, behind, 0);
    src.exec(&updates).await;
    src.exec(&w.insert(12, 4)).await;
    let r = sync(&j, &src, &dst).await;
    // The hour of lag re-reads everything: old keys are skipped.
    assert_eq!(r.inserted, 12);
    assert_eq!(r.updated, 0);
    assert_eq!(r.rows_extracted, r.inserted + r.skipped);
    let (target, count) = read_table(&dst, "events", "id", None, false).await;
    assert_eq!(count, 42);
    for (k, row) in &before {
        assert_eq!(target.get(k), Some(row), "appended row {k} was changed");
    }
}

#[tokio::test]
async fn scd2_keeps_every_version_in_mariadb() {
    scd2_in(Kind::My).await;
}

#[tokio::test]
async fn scd2_keeps_every_version_in_sqlite() {
    scd2_in(Kind::Lite).await;
}

#[tokio::test]
async fn scd2_keeps_every_version_in_postgres() {
    scd2_in(Kind::Pg).await;
}

async fn scd2_in(to: Kind) {
    let (src, dst, mut w) = setup("scd2", Kind::Pg, to, 20).await;
    let mut j = job("dim", Merge::Scd2);
    j.reconcile_deletes = true;
    j.lag_ms = 3_600_000;
    sync(&j, &src, &dst).await;
    let behind = w.newest_us();
    let ops = w.update(100, 0, behind, 0);
    src.exec(&ops[..5]).await;
    let changed: Vec<i64> = w.rows.keys().take(5).copied().collect();
    src.exec(&[format!("DELETE FROM items WHERE id = {}", changed[0] + 10)])
        .await;
    let r = sync(&j, &src, &dst).await;
    assert_eq!((r.updated, r.inserted, r.deleted), (5, 0, 1), "{r:?}");
    // Re-reading everything again (the lag) adds no version.
    let again = sync(&j, &src, &dst).await;
    assert_eq!((again.updated, again.inserted, again.deleted), (0, 0, 0));
    let (_, rows) = read_rows(&dst, "dim", &["id", "valid_from"]).await;
    assert_eq!(rows.len(), 25, "20 first versions and 5 new ones");
    let (current, n) = read_table(&dst, "dim", "id", Some(8), true).await;
    assert_eq!(n, 19, "one key was deleted");
    let (source, _) = read_table(&src, "items", "id", None, false).await;
    assert_same("current versions", &current, &source);
    common::assert_scd2_history(&dst, "dim", 8).await;
}

#[tokio::test]
async fn replace_swaps_in_a_fresh_copy() {
    for to in [Kind::Pg, Kind::My, Kind::Lite] {
        let (src, dst, mut w) = setup("replace", Kind::Pg, to, 25).await;
        let mut j = job("snapshot", Merge::Replace);
        j.detect = Detect::Full;
        j.tracking_column = None;
        sync(&j, &src, &dst).await;
        src.exec(&w.delete(30)).await;
        src.exec(&w.insert(5, 0)).await;
        let r = sync(&j, &src, &dst).await;
        assert!(r.full);
        let (target, _) = read_table(&dst, "snapshot", "id", None, false).await;
        assert_same(&format!("replace into {to:?}"), &target, &w.expected());
    }
}

#[tokio::test]
async fn soft_deleted_rows_leave_the_target() {
    for to in [Kind::Pg, Kind::Lite] {
        let (src, dst, _w) = setup("soft_delete", Kind::Pg, to, 20).await;
        src.exec(&["ALTER TABLE items ADD COLUMN deleted_at timestamp(6)".to_string()])
            .await;
        let mut j = job("live", Merge::Upsert);
        j.deleted_column = Some("deleted_at".into());
        sync(&j, &src, &dst).await;
        src.exec(&[
            "UPDATE items SET deleted_at = '2030-01-01', updated_at = '2030-01-01' WHERE id IN (3, 4, 5)"
                .to_string(),
        ])
        .await;
        let r = sync(&j, &src, &dst).await;
        assert_eq!(r.deleted, 3, "{to:?}: {r:?}");
        let (target, n) = read_table(&dst, "live", "id", None, false).await;
        assert_eq!(n, 17);
        assert!(!target.contains_key("4"));
    }
}

#[tokio::test]
async fn hard_deletes_are_reconciled_by_key() {
    for (from, to) in [
        (Kind::Pg, Kind::My),
        (Kind::Lite, Kind::Pg),
        (Kind::My, Kind::Lite),
    ] {
        let (src, dst, mut w) = setup("reconcile", from, to, 60).await;
        let mut j = job("copy", Merge::Upsert);
        j.reconcile_deletes = true;
        sync(&j, &src, &dst).await;
        src.exec(&w.delete(25)).await;
        let gone = 60 - w.rows.len() as u64;
        let r = sync(&j, &src, &dst).await;
        assert_eq!(r.deleted, gone, "{from:?} → {to:?}");
        let (target, _) = read_table(&dst, "copy", "id", None, false).await;
        assert_same("after reconciling", &target, &w.expected());
    }
}

#[tokio::test]
async fn conflict_policies_decide_who_wins() {
    let (src, dst, _w) = setup("conflicts", Kind::Pg, Kind::Pg, 10).await;
    // The target already holds id 7 with other values.
    dst.exec(&[
        "CREATE TABLE keep (id bigint PRIMARY KEY, updated_at timestamp(6) NOT NULL, name varchar(100) NOT NULL, \
         amount numeric(12,2), active boolean NOT NULL, born date, data bytea, note text)"
            .to_string(),
        "INSERT INTO keep VALUES (7, '2000-01-01', 'theirs', 1, true, NULL, NULL, NULL)".to_string(),
        "CREATE TABLE strict (LIKE keep INCLUDING ALL)".to_string(),
        "INSERT INTO strict SELECT * FROM keep".to_string(),
    ])
    .await;
    let mut skip = job("keep", Merge::Upsert);
    skip.on_conflict = ConflictPolicy::Skip;
    let r = sync(&skip, &src, &dst).await;
    assert_eq!((r.inserted, r.skipped), (9, 1));
    let (kept, _) = read_table(&dst, "keep", "id", None, false).await;
    assert_eq!(kept["7"][2].as_deref(), Some("theirs"));

    let mut strict = job("strict", Merge::Upsert);
    strict.on_conflict = ConflictPolicy::Error;
    strict.batch_size = 100;
    let out = attempt(&strict, &src, &dst).await;
    match out.error {
        Some(SyncError::Db(DbError::Conflict { key, .. })) => assert_eq!(key, "id=7"),
        other => panic!("expected a conflict on id=7, got {other:?}"),
    }
    let (_, n) = read_table(&dst, "strict", "id", None, false).await;
    assert_eq!(n, 1, "the conflicting batch was not committed");
}

#[tokio::test]
async fn a_value_the_target_cannot_hold_stops_the_job_naming_column_and_key() {
    let (src, dst, _w) = setup("too_long", Kind::Pg, Kind::My, 5).await;
    src.exec(&[format!(
        "UPDATE items SET name = '{}' WHERE id = 4",
        "x".repeat(60)
    )])
    .await;
    dst.exec(&[
        "CREATE TABLE narrow (id bigint PRIMARY KEY, updated_at datetime(6) NOT NULL, name varchar(40) NOT NULL, \
         amount decimal(12,2), active tinyint(1) NOT NULL, born date, data longblob, note text) ENGINE=InnoDB"
            .to_string(),
    ])
    .await;
    let mut j = job("narrow", Merge::Upsert);
    j.batch_size = 100;
    let out = attempt(&j, &src, &dst).await;
    let message = out
        .error
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_default();
    match out.error {
        Some(SyncError::Db(DbError::Value { column, key, .. })) => {
            assert_eq!(
                (column.as_str(), key.as_str()),
                ("name", "id=4"),
                "{message}"
            );
        }
        other => panic!("expected a value error, got {other:?}"),
    }
    assert!(
        message.contains("60 characters") && message.contains("at most 40"),
        "{message}"
    );
    let (_, n) = read_table(&dst, "narrow", "id", None, false).await;
    assert_eq!(n, 0, "nothing was written, nothing truncated");
}

#[tokio::test]
async fn bad_input_is_refused_before_any_row_moves() {
    let (src, dst, _w) = setup("bad_input", Kind::Pg, Kind::Pg, 5).await;

    let mut unknown = job("t1", Merge::Upsert);
    unknown.tracking_column = Some("updated".into());
    let checked = {
        let mut s = src.endpoint().await;
        let mut d = dst.endpoint().await;
        tidemark_sync::check(&unknown, &mut *s, &mut *d).await
    };
    let m = match checked {
        Err(e @ SyncError::BadInput(_)) => e.to_string(),
        other => panic!("expected bad input, got {other:?}"),
    };
    assert!(m.contains("`updated`") && m.contains("updated_at"), "{m}");
    let mut unknown_key = job("t1", Merge::Upsert);
    unknown_key.key = vec!["uid".into()];
    let m = bad_input(attempt(&unknown_key, &src, &dst).await);
    assert!(m.contains("`uid`") && m.contains("--key"), "{m}");

    src.exec(&[
        "ALTER TABLE items ADD COLUMN changed_at timestamp".to_string(),
        "UPDATE items SET changed_at = now() WHERE id <> 3".to_string(),
    ])
    .await;
    let mut nulls = job("t2", Merge::Upsert);
    nulls.tracking_column = Some("changed_at".into());
    let m = bad_input(attempt(&nulls, &src, &dst).await);
    assert!(
        m.contains("changed_at") && m.contains("id=3") && m.contains("NULL"),
        "{m}"
    );

    dst.exec(&[
        "CREATE TABLE nokey (id bigint, updated_at timestamp(6), name text, amount numeric(12,2), \
         active boolean, born date, data bytea, note text, changed_at timestamp)"
            .to_string(),
        "CREATE TABLE wrongtype (id bigint PRIMARY KEY, updated_at timestamp(6), name text, amount text, \
         active boolean, born date, data bytea, note text, changed_at timestamp)"
            .to_string(),
    ])
    .await;
    let m = bad_input(attempt(&job("nokey", Merge::Upsert), &src, &dst).await);
    assert!(m.contains("no primary key or unique index on (id)"), "{m}");
    let m = bad_input(attempt(&job("wrongtype", Merge::Upsert), &src, &dst).await);
    assert!(
        m.contains("column amount") && m.contains("numeric(12,2)"),
        "{m}"
    );

    // Nothing was created or written: no target table, no checkpoints.
    let mut ep = dst.endpoint().await;
    for t in ["t1", "t2", "tidemark_checkpoints"] {
        let name = ep
            .resolve(&tidemark_db::transfer::TableName::parse(t))
            .await
            .unwrap();
        assert!(
            ep.describe(&name).await.unwrap().is_none(),
            "{t} was created"
        );
    }
    let (_, n) = read_table(&dst, "nokey", "id", None, false).await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_checkpoint_for_a_vanished_column_falls_back_to_a_full_sync() {
    let (src, dst, _w) = setup("fallback", Kind::Pg, Kind::Pg, 12).await;
    let j = job("copy", Merge::Upsert);
    sync(&j, &src, &dst).await;
    src.exec(&["ALTER TABLE items RENAME COLUMN updated_at TO touched_at".to_string()])
        .await;
    dst.exec(&["ALTER TABLE copy RENAME COLUMN updated_at TO touched_at".to_string()])
        .await;
    let r = sync(&j, &src, &dst).await;
    assert!(r.full);
    assert_eq!(r.rows_extracted, 12);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("updated_at no longer exists") && n.contains("full sync")),
        "{:?}",
        r.notes
    );
}

#[tokio::test]
async fn the_checkpoint_lives_in_the_target() {
    let (src, dst, _w) = setup("checkpoint", Kind::Pg, Kind::Lite, 30).await;
    let j = job("copy", Merge::Upsert);
    let r = sync(&j, &src, &dst).await;
    let (_, rows) = read_rows(&dst, "tidemark_checkpoints", &["job"]).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0].as_deref(), Some("copy"));
    assert_eq!(rows[0][1].as_deref(), Some("updated_at"));
    assert_eq!(rows[0][4].as_deref(), Some(r.run_id.as_str()));
    assert!(
        rows[0][2]
            .as_deref()
            .unwrap_or_default()
            .contains("timestamp"),
        "{rows:?}"
    );
    // A second target of the same job name starts from its own checkpoint.
    let other = TestDb::create(Kind::Lite).await;
    let again = sync(&j, &src, &other).await;
    assert!(again.full);
}
