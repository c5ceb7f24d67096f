//! Environment commands: `env`, `plan`, `deploy`, `promote`, `rollback`,
//! `drift`, `status`, `history`, and the live forms of `import`. Each is a
//! thin call into `tidemark_app` plus printing.

use crate::output::{relative, Out};
use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Cell, ContentArrangement, Table};
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;
use tidemark_app::{
    App, DeployOptions, DeployOutcome, DeployResult, DriftReport, EnvSettings, LiveImport,
    PlanPreview, StatusReport,
};
use tidemark_model::Severity;
use tidemark_store::{Deployment, DeploymentStatus, Environment};

/// Exit code of `drift` when the environment drifted.
const DRIFT_EXIT: u8 = 3;

/// The environment commands, flattened into the top-level command list.
#[derive(Subcommand)]
pub enum EnvCommand {
    /// Add, list and remove deployment environments (dev → test → prod).
    #[command(subcommand)]
    Env(EnvCmd),
    /// Preview the SQL a deployment would run, each statement flagged safe, risky or breaking.
    Plan(PlanArgs),
    /// Deploy a snapshot (the latest by default) to an environment.
    Deploy(DeployArgs),
    /// Deploy the snapshot deployed in one environment to another.
    Promote(PromoteArgs),
    /// Deploy an earlier snapshot to an environment.
    Rollback(RollbackArgs),
    /// Compare an environment's live database with the snapshot it should hold
    /// (exit code 3 when it drifted).
    Drift(DriftArgs),
    /// Every environment with its deployed version, drift and lag.
    Status,
    /// Every deployment attempt: time, environment, from → to, status, who, error.
    History(HistoryArgs),
}

#[derive(Subcommand)]
pub enum EnvCmd {
    /// Add an environment at the end of the order (or at --position).
    Add {
        name: String,
        /// The connection it deploys to.
        #[arg(long)]
        connection: String,
        /// Only sealed snapshots may be deployed (never the working state).
        #[arg(long)]
        require_snapshot: bool,
        /// Deploy even when the live database drifted.
        #[arg(long)]
        allow_drift: bool,
        /// Needs a snapshot, --yes and --allow-breaking for breaking statements.
        #[arg(long)]
        protected: bool,
        /// 0-based place in the promotion order.
        #[arg(long, value_name = "N")]
        position: Option<u32>,
        /// A colour for the environments board [default: by name].
        #[arg(long)]
        color: Option<String>,
    },
    /// List environments in promotion order.
    List,
    /// Remove an environment (its history stays).
    Remove { name: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PlanFormat {
    Sql,
    Json,
}

#[derive(Args)]
pub struct PlanArgs {
    /// The environment.
    #[arg(long)]
    env: String,
    /// The snapshot version [default: the latest]; `working` for the working state.
    #[arg(long, value_name = "VERSION")]
    snapshot: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "sql")]
    format: PlanFormat,
}

/// The safety flags every deploying command takes.
#[derive(Args)]
pub struct SafetyArgs {
    /// Show the plan and the checks; change and record nothing.
    #[arg(long)]
    dry_run: bool,
    /// Confirm deploying to a protected environment.
    #[arg(long)]
    yes: bool,
    /// Run breaking (data-losing or reader-breaking) statements too.
    #[arg(long)]
    allow_breaking: bool,
}

impl SafetyArgs {
    fn options(&self, env: &str) -> DeployOptions {
        DeployOptions {
            dry_run: self.dry_run,
            allow_breaking: self.allow_breaking,
            confirm: self.yes.then(|| env.to_string()),
        }
    }
}

#[derive(Args)]
pub struct DeployArgs {
    /// The environment.
    #[arg(long)]
    env: String,
    /// The snapshot version [default: the latest]; `working` for the working state.
    #[arg(long, value_name = "VERSION")]
    snapshot: Option<String>,
    #[command(flatten)]
    safety: SafetyArgs,
}

#[derive(Args)]
pub struct PromoteArgs {
    /// The environment whose deployed snapshot is promoted.
    #[arg(long)]
    from: String,
    /// The environment it goes to.
    #[arg(long)]
    to: String,
    #[command(flatten)]
    safety: SafetyArgs,
}

#[derive(Args)]
pub struct RollbackArgs {
    /// The environment.
    #[arg(long)]
    env: String,
    /// The earlier snapshot version.
    #[arg(long, value_name = "VERSION")]
    to: String,
    #[command(flatten)]
    safety: SafetyArgs,
}

#[derive(Args)]
pub struct DriftArgs {
    /// The environment.
    #[arg(long)]
    env: String,
}

#[derive(Args)]
pub struct HistoryArgs {
    /// Only this environment's deployments.
    #[arg(long)]
    env: Option<String>,
}

fn open(workspace: &Path) -> anyhow::Result<App> {
    Ok(App::open(workspace, tidemark_app::default_actor())?)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new));
    t
}

fn print<T: Serialize>(out: &Out, value: &T, human: impl FnOnce()) {
    if out.is_json() {
        println!(
            "{}",
            serde_json::to_string_pretty(value).expect("results always serialize")
        );
    } else {
        human();
    }
}

