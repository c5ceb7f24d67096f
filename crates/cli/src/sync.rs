//! `tidemark sync …`: incremental data sync jobs.

use crate::output::{relative, Out};
use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Cell, ContentArrangement, Table};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tidemark_app::{App, SyncJobInput, SyncPhase, SyncProgress, SyncRunResult};
use tidemark_store::SyncRunRow;

/// Incremental data sync between databases.
#[derive(Subcommand)]
pub enum SyncCmd {
    /// Add a job (checked against the live tables; nothing moves).
    Add(Box<AddArgs>),
    /// List jobs with their latest run.
    List,
    /// One job: its settings, checkpoint and latest runs.
    Show { name: String },
    /// Remove a job and its history (the target table and its checkpoint
    /// row stay).
    Remove { name: String },
    /// Run jobs once.
    Run(RunArgs),
    /// Run jobs continuously until Ctrl-C (which stops after the batch in
    /// flight).
    Watch(WatchArgs),
    /// A job's runs, newest first.
    History {
        name: String,
        /// How many runs to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// Options of `sync add`.
#[derive(Args)]
pub struct AddArgs {
    /// Job name.
    name: String,
    /// Source connection.
    #[arg(long, value_name = "CONN")]
    source: String,
    /// Source table (`table` or `schema.table`); not needed for an
    /// `iceberg:NAMESPACE.TABLE` source.
    #[arg(long, value_name = "T", default_value = "")]
    table: String,
    /// Target connection, or a message broker: `nats:SUBJECT` (NATS
    /// JetStream) or `kafka:TOPIC` (see docs/brokers.md),
    /// or an Iceberg table in the workspace's catalog:
    /// `iceberg:NAMESPACE.TABLE` (see docs/iceberg.md).
    #[arg(long, value_name = "CONN")]
    target: String,
    /// The NATS server of a `nats:` target [default: nats://127.0.0.1:4222].
    #[arg(long, value_name = "URL")]
    nats_url: Option<String>,
    /// The Kafka bootstrap servers of a `kafka:` target.
    #[arg(long, value_name = "HOST:PORT,…")]
    brokers: Option<String>,
    /// How a broker target's events are encoded [default: json].
    #[arg(long, value_parser = ["json", "arrow"])]
    encoding: Option<String>,
    /// Target table [default: the source table's name]; created on the
    /// first run if it does not exist.
    #[arg(long, value_name = "T2")]
    target_table: Option<String>,
    /// How changes are found.
    #[arg(long, value_parser = ["timestamp", "sequence", "version", "full", "auto"])]
    detect: String,
    /// The tracking column (timestamp, sequence, version).
    #[arg(long, value_name = "C")]
    column: Option<String>,
    /// How the target is merged.
    #[arg(long, value_parser = ["append", "upsert", "replace", "scd2"])]
    merge: String,
    /// Key column (repeatable) [default: the source's primary key].
    #[arg(long = "key", value_name = "K")]
    key: Vec<String>,
    /// When an incoming row's key exists with other values [default:
    /// overwrite; skip for append].
    #[arg(long, value_parser = ["overwrite", "skip", "error"])]
    on_conflict: Option<String>,
    /// Rows per batch and per target transaction [default: 10000].
    #[arg(long, value_name = "N")]
    batch_size: Option<u64>,
    /// Re-read this window behind the watermark to catch rows committed
    /// late, e.g. 30s, 5m.
    #[arg(long, value_name = "DURATION")]
    lag: Option<String>,
    /// Soft-delete column: rows with it true (or not NULL) are removed from
    /// the target.
    #[arg(long, value_name = "C")]
    deleted_column: Option<String>,
    /// After loading, remove target rows whose key no longer exists in the
    /// source.
    #[arg(long)]
    reconcile_deletes: bool,
    /// Chain through an Iceberg table: each run appends the source's changes
    /// to `iceberg:NAMESPACE.TABLE` as one snapshot, then merges that
    /// snapshot into the target (--merge upsert or append).
    #[arg(long, value_name = "iceberg:NS.TABLE")]
    via: Option<String>,
    /// The REST catalog of an `iceberg:` source, target or --via (default:
    /// the workspace's embedded catalog).
    #[command(flatten)]
    catalog: crate::iceberg::CatalogArgs,
}

/// Options of `sync run`.
#[derive(Args)]
pub struct RunArgs {
    /// The job to run.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    name: Option<String>,
    /// Run every job.
    #[arg(long)]
    all: bool,
    /// How many jobs run at once.
    #[arg(long, default_value_t = 1, value_name = "N")]
    parallel: usize,
}

/// Options of `sync watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The job to run.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    name: Option<String>,
    /// Run every job.
    #[arg(long)]
    all: bool,
    /// Time between the starts of two rounds, e.g. 30s.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    every: String,
    /// How many jobs run at once.
    #[arg(long, default_value_t = 1, value_name = "N")]
    parallel: usize,
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new));
    t
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("results always serialize")
    );
}

