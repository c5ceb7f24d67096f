//! Tidemark's Apache Iceberg tables: an embedded SQL catalog kept in a
//! SQLite file next to the workspace, tables created from an Arrow schema,
//! appends committed as one fast-append snapshot (with summary properties,
//! which is where a sync keeps its watermark), snapshot listing, scans of a
//! snapshot (or of the table as of a time), and the rows added between two
//! snapshots.
//!
//! The catalog is interoperable: PyIceberg's `SqlCatalog` with the same
//! catalog name ([`CATALOG_NAME`]), the same SQLite file and the same
//! warehouse folder reads and writes the same tables. A team's tables can
//! instead live behind an Iceberg REST catalog ([`Warehouse::connect`]);
//! everything else works the same on either. The type mapping is
//! documented in `docs/iceberg.md`.

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema as ArrowSchema, SchemaRef, TimeUnit};
use chrono::{DateTime, TimeZone, Utc};
use futures::TryStreamExt;
use iceberg::arrow::schema_to_arrow_schema;
use iceberg::io::LocalFsStorageFactory;
use iceberg::spec::{
    DataFileFormat, ManifestContentType, ManifestList, ManifestStatus, NestedField, PrimitiveType,
    Schema, Type,
};
use iceberg::table::Table;
use iceberg::transaction::{AddColumn, ApplyTransactionAction, Transaction};
use iceberg::writer::base_writer::data_file_writer::{DataFileWriter, DataFileWriterBuilder};
use iceberg::writer::file_writer::location_generator::{
    DefaultFileNameGenerator, DefaultLocationGenerator,
};
use iceberg::writer::file_writer::rolling_writer::RollingFileWriterBuilder;
use iceberg::writer::file_writer::ParquetWriterBuilder;
use iceberg::writer::{IcebergWriter, IcebergWriterBuilder};
use iceberg::{Catalog, CatalogBuilder, NamespaceIdent, TableCreation, TableIdent};
use iceberg_catalog_rest::{
    RestCatalogBuilder, REST_CATALOG_PROP_URI, REST_CATALOG_PROP_WAREHOUSE,
};
use iceberg_catalog_sql::{SqlBindStyle, SqlCatalogBuilder};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The catalog name Tidemark registers its tables under (a column of the
/// catalog's `iceberg_tables`; other readers must use the same name).
pub const CATALOG_NAME: &str = "tidemark";

/// Rows per Parquet row group in the data files Tidemark writes.
pub const ROW_GROUP_ROWS: usize = 512 * 1024;

/// Why an Iceberg operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IcebergError {
    /// The request does not fit the tables (unknown table, a bad name, a
    /// type with no Iceberg equivalent, a snapshot that is not there).
    #[error("{0}")]
    BadInput(String),
    /// The Iceberg library, the catalog or the warehouse failed.
    #[error("iceberg: {0}")]
    Iceberg(#[from] iceberg::Error),
    /// A batch could not be converted to the table's schema.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A data file could not be read.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// The catalog folder could not be created.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A REST catalog could not be reached or refused the request.
    #[error("{0}")]
    Catalog(String),
}

impl IcebergError {
    /// Whether the error is the user's to fix rather than a failure.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, IcebergError::BadInput(_))
    }
}

/// The crate's result type.
pub type IcebergResult<T> = Result<T, IcebergError>;

fn bad<T>(message: impl Into<String>) -> IcebergResult<T> {
    Err(IcebergError::BadInput(message.into()))
}

/// A table's name: `namespace.table`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TableRef {
    /// The namespace (one level).
    pub namespace: String,
    /// The table.
    pub name: String,
}

impl TableRef {
    /// Parses `namespace.table`.
    pub fn parse(text: &str) -> IcebergResult<TableRef> {
        let t = text.trim();
        match t.rsplit_once('.') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() => Ok(TableRef {
                namespace: ns.to_string(),
                name: name.to_string(),
            }),
            _ => bad(format!(
                "`{text}` is not an Iceberg table name: write NAMESPACE.TABLE"
            )),
        }
    }

    fn ident(&self) -> TableIdent {
        TableIdent::new(
            NamespaceIdent::new(self.namespace.clone()),
            self.name.clone(),
        )
    }
}

