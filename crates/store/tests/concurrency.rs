//! Several writers on one workspace file: every append lands exactly once.

mod common;

use common::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tidemark_store::{StoreError, Workspace};

const PER_WRITER: usize = 200;

/// Set in a child process to the workspace path it appends to.
const CHILD_WORKSPACE: &str = "TIDEMARK_STORE_TEST_CHILD_WORKSPACE";
/// Set in a child process to the prefix of the op ids it appends.
const CHILD_PREFIX: &str = "TIDEMARK_STORE_TEST_CHILD_PREFIX";

/// Appends `PER_WRITER` ops one transaction at a time, each time reading the
/// last seq and appending at exactly the next one.
fn append_one_by_one(path: &Path, prefix: &str) {
    let mut ws = Workspace::open(path).expect("open");
    let project = ws.project_by_name("shop").expect("project");
    for i in 1..=PER_WRITER {
        let op = add_table(&format!("{prefix}{i}"));
        ws.write(|tx| {
            let last = tx.last_seq(&project.id)?;
            // Give the other writer a chance to run between the read and the write.
            std::thread::yield_now();
            let new_last = tx.append_ops_expecting(&project.id, last, std::slice::from_ref(&op))?;
            assert_eq!(new_last, last + 1);
            Ok::<_, StoreError>(())
        })
        .unwrap_or_else(|e| panic!("writer {prefix} at op {i}: {e}"));
    }
}

/// Waits until the parent says go, so both writers start together.
fn wait_for(start: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !start.exists() {
        assert!(Instant::now() < deadline, "never told to start");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn workspace_with_shop() -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = temp_workspace_path();
    workspace_with_project(&path);
    (dir, path)
}

fn assert_all_appends_landed(path: &Path, prefixes: &[&str]) {
    let ws = Workspace::open_existing(path).unwrap();
    let project = ws.project_by_name("shop").unwrap();
    let stored = ws.ops(&project.id).unwrap();
    let total = PER_WRITER * prefixes.len();

    let seqs: Vec<i64> = stored.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>());

    let ids: HashSet<&str> = stored.iter().map(|s| s.op.id.as_str()).collect();
    assert_eq!(ids.len(), total, "an op was stored twice");
    for prefix in prefixes {
        let own: Vec<&str> = stored
            .iter()
            .map(|s| s.op.id.as_str())
            .filter(|id| id.starts_with(prefix))
            .collect();
        let expected: Vec<String> = (1..=PER_WRITER).map(|i| format!("{prefix}{i}")).collect();
        assert_eq!(own, expected, "writer {prefix} lost or reordered ops");
    }

    let check: String = common::raw(path)
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn two_processes_appending_at_once_lose_nothing() {
    if let (Ok(path), Ok(prefix)) = (std::env::var(CHILD_WORKSPACE), std::env::var(CHILD_PREFIX)) {
        // This process is one of the writers the parent below spawned.
        let path = PathBuf::from(path);
        wait_for(&path.with_extension("go"));
        append_one_by_one(&path, &prefix);
        return;
    }

    let (_dir, path) = workspace_with_shop();
    let exe = std::env::current_exe().unwrap();
    let prefixes = ["proc_a_", "proc_b_"];
    let children: Vec<_> = prefixes
        .iter()
        .map(|prefix| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "two_processes_appending_at_once_lose_nothing",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(CHILD_WORKSPACE, &path)
                .env(CHILD_PREFIX, prefix)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(path.with_extension("go"), b"").unwrap();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "writer process failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // Guards against the child silently running no test at all.
        assert!(stdout.contains("1 passed"), "{stdout}");
    }

    assert_all_appends_landed(&path, &prefixes);
}

#[test]
fn two_threads_with_their_own_connections_appending_at_once_lose_nothing() {
    let (_dir, path) = workspace_with_shop();
    let prefixes = ["thread_a_", "thread_b_"];
    let start = std::sync::Barrier::new(prefixes.len());
    std::thread::scope(|scope| {
        for prefix in prefixes {
            let (path, start) = (&path, &start);
            scope.spawn(move || {
                start.wait();
                append_one_by_one(path, prefix);
            });
        }
    });
    assert_all_appends_landed(&path, &prefixes);
}

#[test]
fn readers_see_whole_transactions_while_a_writer_appends() {
    let (_dir, path) = workspace_with_shop();
    let project_id = Workspace::open(&path)
        .unwrap()
        .project_by_name("shop")
        .unwrap()
        .id;
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut ws = Workspace::open(&path).unwrap();
            for batch in 0..50 {
                ws.append_ops(&project_id, &ops(&format!("b{batch}_"), 4))
                    .unwrap();
            }
        });
        let reader = Workspace::open_existing(&path).unwrap();
        let mut last = 0;
        while !writer.is_finished() {
            let seen = reader.ops(&project_id).unwrap().len();
            assert_eq!(seen % 4, 0, "a reader saw half of a batch");
            assert!(seen >= last);
            last = seen;
        }
        writer.join().unwrap();
    });
}
