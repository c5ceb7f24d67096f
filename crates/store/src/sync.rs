//! Sync jobs, their run history and the mirror of their checkpoints.
//!
//! The store keeps jobs as plain rows; what the fields mean (detection,
//! merge modes) is the sync engine's business.

use crate::error::{Result, SqlContext, StoreError};
use crate::read::ReadView;
use crate::write::WriteTx;
use crate::{format_time, parse_time};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// A stored sync job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncJobRow {
    /// Unique name.
    pub name: String,
    /// Source connection name.
    pub source: String,
    /// Source table.
    pub source_table: String,
    /// Target connection name.
    pub target: String,
    /// Target table.
    pub target_table: String,
    /// timestamp, sequence, version or full.
    pub detect: String,
    /// Whether the detection was chosen automatically.
    pub detect_auto: bool,
    /// The tracking column.
    pub tracking_column: Option<String>,
    /// append, upsert, replace or scd2.
    pub merge: String,
    /// Key columns (empty: the source's primary key).
    pub key_columns: Vec<String>,
    /// overwrite, skip or error.
    pub on_conflict: String,
    /// Rows per batch.
    #[ts(type = "number")]
    pub batch_size: u64,
    /// Re-read window in milliseconds.
    #[ts(type = "number")]
    pub lag_ms: u64,
    /// Soft-delete column.
    pub deleted_column: Option<String>,
    /// Whether runs remove target rows whose key left the source.
    pub reconcile_deletes: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// The REST catalog holding the job's Iceberg table (`None`: the
    /// workspace's embedded catalog, or no Iceberg table at all).
    #[serde(default)]
    pub iceberg_catalog: Option<RestCatalogRef>,
    /// A chained job's staging table, `iceberg:NAMESPACE.TABLE`: each run
    /// appends the source's changes to it as one snapshot, then merges that
    /// snapshot into the target.
    #[serde(default)]
    pub via: Option<String>,
}

/// How to reach an Iceberg REST catalog. The token itself is never stored:
/// only the name of the environment variable that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct RestCatalogRef {
    /// The catalog's base URL.
    pub url: String,
    /// The warehouse to ask the catalog for.
    #[serde(default)]
    pub warehouse: Option<String>,
    /// The environment variable holding the bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
}

/// One run of a job, as recorded in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncRunRow {
    /// Run id.
    pub id: String,
    /// The job.
    pub job: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (`None` while running, or if the process died).
    pub finished_at: Option<DateTime<Utc>>,
    /// running, succeeded, interrupted or failed.
    pub status: String,
    /// Whether it read every row.
    pub full_sync: bool,
    /// Rows read from the source.
    #[ts(type = "number")]
    pub rows_extracted: u64,
    /// Rows written (inserted + updated).
    #[ts(type = "number")]
    pub rows_loaded: u64,
    /// Rows inserted.
    #[ts(type = "number")]
    pub rows_inserted: u64,
    /// Rows updated.
    #[ts(type = "number")]
    pub rows_updated: u64,
    /// Rows deleted.
    #[ts(type = "number")]
    pub rows_deleted: u64,
    /// Rows that changed nothing.
    #[ts(type = "number")]
    pub rows_skipped: u64,
    /// Batches committed.
    #[ts(type = "number")]
    pub batches: u64,
    /// Duration.
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// Checkpoint before the run.
    pub previous_watermark: Option<String>,
    /// Checkpoint after the run.
    pub watermark: Option<String>,
    /// Notes (fallbacks, tables created).
    pub notes: Vec<String>,
    /// The error of a failed run.
    pub error: Option<String>,
}

/// The workspace's copy of a job's checkpoint (the target holds the truth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SyncCheckpointMirror {
    /// The job.
    pub job: String,
    /// The tracking column the position refers to.
    pub cursor_column: Option<String>,
    /// The position, readable (`updated_at=…, id=17`).
    pub watermark: Option<String>,
    /// The position as stored in the target (JSON).
    pub position: Option<String>,
    /// The run that wrote it.
    pub run_id: Option<String>,
    /// When the target recorded it.
    pub updated_at: Option<String>,
    /// When it was copied here.
    pub mirrored_at: DateTime<Utc>,
}

fn bad_time(what: String) -> impl Fn(String) -> StoreError {
    move |reason| StoreError::Unreadable {
        what: what.clone(),
        reason,
    }
}