impl fmt::Display for TableRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace, self.name)
    }
}

/// One snapshot of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotInfo {
    /// Snapshot id.
    pub id: i64,
    /// The snapshot it was made on.
    pub parent: Option<i64>,
    /// Sequence number.
    pub sequence: i64,
    /// When it was committed.
    pub committed_at: DateTime<Utc>,
    /// `append`, `overwrite`, …
    pub operation: String,
    /// Rows its data files added (from the summary).
    pub added_rows: Option<u64>,
    /// The summary properties (Iceberg's own and the writer's).
    pub summary: BTreeMap<String, String>,
}

/// Which state of a table to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// The current snapshot.
    Current,
    /// A snapshot by id.
    Snapshot(i64),
    /// The snapshot that was current at this time.
    AsOf(DateTime<Utc>),
}

/// An Iceberg REST catalog to connect to.
#[derive(Clone, PartialEq, Eq)]
pub struct RestCatalog {
    /// The catalog's base URL (`http(s)://host:port[/path]`, without the
    /// `/v1` the protocol adds).
    pub url: String,
    /// The warehouse to ask the catalog for, when it serves several.
    pub warehouse: Option<String>,
    /// A bearer token, sent as `Authorization: Bearer …`. Never printed.
    pub token: Option<String>,
}

impl fmt::Debug for RestCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestCatalog")
            .field("url", &self.url)
            .field("warehouse", &self.warehouse)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

impl RestCatalog {
    /// Checks that `url` is a catalog address Tidemark can use: `http` or
    /// `https`, a host, no credentials, no query. Returns it without a
    /// trailing `/`.
    pub fn check_url(url: &str) -> IcebergResult<String> {
        let u = url.trim();
        let Some((scheme, rest)) = u.split_once("://") else {
            return bad(format!(
                "--catalog-url `{u}` is not a URL: write http://HOST:PORT (the REST catalog's base address)"
            ));
        };
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return bad(format!(
                "--catalog-url must be an http:// or https:// address (got {scheme}://…)"
            ));
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return bad(
                "--catalog-url must not carry credentials: put the token in an environment variable and name it with --catalog-token-env",
            );
        }
        if authority.is_empty() {
            return bad(format!("--catalog-url `{u}` has no host"));
        }
        if rest.contains(['?', '#']) {
            return bad(format!(
                "--catalog-url `{u}` has a query or fragment: give the catalog's base address only"
            ));
        }
        Ok(u.trim_end_matches('/').to_string())
    }
}

/// Where a [`Warehouse`]'s catalog is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogLocation {
    /// The embedded SQL catalog in this folder.
    Embedded(PathBuf),
    /// A REST catalog at this URL.
    Rest(String),
}

impl fmt::Display for CatalogLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogLocation::Embedded(dir) => write!(f, "{}", dir.display()),
            CatalogLocation::Rest(url) => write!(f, "{url}"),
        }
    }
}

/// An Iceberg catalog and its tables: the embedded SQL catalog (a SQLite
/// file and a warehouse folder) or a REST catalog.
pub struct Warehouse {
    catalog: Box<dyn Catalog>,
    location: CatalogLocation,
}

impl fmt::Debug for Warehouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Warehouse")
            .field("location", &self.location)
            .finish()
    }
}

