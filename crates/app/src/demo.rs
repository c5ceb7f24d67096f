//! The demo workspace: a project "shop" with three snapshots made from real
//! ops, and three SQLite databases next to the workspace file serving as its
//! dev, test and prod environments, deployed for real and holding a few rows.
//! Two more SQLite databases feed a sync job: an `events` table of a few
//! thousand rows, synced into a warehouse database in small batches.

use crate::{App, AppError, AppResult, DeployOptions, EnvSettings, SyncJobInput};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use tidemark_model::Bump;

/// What `tidemark demo` created.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// The workspace file.
    pub workspace: PathBuf,
    /// The project name.
    pub project: String,
    /// Snapshot versions, oldest first.
    pub versions: Vec<String>,
    /// The demo environments in promotion order.
    pub environments: Vec<DemoEnvironment>,
    /// The demo sync job (not run yet).
    pub sync: DemoSync,
}

/// The demo sync job.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSync {
    /// The job's name.
    pub job: String,
    /// The SQLite database holding the source table.
    pub source: PathBuf,
    /// The SQLite database the job loads into.
    pub target: PathBuf,
    /// Rows in the source table.
    pub rows: u64,
}

/// One demo environment.
#[derive(Debug, Clone, Serialize)]
pub struct DemoEnvironment {
    /// Its name (`dev`, `test`, `prod`).
    pub name: String,
    /// The SQLite database file behind it.
    pub database: PathBuf,
    /// The snapshot version deployed there.
    pub version: String,
}

/// The demo environments: name, protected, and the deployed version at the end.
const ENVIRONMENTS: [(&str, bool, &str); 3] = [
    ("dev", false, "1.0.0"),
    ("test", false, "0.2.0"),
    ("prod", true, "0.1.0"),
];

/// The sync job's source and target databases (named like environments).
const SYNC_DATABASES: [&str; 2] = ["events", "warehouse"];

/// The demo sync job: its name, rows in the source table, rows per batch.
const SYNC_JOB: &str = "events";
/// The demo's chained job: the same events through an Iceberg table.
const LAKE_JOB: &str = "events_lake";
const SYNC_ROWS: u64 = 5000;
const SYNC_BATCH: u64 = 250;

/// The SQLite database of a demo environment: `<workspace stem>-<env>.sqlite`
/// next to the workspace file.
fn database_path(workspace: &Path, env: &str) -> PathBuf {
    let stem = workspace
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "demo".into());
    workspace.with_file_name(format!("{stem}-{env}.sqlite"))
}

/// Removes a file and its SQLite companions, if they exist.
fn remove_with_companions(path: &Path, suffixes: &[&str]) -> AppResult<()> {
    for suffix in suffixes {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::remove_file(&file).map_err(|e| AppError::io(&file, e))?;
        }
    }
    Ok(())
}

/// Creates the demo workspace at `path`, with its environment databases
/// next to it. Existing files are replaced only with `force`.
///
/// The deployments run on the app's own runtime, which cannot start inside
/// another one; called from async code (a server, a test), the work moves to
/// a plain thread of its own.
pub fn create_demo(path: &Path, force: bool) -> AppResult<DemoSummary> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return std::thread::scope(|s| {
            s.spawn(|| build_demo(path, force))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
    }
    build_demo(path, force)
}

fn build_demo(path: &Path, force: bool) -> AppResult<DemoSummary> {
    let databases: Vec<PathBuf> = ENVIRONMENTS
        .iter()
        .map(|(env, _, _)| database_path(path, env))
        .collect();
    let sync_databases: Vec<PathBuf> = SYNC_DATABASES
        .iter()
        .map(|name| database_path(path, name))
        .collect();
    if !force {
        if let Some(existing) = std::iter::once(&path.to_path_buf())
            .chain(&databases)
            .chain(&sync_databases)
            .find(|p| p.exists())
        {
            return Err(AppError::BadInput(format!(
                "{} already exists: pass --force to replace it with a fresh demo workspace",
                existing.display()
            )));
        }
    }
    remove_with_companions(path, &["", "-wal", "-shm"])?;
    for db in databases.iter().chain(&sync_databases) {
        remove_with_companions(db, &["", "-wal", "-shm", "-journal"])?;
    }
    let mut app = App::open(path, "demo")?;
    let start = Utc::now() - Duration::days(30);
    app.clock = Some(start);
    app.project_new("shop")?;

    for (i, (ops, name, comment, tags)) in steps().into_iter().enumerate() {
        app.clock = Some(start + Duration::days([0, 12, 27][i]));
        app.add_ops_json(&ops.to_string())?;
        app.clock = Some(start + Duration::days([1, 14, 28][i]));
        let bump = if i == 2 { Bump::Major } else { Bump::Minor };
        app.snapshot_create(None, Some(bump), name, Some(comment), &tags)?;
    }
    let environments = deploy_environments(&mut app, start, &databases)?;
    app.clock = Some(start + Duration::days(29) + Duration::hours(15));
    let sync = add_sync_job(&mut app, start, &sync_databases)?;
    app.clock = None;
    Ok(DemoSummary {
        workspace: path.to_path_buf(),
        project: "shop".into(),
        versions: app
            .snapshot_list()?
            .into_iter()
            .map(|s| s.version)
            .collect(),
        environments,
        sync,
    })
}