/// Runs one environment command.
pub fn run(command: EnvCommand, workspace: &Path, out: &Out) -> anyhow::Result<ExitCode> {
    let mut app = open(workspace)?;
    match command {
        EnvCommand::Env(EnvCmd::Add {
            name,
            connection,
            require_snapshot,
            allow_drift,
            protected,
            position,
            color,
        }) => {
            let settings = EnvSettings {
                require_snapshot,
                allow_drift,
                protected,
                position,
                color,
            };
            let env = app.env_add(&name, &connection, &settings)?;
            print(out, &env, || {
                println!(
                    "Environment {} added at position {} (connection {}, {}{})",
                    env.name,
                    env.position,
                    env.connection,
                    env.color,
                    flags(&env).map(|f| format!(", {f}")).unwrap_or_default()
                )
            });
        }
        EnvCommand::Env(EnvCmd::List) => {
            let list = app.env_list()?;
            print(out, &list, || environments(&list));
        }
        EnvCommand::Env(EnvCmd::Remove { name }) => {
            app.env_remove(&name)?;
            out.removed("environment", &name);
        }
        EnvCommand::Plan(args) => {
            let preview = app.plan(&args.env, args.snapshot.as_deref())?;
            if out.is_json() || matches!(args.format, PlanFormat::Json) {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&preview).expect("results always serialize")
                );
            } else {
                plan_header(&preview);
                print!("{}", preview.script);
            }
        }
        EnvCommand::Deploy(args) => {
            let options = args.safety.options(&args.env);
            let outcome = app.deploy(&args.env, args.snapshot.as_deref(), &options)?;
            deployed(out, &outcome);
        }
        EnvCommand::Promote(args) => {
            let options = args.safety.options(&args.to);
            let outcome = app.promote(&args.from, &args.to, &options)?;
            deployed(out, &outcome);
        }
        EnvCommand::Rollback(args) => {
            let options = args.safety.options(&args.env);
            let outcome = app.rollback(&args.env, &args.to, &options)?;
            deployed(out, &outcome);
        }
        EnvCommand::Drift(args) => {
            let report = app.drift(&args.env)?;
            print(out, &report, || drift(&report));
            if report.drifted {
                return Ok(ExitCode::from(DRIFT_EXIT));
            }
        }
        EnvCommand::Status => {
            let report = app.env_status()?;
            print(out, &report, || status(&report));
        }
        EnvCommand::History(args) => {
            let list = app.history(args.env.as_deref())?;
            print(out, &list, || history(&list));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `import --env E`.
pub fn import_env(workspace: &Path, env: &str, out: &Out) -> anyhow::Result<()> {
    let mut app = open(workspace)?;
    let result = app.import_from_env(env)?;
    imported(out, &result);
    Ok(())
}

/// `import --connection NAME [--schema S]…`.
pub fn import_connection(
    workspace: &Path,
    connection: &str,
    schemas: &[String],
    out: &Out,
) -> anyhow::Result<()> {
    let mut app = open(workspace)?;
    let result = app.import_from_connection(connection, schemas)?;
    imported(out, &result);
    Ok(())
}

fn flags(env: &Environment) -> Option<String> {
    let mut f: Vec<&str> = Vec::new();
    if env.protected {
        f.push("protected");
    }
    if env.require_snapshot && !env.protected {
        f.push("snapshots only");
    }
    if env.allow_drift {
        f.push("drift allowed");
    }
    (!f.is_empty()).then(|| f.join(", "))
}

fn environments(list: &[Environment]) {
    if list.is_empty() {
        println!("No environments yet: `tidemark env add dev --connection NAME`.");
        return;
    }
    let mut t = table(&["#", "environment", "connection", "colour", "rules"]);
    for env in list {
        t.add_row(vec![
            env.position.to_string(),
            env.name.clone(),
            env.connection.clone(),
            env.color.clone(),
            flags(env).unwrap_or_default(),
        ]);
    }
    println!("{t}");
}

fn severity_mark(s: Severity) -> &'static str {
    match s {
        Severity::Safe => "✓ safe",
        Severity::Risky => "! risky",
        Severity::Breaking => "✗ breaking",
    }
}

/// What a plan goes from and to, and what the checks found, on stderr so
/// stdout stays a runnable script.
fn plan_header(p: &PlanPreview) {
    eprintln!(
        "Plan for {}: {} → {} ({} statement{}, worst: {})",
        p.environment,
        p.from_version.as_deref().unwrap_or("(nothing deployed)"),
        p.to_version,
        p.statements.len(),
        if p.statements.len() == 1 { "" } else { "s" },
        p.severity
    );
    if p.drift.drifted {
        eprintln!(
            "warning: {} drifted ({} difference{}{}): see `tidemark drift --env {}`",
            p.environment,
            p.drift.items.len(),
            if p.drift.items.len() == 1 { "" } else { "s" },
            p.drift
                .marker_problem
                .as_deref()
                .map(|m| format!("; {m}"))
                .unwrap_or_default(),
            p.environment
        );
    }
    for reason in &p.breaking {
        eprintln!("breaking: {reason}");
    }
}

