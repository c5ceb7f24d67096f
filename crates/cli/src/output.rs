//! Printing results: human tables on a terminal, JSON with `--json`.

use chrono::{DateTime, Utc};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Cell, ContentArrangement, Table};
use serde::Serialize;
use tidemark_app::{
    AddedOps, ConnectionCheck, DdlImportSummary, DemoSummary, DiffReport, ExportSummary,
    ImportSummary, ProjectInfo, SnapshotSummary, VerifyReport,
};
use tidemark_model::{Op, Severity, Snapshot};

/// Where results go, and in which form.
pub struct Out {
    json: bool,
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new));
    t
}

/// "3 days ago", "just now".
pub fn relative(ts: DateTime<Utc>) -> String {
    let secs = (Utc::now() - ts).num_seconds();
    match secs {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s if s < 2 * 86_400 => "yesterday".into(),
        s => format!("{} days ago", s / 86_400),
    }
}

fn password_label(p: &tidemark_store::PasswordSource) -> String {
    match p {
        tidemark_store::PasswordSource::None => "none".into(),
        tidemark_store::PasswordSource::Env(var) => format!("${var}"),
        tidemark_store::PasswordSource::Keychain => "OS keychain".into(),
    }
}

fn severity_mark(s: Severity) -> &'static str {
    match s {
        Severity::Safe => "✓ safe",
        Severity::Risky => "! risky",
        Severity::Breaking => "✗ breaking",
    }
}

impl Out {
    pub fn new(json: bool) -> Self {
        Out { json }
    }

    /// Whether results are printed as JSON (`--json`).
    pub fn is_json(&self) -> bool {
        self.json
    }

