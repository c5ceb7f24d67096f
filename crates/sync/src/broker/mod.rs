//! Broker targets: a job whose target is `nats:SUBJECT` (or `kafka:TOPIC`)
//! publishes every changed row as an event instead of merging it into a
//! table. NATS and Kafka are two implementations of [`Publish`].
//!
//! A run reads the job's checkpoint from a [`CheckpointStore`] (the
//! workspace: a broker has no transaction to keep it in), streams batches
//! from the source in (tracking column, key) order exactly like a table
//! sync, turns each row into a [`ChangeEvent`], publishes the batch's
//! messages and waits until the broker acknowledged every one of them; only
//! then does the checkpoint move. A crash between the acks and the
//! checkpoint write re-publishes that batch with the same idempotency ids:
//! delivery is at-least-once, with ids that let consumers (and JetStream's
//! duplicate window, through `Nats-Msg-Id`) drop the repeats.

pub mod event;
pub mod kafka;
pub mod nats;

pub use event::{
    decode_arrow, encode, events_of_batch, idempotency_id, ChangeEvent, Encoding, EventShape,
    Message, Operation, ARROW_EVENT_COLUMNS,
};

use crate::engine::{check_nulls, minus_lag, RunOptions, RunOutcome, RunReport, RunStatus};
use crate::error::{SyncError, SyncResult};
use crate::job::{JobSpec, Merge};
use crate::plan;
use crate::progress::{SyncPhase, SyncProgress};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::time::Instant;
use tidemark_db::transfer::{
    key_text, Endpoint, ExtractRequest, ExtractedBatch, Scalar, Start, TableInfo, TableName,
};
use tokio::sync::mpsc;

/// The default NATS server.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// Which broker, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broker {
    /// NATS JetStream at this URL.
    Nats {
        /// The server URL, e.g. `nats://127.0.0.1:4222`.
        url: String,
    },
    /// Kafka at these bootstrap servers (`HOST:PORT`).
    Kafka {
        /// The bootstrap servers.
        brokers: Vec<String>,
    },
}

/// A job's broker target, stored as the job's target text:
/// `nats:SUBJECT?url=URL&encoding=json` or
/// `kafka:TOPIC?brokers=H:P,H:P&encoding=arrow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerTarget {
    /// The broker.
    pub broker: Broker,
    /// The NATS subject or Kafka topic.
    pub subject: String,
    /// How events are encoded.
    pub encoding: Encoding,
}

impl BrokerTarget {
    /// Whether a job's target text names a broker rather than a connection.
    pub fn is_broker(target: &str) -> bool {
        let t = target.trim_start();
        t.starts_with("nats:") || t.starts_with("kafka:")
    }

