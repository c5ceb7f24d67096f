//! Scanning a large PostgreSQL database and diffing two scans of it:
//! 2,000 tables × 20 columns, each table with a primary key, a secondary
//! index and a comment. Goals: a scan under 3 s, the diff under 1 s.
//!
//! Needs the local server (127.0.0.1:5432, user postgres); the database is
//! created for the run and dropped afterwards, even on a panic. Run with
//! `cargo bench -p tidemark-app --bench scan`.

use std::time::{Duration, Instant};
use tidemark_app::{App, DiffOutputOptions};
use tidemark_db::{connect, ConnectionSpec};
use tidemark_store::DiffFormat;

const TABLES: usize = 2_000;
const COLUMNS: usize = 20;
const ROUNDS: usize = 3;
const HOST: &str = "postgres://postgres@127.0.0.1:5432";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn exec(url: &str, statements: Vec<String>, transactional: bool) {
    runtime().block_on(async {
        let spec = ConnectionSpec::parse(url).expect("URL");
        let mut db = connect(&spec, None).await.expect("connect");
        db.execute(&statements, transactional)
            .await
            .expect("statements");
        db.close().await.expect("close");
    });
}

/// Drops the benchmark database even if the run panics.
struct Scratch {
    name: String,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        exec(&format!("{HOST}/postgres"), vec![sql], false);
    }
}

fn table_ddl(i: usize) -> Vec<String> {
    let mut cols = vec!["id bigint PRIMARY KEY".to_string()];
    for c in 1..COLUMNS {
        let ty = [
            "integer",
            "text",
            "varchar(50)",
            "numeric(12,2)",
            "timestamptz",
        ][c % 5];
        let extra = if c % 3 == 0 {
            " NOT NULL DEFAULT 0"
        } else {
            ""
        };
        let extra = if ty == "integer" { extra } else { "" };
        cols.push(format!("c{c} {ty}{extra}"));
    }
    vec![
        format!("CREATE TABLE bench.t{i} ({})", cols.join(", ")),
        format!("CREATE INDEX t{i}_c2_idx ON bench.t{i} (c2)"),
        format!("COMMENT ON TABLE bench.t{i} IS 'table number {i}'"),
    ]
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    // `cargo bench` passes flags such as --bench; nothing to configure here.
    let scratch = Scratch {
        name: format!("tm_scan_bench_{}", uuid::Uuid::new_v4().simple()),
    };
    exec(
        &format!("{HOST}/postgres"),
        vec![format!("CREATE DATABASE \"{}\"", scratch.name)],
        false,
    );
    let url = format!("{HOST}/{}", scratch.name);
    let started = Instant::now();
    let mut ddl = vec!["CREATE SCHEMA bench".to_string()];
    for i in 0..TABLES {
        ddl.extend(table_ddl(i));
    }
    // In chunks: one transaction creating everything runs out of lock slots.
    for chunk in ddl.chunks(300) {
        exec(&url, chunk.to_vec(), true);
    }
    eprintln!(
        "created {TABLES} tables × {COLUMNS} columns in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = App::open(&dir.path().join("bench.tmdb"), "bench").expect("workspace");
    app.connection_add("bench", &url, None, None)
        .expect("connection");

    let mut scans = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let run = app.scan("bench", &[], None, &mut |_| {}).expect("scan");
        scans.push(t.elapsed());
        assert_eq!(run.table_count as usize, TABLES);
        assert_eq!(run.column_count as usize, TABLES * COLUMNS);
    }

    // A few real changes between the last two scans.
    exec(
        &url,
        vec![
            "CREATE TABLE bench.extra (id bigint PRIMARY KEY, note text)".into(),
            "DROP TABLE bench.t1999".into(),
            "ALTER TABLE bench.t5 ADD COLUMN added text".into(),
            "ALTER TABLE bench.t6 DROP COLUMN c1".into(),
            "ALTER TABLE bench.t7 ALTER COLUMN c3 TYPE bigint".into(),
            "COMMENT ON TABLE bench.t8 IS 'changed'".into(),
        ],
        true,
    );
    let t = Instant::now();
    app.scan("bench", &[], None, &mut |_| {}).expect("scan");
    scans.push(t.elapsed());

    let mut diffs = Vec::new();
    let mut postgres_diffs = Vec::new();
    let mut total = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let report = app
            .incremental_diff("bench", &DiffOutputOptions::default(), None, &mut |_| {})
            .expect("diff");
        diffs.push(t.elapsed());
        total = report.total;

        let t = Instant::now();
        let options = DiffOutputOptions {
            format: DiffFormat::Postgres,
            ..DiffOutputOptions::default()
        };
        app.incremental_diff("bench", &options, None, &mut |_| {})
            .expect("postgres diff");
        postgres_diffs.push(t.elapsed());
    }
    // 1 table added with 2 columns, 1 removed with 20, 1 column added,
    // 1 removed, 1 modified, 1 table modified (comment).
    assert_eq!(total, 28, "unexpected change count");

    // The worst case for the diff: every object of the database is new
    // (an empty run, then a full one), so every row is written.
    app.scan("bench", &["no_such_schema".to_string()], None, &mut |_| {})
        .expect("empty scan");
    app.scan("bench", &[], None, &mut |_| {}).expect("scan");
    let t = Instant::now();
    let everything = app
        .incremental_diff("bench", &DiffOutputOptions::default(), None, &mut |_| {})
        .expect("diff");
    let all_new = t.elapsed();
    let t = Instant::now();
    app.incremental_diff(
        "bench",
        &DiffOutputOptions {
            format: DiffFormat::Postgres,
            ..DiffOutputOptions::default()
        },
        None,
        &mut |_| {},
    )
    .expect("postgres diff");
    let all_new_postgres = t.elapsed();

    println!(
        "scan of {TABLES} tables × {COLUMNS} columns: median {:.3} s (runs: {:?})",
        median(scans.clone()).as_secs_f64(),
        scans
            .iter()
            .map(|d| format!("{:.3}", d.as_secs_f64()))
            .collect::<Vec<_>>()
    );
    println!(
        "incremental diff (workspace): median {:.3} s (runs: {:?})",
        median(diffs.clone()).as_secs_f64(),
        diffs
            .iter()
            .map(|d| format!("{:.3}", d.as_secs_f64()))
            .collect::<Vec<_>>()
    );
    println!(
        "incremental diff (--format postgres): median {:.3} s (runs: {:?})",
        median(postgres_diffs.clone()).as_secs_f64(),
        postgres_diffs
            .iter()
            .map(|d| format!("{:.3}", d.as_secs_f64()))
            .collect::<Vec<_>>()
    );
    println!(
        "incremental diff with every object added ({} rows): workspace {:.3} s, --format postgres {:.3} s",
        everything.total,
        all_new.as_secs_f64(),
        all_new_postgres.as_secs_f64()
    );
}
