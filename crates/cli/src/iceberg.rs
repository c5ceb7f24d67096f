//! `tidemark iceberg …`: Iceberg tables in the workspace's embedded catalog
//! or in a REST catalog.

use crate::output::Out;
use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Cell, ContentArrangement, Table};
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;
use tidemark_app::{App, RestCatalogRef};

/// Which Iceberg catalog: the workspace's embedded one by default, or a REST
/// catalog.
#[derive(Args, Default, Clone)]
pub struct CatalogArgs {
    /// An Iceberg REST catalog's base URL (http://HOST:PORT), instead of the
    /// workspace's embedded catalog.
    #[arg(long, value_name = "URL", global = true)]
    pub catalog_url: Option<String>,
    /// The warehouse to ask the REST catalog for, if it serves several.
    #[arg(long, value_name = "NAME", global = true)]
    pub catalog_warehouse: Option<String>,
    /// The environment variable holding the REST catalog's bearer token
    /// (the token itself is never stored).
    #[arg(long, value_name = "VAR", global = true)]
    pub catalog_token_env: Option<String>,
}

impl CatalogArgs {
    /// The REST catalog named, if any; warehouse or token options without
    /// a URL are an error.
    pub fn rest(&self) -> anyhow::Result<Option<RestCatalogRef>> {
        match &self.catalog_url {
            Some(url) => Ok(Some(RestCatalogRef {
                url: url.clone(),
                warehouse: self.catalog_warehouse.clone(),
                token_env: self.catalog_token_env.clone(),
            })),
            None if self.catalog_warehouse.is_some() || self.catalog_token_env.is_some() => {
                anyhow::bail!(tidemark_app::AppError::BadInput(
                    "--catalog-warehouse and --catalog-token-env apply to a REST catalog: give --catalog-url too".into()
                ))
            }
            None => Ok(None),
        }
    }
}

/// `tidemark iceberg`: the catalog options and the command.
#[derive(Args)]
pub struct IcebergArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    #[command(subcommand)]
    cmd: IcebergCmd,
}

/// Iceberg tables (the workspace's catalog `<workspace>-iceberg/`, or a
/// REST catalog).
#[derive(Subcommand)]
pub enum IcebergCmd {
    /// List tables with their snapshot counts.
    Tables,
    /// A table's snapshots, oldest first, with their summaries.
    Snapshots {
        /// `namespace.table`.
        table: String,
    },
    /// Read a table now, at a snapshot or as of a time.
    Read {
        /// `namespace.table`.
        table: String,
        /// Read this snapshot.
        #[arg(long, value_name = "ID", conflicts_with = "as_of")]
        snapshot: Option<i64>,
        /// Read the snapshot that was current at this time (RFC 3339,
        /// `YYYY-MM-DD HH:MM:SS` in UTC, or Unix milliseconds).
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// At most this many rows.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Output format (`--json` implies json).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// How `iceberg read` prints rows.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table on the terminal.
    Table,
    /// One JSON document with the columns and the rows as objects.
    Json,
    /// CSV with a header line.
    Csv,
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("results always serialize")
    );
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// Runs an `iceberg` command.
pub fn run(args: IcebergArgs, workspace: &Path, out: &Out) -> anyhow::Result<ExitCode> {
    let app = App::open(workspace, tidemark_app::default_actor())?;
    let rest = args.catalog.rest()?;
    let rest = rest.as_ref();
    match args.cmd {
        IcebergCmd::Tables => {
            let list = app.iceberg_tables(rest)?;
            if out.is_json() {
                print_json(&list);
            } else if list.is_empty() {
                match rest {
                    Some(r) => println!("no Iceberg tables in the REST catalog at {}", r.url),
                    None => println!("no Iceberg tables in {}", app.iceberg_dir().display()),
                }
            } else {
                let mut t = table();
                t.set_header(["table", "snapshots", "current snapshot", "updated"]);
                for s in &list {
                    t.add_row([
                        Cell::new(&s.table),
                        Cell::new(s.snapshots),
                        Cell::new(
                            s.current_snapshot
                                .map(|i| i.to_string())
                                .unwrap_or_default(),
                        ),
                        Cell::new(s.updated_at.map(|d| d.to_rfc3339()).unwrap_or_default()),
                    ]);
                }
                println!("{t}");
            }
        }
        IcebergCmd::Snapshots { table: name } => {
            let list = app.iceberg_snapshots(rest, &name)?;
            if out.is_json() {
                print_json(&list);
            } else if list.is_empty() {
                println!("{name} has no snapshots yet");
            } else {
                let mut t = table();
                t.set_header([
                    "snapshot",
                    "parent",
                    "committed",
                    "operation",
                    "added rows",
                    "watermark",
                ]);
                for s in &list {
                    t.add_row([
                        Cell::new(s.id),
                        Cell::new(s.parent.map(|p| p.to_string()).unwrap_or_default()),
                        Cell::new(s.committed_at.to_rfc3339()),
                        Cell::new(&s.operation),
                        Cell::new(s.added_rows.map(|r| r.to_string()).unwrap_or_default()),
                        Cell::new(
                            s.summary
                                .get("tidemark.watermark")
                                .cloned()
                                .unwrap_or_default(),
                        ),
                    ]);
                }
                println!("{t}");
            }
        }
        IcebergCmd::Read {
            table: name,
            snapshot,
            as_of,
            limit,
            format,
        } => {
            let rows = app.iceberg_read(rest, &name, snapshot, as_of.as_deref(), limit)?;
            let format = if out.is_json() { Format::Json } else { format };
            match format {
                Format::Json => {
                    let objects: Vec<serde_json::Map<String, Value>> = rows
                        .rows
                        .iter()
                        .map(|r| {
                            rows.columns
                                .iter()
                                .cloned()
                                .zip(r.iter().cloned())
                                .collect()
                        })
                        .collect();
                    print_json(&serde_json::json!({
                        "table": rows.table,
                        "snapshot": rows.snapshot,
                        "columns": rows.columns,
                        "rows": objects,
                    }));
                }
                Format::Csv => {
                    let header: Vec<String> = rows.columns.iter().map(|c| csv_field(c)).collect();
                    println!("{}", header.join(","));
                    for r in &rows.rows {
                        let line: Vec<String> = r.iter().map(|v| csv_field(&text(v))).collect();
                        println!("{}", line.join(","));
                    }
                }
                Format::Table => {
                    let mut t = table();
                    t.set_header(rows.columns.clone());
                    for r in &rows.rows {
                        t.add_row(r.iter().map(text).collect::<Vec<_>>());
                    }
                    println!("{t}");
                    println!(
                        "{} row(s) of {} at snapshot {}",
                        rows.rows.len(),
                        rows.table,
                        rows.snapshot
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "none".into())
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
