//! Deployments that meet: several at once against one environment, from one
//! workspace and from two; a lock held by a live process; a lock left by a
//! process that died. One deployment wins, the others wait, are refused or
//! find nothing to do; the marker and the history stay true.

mod common;
mod envs_support;

use common::{Run, Ws};
use envs_support::{add_env, history, project_up_to, Kind, TargetDb};
use std::process::{Command, Stdio};

/// Starts `tidemark` on a workspace without waiting for it.
fn spawn(ws: &Ws, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(&ws.file)
        .args(args)
        .env_remove("TIDEMARK_WORKSPACE")
        .env("TIDEMARK_USER", "tester")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: std::process::Child) -> Run {
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// How one of the concurrent runs ended.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Deployed,
    UpToDate,
    /// The workspace lock was held by the other run.
    Locked,
    /// The other run changed the database after this one read it.
    Overtaken,
}

fn outcome(r: &Run) -> Outcome {
    match r.code {
        0 => match r.json()["result"].as_str() {
            Some("deployed") => Outcome::Deployed,
            Some("up_to_date") => Outcome::UpToDate,
            other => panic!("unexpected result {other:?}: {}", r.stdout),
        },
        1 if r.stderr.contains("is being deployed by process") => Outcome::Locked,
        1 if r.stderr.contains("another deployment changed the database") => Outcome::Overtaken,
        _ => panic!("unexpected failure (exit {}):\n{}", r.code, r.stderr),
    }
}

#[test]
fn deploys_at_once_from_one_workspace_deploy_once() {
    let ws = Ws::new();
    project_up_to(&ws, 2);
    let db = TargetDb::new(Kind::Postgres, &ws);
    add_env(&ws, "dev", &db, &[]);
    let children: Vec<_> = (0..4)
        .map(|_| spawn(&ws, &["--json", "deploy", "--env", "dev"]))
        .collect();
    let mut outcomes: Vec<Outcome> = children.into_iter().map(|c| outcome(&finish(c))).collect();
    outcomes.sort();
    assert_eq!(outcomes[0], Outcome::Deployed, "{outcomes:?}");
    assert!(
        outcomes[1..]
            .iter()
            .all(|o| matches!(o, Outcome::UpToDate | Outcome::Locked)),
        "{outcomes:?}"
    );
    // One succeeded deployment; refusals by the lock record nothing.
    let statuses: Vec<String> = history(&ws)
        .iter()
        .map(|d| d["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["succeeded"]);
    assert_eq!(db.markers(), ["0.2.0|succeeded"]);
    assert_eq!(ws.json(&["drift", "--env", "dev"])["drifted"], false);
}

#[test]
fn deploys_at_once_from_two_workspaces_never_apply_twice() {
    let first = Ws::new();
    project_up_to(&first, 2);
    let export = first.path("export");
    first.ok(&["project", "export", export.to_str().unwrap()]);
    let second = Ws::new();
    second.ok(&["project", "import", export.to_str().unwrap()]);

    let db = TargetDb::new(Kind::Postgres, &first);
    add_env(&first, "prod", &db, &[]);
    add_env(&second, "prod", &db, &[]);
    let a = spawn(&first, &["--json", "deploy", "--env", "prod"]);
    let b = spawn(&second, &["--json", "deploy", "--env", "prod"]);
    let (ra, rb) = (finish(a), finish(b));
    let mut outcomes = vec![outcome(&ra), outcome(&rb)];
    outcomes.sort();
    assert_eq!(outcomes[0], Outcome::Deployed, "{outcomes:?}");
    assert!(
        matches!(outcomes[1], Outcome::UpToDate | Outcome::Overtaken),
        "{outcomes:?}"
    );
    // Exactly one run changed the database and wrote the marker; an
    // overtaken run is recorded as failed in its own workspace, with why.
    assert_eq!(db.markers(), ["0.2.0|succeeded"]);
    let mut all: Vec<serde_json::Value> = history(&first);
    all.extend(history(&second));
    let succeeded = all.iter().filter(|d| d["status"] == "succeeded").count();
    assert_eq!(succeeded, 1, "{all:#?}");
    for d in &all {
        assert_ne!(d["status"], "running", "{d:#}");
        if d["status"] == "failed" {
            assert!(d["error"]
                .as_str()
                .unwrap()
                .contains("another deployment changed the database"));
        }
    }
    for ws in [&first, &second] {
        assert_eq!(ws.json(&["drift", "--env", "prod"])["drifted"], false);
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

#[test]
fn a_live_lock_refuses_and_a_dead_holders_lock_is_taken_over() {
    let ws = Ws::new();
    project_up_to(&ws, 1);
    let db = TargetDb::new(Kind::Sqlite, &ws);
    add_env(&ws, "dev", &db, &[]);
    let project = ws.json(&["project", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let put_lock = |pid: u32| {
        let conn = rusqlite::Connection::open(&ws.file).unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO deploy_locks (project_id, environment, pid, host, token, acquired_at) \
             VALUES (?1, 'dev', ?2, ?3, 'someone-else', '2026-01-01T00:00:00.000000000Z')",
            rusqlite::params![project, pid, host_name()],
        )
        .unwrap();
    };

    // Held by a process that is alive (this test): refused, nothing recorded.
    put_lock(std::process::id());
    let r = ws.run(&["deploy", "--env", "dev"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("being deployed by process {}", std::process::id())),
        "{}",
        r.stderr
    );
    assert_eq!(history(&ws), Vec::<serde_json::Value>::new());
    assert!(db.introspect().tables().next().is_none());

    // Left by a process that has exited, with its deployment still
    // `running`: taken over, and that deployment closed as interrupted.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    put_lock(dead);
    {
        let conn = rusqlite::Connection::open(&ws.file).unwrap();
        conn.execute(
            "INSERT INTO deployments (id, project_id, environment, action, from_version, to_version, \
             to_hash, status, sql, deployed_by, started_at) \
             VALUES ('dep_crashed', ?1, 'dev', 'deploy', NULL, '0.1.0', 'h', 'running', '', 'tester', \
             '2026-01-01T00:00:00.000000000Z')",
            [&project],
        )
        .unwrap();
    }
    let out = ws.json(&["deploy", "--env", "dev"]);
    assert_eq!(out["result"], "deployed", "{out:#}");
    let list = history(&ws);
    let crashed = list.iter().find(|d| d["id"] == "dep_crashed").unwrap();
    assert_eq!(crashed["status"], "interrupted");
    assert!(crashed["error"]
        .as_str()
        .unwrap()
        .contains(&format!("process {dead}")));
    let conn = rusqlite::Connection::open(&ws.file).unwrap();
    let locks: i64 = conn
        .query_row("SELECT count(*) FROM deploy_locks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(locks, 0, "the lock is released after the deployment");
}