fn json_list(text: &str, what: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Unreadable {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

const JOB_COLUMNS: &str = "name, source, source_table, target, target_table, detect, detect_auto, \
     tracking_column, merge_mode, key_columns, on_conflict, batch_size, lag_ms, deleted_column, \
     reconcile_deletes, created_at, iceberg_catalog, via";

type JobTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    Option<String>,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    bool,
    String,
    Option<String>,
    Option<String>,
);

fn job_tuple(r: &Row<'_>) -> rusqlite::Result<JobTuple> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
        r.get(15)?,
        r.get(16)?,
        r.get(17)?,
    ))
}

fn job_row(t: JobTuple) -> Result<SyncJobRow> {
    let what = format!("sync job {}", t.0);
    let iceberg_catalog =
        t.16.as_deref()
            .map(serde_json::from_str::<RestCatalogRef>)
            .transpose()
            .map_err(|e| StoreError::Unreadable {
                what: format!("the Iceberg catalog of {what}"),
                reason: e.to_string(),
            })?;
    Ok(SyncJobRow {
        iceberg_catalog,
        via: t.17,
        key_columns: json_list(&t.9, &what)?,
        created_at: parse_time(&t.15).map_err(bad_time(what))?,
        name: t.0,
        source: t.1,
        source_table: t.2,
        target: t.3,
        target_table: t.4,
        detect: t.5,
        detect_auto: t.6,
        tracking_column: t.7,
        merge: t.8,
        on_conflict: t.10,
        batch_size: t.11.max(0) as u64,
        lag_ms: t.12.max(0) as u64,
        deleted_column: t.13,
        reconcile_deletes: t.14,
    })
}

const RUN_COLUMNS: &str = "id, job, started_at, finished_at, status, full_sync, rows_extracted, \
     rows_loaded, rows_inserted, rows_updated, rows_deleted, rows_skipped, batches, duration_ms, \
     previous_watermark, watermark, notes, error";

fn run_row(r: &Row<'_>) -> rusqlite::Result<Result<SyncRunRow>> {
    let id: String = r.get(0)?;
    let started: String = r.get(2)?;
    let finished: Option<String> = r.get(3)?;
    let notes: String = r.get(16)?;
    let count = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
    let what = format!("sync run {id}");
    let built = (|| -> Result<SyncRunRow> {
        Ok(SyncRunRow {
            started_at: parse_time(&started).map_err(bad_time(what.clone()))?,
            finished_at: finished
                .as_deref()
                .map(parse_time)
                .transpose()
                .map_err(bad_time(what.clone()))?,
            notes: json_list(&notes, &what)?,
            id: id.clone(),
            job: String::new(),
            status: String::new(),
            full_sync: false,
            rows_extracted: 0,
            rows_loaded: 0,
            rows_inserted: 0,
            rows_updated: 0,
            rows_deleted: 0,
            rows_skipped: 0,
            batches: 0,
            duration_ms: 0,
            previous_watermark: None,
            watermark: None,
            error: None,
        })
    })();
    let Ok(mut row) = built else { return Ok(built) };
    row.job = r.get(1)?;
    row.status = r.get(4)?;
    row.full_sync = r.get(5)?;
    row.rows_extracted = count(6)?;
    row.rows_loaded = count(7)?;
    row.rows_inserted = count(8)?;
    row.rows_updated = count(9)?;
    row.rows_deleted = count(10)?;
    row.rows_skipped = count(11)?;
    row.batches = count(12)?;
    row.duration_ms = count(13)?;
    row.previous_watermark = r.get(14)?;
    row.watermark = r.get(15)?;
    row.error = r.get(17)?;
    Ok(Ok(row))
}