    /// Reads a stored target text (see the type's documentation).
    pub fn parse(text: &str) -> Result<BrokerTarget, String> {
        let text = text.trim();
        let (scheme, rest) = text.split_once(':').ok_or_else(|| {
            format!("`{text}` is not a broker target (nats:SUBJECT or kafka:TOPIC)")
        })?;
        let (subject, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut url = None;
        let mut brokers = None;
        let mut encoding = Encoding::Json;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` in target `{text}` is not NAME=VALUE"))?;
            match k {
                "url" => url = Some(v.to_string()),
                "brokers" => brokers = Some(v.to_string()),
                "encoding" => encoding = v.parse()?,
                other => return Err(format!("unknown option `{other}` in target `{text}`")),
            }
        }
        let broker = match scheme {
            "nats" => {
                if brokers.is_some() {
                    return Err("--brokers is for kafka targets; use --nats-url".into());
                }
                Broker::Nats {
                    url: url.unwrap_or_else(|| DEFAULT_NATS_URL.to_string()),
                }
            }
            "kafka" => {
                if url.is_some() {
                    return Err("--nats-url is for nats targets; use --brokers".into());
                }
                let list: Vec<String> = brokers
                    .unwrap_or_default()
                    .split(',')
                    .map(|b| b.trim().to_string())
                    .filter(|b| !b.is_empty())
                    .collect();
                if list.is_empty() {
                    return Err("a kafka target needs --brokers HOST:PORT[,HOST:PORT…]".into());
                }
                Broker::Kafka { brokers: list }
            }
            other => {
                return Err(format!(
                    "`{other}:` is not a broker: use nats:SUBJECT or kafka:TOPIC"
                ))
            }
        };
        check_subject(scheme, subject)?;
        Ok(BrokerTarget {
            broker,
            subject: subject.to_string(),
            encoding,
        })
    }

    /// The target text for `--target nats:SUBJECT` / `kafka:TOPIC` with its
    /// options, checked.
    pub fn compose(
        target: &str,
        nats_url: Option<&str>,
        brokers: Option<&str>,
        encoding: Option<&str>,
    ) -> Result<String, String> {
        if target.contains('?') {
            return Err(format!(
                "`{target}`: give the options with --nats-url, --brokers and --encoding"
            ));
        }
        let mut opts = Vec::new();
        if let Some(u) = nats_url {
            opts.push(format!("url={u}"));
        }
        if let Some(b) = brokers {
            opts.push(format!("brokers={b}"));
        }
        if let Some(e) = encoding {
            opts.push(format!("encoding={}", e.parse::<Encoding>()?));
        }
        let text = if opts.is_empty() {
            target.to_string()
        } else {
            format!("{target}?{}", opts.join("&"))
        };
        Ok(BrokerTarget::parse(&text)?.to_string())
    }
}

impl fmt::Display for BrokerTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.broker {
            Broker::Nats { url } => write!(f, "nats:{}?url={url}", self.subject)?,
            Broker::Kafka { brokers } => {
                write!(f, "kafka:{}?brokers={}", self.subject, brokers.join(","))?
            }
        }
        write!(f, "&encoding={}", self.encoding)
    }
}

fn check_subject(scheme: &str, subject: &str) -> Result<(), String> {
    let what = if scheme == "nats" { "subject" } else { "topic" };
    if subject.is_empty() {
        return Err(format!("the {what} is empty: {scheme}:NAME"));
    }
    let bad = |c: char| {
        c.is_whitespace()
            || (scheme == "nats" && matches!(c, '*' | '>'))
            || (scheme == "kafka" && !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    };
    if subject.chars().any(bad) || (scheme == "nats" && subject.split('.').any(str::is_empty)) {
        return Err(format!(
            "`{subject}` is not a valid {what} to publish to{}",
            if scheme == "nats" {
                " (no wildcards, spaces or empty tokens)"
            } else {
                " (letters, digits, . _ -)"
            }
        ));
    }
    Ok(())
}

/// A broker job's checkpoint, kept where the job is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrokerCheckpoint {
    /// The job.
    pub job: String,
    /// The tracking column the position refers to (`None`: key order).
    pub cursor_column: Option<String>,
    /// The tracking column's value at the position.
    pub cursor: Option<Scalar>,
    /// The key's values at the position.
    pub key: Vec<Scalar>,
    /// The run that wrote it.
    pub run_id: String,
    /// The position as users read it, e.g. `updated_at=…, id=17`.
    pub watermark: String,
}

/// Where broker jobs keep their checkpoints (the workspace). `save` is
/// called only after the broker acknowledged every event up to the
/// position.
pub trait CheckpointStore: Send + Sync {
    /// The job's checkpoint, if it has one.
    fn load(&self, job: &str) -> Result<Option<BrokerCheckpoint>, String>;
    /// Stores the job's new checkpoint durably.
    fn save(&self, checkpoint: &BrokerCheckpoint) -> Result<(), String>;
}

/// Checks a broker job against its source (nothing is published): the
/// options a broker can honour, the source table, key, tracking column and
/// soft-delete column. The target was checked when it was parsed; the
/// broker is not contacted.
pub async fn check(
    job: &JobSpec,
    _target: &BrokerTarget,
    source: &mut dyn Endpoint,
) -> SyncResult<(TableInfo, plan::SourcePlan)> {
    plan::check_options(job)?;
    if matches!(job.merge, Merge::Replace | Merge::Scd2) {
        return Err(SyncError::BadInput(format!(
            "--merge {} does not apply to a broker target: events are published as they change; use --merge upsert",
            job.merge
        )));
    }
    if job.reconcile_deletes {
        return Err(SyncError::BadInput(
            "--reconcile-deletes compares the target's keys with the source, and a broker has no keys to read: use --deleted-column for deletes".into(),
        ));
    }
    let name = source.resolve(&TableName::parse(&job.source_table)).await?;
    let info = source.describe(&name).await?.ok_or_else(|| {
        SyncError::BadInput(format!(
            "source table {name} does not exist on {}: check --table",
            source.target()
        ))
    })?;
    let splan = plan::plan_source(job, &info, false)?;
    check_nulls(source, &info, &splan).await?;
    Ok((info, splan))
}

/// A future a [`Publish`] implementation returns.
pub type PublishFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One broker's publishing side. A run publishes each batch's messages with
/// [`Publish::publish_all`] and moves the checkpoint only after it returned
/// `Ok`: every message of the batch was acknowledged by the broker.
pub trait Publish: Send {
    /// Publishes every message and waits for every acknowledgement; returns
    /// how many the broker reported as already received (dropped).
    fn publish_all<'a>(&'a mut self, messages: &'a [Message])
        -> PublishFuture<'a, SyncResult<u64>>;
    /// Flushes and drops the connection.
    fn close(self: Box<Self>) -> PublishFuture<'static, ()>;
}

impl Publish for nats::Publisher {
    fn publish_all<'a>(
        &'a mut self,
        messages: &'a [Message],
    ) -> PublishFuture<'a, SyncResult<u64>> {
        Box::pin(nats::Publisher::publish_all(self, messages))
    }
    fn close(self: Box<Self>) -> PublishFuture<'static, ()> {
        Box::pin(nats::Publisher::close(*self))
    }
}

impl Publish for kafka::Publisher {
    fn publish_all<'a>(
        &'a mut self,
        messages: &'a [Message],
    ) -> PublishFuture<'a, SyncResult<u64>> {
        Box::pin(kafka::Publisher::publish_all(self, messages))
    }
    fn close(self: Box<Self>) -> PublishFuture<'static, ()> {
        // Every produce request was already acknowledged.
        Box::pin(async {})
    }
}

/// Connects to the target's broker.
pub async fn connect(target: &BrokerTarget) -> SyncResult<Box<dyn Publish>> {
    Ok(match &target.broker {
        Broker::Nats { url } => Box::new(nats::Publisher::connect(url, &target.subject).await?),
        Broker::Kafka { brokers } => {
            Box::new(kafka::Publisher::connect(brokers, &target.subject).await?)
        }
    })
}

fn tuple_cmp(a: &[Scalar], b: &[Scalar]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.compare(y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

/// Runs one broker job once: publish every change after the checkpoint,
/// moving the checkpoint after each acknowledged batch.
pub async fn run(
    job: &JobSpec,
    target: &BrokerTarget,
    source: &mut dyn Endpoint,
    checkpoints: &dyn CheckpointStore,
    opts: &RunOptions,
) -> RunOutcome {
    let clock = Instant::now();
    let mut report = RunReport {
        job: job.name.clone(),
        run_id: opts.run_id.clone(),
        started_at: Utc::now(),
        duration_ms: 0,
        status: RunStatus::Succeeded,
        full: false,
        rows_extracted: 0,
        rows_loaded: 0,
        inserted: 0,
        updated: 0,
        deleted: 0,
        skipped: 0,
        batches: 0,
        previous_watermark: None,
        watermark: None,
        notes: Vec::new(),
        error: None,
    };
    let outcome = run_inner(job, target, source, checkpoints, opts, &mut report, clock).await;
    report.duration_ms = clock.elapsed().as_millis() as u64;
    report.rows_loaded = report.inserted + report.updated;
    let error = outcome.err();
    if let Some(e) = &error {
        report.status = RunStatus::Failed;
        report.error = Some(e.to_string());
    }
    (opts.progress)(&progress(job, opts, &report, clock, error.is_some()));
    RunOutcome { report, error }
}

fn progress(
    job: &JobSpec,
    opts: &RunOptions,
    report: &RunReport,
    clock: Instant,
    failed: bool,
) -> SyncProgress {
    let secs = clock.elapsed().as_secs_f64();
    SyncProgress {
        job: job.name.clone(),
        run_id: opts.run_id.clone(),
        phase: if failed {
            SyncPhase::Failed
        } else {
            SyncPhase::Finished
        },
        rows: report.rows_extracted,
        batches: report.batches,
        rows_per_sec: if secs > 0.0 {
            report.rows_extracted as f64 / secs
        } else {
            0.0
        },
        elapsed_ms: clock.elapsed().as_millis() as u64,
        watermark: report.watermark.clone(),
        message: report.error.clone(),
    }
}

async fn run_inner(
    job: &JobSpec,
    target: &BrokerTarget,
    source: &mut dyn Endpoint,
    checkpoints: &dyn CheckpointStore,
    opts: &RunOptions,
    report: &mut RunReport,
    clock: Instant,
) -> SyncResult<()> {
    let emit = |phase: SyncPhase, rows: u64, batches: u64, watermark: Option<String>| {
        let secs = clock.elapsed().as_secs_f64();
        (opts.progress)(&SyncProgress {
            job: job.name.clone(),
            run_id: opts.run_id.clone(),
            phase,
            rows,
            batches,
            rows_per_sec: if secs > 0.0 { rows as f64 / secs } else { 0.0 },
            elapsed_ms: clock.elapsed().as_millis() as u64,
            watermark,
            message: None,
        })
    };
    emit(SyncPhase::Validating, 0, 0, None);
    let (info, splan) = check(job, target, source).await?;
    report.notes.extend(splan.notes.iter().cloned());
    let order = plan::order_columns(&splan);
    let cp = checkpoints
        .load(&job.name)
        .map_err(|e| SyncError::Broker(format!("reading the checkpoint of {}: {e}", job.name)))?;
    let stored: Option<Vec<Scalar>> = cp.as_ref().map(|c| {
        c.cursor
            .iter()
            .cloned()
            .chain(c.key.iter().cloned())
            .collect()
    });
    if let Some(c) = &cp {
        report.previous_watermark = Some(c.watermark.clone());
    }
    let usable = match (&cp, &stored) {
        (Some(c), Some(s)) => {
            splan.cursor.is_some()
                && c.cursor_column == splan.cursor
                && c.cursor.is_some()
                && s.len() == order.len()
        }
        _ => false,
    };
    let (start, mut position) = if splan.cursor.is_none() {
        (Start::All, None)
    } else if cp.is_none() {
        report
            .notes
            .push("no checkpoint yet: this first run publishes every row of the source".into());
        (Start::All, None)
    } else if !usable {
        report.notes.push(format!(
            "the stored checkpoint does not fit this job's tracking column {}: publishing every row",
            splan.cursor.as_deref().unwrap_or("-")
        ));
        (Start::All, None)
    } else {
        let stored = stored.clone().unwrap_or_default();
        match job.lag() {
            Some(lag) => match minus_lag(&stored[0], lag) {
                Some(bound) => (Start::CursorAbove(bound), Some(stored)),
                None => (Start::After(stored.clone()), Some(stored)),
            },
            None => (Start::After(stored.clone()), Some(stored)),
        }
    };
    report.full = matches!(start, Start::All);
    let mut publisher = connect(target).await?;
    let columns = plan::extract_columns(&info);
    let shape = EventShape {
        job: job.name.clone(),
        table: info.name.to_string(),
        columns: columns.clone(),
        key: splan.key.clone(),
        cursor: splan.cursor.clone(),
        deleted_column: job.deleted_column.clone(),
    };
    let req = ExtractRequest {
        table: info.name.clone(),
        columns,
        order: order.clone(),
        start,
        batch_size: job.batch_size as usize,
    };
    let has_cursor = splan.cursor.is_some();
    emit(SyncPhase::Loading, 0, 0, report.previous_watermark.clone());
    let (tx, mut rx) = mpsc::channel::<ExtractedBatch>(2);
    let mut interrupted = false;
    let mut duplicates = 0u64;
    let loader = async {
        while let Some(eb) = rx.recv().await {
            let events = events_of_batch(&shape, &eb.batch);
            let messages = encode(target.encoding, &shape, &eb.batch, &events)
                .map_err(|e| SyncError::Broker(format!("encoding a batch: {e}")))?;
            duplicates += publisher.publish_all(&messages).await?;
            // Every event of the batch is acknowledged: the checkpoint may
            // move (never backwards, with a lag re-read window).
            let next = match &position {
                Some(p) if tuple_cmp(p, &eb.last) == Ordering::Greater => p.clone(),
                _ => eb.last.clone(),
            };
            let watermark = key_text(&order, &next);
            checkpoints
                .save(&BrokerCheckpoint {
                    job: job.name.clone(),
                    cursor_column: splan.cursor.clone(),
                    cursor: if has_cursor {
                        next.first().cloned()
                    } else {
                        None
                    },
                    key: next[has_cursor as usize..].to_vec(),
                    run_id: opts.run_id.clone(),
                    watermark: watermark.clone(),
                })
                .map_err(|e| {
                    SyncError::Broker(format!("saving the checkpoint of {}: {e}", job.name))
                })?;
            position = Some(next);
            let deletes = events.iter().filter(|e| e.op == Operation::Delete).count() as u64;
            report.deleted += deletes;
            report.inserted += events.len() as u64 - deletes;
            report.rows_extracted += eb.batch.num_rows() as u64;
            report.batches += 1;
            emit(
                SyncPhase::Loading,
                report.rows_extracted,
                report.batches,
                Some(watermark),
            );
            if opts.cancel.load(AtomicOrdering::SeqCst) {
                interrupted = true;
                break;
            }
        }
        drop(rx);
        Ok::<(), SyncError>(())
    };
    let (extracted, published) = tokio::join!(source.extract(&req, tx), loader);
    published?;
    extracted?;
    publisher.close().await;
    report.watermark = position
        .as_ref()
        .map(|p| key_text(&order, p))
        .or_else(|| report.previous_watermark.clone());
    report.notes.push(format!(
        "published {} events to {} ({} encoding){}",
        report.inserted + report.deleted,
        target.subject,
        target.encoding,
        if duplicates > 0 {
            format!("; the broker dropped {duplicates} messages as already received")
        } else {
            String::new()
        }
    ));
    if interrupted {
        report.status = RunStatus::Interrupted;
        report.notes.push(
            "stopped on request after an acknowledged batch; the next run resumes from its checkpoint"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_compose_and_print_back() {
        let t = BrokerTarget::parse("nats:orders.changes").unwrap();
        assert_eq!(
            t.broker,
            Broker::Nats {
                url: DEFAULT_NATS_URL.into()
            }
        );
        assert_eq!(t.encoding, Encoding::Json);
        assert_eq!(BrokerTarget::parse(&t.to_string()).unwrap(), t);
        let text = BrokerTarget::compose(
            "kafka:orders",
            None,
            Some("k1:9092, k2:9092"),
            Some("arrow"),
        )
        .unwrap();
        assert_eq!(text, "kafka:orders?brokers=k1:9092,k2:9092&encoding=arrow");
        assert!(BrokerTarget::is_broker(&text));
        assert!(!BrokerTarget::is_broker("warehouse"));
        assert!(BrokerTarget::parse("nats:orders.*").is_err());
        assert!(BrokerTarget::parse("nats:a..b").is_err());
        assert!(BrokerTarget::parse("kafka:orders").is_err());
        assert!(BrokerTarget::compose("nats:x", None, Some("k:1"), None).is_err());
        assert!(BrokerTarget::compose("nats:x", None, None, Some("xml")).is_err());
    }
}