fn deployed(out: &Out, o: &DeployOutcome) {
    print(out, o, || {
        let p = &o.plan;
        match o.result {
            DeployResult::UpToDate => println!(
                "{} is up to date: it already holds {}.",
                p.environment, p.to_version
            ),
            DeployResult::DryRun => {
                plan_header(p);
                println!("Dry run: nothing was changed or recorded.");
                if !p.statements.is_empty() {
                    let mut t = table(&["#", "severity", "statement"]);
                    for (i, s) in p.statements.iter().enumerate() {
                        t.add_row(vec![
                            (i + 1).to_string(),
                            severity_mark(s.severity).to_string(),
                            s.sql.clone(),
                        ]);
                    }
                    println!("{t}");
                }
            }
            DeployResult::Deployed => println!(
                "✓ {} {} → {} on {} ({} statement{}, worst: {}); deployment {}",
                o.action,
                p.from_version.as_deref().unwrap_or("(nothing)"),
                p.to_version,
                p.environment,
                p.statements.len(),
                if p.statements.len() == 1 { "" } else { "s" },
                p.severity,
                o.deployment_id.as_deref().unwrap_or("")
            ),
        }
    });
}

fn drift(r: &DriftReport) {
    let against = r
        .expected_version
        .as_deref()
        .map(|v| format!("snapshot {v}"))
        .unwrap_or_else(|| "its deployed state".into());
    if let Some(problem) = &r.marker_problem {
        println!("! {}: {problem}", r.environment);
    }
    if !r.drifted {
        println!("✓ No drift: {} matches {against}.", r.environment);
        return;
    }
    if r.items.is_empty() {
        return;
    }
    println!(
        "{} drifted from {against}: {} difference{}",
        r.environment,
        r.items.len(),
        if r.items.len() == 1 { "" } else { "s" }
    );
    let mut t = table(&["kind", "object", "name", "what differs"]);
    for item in &r.items {
        t.add_row(vec![
            item.kind.to_string(),
            item.object_type.clone(),
            item.object_name.clone(),
            item.detail.clone(),
        ]);
    }
    println!("{t}");
}

fn lag(n: Option<i64>) -> String {
    match n {
        None => "—".into(),
        Some(0) => "0".into(),
        Some(n) if n < 0 => format!("{} ahead", -n),
        Some(n) => n.to_string(),
    }
}

fn status(r: &StatusReport) {
    if r.environments.is_empty() {
        println!("No environments yet: `tidemark env add dev --connection NAME`.");
        return;
    }
    println!(
        "Project {} (latest snapshot {})",
        r.project,
        r.latest_version.as_deref().unwrap_or("none")
    );
    let mut t = table(&[
        "environment",
        "version",
        "deployed",
        "drift",
        "behind previous",
        "behind latest",
    ]);
    for s in &r.environments {
        let when = match (&s.deployed_at, &s.deployed_by) {
            (Some(at), Some(by)) => {
                let at = chrono::DateTime::parse_from_rfc3339(at)
                    .map(|t| relative(t.with_timezone(&chrono::Utc)))
                    .unwrap_or_else(|_| at.clone());
                format!("{at} by {by}")
            }
            _ => "—".into(),
        };
        let drift = match (s.drift.as_str(), &s.problem) {
            ("unknown", Some(p)) => format!("unknown: {p}"),
            ("drifted", _) => format!("drifted ({})", s.drift_items),
            (d, _) => d.to_string(),
        };
        t.add_row(vec![
            format!(
                "{}{}",
                s.environment.name,
                if s.environment.protected { " 🔒" } else { "" }
            ),
            s.version.clone().unwrap_or_else(|| "—".into()),
            when,
            drift,
            lag(s.behind_previous),
            lag(s.behind_latest),
        ]);
    }
    println!("{t}");
}

fn history(list: &[Deployment]) {
    if list.is_empty() {
        println!("No deployments yet: `tidemark deploy --env NAME`.");
        return;
    }
    let mut t = table(&[
        "when",
        "environment",
        "action",
        "from → to",
        "status",
        "by",
        "error",
    ]);
    for d in list {
        let status = match d.status {
            DeploymentStatus::Succeeded => "✓ succeeded".to_string(),
            other => other.to_string(),
        };
        t.add_row(vec![
            relative(d.started_at),
            d.environment.clone(),
            d.action.to_string(),
            format!(
                "{} → {}",
                d.from_version.as_deref().unwrap_or("—"),
                d.to_version
            ),
            status,
            d.deployed_by.clone(),
            d.error.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
}

fn imported(out: &Out, r: &LiveImport) {
    print(out, r, || {
        if r.added.ops.is_empty() {
            println!(
                "Nothing to import: {} matches {}.",
                r.source, r.compared_with
            );
            return;
        }
        println!(
            "Imported {} op{} from {} (compared with {}); {} uncommitted op{} now:",
            r.added.ops.len(),
            if r.added.ops.len() == 1 { "" } else { "s" },
            r.source,
            r.compared_with,
            r.added.uncommitted,
            if r.added.uncommitted == 1 { "" } else { "s" }
        );
        for c in &r.changes {
            println!("  {c}");
        }
    });
}