/// The catalog folder that belongs to a workspace file: `<stem>-iceberg`
/// next to it.
pub fn dir_for_workspace(workspace: &Path) -> PathBuf {
    let stem = workspace
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workspace".into());
    workspace
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(format!("{stem}-iceberg"))
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Warehouse {
    /// Opens (creating if needed) the catalog in `dir`: `dir/catalog.db`
    /// and the warehouse `dir/warehouse`.
    pub async fn open(dir: &Path) -> IcebergResult<Warehouse> {
        std::fs::create_dir_all(dir.join("warehouse"))?;
        let dir = std::fs::canonicalize(dir)?;
        let catalog = SqlCatalogBuilder::default()
            .uri(format!(
                "sqlite:{}?mode=rwc",
                dir.join("catalog.db").display()
            ))
            .warehouse_location(file_url(&dir.join("warehouse")))
            .sql_bind_style(SqlBindStyle::QMark)
            .with_storage_factory(Arc::new(LocalFsStorageFactory))
            .load(CATALOG_NAME, HashMap::new())
            .await?;
        Ok(Warehouse {
            catalog: Box::new(catalog),
            location: CatalogLocation::Embedded(dir),
        })
    }

    /// Connects to a REST catalog and checks that it answers (its
    /// `/v1/config`). Table data is read and written where the catalog's
    /// table locations point; Tidemark reads and writes `file://`
    /// locations.
    pub async fn connect(rest: &RestCatalog) -> IcebergResult<Warehouse> {
        let url = RestCatalog::check_url(&rest.url)?;
        let mut props = HashMap::from([(REST_CATALOG_PROP_URI.to_string(), url.clone())]);
        if let Some(w) = rest.warehouse.as_ref().filter(|w| !w.trim().is_empty()) {
            props.insert(
                REST_CATALOG_PROP_WAREHOUSE.to_string(),
                w.trim().to_string(),
            );
        }
        if let Some(t) = rest.token.as_ref().filter(|t| !t.is_empty()) {
            props.insert("token".to_string(), t.clone());
        }
        let catalog = RestCatalogBuilder::default()
            .with_storage_factory(Arc::new(LocalFsStorageFactory))
            .load(CATALOG_NAME, props)
            .await
            .map_err(|e| rest_error(&url, e))?;
        // The first call fetches the catalog's config: an unreachable
        // server or a refused token shows here, not halfway through a run.
        catalog
            .list_namespaces(None)
            .await
            .map_err(|e| rest_error(&url, e))?;
        Ok(Warehouse {
            catalog: Box::new(catalog),
            location: CatalogLocation::Rest(url),
        })
    }

    /// Where the catalog is.
    pub fn location(&self) -> &CatalogLocation {
        &self.location
    }

    /// Every table in every namespace, sorted.
    pub async fn tables(&self) -> IcebergResult<Vec<TableRef>> {
        let mut out = Vec::new();
        for ns in self.catalog.list_namespaces(None).await? {
            for t in self.catalog.list_tables(&ns).await? {
                out.push(TableRef {
                    namespace: t.namespace().join("."),
                    name: t.name().to_string(),
                });
            }
        }
        out.sort();
        Ok(out)
    }

    /// Whether the table exists.
    pub async fn exists(&self, table: &TableRef) -> IcebergResult<bool> {
        let ns = NamespaceIdent::new(table.namespace.clone());
        if !self.catalog.namespace_exists(&ns).await? {
            return Ok(false);
        }
        Ok(self.catalog.table_exists(&table.ident()).await?)
    }

    async fn load(&self, table: &TableRef) -> IcebergResult<Table> {
        if !self.exists(table).await? {
            return bad(format!("Iceberg table {table} does not exist"));
        }
        Ok(self.catalog.load_table(&table.ident()).await?)
    }

    /// Creates a table (and its namespace) with `schema` mapped to Iceberg
    /// types (field ids 1, 2, … in column order) and `key` as its
    /// identifier fields (made required).
    pub async fn create_table(
        &self,
        table: &TableRef,
        schema: &ArrowSchema,
        key: &[String],
    ) -> IcebergResult<()> {
        let iceberg_schema = iceberg_schema(schema, key)?;
        let ns = NamespaceIdent::new(table.namespace.clone());
        if !self.catalog.namespace_exists(&ns).await? {
            self.catalog.create_namespace(&ns, HashMap::new()).await?;
        }
        let creation = TableCreation::builder()
            .name(table.name.clone())
            .schema(iceberg_schema)
            .build();
        self.catalog.create_table(&ns, creation).await?;
        Ok(())
    }

    /// The table's current schema as Arrow (with Parquet field ids).
    pub async fn arrow_schema(&self, table: &TableRef) -> IcebergResult<SchemaRef> {
        let t = self.load(table).await?;
        Ok(Arc::new(schema_to_arrow_schema(
            t.metadata().current_schema(),
        )?))
    }

    /// Brings the table's schema in line with `source` (the columns a
    /// writer is about to append, with their nullability): a new nullable
    /// column is added to the table (a new schema with a fresh field id;
    /// older snapshots keep reading with theirs), and its name is returned.
    /// A change the table cannot follow (a column gone, a type changed, a
    /// new NOT NULL column, a required column now nullable) is refused as
    /// [`IcebergError::BadInput`] naming the columns, and nothing is
    /// changed. `key` columns are the table's identifier fields.
    pub async fn evolve_schema(
        &self,
        table: &TableRef,
        source: &ArrowSchema,
        key: &[String],
    ) -> IcebergResult<Vec<String>> {
        let t = self.load(table).await?;
        let current = t.metadata().current_schema();
        let mut problems = Vec::new();
        for f in current.as_struct().fields() {
            if source.field_with_name(&f.name).is_err() {
                problems.push(format!(
                    "column {} is in the Iceberg table but no longer in the source",
                    f.name
                ));
            }
        }
        let mut added = Vec::new();
        for f in source.fields() {
            let ty = iceberg_type(f.data_type())
                .map_err(|e| IcebergError::BadInput(format!("column {}: {e}", f.name())))?;
            match current.field_by_name(f.name()) {
                Some(existing) => {
                    if *existing.field_type != Type::Primitive(ty.clone()) {
                        problems.push(format!(
                            "column {} changed type: the Iceberg table has {}, the source now gives {}",
                            f.name(),
                            existing.field_type,
                            ty
                        ));
                    } else if existing.required
                        && f.is_nullable()
                        && !key.iter().any(|k| k == f.name())
                    {
                        problems.push(format!(
                            "column {} now allows NULL but is required in the Iceberg table",
                            f.name()
                        ));
                    }
                }
                None if !f.is_nullable() => problems.push(format!(
                    "new column {} is NOT NULL: rows already in the Iceberg table have no value for it",
                    f.name()
                )),
                None => added.push((f.name().clone(), ty)),
            }
        }
        if !problems.is_empty() {
            return bad(format!(
                "the source's columns changed in a way Iceberg table {table} cannot follow: {}. Nothing was written. Undo the change in the source (only new nullable columns are added automatically), or sync into a new Iceberg table (another --target)",
                problems.join("; ")
            ));
        }
        if added.is_empty() {
            return Ok(added.into_iter().map(|(n, _)| n).collect());
        }
        let tx = Transaction::new(&t);
        let mut action = tx.update_schema();
        for (name, ty) in &added {
            action = action.add_column(AddColumn::optional(name, Type::Primitive(ty.clone())));
        }
        let tx = action.apply(tx)?;
        tx.commit(self.catalog.as_ref()).await?;
        Ok(added.into_iter().map(|(n, _)| n).collect())
    }

    /// The table's identifier fields (its key), in field-id order.
    pub async fn identifier_fields(&self, table: &TableRef) -> IcebergResult<Vec<String>> {
        let t = self.load(table).await?;
        let schema = t.metadata().current_schema();
        let mut ids: Vec<i32> = schema.identifier_field_ids().collect();
        ids.sort();
        Ok(ids
            .into_iter()
            .filter_map(|id| schema.field_by_id(id).map(|f| f.name.clone()))
            .collect())
    }

    /// The table's snapshots, oldest first.
    pub async fn snapshots(&self, table: &TableRef) -> IcebergResult<Vec<SnapshotInfo>> {
        let t = self.load(table).await?;
        let mut out: Vec<SnapshotInfo> = t
            .metadata()
            .snapshots()
            .map(|s| {
                let summary: BTreeMap<String, String> = s
                    .summary()
                    .additional_properties
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                SnapshotInfo {
                    id: s.snapshot_id(),
                    parent: s.parent_snapshot_id(),
                    sequence: s.sequence_number(),
                    committed_at: Utc
                        .timestamp_millis_opt(s.timestamp_ms())
                        .single()
                        .unwrap_or_default(),
                    operation: s.summary().operation.as_str().to_string(),
                    added_rows: summary.get("added-records").and_then(|v| v.parse().ok()),
                    summary,
                }
            })
            .collect();
        out.sort_by_key(|s| (s.sequence, s.committed_at));
        Ok(out)
    }

    /// The id of the current snapshot, if the table has one.
    pub async fn current_snapshot(&self, table: &TableRef) -> IcebergResult<Option<i64>> {
        Ok(self.load(table).await?.metadata().current_snapshot_id())
    }

    /// The snapshot an [`At`] refers to (`None`: the table has no rows yet,
    /// or had none at that time).
    pub async fn resolve(&self, table: &TableRef, at: At) -> IcebergResult<Option<i64>> {
        let t = self.load(table).await?;
        resolve_at(&t, table, at)
    }

    /// Reads the table as of `at`, up to `limit` rows.
    pub async fn scan(
        &self,
        table: &TableRef,
        at: At,
        limit: Option<usize>,
    ) -> IcebergResult<(SchemaRef, Vec<RecordBatch>)> {
        let t = self.load(table).await?;
        let schema: SchemaRef = Arc::new(schema_to_arrow_schema(t.metadata().current_schema())?);
        let Some(id) = resolve_at(&t, table, at)? else {
            return Ok((schema, Vec::new()));
        };
        let mut stream = t.scan().snapshot_id(id).build()?.to_arrow().await?;
        let mut out = Vec::new();
        let mut rows = 0usize;
        while let Some(batch) = stream.try_next().await? {
            rows += batch.num_rows();
            out.push(batch);
            if limit.is_some_and(|l| rows >= l) {
                break;
            }
        }
        Ok((schema, truncate(out, limit)))
    }

    /// The rows added by the snapshots after `after` (exclusive; `None`:
    /// from the first snapshot) up to `upto` (inclusive), oldest first, by
    /// walking each snapshot's manifests and reading only the data files it
    /// added. Deletes and overwrites are not applied.
    pub async fn added_rows(
        &self,
        table: &TableRef,
        after: Option<i64>,
        upto: i64,
    ) -> IcebergResult<(SchemaRef, Vec<RecordBatch>)> {
        let t = self.load(table).await?;
        let md = t.metadata();
        let schema: SchemaRef = Arc::new(schema_to_arrow_schema(md.current_schema())?);
        let mut chain = Vec::new();
        let mut cursor = Some(upto);
        while let Some(id) = cursor {
            if Some(id) == after {
                break;
            }
            let s = md.snapshot_by_id(id).ok_or_else(|| {
                IcebergError::BadInput(format!("snapshot {id} is not in {table}"))
            })?;
            chain.push(s.clone());
            cursor = s.parent_snapshot_id();
        }
        if let Some(a) = after {
            if cursor != Some(a) {
                return bad(format!(
                    "snapshot {a} is not an ancestor of snapshot {upto} in {table}"
                ));
            }
        }
        chain.reverse();
        let io = t.file_io();
        let mut out = Vec::new();
        for snap in chain {
            let bytes = io.new_input(snap.manifest_list())?.read().await?;
            let list = ManifestList::parse_with_version(&bytes, md.format_version())?;
            for mf in list.entries() {
                if mf.added_snapshot_id != snap.snapshot_id()
                    || mf.content != ManifestContentType::Data
                {
                    continue;
                }
                let manifest = mf.load_manifest(io).await?;
                for entry in manifest.entries() {
                    if entry.status() != ManifestStatus::Added
                        || entry.snapshot_id() != Some(snap.snapshot_id())
                    {
                        continue;
                    }
                    let data = io.new_input(entry.file_path())?.read().await?;
                    let reader = ParquetRecordBatchReaderBuilder::try_new(data)?.build()?;
                    for batch in reader {
                        out.push(conform(&batch?, &schema)?);
                    }
                }
            }
        }
        Ok((schema, out))
    }

    /// Starts an append: batches written to it become data files that no
    /// reader sees until [`Appender::commit`].
    pub async fn appender(&self, table: &TableRef) -> IcebergResult<Appender<'_>> {
        let t = self.load(table).await?;
        let schema = Arc::new(schema_to_arrow_schema(t.metadata().current_schema())?);
        // Row groups of at most ROW_GROUP_ROWS rows keep the writer's memory
        // bounded however many rows one snapshot holds.
        let parquet = ParquetWriterBuilder::new(
            WriterProperties::builder()
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .build(),
            t.metadata().current_schema().clone(),
        );
        let location = DefaultLocationGenerator::new(t.metadata())?;
        let names = DefaultFileNameGenerator::new(
            format!("tidemark-{}", uuid::Uuid::now_v7().simple()),
            None,
            DataFileFormat::Parquet,
        );
        let rolling = RollingFileWriterBuilder::new_with_default_file_size(
            parquet,
            t.file_io().clone(),
            location,
            names,
        );
        let writer = DataFileWriterBuilder::new(rolling).build(None).await?;
        Ok(Appender {
            warehouse: self,
            table: table.clone(),
            base: t.metadata().current_snapshot_id(),
            schema,
            writer,
            rows: 0,
        })
    }

    /// Appends `batches` as one snapshot with `properties` in its summary;
    /// `None` (and no snapshot) when there are no rows.
    pub async fn append(
        &self,
        table: &TableRef,
        batches: &[RecordBatch],
        properties: HashMap<String, String>,
    ) -> IcebergResult<Option<i64>> {
        let mut a = self.appender(table).await?;
        for b in batches {
            a.write(b).await?;
        }
        a.commit(properties).await
    }
}

