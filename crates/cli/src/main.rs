//! `tidemark` — the command-line front end. Every command is a thin call into
//! `tidemark_app`; this file only parses arguments and prints results.

mod envs;
mod iceberg;
mod output;
mod scans;
mod serve;
mod sync;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use output::Out;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tidemark_app::{App, AppError, SnapshotRef};
use tidemark_model::Bump;

/// Tidemark: schema projects, environments, scans and incremental sync.
#[derive(Parser)]
#[command(name = "tidemark", version, about)]
struct Cli {
    /// The workspace file [default: $TIDEMARK_WORKSPACE, else the platform data dir].
    #[arg(long, global = true, value_name = "FILE")]
    workspace: Option<PathBuf>,
    /// Print machine-readable JSON on stdout (and nothing else there).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create, list, select, export and import schema projects.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Append ops to the current project.
    #[command(subcommand)]
    Op(OpCmd),
    /// List the current project's uncommitted ops.
    Ops,
    /// Import schema definitions into the current project as ops.
    Import(ImportArgs),
    /// Create, list, show and verify snapshots.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
    /// The changes between two snapshots (a version, or `working`), or
    /// `show` / `list` incremental diffs of scans.
    Diff(DiffArgs),
    /// Record a metadata scan of a connection; `list` runs, `label` objects.
    Scan(scans::ScanArgs),
    /// Compare the last two scan runs of a connection and store the changes.
    IncrementalDiff(scans::IncrementalDiffArgs),
    /// Add, list, test and remove named database connections.
    #[command(subcommand)]
    Connection(ConnectionCmd),
    /// Create the demo workspace (project "shop" with three snapshots).
    Demo {
        /// Replace the workspace file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Serve the web UI and the API on http://127.0.0.1 (until Ctrl-C).
    Serve(serve::ServeArgs),
    #[command(flatten)]
    Envs(envs::EnvCommand),
    /// Incremental data sync between databases: add, list, show, remove,
    /// run, watch, history.
    #[command(subcommand)]
    Sync(sync::SyncCmd),
    /// Apache Iceberg tables (the workspace's embedded catalog, or a REST
    /// catalog with --catalog-url): tables, snapshots, read (with time
    /// travel).
    Iceberg(iceberg::IcebergArgs),
}

#[derive(Subcommand)]
enum ProjectCmd {
    /// Create a project and make it current.
    New { name: String },
    /// List projects.
    List,
    /// Make a project current.
    Use { name: String },
    /// Write the current project to a git-friendly folder.
    Export { dir: PathBuf },
    /// Read a project folder written by `project export`.
    Import { dir: PathBuf },
}

#[derive(Subcommand)]
enum ConnectionCmd {
    /// Add a connection. A password in the URL goes to the OS keychain.
    Add {
        name: String,
        /// postgres://user@host:5432/db, mysql://…, sqlite:PATH, sqlserver://…, databricks://…
        #[arg(long)]
        url: String,
        /// Read the password from this environment variable at use time.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        /// Read the password from stdin and keep it in the OS keychain.
        #[arg(long, conflicts_with = "password_env")]
        password_stdin: bool,
    },
    /// List connections (never with passwords).
    List,
    /// Connect, ping and read the catalog.
    Test { name: String },
    /// Remove a connection and its keychain entry.
    Remove { name: String },
}

#[derive(Subcommand)]
enum OpCmd {
    /// Append one op or a JSON array of ops from FILE (`-` for stdin).
    Add { file: PathBuf },
}

#[derive(Args)]
#[command(group(
    clap::ArgGroup::new("source")
        .required(true)
        .args(["sql", "env", "connection"])
))]
struct ImportArgs {
    /// A DDL file (CREATE TABLE, CREATE INDEX, ALTER TABLE … ADD CONSTRAINT).
    #[arg(long, value_name = "FILE", requires = "dialect")]
    sql: Option<PathBuf>,
    /// The dialect the file is written in.
    #[arg(
        long,
        requires = "sql",
        conflicts_with_all = ["env", "connection"],
        value_parser = ["postgres", "mysql", "sqlite", "sqlserver"]
    )]
    dialect: Option<String>,
    /// An environment whose drift from its deployed snapshot becomes ops.
    #[arg(long)]
    env: Option<String>,
    /// A connection whose live schema becomes ops.
    #[arg(long)]
    connection: Option<String>,
    /// With --connection: read only this schema (repeatable).
    #[arg(long = "schema", value_name = "S", requires = "connection")]
    schemas: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum BumpArg {
    Major,
    Minor,
    Patch,
}