/// Fills the source database with timestamped events and adds a job that
/// syncs them into the warehouse: upsert by id, timestamp detection on
/// `updated_at`, small batches so a run reports progress several times.
fn add_sync_job(app: &mut App, start: DateTime<Utc>, databases: &[PathBuf]) -> AppResult<DemoSync> {
    let [source, target] = SYNC_DATABASES.map(|name| format!("shop-{name}"));
    for (connection, db) in [&source, &target].into_iter().zip(databases) {
        let url = format!("sqlite:{}?mode=rwc", db.display());
        app.connection_add(connection, &url, None, None)?;
    }
    // One event a minute from the start of the demo month, generated by
    // SQLite itself (a recursive CTE) in one statement.
    let rows = vec![
        "CREATE TABLE events (id INTEGER PRIMARY KEY, customer_email TEXT NOT NULL, \
         kind TEXT NOT NULL, amount DECIMAL(12,2), updated_at DATETIME NOT NULL)"
            .to_string(),
        "CREATE INDEX events_cursor ON events (updated_at, id)".to_string(),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SYNC_ROWS}) \
             INSERT INTO events (id, customer_email, kind, amount, updated_at) \
             SELECT i, 'customer' || (i % 97) || '@shop.example', \
             CASE i % 3 WHEN 0 THEN 'view' WHEN 1 THEN 'cart' ELSE 'order' END, \
             (i % 500) * 1.25, datetime({epoch} + i * 60, 'unixepoch') FROM n",
            epoch = start.timestamp()
        ),
    ];
    app.insert_rows(&source, &rows)?;
    app.sync_add(&SyncJobInput {
        name: SYNC_JOB.into(),
        source: source.clone(),
        table: "events".into(),
        target: target.clone(),
        detect: "timestamp".into(),
        column: Some("updated_at".into()),
        merge: "upsert".into(),
        key: vec!["id".into()],
        batch_size: Some(SYNC_BATCH),
        ..SyncJobInput::default()
    })?;
    // The same events staged in the workspace's Iceberg catalog, one
    // snapshot per run, and merged from there into their own table.
    app.sync_add(&SyncJobInput {
        name: LAKE_JOB.into(),
        source: source.clone(),
        table: "events".into(),
        target: target.clone(),
        target_table: Some("events_from_lake".into()),
        via: Some("iceberg:lake.events".into()),
        detect: "timestamp".into(),
        column: Some("updated_at".into()),
        merge: "upsert".into(),
        key: vec!["id".into()],
        batch_size: Some(SYNC_BATCH * 4),
        ..SyncJobInput::default()
    })?;
    Ok(DemoSync {
        job: SYNC_JOB.into(),
        source: databases[0].clone(),
        target: databases[1].clone(),
        rows: SYNC_ROWS,
    })
}