type Writer =
    DataFileWriter<ParquetWriterBuilder, DefaultLocationGenerator, DefaultFileNameGenerator>;

/// An append in progress (see [`Warehouse::appender`]).
pub struct Appender<'w> {
    warehouse: &'w Warehouse,
    table: TableRef,
    base: Option<i64>,
    schema: SchemaRef,
    writer: Writer,
    rows: u64,
}

impl Appender<'_> {
    /// The current snapshot when the append started.
    pub fn base(&self) -> Option<i64> {
        self.base
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes a batch (columns matched by name and converted to the
    /// table's types) to data files.
    pub async fn write(&mut self, batch: &RecordBatch) -> IcebergResult<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let b = conform(batch, &self.schema)?;
        self.writer.write(b).await?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Commits every written row as one fast-append snapshot with
    /// `properties` in its summary. With no rows, nothing is committed and
    /// `None` is returned. A concurrent commit moving the table is retried
    /// on the new base (appends do not conflict).
    pub async fn commit(
        mut self,
        properties: HashMap<String, String>,
    ) -> IcebergResult<Option<i64>> {
        let files = self.writer.close().await?;
        if self.rows == 0 || files.is_empty() {
            return Ok(None);
        }
        let t = self.warehouse.load(&self.table).await?;
        let tx = Transaction::new(&t);
        let tx = tx
            .fast_append()
            .add_data_files(files)
            .set_snapshot_properties(properties)
            .apply(tx)?;
        let t = tx.commit(self.warehouse.catalog.as_ref()).await?;
        Ok(t.metadata().current_snapshot_id())
    }
}

/// A REST catalog's failure to connect, in words a user can act on. The
/// library's message (status, the response's redacted headers and body)
/// follows; the request's token is never part of it.
fn rest_error(url: &str, e: iceberg::Error) -> IcebergError {
    let text = e.to_string();
    // Matched on the status line, not on digits: the URL's port may hold them.
    let what = if text.contains("401 Unauthorized") {
        "refused the token (401 Unauthorized): check the token in the environment variable named by --catalog-token-env"
    } else if text.contains("403 Forbidden") {
        "refused access (403 Forbidden): the token is not allowed to list namespaces"
    } else if text.contains("404 Not Found") {
        "has no Iceberg REST API there (404 Not Found): give the base address, without /v1 (and --catalog-warehouse if the catalog serves several warehouses)"
    } else if [
        "failed to execute http request",
        "error sending request",
        "connection refused",
        "dns error",
    ]
    .iter()
    .any(|m| text.to_ascii_lowercase().contains(m))
    {
        "could not be reached: check the address and that the catalog is running"
    } else {
        "failed"
    };
    IcebergError::Catalog(format!("the Iceberg REST catalog at {url} {what} ({text})"))
}

fn resolve_at(t: &Table, table: &TableRef, at: At) -> IcebergResult<Option<i64>> {
    let md = t.metadata();
    match at {
        At::Current => Ok(md.current_snapshot_id()),
        At::Snapshot(id) => match md.snapshot_by_id(id) {
            Some(_) => Ok(Some(id)),
            None => bad(format!("snapshot {id} is not in {table}")),
        },
        At::AsOf(time) => {
            let ms = time.timestamp_millis();
            Ok(md
                .history()
                .iter()
                .filter(|l| l.timestamp_ms <= ms)
                .max_by_key(|l| l.timestamp_ms)
                .map(|l| l.snapshot_id))
        }
    }
}

fn truncate(batches: Vec<RecordBatch>, limit: Option<usize>) -> Vec<RecordBatch> {
    let Some(limit) = limit else { return batches };
    let mut left = limit;
    let mut out = Vec::new();
    for b in batches {
        if left == 0 {
            break;
        }
        let n = b.num_rows().min(left);
        out.push(b.slice(0, n));
        left -= n;
    }
    out
}

/// Converts `batch` to `schema`: columns matched by name, cast to the
/// target type; a missing column is NULL.
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> IcebergResult<RecordBatch> {
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let col = match batch.schema().index_of(f.name()) {
            Ok(i) => {
                let c = batch.column(i);
                if c.data_type() == f.data_type() {
                    c.clone()
                } else {
                    arrow_cast::cast(c, f.data_type())?
                }
            }
            Err(_) => arrow_array::new_null_array(f.data_type(), batch.num_rows()),
        };
        cols.push(col);
    }
    Ok(RecordBatch::try_new(schema.clone(), cols)?)
}

