//! Two `tidemark` processes writing one workspace at once lose nothing.

mod common;
use common::Ws;
use std::process::{Command, Stdio};

#[test]
fn two_processes_adding_ops_lose_no_write() {
    let ws = Ws::new();
    ws.ok(&["project", "new", "race"]);
    ws.run_with_stdin(
        &["op", "add", "-"],
        r#"[{"target":"root","op":"add_catalog","payload":{"id":"c","name":"c"}},
            {"target":"c","op":"add_schema","payload":{"id":"s","name":"s"}}]"#,
    );
    let per_process = 25;
    let spawn = |tag: &'static str| {
        let file = ws.file.clone();
        std::thread::spawn(move || {
            for i in 0..per_process {
                let op = format!(
                    r#"{{"target":"s","op":"add_table","payload":{{"name":"{tag}_{i}"}}}}"#
                );
                let out = Command::new(env!("CARGO_BIN_EXE_tidemark"))
                    .arg("--workspace")
                    .arg(&file)
                    .args(["op", "add", "-"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .and_then(|mut c| {
                        use std::io::Write;
                        c.stdin.take().unwrap().write_all(op.as_bytes())?;
                        c.wait_with_output()
                    })
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{tag}_{i}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        })
    };
    let a = spawn("a");
    let b = spawn("b");
    a.join().unwrap();
    b.join().unwrap();
    let ops = ws.json(&["ops"]);
    assert_eq!(ops.as_array().unwrap().len(), 2 + 2 * per_process);
    let s = ws.json(&["snapshot", "create", "--name", "after the race"]);
    assert_eq!(s["tables"], 2 * per_process);
    let conn = rusqlite::Connection::open(&ws.file).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
