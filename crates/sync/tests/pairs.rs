//! Incremental sync between every pair of databases that matters, against
//! the real servers: a seeded workload of inserts (with large groups of rows
//! sharing one timestamp across batch boundaries), updates (some committing
//! late, with a timestamp behind the watermark but inside the lag window)
//! and deletes; after each sync the target equals the source row by row.

mod common;

use common::{assert_same, read_table, Kind, Rng, TestDb, Workload};
use tidemark_sync::{ConflictPolicy, Detect, JobSpec, Merge, RunOptions, RunReport};

fn job(merge: Merge) -> JobSpec {
    JobSpec {
        name: "items".into(),
        source: "src".into(),
        source_table: "items".into(),
        target: "dst".into(),
        target_table: "items_copy".into(),
        detect: Detect::Timestamp,
        detect_auto: false,
        tracking_column: Some("updated_at".into()),
        merge,
        key: vec![],
        on_conflict: ConflictPolicy::Overwrite,
        batch_size: 25,
        lag_ms: 10_000,
        deleted_column: None,
        reconcile_deletes: true,
    }
}

async fn sync(job: &JobSpec, src: &TestDb, dst: &TestDb) -> RunReport {
    let mut s = src.endpoint().await;
    let mut d = dst.endpoint().await;
    let out = tidemark_sync::run(job, &mut *s, &mut *d, &RunOptions::new()).await;
    if let Some(e) = out.error {
        panic!("sync {} failed: {e}", job.name);
    }
    out.report
}

async fn round_trip(name: &str, from: Kind, to: Kind) {
    let seed = Rng::seed(name);
    let src = TestDb::create(from).await;
    let dst = TestDb::create(to).await;
    let mut w = Workload::new(from, seed);
    src.exec(&w.create_table()).await;
    // 120 rows share one timestamp: batches of 25 cut the group five times.
    src.exec(&w.insert(300, 120)).await;
    let job = job(Merge::Upsert);
    let first = sync(&job, &src, &dst).await;
    assert!(first.full, "a first run reads everything");
    assert_eq!(first.rows_extracted, 300);
    assert_eq!(first.inserted, 300);
    assert!(first.batches >= 12);
    let (target, _) = read_table(&dst, "items_copy", "id", None, false).await;
    assert_same(
        &format!("{name} after the first run"),
        &target,
        &w.expected(),
    );

    for round in 1..=3 {
        let behind = w.newest_us();
        let mut ops = w.insert(60, 40);
        ops.extend(w.update(12, 4, behind, 2_000_000));
        ops.extend(w.delete(4));
        src.exec(&ops).await;
        let report = sync(&job, &src, &dst).await;
        assert!(!report.full, "round {round} is incremental");
        let (target, _) = read_table(&dst, "items_copy", "id", None, false).await;
        assert_same(
            &format!("{name} after round {round}"),
            &target,
            &w.expected(),
        );
        let (source, _) = read_table(&src, "items", "id", None, false).await;
        assert_same(
            &format!("{name} source after round {round}"),
            &source,
            &w.expected(),
        );
    }
}

#[tokio::test]
async fn postgres_to_postgres() {
    round_trip("postgres_to_postgres", Kind::Pg, Kind::Pg).await;
}

#[tokio::test]
async fn postgres_to_mariadb() {
    round_trip("postgres_to_mariadb", Kind::Pg, Kind::My).await;
}

#[tokio::test]
async fn mariadb_to_postgres() {
    round_trip("mariadb_to_postgres", Kind::My, Kind::Pg).await;
}

#[tokio::test]
async fn postgres_to_sqlite() {
    round_trip("postgres_to_sqlite", Kind::Pg, Kind::Lite).await;
}

#[tokio::test]
async fn sqlite_to_postgres() {
    round_trip("sqlite_to_postgres", Kind::Lite, Kind::Pg).await;
}

#[tokio::test]
async fn mariadb_to_sqlite() {
    round_trip("mariadb_to_sqlite", Kind::My, Kind::Lite).await;
}