/// The Iceberg type an Arrow type is stored as (see `docs/iceberg.md`).
pub fn iceberg_type(dt: &DataType) -> IcebergResult<PrimitiveType> {
    Ok(match dt {
        DataType::Boolean => PrimitiveType::Boolean,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            PrimitiveType::Int
        }
        DataType::Int64 | DataType::UInt32 => PrimitiveType::Long,
        DataType::UInt64 => PrimitiveType::Decimal {
            precision: 20,
            scale: 0,
        },
        DataType::Float16 | DataType::Float32 => PrimitiveType::Float,
        DataType::Float64 => PrimitiveType::Double,
        DataType::Decimal128(p, s) if *s >= 0 && *p <= 38 => PrimitiveType::Decimal {
            precision: *p as u32,
            scale: *s as u32,
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => PrimitiveType::String,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => PrimitiveType::Binary,
        DataType::FixedSizeBinary(16) => PrimitiveType::Uuid,
        DataType::FixedSizeBinary(n) => PrimitiveType::Fixed(*n as u64),
        DataType::Date32 | DataType::Date64 => PrimitiveType::Date,
        DataType::Time32(_) | DataType::Time64(_) => PrimitiveType::Time,
        DataType::Timestamp(TimeUnit::Nanosecond, None) => PrimitiveType::TimestampNs,
        DataType::Timestamp(TimeUnit::Nanosecond, Some(_)) => PrimitiveType::TimestamptzNs,
        DataType::Timestamp(_, None) => PrimitiveType::Timestamp,
        DataType::Timestamp(_, Some(_)) => PrimitiveType::Timestamptz,
        other => {
            return bad(format!(
                "Arrow type {other} has no Iceberg equivalent in Tidemark (see docs/iceberg.md)"
            ))
        }
    })
}

