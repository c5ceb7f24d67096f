//! `scan`, `scan list`, `scan label`, `incremental-diff`, `diff show` and
//! `diff list`: argument parsing, progress on stderr, and printing.
//!
//! Results go to stdout (JSON with `--json`); progress, the start banner and
//! warnings go to stderr, so `--json` output stays parseable. `--verbose`
//! raises the log level and `--log-file FILE` writes the log to a file too.

use crate::output::Out;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tidemark_app::{
    parse_label_pairs, App, DiffDetail, DiffOutputOptions, IncrementalDiffReport, LabelReport,
    ScanConfig,
};
use tidemark_store::{AssetType, ChangeType, DiffFormat, DiffRun, DiffStatus, ScanRun, ScanStatus};

/// Logging flags of the long-running commands.
#[derive(Args, Clone, Default)]
pub struct LogArgs {
    /// Log more: each step, with timings.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Also write the log to FILE (appended).
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
}

/// `tidemark scan`: record a scan run, or `list` / `label`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ScanArgs {
    #[command(subcommand)]
    command: Option<ScanCmd>,
    /// The connection to scan (added with `tidemark connection add`, or declared in --config).
    #[arg(long, value_name = "NAME", required = true)]
    connection_id: Option<String>,
    /// Scan only this schema (repeatable) [default: every user schema].
    #[arg(long = "schema", value_name = "S")]
    schemas: Vec<String>,
    /// A YAML file declaring connections and custom attributes.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    log: LogArgs,
}

#[derive(Subcommand)]
enum ScanCmd {
    /// The scan runs of a connection, newest first.
    List {
        /// The connection.
        #[arg(long, value_name = "NAME")]
        connection_id: String,
    },
    /// Attach custom attributes (key=value) to a schema, table or column;
    /// recorded from the next scan on.
    Label {
        /// The connection.
        #[arg(long, value_name = "NAME")]
        connection_id: String,
        /// schema, schema.table or schema.table.column ("…" around a name with a dot).
        object: String,
        /// Attributes to set, as key=value.
        #[arg(value_name = "KEY=VALUE")]
        pairs: Vec<String>,
        /// An attribute to remove (repeatable).
        #[arg(long = "unset", value_name = "KEY")]
        unset: Vec<String>,
        /// A YAML file declaring connections and custom attributes.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Where `incremental-diff` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// The workspace's incremental_diff_* tables.
    Sqlite,
    /// The same tables in a PostgreSQL schema.
    Postgres,
}

/// `tidemark incremental-diff`.
#[derive(Args)]
pub struct IncrementalDiffArgs {
    /// The connection whose last two scan runs are compared.
    #[arg(long, value_name = "NAME")]
    connection_id: String,
    /// Where the change rows go.
    #[arg(long, value_enum, default_value = "sqlite")]
    format: FormatArg,
    /// With --format postgres: the output database, a postgres:// URL (password in
    /// PGPASSWORD) or a connection name [default: the scanned connection].
    #[arg(long, value_name = "URL")]
    output_url: Option<String>,
    /// With --format postgres: the output schema, created if missing [default: tidemark_meta].
    #[arg(long, value_name = "S")]
    output_schema: Option<String>,
    /// A YAML file declaring connections and custom attributes.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    log: LogArgs,
}

/// The subcommands of `tidemark diff` besides `--from/--to`.
#[derive(Subcommand)]
pub enum DiffCmd {
    /// One incremental diff with its changes.
    Show {
        /// The diff's id, as printed by `incremental-diff`.
        diff_id: String,
        /// A YAML file declaring connections (for a diff stored in PostgreSQL).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// The incremental diffs of a connection, newest first.
    List {
        /// The connection.
        #[arg(long, value_name = "NAME")]
        connection_id: String,
    },
}

/// The logging flags of a command, if it has any.
pub fn logging(command: &crate::Command) -> Option<LogArgs> {
    match command {
        crate::Command::Scan(args) if args.command.is_none() => Some(args.log.clone()),
        crate::Command::IncrementalDiff(args) => Some(args.log.clone()),
        _ => None,
    }
}

/// Sets up tracing for a command with logging flags: stderr (warnings, or
/// debug for Tidemark's crates with `--verbose`; `TIDEMARK_LOG` overrides),
/// plus the log file if one is given.
pub fn init_tracing(log: &LogArgs) -> anyhow::Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};