    fn emit<T: Serialize>(&self, value: &T, human: impl FnOnce()) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).expect("results always serialize")
            );
        } else {
            human();
        }
    }

    /// One line on stderr; with `--json`, also a JSON object on stdout.
    pub fn error(&self, err: &anyhow::Error) {
        let message = format!("{err:#}");
        if self.json {
            println!("{}", serde_json::json!({ "error": message }));
        }
        eprintln!("error: {message}");
    }

    pub fn connection_added(&self, c: &tidemark_store::Connection) {
        self.emit(c, || {
            println!(
                "Connection {} added: {} (password: {})",
                c.name,
                c.url,
                password_label(&c.password)
            )
        });
    }

    pub fn connections(&self, list: &[tidemark_store::Connection]) {
        self.emit(&list, || {
            if list.is_empty() {
                println!("No connections yet: `tidemark connection add NAME --url URL`.");
                return;
            }
            let mut t = table(&["name", "kind", "url", "password"]);
            for c in list {
                t.add_row(vec![
                    c.name.clone(),
                    c.kind.clone(),
                    c.url.clone(),
                    password_label(&c.password),
                ]);
            }
            println!("{t}");
        });
    }

    pub fn connection_check(&self, c: &ConnectionCheck) {
        self.emit(c, || {
            println!(
                "✓ {} answered in {} ms ({} tables): {}",
                c.name,
                c.millis,
                c.tables.unwrap_or(0),
                c.url
            )
        });
    }

    pub fn removed(&self, what: &str, name: &str) {
        self.emit(
            &serde_json::json!({ "removed": what, "name": name }),
            || println!("Removed {what} {name}"),
        );
    }

    pub fn demo(&self, s: &DemoSummary) {
        self.emit(s, || {
            println!(
                "Demo workspace {} with project {} ({})",
                s.workspace.display(),
                s.project,
                s.versions.join(", ")
            );
            for e in &s.environments {
                println!("  {} at {}: {}", e.name, e.version, e.database.display());
            }
            println!(
                "  sync job {}: {} rows from {} (run it with `tidemark sync run {}`)",
                s.sync.job,
                s.sync.rows,
                s.sync.source.display(),
                s.sync.job
            );
        });
    }

    pub fn project(&self, p: &ProjectInfo, what: &str) {
        self.emit(p, || println!("Project {} {what}", p.name));
    }

    pub fn projects(&self, list: &[ProjectInfo]) {
        self.emit(&list, || {
            if list.is_empty() {
                println!("No projects yet: create one with `tidemark project new NAME`.");
                return;
            }
            let mut t = table(&[
                "",
                "project",
                "latest",
                "snapshots",
                "uncommitted ops",
                "created",
            ]);
            for p in list {
                t.add_row(vec![
                    if p.current { "●" } else { "" }.to_string(),
                    p.name.clone(),
                    p.latest_version.clone().unwrap_or_else(|| "—".into()),
                    p.snapshots.to_string(),
                    p.uncommitted_ops.to_string(),
                    relative(p.created_at),
                ]);
            }
            println!("{t}");
        });
    }

    pub fn export(&self, s: &ExportSummary) {
        self.emit(s, || {
            println!(
                "Exported project {} to {}: {} snapshots, {} uncommitted ops",
                s.project,
                s.dir.display(),
                s.snapshots,
                s.uncommitted_ops
            )
        });
    }

    pub fn import(&self, s: &ImportSummary) {
        self.emit(s, || {
            println!(
                "Imported project {}: {} snapshots, {} ops (now current)",
                s.project, s.snapshots, s.ops
            )
        });
    }

    pub fn added_ops(&self, a: &AddedOps) {
        self.emit(a, || {
            for op in &a.ops {
                println!("+ {} {} → {}", op.id, op.action.name(), op.target);
            }
            println!("{} op(s) added; {} uncommitted", a.ops.len(), a.uncommitted);
        });
    }

    pub fn ops(&self, ops: &[Op]) {
        self.emit(&ops, || {
            if ops.is_empty() {
                println!("No uncommitted ops.");
                return;
            }
            let mut t = table(&["id", "op", "target", "when"]);
            for op in ops {
                t.add_row(vec![
                    op.id.clone(),
                    op.action.name().to_string(),
                    op.target.to_string(),
                    relative(op.ts),
                ]);
            }
            println!("{t}");
            println!("uncommitted ops ({})", ops.len());
        });
    }

    pub fn ddl_import(&self, s: &DdlImportSummary) {
        self.emit(s, || {
            println!(
                "{} op(s) added; {} uncommitted",
                s.added.ops.len(),
                s.added.uncommitted
            );
            for skipped in &s.skipped {
                println!("skipped: {skipped}");
            }
        });
    }

    pub fn snapshot_created(&self, s: &SnapshotSummary) {
        self.emit(s, || {
            println!(
                "Snapshot {} \"{}\" sealed: {} ops, {} tables, sha256 {}",
                s.version, s.name, s.ops, s.tables, s.hash
            )
        });
    }

    /// The snapshot timeline, newest on top, like a commit graph.
    pub fn timeline(&self, project: &str, list: &[SnapshotSummary]) {
        self.emit(&list, || {
            println!("{project} — {} snapshot(s)", list.len());
            if list.is_empty() {
                println!("  (none yet: `tidemark snapshot create --name TEXT`)");
            }
            let width = list
                .iter()
                .map(|s| s.name.chars().count())
                .max()
                .unwrap_or(0);
            for (i, s) in list.iter().rev().enumerate() {
                if i > 0 {
                    println!("│");
                }
                let tags = if s.tags.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", s.tags.join(", "))
                };
                println!(
                    "● {:<8} {:<width$}  {:<10} {:<12} {}  {} ops, {} tables{}",
                    s.version,
                    s.name,
                    s.created_by,
                    relative(s.created_at),
                    s.hash.short(),
                    s.ops,
                    s.tables,
                    tags
                );
            }
        });
    }

    pub fn snapshot(&self, s: &Snapshot) {
        self.emit(s, || {
            println!("{} — {}", s.version, s.name);
            if let Some(c) = &s.comment {
                println!("{c}");
            }
            println!(
                "by {} {} · {} ops · sha256 {}",
                s.created_by,
                relative(s.created_at),
                s.ops_included.len(),
                s.hash
            );
            for cat in &s.state.catalogs {
                println!("catalog {}", cat.name);
                for sch in &cat.schemas {
                    println!("  schema {}", sch.name);
                    for t in &sch.tables {
                        println!("    table {}", t.name);
                        for c in &t.columns {
                            println!(
                                "      {} {}{}{}",
                                c.name,
                                c.data_type,
                                if c.nullable { "" } else { " not null" },
                                c.default
                                    .as_ref()
                                    .map(|d| format!(" default {d}"))
                                    .unwrap_or_default()
                            );
                        }
                    }
                }
            }
        });
    }

    pub fn verify(&self, r: &VerifyReport) {
        self.emit(r, || {
            for row in &r.snapshots {
                match &row.error {
                    None => println!("✓ {} ok", row.version),
                    Some(e) => println!("✗ {e}"),
                }
            }
            let bad = r.snapshots.iter().filter(|r| !r.ok).count();
            if bad == 0 {
                println!("{} snapshot(s) verified", r.snapshots.len());
            } else {
                eprintln!("error: {bad} snapshot(s) failed verification");
            }
        });
    }

    /// A migration plan: the SQL script with its flags, or JSON.
    pub fn plan(&self, plan: &tidemark_sql::Plan, as_json: bool) {
        if self.json || as_json {
            println!(
                "{}",
                serde_json::to_string_pretty(plan).expect("plans always serialize")
            );
            return;
        }
        let script = plan.to_sql_script();
        print!("{script}");
        if !script.ends_with('\n') {
            println!();
        }
        let breaking = plan.breaking().count();
        eprintln!(
            "{} statement(s), overall {}{}",
            plan.statements.len(),
            severity_mark(plan.severity()),
            if breaking > 0 {
                format!(" ({breaking} breaking)")
            } else {
                String::new()
            }
        );
    }

    pub fn diff(&self, d: &DiffReport) {
        self.emit(d, || {
            if d.changes.is_empty() {
                println!("No changes.");
                return;
            }
            let mut t = table(&["", "change", "why"]);
            for row in &d.changes {
                t.add_row(vec![
                    severity_mark(row.severity).to_string(),
                    row.summary.clone(),
                    row.reason.clone(),
                ]);
            }
            println!("{t}");
            println!(
                "{} change(s), overall {}",
                d.changes.len(),
                severity_mark(d.severity)
            );
        });
    }
}