/// The Iceberg schema for an Arrow schema: field ids 1, 2, … in column
/// order; `key` columns are required and become the identifier fields.
pub fn iceberg_schema(schema: &ArrowSchema, key: &[String]) -> IcebergResult<Schema> {
    let mut fields = Vec::new();
    let mut ids = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        let id = i as i32 + 1;
        let is_key = key.iter().any(|k| k == f.name());
        let ty = Type::Primitive(iceberg_type(f.data_type())?);
        fields.push(Arc::new(NestedField::new(
            id,
            f.name(),
            ty,
            is_key || !f.is_nullable(),
        )));
        if is_key {
            ids.push(id);
        }
    }
    for k in key {
        if schema.field_with_name(k).is_err() {
            return bad(format!("key column {k} is not among the columns"));
        }
    }
    Ok(Schema::builder()
        .with_fields(fields)
        .with_identifier_field_ids(ids)
        .build()?)
}

/// Rows as JSON values, for display: numbers and booleans as themselves,
/// everything else (decimals, dates, timestamps, UUIDs, bytes) as Arrow's
/// text form, NULL as `null`.
pub fn rows_as_json(
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> IcebergResult<(Vec<String>, Vec<Vec<serde_json::Value>>)> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
    use arrow_array::Array;
    use arrow_cast::display::{ArrayFormatter, FormatOptions};
    use serde_json::Value;
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows = Vec::new();
    let options = FormatOptions::default();
    for b in batches {
        let b = conform(b, schema)?;
        let formatters = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for r in 0..b.num_rows() {
            let mut row = Vec::with_capacity(columns.len());
            for (c, f) in b.columns().iter().zip(&formatters) {
                let v = if c.is_null(r) {
                    Value::Null
                } else {
                    match c.data_type() {
                        DataType::Boolean => Value::Bool(c.as_boolean().value(r)),
                        DataType::Int32 => Value::from(c.as_primitive::<Int32Type>().value(r)),
                        DataType::Int64 => Value::from(c.as_primitive::<Int64Type>().value(r)),
                        DataType::Float32 => Value::from(c.as_primitive::<Float32Type>().value(r)),
                        DataType::Float64 => Value::from(c.as_primitive::<Float64Type>().value(r)),
                        DataType::FixedSizeBinary(16) => Value::String(
                            uuid::Uuid::from_slice(c.as_fixed_size_binary().value(r))
                                .map(|u| u.hyphenated().to_string())
                                .unwrap_or_else(|_| f.value(r).to_string()),
                        ),
                        _ => Value::String(f.value(r).to_string()),
                    }
                };
                row.push(v);
            }
            rows.push(row);
        }
    }
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iceberg::ErrorKind;

    fn status(code: &str) -> iceberg::Error {
        iceberg::Error::new(
            ErrorKind::Unexpected,
            "Received response with unexpected status code",
        )
        .with_context("status", code)
    }

    #[test]
    fn rest_errors_are_told_apart_by_status_line_not_by_digits_in_the_url() {
        let url = "http://127.0.0.1:40401";
        let unreachable = iceberg::Error::new(
            ErrorKind::Unexpected,
            "Failed to execute http request, source: error sending request for url (http://127.0.0.1:40401/v1/config)",
        );
        let said = |e| rest_error(url, e).to_string();
        assert!(said(unreachable).contains("could not be reached"));
        assert!(said(status("401 Unauthorized")).contains("refused the token"));
        assert!(said(status("403 Forbidden")).contains("refused access"));
        assert!(said(status("404 Not Found")).contains("no Iceberg REST API there"));
        assert!(said(status("500 Internal Server Error")).contains(&format!("{url} failed")));
    }

    #[test]
    fn catalog_urls_without_credentials_or_queries_are_accepted() {
        assert_eq!(
            RestCatalog::check_url(" https://cat.example/api/ ").unwrap(),
            "https://cat.example/api"
        );
        for bad in [
            "cat.example",
            "ftp://cat.example",
            "http://u:p@cat.example",
            "http:///v1",
            "http://cat.example/?x=1",
        ] {
            assert!(
                RestCatalog::check_url(bad).unwrap_err().is_bad_input(),
                "{bad}"
            );
        }
    }
}