    let verbose_filter = "info,tidemark_app=debug,tidemark_db=debug,tidemark_store=debug";
    let filter = |quiet: &str| {
        EnvFilter::try_from_env("TIDEMARK_LOG")
            .unwrap_or_else(|_| EnvFilter::new(if log.verbose { verbose_filter } else { quiet }))
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter("warn"));
    let file = match &log.log_file {
        None => None,
        Some(path) => {
            let handle = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the log file {}", path.display()))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(Mutex::new(handle))
                    .with_filter(filter("info")),
            )
        }
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .init();
    Ok(())
}

/// Progress on stderr: a spinner on a terminal, one line per step
/// elsewhere (and with `--verbose`, so log lines do not tangle with it),
/// nothing with `--json`.
struct Progress {
    message: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    spinner: Option<std::thread::JoinHandle<()>>,
    lines: bool,
    last: String,
}

impl Progress {
    fn start(json: bool, verbose: bool, first: &str) -> Progress {
        let message = Arc::new(Mutex::new(first.to_string()));
        let stop = Arc::new(AtomicBool::new(false));
        let interactive = !json && !verbose && std::io::stderr().is_terminal();
        let spinner = interactive.then(|| {
            let (message, stop) = (message.clone(), stop.clone());
            std::thread::spawn(move || {
                const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let text = message.lock().map(|m| m.clone()).unwrap_or_default();
                    eprint!("\r\x1b[2K{} {text}…", FRAMES[i % FRAMES.len()]);
                    let _ = std::io::stderr().flush();
                    i += 1;
                    std::thread::sleep(Duration::from_millis(80));
                }
                eprint!("\r\x1b[2K");
                let _ = std::io::stderr().flush();
            })
        });
        let mut progress = Progress {
            message,
            stop,
            spinner,
            lines: !json && !interactive,
            last: String::new(),
        };
        progress.update(first);
        progress
    }

    fn update(&mut self, step: &str) {
        if let Ok(mut m) = self.message.lock() {
            *m = step.to_string();
        }
        if self.lines && step != self.last {
            eprintln!("… {step}");
        }
        self.last = step.to_string();
    }

    fn finish(mut self) {
        self.stop_spinner();
    }

    fn stop_spinner(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.spinner.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_spinner();
    }
}

fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("results always serialize")
    );
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new));
    t
}

fn load_config(path: Option<&Path>) -> anyhow::Result<Option<ScanConfig>> {
    Ok(path.map(ScanConfig::load).transpose()?)
}

fn local(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn seconds(from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{:.1} s",
        (to - from).num_milliseconds().max(0) as f64 / 1000.0
    )
}

/// `tidemark scan …`.
pub fn run_scan(args: ScanArgs, workspace: &Path, out: &Out) -> anyhow::Result<()> {
    let json = out.is_json();
    let mut app = App::open(workspace, tidemark_app::default_actor())?;
    match args.command {
        Some(ScanCmd::List { connection_id }) => {
            let runs = app.scan_list(&connection_id)?;
            if json {
                print_json(&runs);
            } else {
                print_scan_list(&connection_id, &runs);
            }
        }
        Some(ScanCmd::Label {
            connection_id,
            object,
            pairs,
            unset,
            config,
        }) => {
            let config = load_config(config.as_deref())?;
            let set = parse_label_pairs(&pairs)?;
            let report = app.scan_label(&connection_id, &object, &set, &unset, config.as_ref())?;
            if json {
                print_json(&report);
            } else {
                print_labels(&report);
            }
        }
        None => {
            let connection = args
                .connection_id
                .expect("clap requires --connection-id without a subcommand");
            let config = load_config(args.config.as_deref())?;
            if !json {
                eprintln!("🔍 Scanning connection: {connection}");
            }
            let mut progress = Progress::start(json, args.log.verbose, "looking up the connection");
            let result = app.scan(&connection, &args.schemas, config.as_ref(), &mut |step| {
                progress.update(step)
            });
            progress.finish();
            let run = result?;
            if json {
                print_json(&run);
            } else {
                println!("✅ Scan run recorded: {}", run.id);
                println!("🔌 Connection: {} ({})", run.connection, run.target);
                println!(
                    "📦 {} schema(s), {} table(s), {} column(s) in {}",
                    run.schema_count,
                    run.table_count,
                    run.column_count,
                    seconds(run.started_at, run.completed_at)
                );
                println!(
                    "💡 Compare with the previous run: tidemark incremental-diff --connection-id {}",
                    run.connection
                );
            }
        }
    }
    Ok(())
}