impl ReadView {
    /// Every sync job, by name.
    pub fn sync_jobs(&self) -> Result<Vec<SyncJobRow>> {
        let action = "listing sync jobs";
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM sync_jobs ORDER BY name"
            ))
            .ctx(action)?;
        let rows = stmt
            .query_map([], job_tuple)
            .ctx(action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(action)?;
        rows.into_iter().map(job_row).collect()
    }

    /// The sync job named `name`, or [`StoreError::UnknownSyncJob`].
    pub fn sync_job(&self, name: &str) -> Result<SyncJobRow> {
        let action = format!("looking up sync job {name}");
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM sync_jobs WHERE name = ?1"
            ))
            .ctx(&action)?
            .query_row([name], job_tuple)
            .optional()
            .ctx(&action)?;
        row.map(job_row)
            .transpose()?
            .ok_or_else(|| StoreError::UnknownSyncJob(name.to_string()))
    }

    /// A job's runs, newest first, at most `limit`.
    pub fn sync_runs(&self, job: &str, limit: usize) -> Result<Vec<SyncRunRow>> {
        let action = format!("reading the run history of {job}");
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM sync_runs WHERE job = ?1 \
                 ORDER BY started_at DESC, id DESC LIMIT ?2"
            ))
            .ctx(&action)?;
        let rows = stmt
            .query_map(params![job, limit as i64], run_row)
            .ctx(&action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(&action)?;
        rows.into_iter().collect()
    }

    /// The mirrored checkpoint of a job, if one was mirrored.
    pub fn sync_checkpoint(&self, job: &str) -> Result<Option<SyncCheckpointMirror>> {
        let action = format!("reading the checkpoint of {job}");
        let row = self
            .conn
            .prepare_cached(
                "SELECT job, cursor_column, watermark, position, run_id, updated_at, mirrored_at \
                 FROM sync_checkpoints WHERE job = ?1",
            )
            .ctx(&action)?
            .query_row([job], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .optional()
            .ctx(&action)?;
        row.map(|r| {
            Ok(SyncCheckpointMirror {
                mirrored_at: parse_time(&r.6).map_err(bad_time(format!("checkpoint of {job}")))?,
                job: r.0,
                cursor_column: r.1,
                watermark: r.2,
                position: r.3,
                run_id: r.4,
                updated_at: r.5,
            })
        })
        .transpose()
    }
}