#[derive(Subcommand)]
enum SnapshotCmd {
    /// Seal the working state as a new snapshot.
    Create {
        /// The version, e.g. 1.2.0.
        #[arg(long, conflicts_with = "bump")]
        version: Option<String>,
        /// Bump the latest version [default: minor].
        #[arg(long, value_enum)]
        bump: Option<BumpArg>,
        /// A short name.
        #[arg(long)]
        name: String,
        /// A longer comment.
        #[arg(long)]
        comment: Option<String>,
        /// A tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// The snapshot timeline, newest first.
    List,
    /// One snapshot in full.
    Show { version: String },
    /// Check every snapshot's SHA-256 seal.
    Verify,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct DiffArgs {
    #[command(subcommand)]
    command: Option<scans::DiffCmd>,
    /// From: a snapshot version or `working`.
    #[arg(long, required = true)]
    from: Option<String>,
    /// To: a snapshot version or `working`.
    #[arg(long, required = true)]
    to: Option<String>,
    /// Render the migration plan for this database.
    #[arg(long, value_parser = ["postgres", "mysql", "mariadb", "sqlite", "sqlserver", "databricks"])]
    dialect: Option<String>,
    /// With --dialect: the SQL script (default) or the plan as JSON.
    #[arg(long, value_enum, requires = "dialect")]
    format: Option<PlanFormat>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlanFormat {
    Sql,
    Json,
}

fn default_workspace() -> PathBuf {
    if let Some(path) = std::env::var_os("TIDEMARK_WORKSPACE").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("tidemark")
        .join("workspace.tmdb")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(log) = scans::logging(&cli.command) {
        if let Err(e) = scans::init_tracing(&log) {
            Out::new(cli.json).error(&e);
            return ExitCode::from(2);
        }
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("TIDEMARK_LOG")
                    // A sync's streaming read is long by design; sqlx would
                    // report it as a slow statement on every run.
                    .unwrap_or_else(|_| {
                        tracing_subscriber::EnvFilter::new("warn,sqlx::query=error")
                    }),
            )
            .with_writer(std::io::stderr)
            .init();
    }
    let out = Out::new(cli.json);
    let workspace = cli.workspace.clone().unwrap_or_else(default_workspace);
    match run(cli.command, &workspace, &out) {
        Ok(code) => code,
        Err(err) => {
            let bad_input = err
                .downcast_ref::<AppError>()
                .is_some_and(AppError::is_bad_input);
            out.error(&err);
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

fn open(workspace: &Path) -> anyhow::Result<App> {
    Ok(App::open(workspace, tidemark_app::default_actor())?)
}

fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

fn run(command: Command, workspace: &Path, out: &Out) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve::run(args, workspace)?,
        Command::Demo { force } => {
            let summary = tidemark_app::create_demo(workspace, force)?;
            out.demo(&summary);
        }
        Command::Project(cmd) => {
            let mut app = open(workspace)?;
            match cmd {
                ProjectCmd::New { name } => out.project(&app.project_new(&name)?, "created"),
                ProjectCmd::List => out.projects(&app.project_list()?),
                ProjectCmd::Use { name } => out.project(&app.project_use(&name)?, "now current"),
                ProjectCmd::Export { dir } => out.export(&app.project_export(&dir)?),
                ProjectCmd::Import { dir } => out.import(&app.project_import(&dir)?),
            }
        }
        Command::Connection(cmd) => {
            let mut app = open(workspace)?;
            match cmd {
                ConnectionCmd::Add {
                    name,
                    url,
                    password_env,
                    password_stdin,
                } => {
                    let password = if password_stdin {
                        let mut text = String::new();
                        std::io::stdin().read_to_string(&mut text)?;
                        Some(text.trim_end_matches(['\r', '\n']).to_string())
                    } else {
                        None
                    };
                    let c = app.connection_add(&name, &url, password_env.as_deref(), password)?;
                    out.connection_added(&c);
                }
                ConnectionCmd::List => out.connections(&app.connection_list()?),
                ConnectionCmd::Test { name } => out.connection_check(&app.connection_test(&name)?),
                ConnectionCmd::Remove { name } => {
                    app.connection_remove(&name)?;
                    out.removed("connection", &name);
                }
            }
        }
        Command::Op(OpCmd::Add { file }) => {
            let text = read_input(&file).map_err(|e| AppError::BadInput(e.to_string()))?;
            let mut app = open(workspace)?;
            out.added_ops(&app.add_ops_json(&text)?);
        }
        Command::Ops => out.ops(&open(workspace)?.uncommitted_ops()?),
        Command::Import(args) => match (&args.sql, &args.dialect, &args.env, &args.connection) {
            (Some(sql), Some(dialect), _, _) => {
                let mut app = open(workspace)?;
                out.ddl_import(&app.import_sql(sql, dialect)?);
            }
            (_, _, Some(env), _) => envs::import_env(workspace, env, out)?,
            (_, _, _, Some(connection)) => {
                envs::import_connection(workspace, connection, &args.schemas, out)?
            }
            _ => unreachable!("clap requires one of --sql (with --dialect), --env, --connection"),
        },
        Command::Envs(cmd) => return envs::run(cmd, workspace, out),
        Command::Sync(cmd) => return sync::run(cmd, workspace, out),
        Command::Iceberg(cmd) => return iceberg::run(cmd, workspace, out),
        Command::Snapshot(cmd) => {
            let mut app = open(workspace)?;
            match cmd {
                SnapshotCmd::Create {
                    version,
                    bump,
                    name,
                    comment,
                    tags,
                } => {
                    let bump = bump.map(|b| match b {
                        BumpArg::Major => Bump::Major,
                        BumpArg::Minor => Bump::Minor,
                        BumpArg::Patch => Bump::Patch,
                    });
                    let s = app.snapshot_create(
                        version.as_deref(),
                        bump,
                        &name,
                        comment.as_deref(),
                        &tags,
                    )?;
                    out.snapshot_created(&s);
                }
                SnapshotCmd::List => {
                    let project = app.current_project()?;
                    out.timeline(&project.name, &app.snapshot_list()?);
                }
                SnapshotCmd::Show { version } => out.snapshot(&app.snapshot_show(&version)?),
                SnapshotCmd::Verify => {
                    let report = app.snapshot_verify()?;
                    out.verify(&report);
                    if !report.ok() {
                        return Ok(ExitCode::from(1));
                    }
                }
            }
        }
        Command::Scan(args) => scans::run_scan(args, workspace, out)?,
        Command::IncrementalDiff(args) => scans::run_incremental_diff(args, workspace, out)?,
        Command::Diff(DiffArgs {
            command: Some(cmd), ..
        }) => scans::run_diff_cmd(cmd, workspace, out)?,
        Command::Diff(args) => {
            let app = open(workspace)?;
            let (Some(from), Some(to)) = (&args.from, &args.to) else {
                unreachable!("clap requires --from and --to without a subcommand")
            };
            let (from, to) = (SnapshotRef::parse(from), SnapshotRef::parse(to));
            match &args.dialect {
                None => out.diff(&app.diff(&from, &to)?),
                Some(dialect) => {
                    let plan =
                        app.plan_between(&from, &to, tidemark_app::parse_dialect(dialect)?)?;
                    out.plan(&plan, args.format == Some(PlanFormat::Json));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