/// Creates the environments and walks them through a realistic month: the
/// first release everywhere (with a few rows each), the second to dev and
/// promoted to test, the breaking 1.0.0 to dev only.
fn deploy_environments(
    app: &mut App,
    start: DateTime<Utc>,
    databases: &[PathBuf],
) -> AppResult<Vec<DemoEnvironment>> {
    for ((env, protected, _), db) in ENVIRONMENTS.iter().zip(databases) {
        let connection = format!("shop-{env}");
        let url = format!("sqlite:{}?mode=rwc", db.display());
        app.connection_add(&connection, &url, None, None)?;
        app.env_add(
            env,
            &connection,
            &EnvSettings {
                protected: *protected,
                ..EnvSettings::default()
            },
        )?;
    }
    let confirm = |env: &str| DeployOptions {
        confirm: Some(env.to_string()),
        ..DeployOptions::default()
    };
    let at = |days: i64, hours: i64| Some(start + Duration::days(days) + Duration::hours(hours));
    for (i, (env, _, _)) in ENVIRONMENTS.iter().enumerate() {
        app.clock = at(2, 10 + 2 * i as i64);
        app.deploy(env, Some("0.1.0"), &confirm(env))?;
        app.insert_rows(&format!("shop-{env}"), &sample_rows(env))?;
    }
    app.clock = at(15, 9);
    app.deploy("dev", Some("0.2.0"), &confirm("dev"))?;
    app.clock = at(16, 14);
    app.promote("dev", "test", &confirm("test"))?;
    app.clock = at(29, 11);
    app.deploy(
        "dev",
        Some("1.0.0"),
        &DeployOptions {
            allow_breaking: true,
            ..confirm("dev")
        },
    )?;
    Ok(ENVIRONMENTS
        .iter()
        .zip(databases)
        .map(|((env, _, version), db)| DemoEnvironment {
            name: env.to_string(),
            database: db.clone(),
            version: version.to_string(),
        })
        .collect())
}

/// A few customers, products and orders, different per environment so each
/// database is recognisably its own.
fn sample_rows(env: &str) -> Vec<String> {
    let people = [
        ("ada", "Ada Lovelace"),
        ("alan", "Alan Turing"),
        ("grace", "Grace Hopper"),
    ];
    let mut rows: Vec<String> = people
        .iter()
        .map(|(user, name)| {
            format!("INSERT INTO customers (email, name) VALUES ('{user}@{env}.example', '{name}')")
        })
        .collect();
    rows.push(
        "INSERT INTO products (sku, title, price) VALUES \
         ('MUG-01', 'Tide mug', 12.50), ('MAP-02', 'Tide chart', 29.00)"
            .to_string(),
    );
    rows.push(
        "INSERT INTO orders (customer_id, status) VALUES (1, 'paid'), (2, 'new'), (1, 'shipped')"
            .to_string(),
    );
    rows
}

impl App {
    /// Runs demo inserts against a connection, in one transaction.
    fn insert_rows(&self, connection: &str, rows: &[String]) -> AppResult<()> {
        let mut db = self.open_database(connection)?;
        let result = self.block_on(db.execute(rows, true));
        self.close_quietly(db);
        result.map_err(|e| AppError::Database(format!("demo rows for {connection}: {e}")))
    }
}

fn col(table: &str, name: &str, ty: serde_json::Value, nullable: bool) -> serde_json::Value {
    json!({"target": format!("tbl_{table}"), "op": "add_column",
           "payload": {"id": format!("col_{table}_{name}"), "name": name, "data_type": ty, "nullable": nullable}})
}

fn with(mut op: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    op["payload"][key] = value;
    op
}

type Step = (serde_json::Value, &'static str, &'static str, Vec<String>);