impl WriteTx<'_> {
    /// Adds a job; [`StoreError::SyncJobExists`] if the name is taken.
    pub fn add_sync_job(&self, job: &SyncJobRow) -> Result<()> {
        if self.sync_job(&job.name).is_ok() {
            return Err(StoreError::SyncJobExists(job.name.clone()));
        }
        let keys = serde_json::to_string(&job.key_columns).map_err(|source| StoreError::Json {
            what: format!("the key of sync job {}", job.name),
            source,
        })?;
        let catalog = job
            .iceberg_catalog
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|source| StoreError::Json {
                what: format!("the Iceberg catalog of sync job {}", job.name),
                source,
            })?;
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO sync_jobs ({JOB_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?18)"
            ))
            .ctx("adding a sync job")?
            .execute(params![
                job.name,
                job.source,
                job.source_table,
                job.target,
                job.target_table,
                job.detect,
                job.detect_auto,
                job.tracking_column,
                job.merge,
                keys,
                job.on_conflict,
                job.batch_size as i64,
                job.lag_ms as i64,
                job.deleted_column,
                job.reconcile_deletes,
                format_time(&job.created_at),
                catalog,
                job.via,
            ])
            .ctx(&format!("adding sync job {}", job.name))?;
        Ok(())
    }

    /// Removes a job with its history and mirrored checkpoint;
    /// [`StoreError::UnknownSyncJob`] if there is none.
    pub fn remove_sync_job(&self, name: &str) -> Result<()> {
        let action = format!("removing sync job {name}");
        for sql in [
            "DELETE FROM sync_runs WHERE job = ?1",
            "DELETE FROM sync_checkpoints WHERE job = ?1",
        ] {
            self.conn().execute(sql, [name]).ctx(&action)?;
        }
        let n = self
            .conn()
            .execute("DELETE FROM sync_jobs WHERE name = ?1", [name])
            .ctx(&action)?;
        if n == 0 {
            return Err(StoreError::UnknownSyncJob(name.to_string()));
        }
        Ok(())
    }

    /// Records a run (insert or replace by id): call it when the run starts
    /// (status `running`) and again when it ends.
    pub fn record_sync_run(&self, run: &SyncRunRow) -> Result<()> {
        let notes = serde_json::to_string(&run.notes).map_err(|source| StoreError::Json {
            what: format!("the notes of run {}", run.id),
            source,
        })?;
        self.conn()
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO sync_runs ({RUN_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
            ))
            .ctx("recording a sync run")?
            .execute(params![
                run.id,
                run.job,
                format_time(&run.started_at),
                run.finished_at.as_ref().map(format_time),
                run.status,
                run.full_sync,
                run.rows_extracted as i64,
                run.rows_loaded as i64,
                run.rows_inserted as i64,
                run.rows_updated as i64,
                run.rows_deleted as i64,
                run.rows_skipped as i64,
                run.batches as i64,
                run.duration_ms as i64,
                run.previous_watermark,
                run.watermark,
                notes,
                run.error,
            ])
            .ctx(&format!("recording sync run {}", run.id))?;
        Ok(())
    }

    /// Stores the copy of a job's checkpoint.
    pub fn mirror_sync_checkpoint(&self, m: &SyncCheckpointMirror) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO sync_checkpoints \
                 (job, cursor_column, watermark, position, run_id, updated_at, mirrored_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .ctx("mirroring a checkpoint")?
            .execute(params![
                m.job,
                m.cursor_column,
                m.watermark,
                m.position,
                m.run_id,
                m.updated_at,
                format_time(&m.mirrored_at),
            ])
            .ctx(&format!("mirroring the checkpoint of {}", m.job))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workspace;

    fn job(name: &str) -> SyncJobRow {
        SyncJobRow {
            name: name.into(),
            source: "src".into(),
            source_table: "public.orders".into(),
            target: "dst".into(),
            target_table: "orders".into(),
            detect: "timestamp".into(),
            detect_auto: true,
            tracking_column: Some("updated_at".into()),
            merge: "upsert".into(),
            key_columns: vec!["id".into()],
            on_conflict: "overwrite".into(),
            batch_size: 500,
            lag_ms: 5000,
            deleted_column: None,
            reconcile_deletes: true,
            created_at: Utc::now(),
            iceberg_catalog: None,
            via: None,
        }
    }

    #[test]
    fn a_chained_job_on_a_rest_catalog_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(dir.path().join("w.tmdb")).unwrap();
        let mut j = job("chained");
        j.iceberg_catalog = Some(RestCatalogRef {
            url: "http://catalog.internal:8181".into(),
            warehouse: Some("analytics".into()),
            token_env: Some("CATALOG_TOKEN".into()),
        });
        j.via = Some("iceberg:stage.orders".into());
        ws.write(|tx| tx.add_sync_job(&j)).unwrap();
        let back = ws.sync_job("chained").unwrap();
        assert_eq!(back.iceberg_catalog, j.iceberg_catalog);
        assert_eq!(back.via, j.via);
        let plain = job("plain");
        ws.write(|tx| tx.add_sync_job(&plain)).unwrap();
        let back = ws.sync_job("plain").unwrap();
        assert_eq!((back.iceberg_catalog, back.via), (None, None));
    }

    #[test]
    fn jobs_runs_and_checkpoints_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(dir.path().join("w.tmdb")).unwrap();
        let j = job("orders");
        ws.write(|tx| tx.add_sync_job(&j)).unwrap();
        assert!(matches!(
            ws.write(|tx| tx.add_sync_job(&j)),
            Err(StoreError::SyncJobExists(_))
        ));
        let mut back = ws.sync_job("orders").unwrap();
        back.created_at = j.created_at;
        assert_eq!(back.key_columns, j.key_columns);
        assert_eq!(ws.sync_jobs().unwrap().len(), 1);
        let mut run = SyncRunRow {
            id: "run_1".into(),
            job: "orders".into(),
            started_at: Utc::now(),
            finished_at: None,
            status: "running".into(),
            full_sync: true,
            rows_extracted: 0,
            rows_loaded: 0,
            rows_inserted: 0,
            rows_updated: 0,
            rows_deleted: 0,
            rows_skipped: 0,
            batches: 0,
            duration_ms: 0,
            previous_watermark: None,
            watermark: None,
            notes: vec![],
            error: None,
        };
        ws.write(|tx| tx.record_sync_run(&run)).unwrap();
        run.status = "succeeded".into();
        run.rows_extracted = 42;
        run.notes = vec!["first run".into()];
        run.finished_at = Some(Utc::now());
        ws.write(|tx| tx.record_sync_run(&run)).unwrap();
        let runs = ws.sync_runs("orders", 10).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].rows_extracted, 42);
        assert_eq!(runs[0].notes, vec!["first run".to_string()]);
        let m = SyncCheckpointMirror {
            job: "orders".into(),
            cursor_column: Some("updated_at".into()),
            watermark: Some("updated_at=2024-01-01 00:00:00.000000, id=3".into()),
            position: None,
            run_id: Some("run_1".into()),
            updated_at: None,
            mirrored_at: Utc::now(),
        };
        ws.write(|tx| tx.mirror_sync_checkpoint(&m)).unwrap();
        assert_eq!(
            ws.sync_checkpoint("orders").unwrap().unwrap().watermark,
            m.watermark
        );
        ws.write(|tx| tx.remove_sync_job("orders")).unwrap();
        assert!(ws.sync_checkpoint("orders").unwrap().is_none());
        assert!(ws.sync_runs("orders", 10).unwrap().is_empty());
        assert!(matches!(
            ws.sync_job("orders"),
            Err(StoreError::UnknownSyncJob(_))
        ));
    }
}