fn millis(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// Stops runs after their batch in flight on the first Ctrl-C, and the
/// process on the second.
fn stop_on_ctrl_c(cancel: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::SeqCst);
                eprintln!("stopping after the batch in flight (Ctrl-C again to quit at once)");
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
    });
}

/// Progress bars on stderr, one per running job.
fn progress_bars(out: &Out) -> tidemark_app::ProgressSink {
    let multi = MultiProgress::new();
    if out.is_json() {
        multi.set_draw_target(ProgressDrawTarget::hidden());
    }
    let bars: Mutex<HashMap<String, ProgressBar>> = Mutex::new(HashMap::new());
    let style =
        ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}").expect("valid template");
    Arc::new(move |p: &SyncProgress| {
        let mut bars = bars.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bars.entry(p.job.clone()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_prefix(p.job.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        match p.phase {
            SyncPhase::Finished | SyncPhase::Failed => {
                bar.finish_and_clear();
                bars.remove(&p.job);
            }
            phase => bar.set_message(format!(
                "{} · {} rows · {:.0} rows/s · {} batches",
                match phase {
                    SyncPhase::Validating => "checking",
                    SyncPhase::Reconciling => "reconciling deletes",
                    _ => "loading",
                },
                p.rows,
                p.rows_per_sec,
                p.batches
            )),
        }
    })
}

fn print_runs(out: &Out, results: &[SyncRunResult]) {
    if out.is_json() {
        print_json(&results);
        return;
    }
    let mut t = table(&[
        "job",
        "status",
        "extracted",
        "loaded",
        "inserted",
        "updated",
        "deleted",
        "skipped",
        "time",
        "watermark",
    ]);
    for r in results {
        let run = &r.run;
        t.add_row(vec![
            run.job.clone(),
            format!(
                "{}{}",
                run.status,
                if run.full_sync { " (full)" } else { "" }
            ),
            run.rows_extracted.to_string(),
            run.rows_loaded.to_string(),
            run.rows_inserted.to_string(),
            run.rows_updated.to_string(),
            run.rows_deleted.to_string(),
            run.rows_skipped.to_string(),
            millis(run.duration_ms),
            run.watermark.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    println!("{t}");
    for r in results {
        for note in &r.run.notes {
            println!("note: {}: {note}", r.run.job);
        }
        if let Some(e) = &r.run.error {
            eprintln!("error: {}: {e}", r.run.job);
        }
    }
}

/// 0 when every run succeeded (or was stopped on request), 2 when the
/// failures are all the jobs' or the data's to fix, else 1.
fn exit_code(results: &[SyncRunResult]) -> ExitCode {
    let failed: Vec<&SyncRunResult> = results
        .iter()
        .filter(|r| r.run.status == "failed")
        .collect();
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else if failed.iter().all(|r| r.bad_input) {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

fn history_table(runs: &[SyncRunRow]) -> Table {
    let mut t = table(&[
        "started",
        "status",
        "extracted",
        "inserted",
        "updated",
        "deleted",
        "skipped",
        "time",
        "watermark / error",
    ]);
    for r in runs {
        t.add_row(vec![
            relative(r.started_at),
            format!("{}{}", r.status, if r.full_sync { " (full)" } else { "" }),
            r.rows_extracted.to_string(),
            r.rows_inserted.to_string(),
            r.rows_updated.to_string(),
            r.rows_deleted.to_string(),
            r.rows_skipped.to_string(),
            millis(r.duration_ms),
            r.error
                .clone()
                .or_else(|| r.watermark.clone())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    t
}

/// Where a job's rows go: `connection.table` (through `iceberg:NS.TABLE`
/// for a chained job), or a broker target as is.
fn destination(j: &tidemark_store::SyncJobRow) -> String {
    if is_broker(&j.target) {
        j.target.clone()
    } else if let Some(via) = &j.via {
        format!("{via} → {}.{}", j.target, j.target_table)
    } else {
        format!("{}.{}", j.target, j.target_table)
    }
}

fn is_broker(target: &str) -> bool {
    target.starts_with("nats:") || target.starts_with("kafka:")
}

fn names(app: &App, name: Option<String>, all: bool) -> anyhow::Result<Vec<String>> {
    Ok(match (name, all) {
        (Some(n), _) => vec![n],
        (None, _) => app.sync_job_names()?,
    })
}

/// Runs one `sync` subcommand.
pub fn run(cmd: SyncCmd, workspace: &Path, out: &Out) -> anyhow::Result<ExitCode> {
    let mut app = App::open(workspace, tidemark_app::default_actor())?;
    match cmd {
        SyncCmd::Add(a) => {
            let a = *a;
            let target = if is_broker(&a.target) {
                tidemark_app::broker_target(
                    &a.target,
                    a.nats_url.as_deref(),
                    a.brokers.as_deref(),
                    a.encoding.as_deref(),
                )?
            } else if a.nats_url.is_some() || a.brokers.is_some() || a.encoding.is_some() {
                anyhow::bail!(tidemark_app::AppError::BadInput(
                    "--nats-url, --brokers and --encoding apply to broker targets (--target nats:SUBJECT or kafka:TOPIC)".into()
                ));
            } else {
                a.target
            };
            let added = app.sync_add(&SyncJobInput {
                name: a.name,
                source: a.source,
                table: a.table,
                target,
                target_table: a.target_table,
                detect: a.detect,
                column: a.column,
                merge: a.merge,
                key: a.key,
                on_conflict: a.on_conflict,
                batch_size: a.batch_size,
                lag: a.lag,
                deleted_column: a.deleted_column,
                reconcile_deletes: a.reconcile_deletes,
                catalog: a.catalog.rest()?,
                via: a.via,
            })?;
            if out.is_json() {
                print_json(&added);
            } else {
                let j = &added.job;
                println!(
                    "added sync job {}: {}.{} → {}, detect {}{}, merge {}",
                    j.name,
                    j.source,
                    j.source_table,
                    destination(j),
                    j.detect,
                    j.tracking_column
                        .as_deref()
                        .map(|c| format!(" on {c}"))
                        .unwrap_or_default(),
                    j.merge
                );
                for note in &added.notes {
                    println!("note: {note}");
                }
            }
        }
        SyncCmd::List => {
            let jobs = app.sync_list()?;
            if out.is_json() {
                print_json(&jobs);
            } else if jobs.is_empty() {
                println!("no sync jobs: add one with `tidemark sync add`");
            } else {
                let mut t = table(&[
                    "job",
                    "from",
                    "to",
                    "detect",
                    "merge",
                    "last run",
                    "watermark",
                ]);
                for s in &jobs {
                    let j = &s.job;
                    t.add_row(vec![
                        j.name.clone(),
                        format!("{}.{}", j.source, j.source_table),
                        destination(j),
                        match &j.tracking_column {
                            Some(c) => format!("{} ({c})", j.detect),
                            None => j.detect.clone(),
                        },
                        j.merge.clone(),
                        s.last_run
                            .as_ref()
                            .map(|r| format!("{} {}", r.status, relative(r.started_at)))
                            .unwrap_or_else(|| "never".into()),
                        s.watermark.clone().unwrap_or_else(|| "-".into()),
                    ]);
                }
                println!("{t}");
            }
        }
        SyncCmd::Show { name } => {
            let d = app.sync_show(&name)?;
            if out.is_json() {
                print_json(&d);
            } else {
                let j = &d.job;
                println!("sync job {}", j.name);
                println!("  from        {}.{}", j.source, j.source_table);
                println!("  to          {}", destination(j));
                println!(
                    "  detect      {}{}{}",
                    j.detect,
                    j.tracking_column
                        .as_deref()
                        .map(|c| format!(" on {c}"))
                        .unwrap_or_default(),
                    if j.detect_auto {
                        " (chosen by auto)"
                    } else {
                        ""
                    }
                );
                println!("  merge       {} (on conflict: {})", j.merge, j.on_conflict);
                println!(
                    "  key         {}",
                    if j.key_columns.is_empty() {
                        "the source's primary key".to_string()
                    } else {
                        j.key_columns.join(", ")
                    }
                );
                println!("  batch size  {}", j.batch_size);
                if j.lag_ms > 0 {
                    println!("  lag         {}", tidemark_sync_duration(j.lag_ms));
                }
                if let Some(c) = &j.deleted_column {
                    println!("  soft delete {c}");
                }
                if j.reconcile_deletes {
                    println!("  deletes     reconciled by key after each run");
                }
                println!(
                    "  watermark   {}",
                    d.checkpoint
                        .as_ref()
                        .and_then(|c| c.watermark.clone())
                        .unwrap_or_else(|| "none yet (the first run is a full sync)".into())
                );
                if !d.runs.is_empty() {
                    println!("{}", history_table(&d.runs));
                }
            }
        }
        SyncCmd::Remove { name } => {
            app.sync_remove(&name)?;
            out.removed("sync job", &name);
        }
        SyncCmd::History { name, limit } => {
            let runs = app.sync_history(&name, limit)?;
            if out.is_json() {
                print_json(&runs);
            } else if runs.is_empty() {
                println!("sync job {name} has not run yet: `tidemark sync run {name}`");
            } else {
                println!("{}", history_table(&runs));
            }
        }
        SyncCmd::Run(a) => {
            let jobs = names(&app, a.name, a.all)?;
            let cancel = Arc::new(AtomicBool::new(false));
            stop_on_ctrl_c(cancel.clone());
            let results = app.sync_run(&jobs, a.parallel, progress_bars(out), cancel)?;
            print_runs(out, &results);
            return Ok(exit_code(&results));
        }
        SyncCmd::Watch(a) => {
            let jobs = names(&app, a.name, a.all)?;
            let every = tidemark_sync_parse(&a.every).context("--every")?;
            let cancel = Arc::new(AtomicBool::new(false));
            stop_on_ctrl_c(cancel.clone());
            if !out.is_json() {
                eprintln!(
                    "watching {} job(s) every {}; Ctrl-C stops after the batch in flight",
                    jobs.len(),
                    a.every
                );
            }
            let progress = progress_bars(out);
            app.sync_watch(&jobs, every, a.parallel, progress, cancel, &mut |results| {
                print_runs(out, results);
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn tidemark_sync_duration(ms: u64) -> String {
    tidemark_app::format_sync_duration(Duration::from_millis(ms))
}

fn tidemark_sync_parse(text: &str) -> anyhow::Result<Duration> {
    tidemark_app::parse_sync_duration(text)
        .map_err(|e| anyhow::Error::new(tidemark_app::AppError::BadInput(format!("--every: {e}"))))
}