fn steps() -> Vec<Step> {
    let bigint = json!({"kind": "big_int"});
    let int = json!({"kind": "integer"});
    let text = json!({"kind": "text"});
    let tstz = json!({"kind": "timestamp_tz"});
    let money = json!({"kind": "decimal", "precision": 10, "scale": 2});
    let varchar = |n: u32| json!({"kind": "varchar", "length": n});

    let v010 = json!([
        {"target": "root", "op": "add_catalog", "payload": {"id": "cat_shop", "name": "shop"}},
        {"target": "cat_shop", "op": "add_schema", "payload": {"id": "sch_public", "name": "public"}},
        {"target": "sch_public", "op": "add_table", "payload": {"id": "tbl_customers", "name": "customers"}},
        with(col("customers", "id", bigint.clone(), false), "identity", json!(true)),
        col("customers", "email", varchar(255), false),
        col("customers", "name", text.clone(), false),
        with(col("customers", "created_at", tstz.clone(), false), "default", json!("CURRENT_TIMESTAMP")),
        {"target": "tbl_customers", "op": "add_primary_key", "payload": {"id": "pk_customers", "columns": ["id"]}},
        {"target": "tbl_customers", "op": "add_unique", "payload": {"id": "uq_customers_email", "name": "customers_email_key", "columns": ["email"]}},
        {"target": "tbl_customers", "op": "set_comment", "payload": {"comment": "People who buy from the shop"}},
        {"target": "sch_public", "op": "add_table", "payload": {"id": "tbl_products", "name": "products"}},
        with(col("products", "id", bigint.clone(), false), "identity", json!(true)),
        col("products", "sku", varchar(64), false),
        col("products", "title", text.clone(), false),
        col("products", "price", money.clone(), false),
        {"target": "tbl_products", "op": "add_primary_key", "payload": {"id": "pk_products", "columns": ["id"]}},
        {"target": "tbl_products", "op": "add_unique", "payload": {"id": "uq_products_sku", "name": "products_sku_key", "columns": ["sku"]}},
        {"target": "tbl_products", "op": "add_check", "payload": {"id": "ck_products_price", "name": "products_price_check", "expression": "price >= 0"}},
        {"target": "sch_public", "op": "add_table", "payload": {"id": "tbl_orders", "name": "orders"}},
        with(col("orders", "id", bigint.clone(), false), "identity", json!(true)),
        col("orders", "customer_id", bigint.clone(), false),
        with(col("orders", "status", varchar(20), false), "default", json!("'new'")),
        with(col("orders", "created_at", tstz.clone(), false), "default", json!("CURRENT_TIMESTAMP")),
        {"target": "tbl_orders", "op": "add_primary_key", "payload": {"id": "pk_orders", "columns": ["id"]}},
        {"target": "tbl_orders", "op": "add_foreign_key", "payload": {"id": "fk_orders_customer", "name": "orders_customer_id_fkey",
            "columns": ["customer_id"], "references": {"schema": "public", "table": "customers"}, "ref_columns": ["id"]}},
    ]);
    let v020 = json!([
        {"target": "sch_public", "op": "add_table", "payload": {"id": "tbl_order_items", "name": "order_items"}},
        col("order_items", "order_id", bigint.clone(), false),
        col("order_items", "product_id", bigint.clone(), false),
        with(col("order_items", "quantity", int, false), "default", json!("1")),
        col("order_items", "unit_price", money, false),
        {"target": "tbl_order_items", "op": "add_primary_key", "payload": {"id": "pk_order_items", "columns": ["order_id", "product_id"]}},
        {"target": "tbl_order_items", "op": "add_check", "payload": {"id": "ck_order_items_quantity", "name": "order_items_quantity_check", "expression": "quantity > 0"}},
        {"target": "tbl_order_items", "op": "add_foreign_key", "payload": {"id": "fk_order_items_order", "name": "order_items_order_id_fkey",
            "columns": ["order_id"], "references": {"schema": "public", "table": "orders"}, "ref_columns": ["id"], "on_delete": "cascade"}},
        {"target": "tbl_order_items", "op": "add_foreign_key", "payload": {"id": "fk_order_items_product", "name": "order_items_product_id_fkey",
            "columns": ["product_id"], "references": {"schema": "public", "table": "products"}, "ref_columns": ["id"]}},
        col("customers", "phone", varchar(32), true),
        {"target": "tbl_orders", "op": "add_index", "payload": {"id": "idx_orders_customer", "name": "orders_customer_id_idx", "columns": ["customer_id"]}},
    ]);
    let v100 = json!([
        {"target": "col_customers_name", "op": "rename_column", "payload": {"name": "full_name"}},
        {"target": "col_products_price", "op": "change_column_type", "payload": {"data_type": {"kind": "decimal", "precision": 12, "scale": 2}}},
        col("orders", "note", text, true),
        {"target": "tbl_orders", "op": "set_table_property", "payload": {"key": "owner", "value": "checkout-team"}},
    ]);
    vec![
        (
            v010,
            "Initial shop schema",
            "Customers, products and orders.",
            vec![],
        ),
        (
            v020,
            "Order lines and phone numbers",
            "Adds order_items, customers.phone and an index on orders.customer_id.",
            vec![],
        ),
        (
            v100,
            "Public API names",
            "Renames customers.name to full_name for the public API; widens products.price.",
            vec!["release".to_string()],
        ),
    ]
}