fn print_scan_list(connection: &str, runs: &[ScanRun]) {
    if runs.is_empty() {
        println!("No scan runs of {connection} yet: `tidemark scan --connection-id {connection}`.");
        return;
    }
    let mut t = table(&[
        "run", "started", "status", "schemas", "tables", "columns", "took", "error",
    ]);
    for r in runs {
        t.add_row(vec![
            r.id.clone(),
            local(r.started_at),
            match r.status {
                ScanStatus::Completed => "completed".to_string(),
                ScanStatus::Failed => "failed".to_string(),
            },
            r.schema_count.to_string(),
            r.table_count.to_string(),
            r.column_count.to_string(),
            seconds(r.started_at, r.completed_at),
            r.error_message.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    println!("{connection} — {} scan run(s)", runs.len());
}

fn print_labels(report: &LabelReport) {
    let pairs: Vec<String> = report
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!(
        "🏷  Custom attributes of {} on {}: {} (recorded from the next scan)",
        report.path,
        report.connection,
        if pairs.is_empty() {
            "none".to_string()
        } else {
            pairs.join(", ")
        }
    );
}

/// `tidemark incremental-diff …`.
pub fn run_incremental_diff(
    args: IncrementalDiffArgs,
    workspace: &Path,
    out: &Out,
) -> anyhow::Result<()> {
    let json = out.is_json();
    let config = load_config(args.config.as_deref())?;
    let options = DiffOutputOptions {
        format: match args.format {
            FormatArg::Sqlite => DiffFormat::Sqlite,
            FormatArg::Postgres => DiffFormat::Postgres,
        },
        output_url: args.output_url,
        output_schema: args.output_schema,
    };
    let mut app = App::open(workspace, tidemark_app::default_actor())?;
    if !json {
        eprintln!(
            "🔍 Starting incremental diff for connection: {}",
            args.connection_id
        );
        eprintln!("📊 Output format: {}", options.format.as_str());
    }
    let mut progress = Progress::start(json, args.log.verbose, "Running incremental diff");
    let result = app.incremental_diff(
        &args.connection_id,
        &options,
        config.as_ref(),
        &mut |step| progress.update(step),
    );
    progress.finish();
    let report = result?;
    if json {
        print_json(&report);
    } else {
        print_diff_report(&report);
    }
    Ok(())
}

fn counts_table(counts: &tidemark_store::ChangeCounts) -> Table {
    let mut t = table(&["Asset Type", "Added", "Removed", "Modified", "Changes"]);
    for (asset, label) in [
        (AssetType::Schema, "Schemas"),
        (AssetType::Table, "Tables"),
        (AssetType::Column, "Columns"),
    ] {
        let tally = counts.tally(asset);
        t.add_row(vec![
            label.to_string(),
            tally.added.to_string(),
            tally.removed.to_string(),
            tally.modified.to_string(),
            tally.total().to_string(),
        ]);
    }
    let sum = |f: fn(&tidemark_store::ChangeTally) -> u64| {
        AssetType::ALL
            .iter()
            .map(|a| f(&counts.tally(*a)))
            .sum::<u64>()
            .to_string()
    };
    t.add_row(vec![
        "Total".to_string(),
        sum(|t| t.added),
        sum(|t| t.removed),
        sum(|t| t.modified),
        counts.total().to_string(),
    ]);
    t
}

fn print_diff_report(r: &IncrementalDiffReport) {
    for warning in &r.warnings {
        eprintln!("warning: {warning}");
    }
    println!("🎉 Incremental diff completed successfully!");
    println!("🆔 Diff Sync ID: {}", r.diff.diff_sync_id);
    println!("🔌 Connection: {}", r.diff.connection_id);
    println!(
        "📊 Sync Run 1 (older): {} ({})",
        r.older.id,
        local(r.older.started_at)
    );
    println!(
        "📊 Sync Run 2 (newer): {} ({})",
        r.newer.id,
        local(r.newer.started_at)
    );
    println!();
    println!("{}", counts_table(&r.counts));
    println!();
    println!("💡 View detailed changes in {}", r.location);
    println!("   or with: tidemark diff show {}", r.diff.diff_sync_id);
    println!("💡 Query diff summary: {}", r.summary_query);
}

/// `tidemark diff show|list …`.
pub fn run_diff_cmd(command: DiffCmd, workspace: &Path, out: &Out) -> anyhow::Result<()> {
    let json = out.is_json();
    let app = App::open(workspace, tidemark_app::default_actor())?;
    match command {
        DiffCmd::Show { diff_id, config } => {
            let config = load_config(config.as_deref())?;
            let detail = app.diff_show(&diff_id, config.as_ref())?;
            if json {
                print_json(&detail);
            } else {
                print_diff_detail(&detail);
            }
        }
        DiffCmd::List { connection_id } => {
            let runs = app.diff_list(&connection_id)?;
            if json {
                print_json(&runs);
            } else {
                print_diff_list(&connection_id, &runs);
            }
        }
    }
    Ok(())
}

fn status(s: DiffStatus) -> &'static str {
    match s {
        DiffStatus::Running => "running",
        DiffStatus::Completed => "completed",
        DiffStatus::Failed => "failed",
    }
}

fn object_name(c: &tidemark_store::DiffChange) -> String {
    [
        Some(c.schema_name.as_str()),
        c.table_name.as_deref(),
        c.column_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(".")
}

fn short(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

/// `attribute: from → to` lines of a modified object.
fn describe(c: &tidemark_store::DiffChange) -> String {
    let Some(list) = c.differences.as_ref().and_then(|d| d.as_array()) else {
        return "—".to_string();
    };
    list.iter()
        .filter_map(|d| {
            let kind = d.get("kind")?.as_str()?;
            let attribute = d.get("attribute")?.as_str()?;
            let prefix = match kind {
                "custom_attribute" => "custom ",
                "info" => "(info) ",
                _ => "",
            };
            Some(format!(
                "{prefix}{attribute}: {} → {}",
                short(d.get("from")?),
                short(d.get("to")?)
            ))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn print_diff_detail(d: &DiffDetail) {
    let run: &DiffRun = &d.diff;
    println!(
        "Incremental diff {} of {} — {}",
        run.diff_sync_id,
        run.connection_id,
        status(run.status)
    );
    println!(
        "  older run {} · newer run {}",
        run.sync_run_1_id, run.sync_run_2_id
    );
    println!(
        "  started {}{}",
        local(run.started_at),
        run.completed_at
            .map(|c| format!(", ended {} ({})", local(c), seconds(run.started_at, c)))
            .unwrap_or_default()
    );
    if let Some(error) = &run.error_message {
        println!("  error: {error}");
    }
    if run.status != DiffStatus::Completed {
        return;
    }
    if d.changes.is_empty() {
        println!("No changes.");
    } else {
        let mut t = table(&["asset", "change", "object", "differences"]);
        for c in &d.changes {
            t.add_row(vec![
                c.asset_type.as_str().to_string(),
                match c.change_type {
                    ChangeType::Added => "+ added",
                    ChangeType::Removed => "- removed",
                    ChangeType::Modified => "~ modified",
                }
                .to_string(),
                object_name(c),
                describe(c),
            ]);
        }
        println!("{t}");
    }
    println!("{}", counts_table(&d.counts));
    println!("💡 Rows in {}", d.location);
    println!("💡 Query diff summary: {}", d.summary_query);
}

fn print_diff_list(connection: &str, runs: &[DiffRun]) {
    if runs.is_empty() {
        println!(
            "No incremental diffs of {connection} yet: `tidemark incremental-diff --connection-id {connection}`."
        );
        return;
    }
    let mut t = table(&[
        "diff",
        "started",
        "status",
        "older run",
        "newer run",
        "changes",
        "output",
    ]);
    for r in runs {
        t.add_row(vec![
            r.diff_sync_id.clone(),
            local(r.started_at),
            status(r.status).to_string(),
            r.sync_run_1_id.clone(),
            r.sync_run_2_id.clone(),
            r.counts
                .map(|c| c.total().to_string())
                .unwrap_or_else(|| "—".into()),
            match r.output_format {
                DiffFormat::Sqlite => "workspace".to_string(),
                DiffFormat::Postgres => format!(
                    "postgres {}",
                    r.output_schema.as_deref().unwrap_or_default()
                ),
            },
        ]);
    }
    println!("{t}");
    println!("{connection} — {} incremental diff(s)", runs.len());
}
