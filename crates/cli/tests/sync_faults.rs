//! Fault injection: the real `tidemark` binary is killed with SIGKILL at
//! random points of `sync run`, over and over, in append, upsert and SCD2
//! modes; after every re-run the target equals the source, with no row
//! missing and none doubled. The seed is printed; replay a failure with
//! TIDEMARK_TEST_SEED.

#[path = "../../sync/tests/common/mod.rs"]
mod common;

use common::{assert_same, assert_scd2_history, read_table, Kind, Rng, TestDb, Workload};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tidemark(ws: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env_remove("TIDEMARK_WORKSPACE")
        .output()
        .expect("run tidemark")
}

fn ok(ws: &Path, args: &[&str]) -> String {
    let out = tidemark(ws, args);
    assert!(
        out.status.success(),
        "tidemark {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `sync run JOB`, kills it after `after`, and reports whether it was
/// still running when killed.
fn run_and_kill(ws: &Path, job: &str, after: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(ws)
        .args(["sync", "run", job])
        .env_remove("TIDEMARK_WORKSPACE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tidemark");
    std::thread::sleep(after);
    let running = child.try_wait().expect("poll child").is_none();
    // Child::kill sends SIGKILL on Unix: no chance to clean up.
    let _ = child.kill();
    let _ = child.wait();
    running
}

struct Case {
    job: &'static str,
    table: &'static str,
    merge: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_runs_resume_exactly_once() {
    let seed = Rng::seed("killed_runs_resume_exactly_once");
    let mut rng = Rng::new(seed ^ 0x5eed);
    let src = TestDb::create(Kind::Pg).await;
    let dst = TestDb::create(Kind::Pg).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.tmdb");
    ok(&ws, &["connection", "add", "src", "--url", &src.url]);
    ok(&ws, &["connection", "add", "dst", "--url", &dst.url]);

    // `items` changes in every way; `events` is insert-only, for append.
    let mut items = Workload::new(Kind::Pg, seed);
    let mut events = Workload::new(Kind::Pg, seed.wrapping_add(1));
    src.exec(&items.create_table()).await;
    let events_ddl: Vec<String> = events
        .create_table()
        .into_iter()
        .map(|s| s.replace("items", "events"))
        .collect();
    src.exec(&events_ddl).await;
    src.exec(&items.insert(800, 300)).await;
    let rows: Vec<String> = events
        .insert(800, 300)
        .into_iter()
        .map(|s| s.replace("items", "events"))
        .collect();
    src.exec(&rows).await;

    let cases = [
        Case {
            job: "upsert",
            table: "items",
            merge: "upsert",
        },
        Case {
            job: "scd2",
            table: "items",
            merge: "scd2",
        },
        Case {
            job: "append",
            table: "events",
            merge: "append",
        },
    ];
    for c in &cases {
        let mut args = vec![
            "sync",
            "add",
            c.job,
            "--source",
            "src",
            "--table",
            c.table,
            "--target",
            "dst",
            "--target-table",
            c.job,
            "--detect",
            "timestamp",
            "--column",
            "updated_at",
            "--merge",
            c.merge,
            "--batch-size",
            "20",
            "--lag",
            "10s",
        ];
        if c.merge != "append" {
            args.push("--reconcile-deletes");
        }
        ok(&ws, &args);
    }

    // Kills are aimed within the duration of the job's last complete run
    // (a first guess for the initial full load).
    let mut last = [Duration::from_millis(1500); 3];
    let mut killed_mid_run = 0;
    let mut kills = 0;
    let rounds = 7;
    for round in 0..rounds {
        if round > 0 {
            let behind = items.newest_us();
            let mut ops = items.insert(100, 40);
            ops.extend(items.update(10, 5, behind, 2_000_000));
            ops.extend(items.delete(3));
            src.exec(&ops).await;
            let more: Vec<String> = events
                .insert(120, 50)
                .into_iter()
                .map(|s| s.replace("items", "events"))
                .collect();
            src.exec(&more).await;
        }
        for (i, c) in cases.iter().enumerate() {
            // Kill two or three times at random points, then let it finish.
            for _ in 0..2 + rng.below(2) {
                let after = Duration::from_millis(rng.below(last[i].as_millis() as u64 + 30));
                kills += 1;
                if run_and_kill(&ws, c.job, after) {
                    killed_mid_run += 1;
                }
            }
            let started = Instant::now();
            ok(&ws, &["sync", "run", c.job]);
            last[i] = started.elapsed();
            let (expected, width) = if c.table == "items" {
                (items.expected(), 8)
            } else {
                (events.expected(), 8)
            };
            let what = format!("{} after round {round}", c.job);
            match c.merge {
                "scd2" => {
                    let (current, _) = read_table(&dst, c.job, "id", Some(width), true).await;
                    assert_same(&what, &current, &expected);
                    assert_scd2_history(&dst, c.job, width).await;
                }
                _ => {
                    let (target, _) = read_table(&dst, c.job, "id", Some(width), false).await;
                    assert_same(&what, &target, &expected);
                }
            }
        }
    }
    eprintln!("{killed_mid_run} of {kills} kills hit a running sync");
    assert!(
        killed_mid_run >= 20,
        "only {killed_mid_run} kills hit a running sync; the test must kill at least 20 runs"
    );
}
