//! Change events: one per changed row, and their encodings on the wire.
//!
//! The encoding is the same whichever broker carries it (NATS JetStream,
//! Kafka): JSON, one message per event, or Arrow IPC, one message per batch
//! with the event fields as extra columns.

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use tidemark_db::transfer::{
    canonical_key, row_cells_text, scalar_at, ColumnInfo, Scalar, ValueKind,
};

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// The row was inserted or changed: its columns are its new values.
    Upsert,
    /// The row was (soft-)deleted: its columns are its last values.
    Delete,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
        })
    }
}

/// How events are put into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// One JSON object per event, one message per event.
    #[default]
    Json,
    /// One Arrow IPC stream per batch: the row's columns plus `_tidemark_*`
    /// columns for the event fields.
    Arrow,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Json => "json",
            Encoding::Arrow => "arrow",
        })
    }
}

impl FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Encoding::Json),
            "arrow" => Ok(Encoding::Arrow),
            other => Err(format!("`{other}` is not one of: json, arrow")),
        }
    }
}

/// One changed row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// The sync job.
    pub job: String,
    /// The source table.
    pub table: String,
    /// Upsert or delete.
    pub op: Operation,
    /// The key columns and their values.
    pub key: serde_json::Map<String, serde_json::Value>,
    /// Every column of the row.
    pub row: serde_json::Map<String, serde_json::Value>,
    /// The tracking column's value (as text), `None` for full detection.
    pub cursor: Option<String>,
    /// SHA-256 (hex) of (job, key, cursor value): equal for a re-published
    /// event, different for any other change.
    pub id: String,
}

/// The idempotency id of a change: SHA-256 hex over the job, the canonical
/// key and the cursor value, each length-prefixed so no two different
/// triples hash the same input.
pub fn idempotency_id(job: &str, key: &[Scalar], cursor: Option<&Scalar>) -> String {
    let mut h = Sha256::new();
    let mut part = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    part(job);
    part(&canonical_key(key));
    part(&cursor.map(Scalar::canonical).unwrap_or_default());
    hex::encode(h.finalize())
}

/// What the encoder needs to know about the batches of one job.
#[derive(Debug, Clone)]
pub struct EventShape {
    /// The job.
    pub job: String,
    /// The source table, as events name it.
    pub table: String,
    /// The batch's columns, in order.
    pub columns: Vec<ColumnInfo>,
    /// The key columns.
    pub key: Vec<String>,
    /// The tracking column.
    pub cursor: Option<String>,
    /// The soft-delete column: rows with it true (or, for other types, not
    /// NULL) are deletes.
    pub deleted_column: Option<String>,
}

impl EventShape {
    fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

fn json_value(text: Option<String>, kind: &ValueKind) -> serde_json::Value {
    use serde_json::Value;
    let Some(t) = text else { return Value::Null };
    match kind {
        ValueKind::Bool => match t.as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => Value::String(t),
        },
        ValueKind::Int { .. } => t
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| t.parse::<u64>().map(Value::from))
            .unwrap_or(Value::String(t)),
        ValueKind::Float { .. } => {
            match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Some(n) => Value::Number(n),
                None => Value::String(t),
            }
        }
        ValueKind::Json => serde_json::from_str(&t).unwrap_or(Value::String(t)),
        // Decimals, text, dates, times, bytes and UUIDs stay exact as text.
        _ => Value::String(t),
    }
}

/// The events of one extracted batch, in the batch's (cursor, key) order.
pub fn events_of_batch(shape: &EventShape, batch: &RecordBatch) -> Vec<ChangeEvent> {
    let kinds: Vec<&ValueKind> = shape.columns.iter().map(|c| &c.kind).collect();
    let cells = row_cells_text(batch, &kinds);
    let key_idx: Vec<usize> = shape.key.iter().filter_map(|k| shape.index(k)).collect();
    let cursor_idx = shape.cursor.as_deref().and_then(|c| shape.index(c));
    let deleted_idx = shape.deleted_column.as_deref().and_then(|c| shape.index(c));
    cells
        .into_iter()
        .enumerate()
        .map(|(r, row_cells)| {
            let key = scalar_at(batch, &kinds, &key_idx, r);
            let cursor = cursor_idx.map(|c| scalar_at(batch, &kinds, &[c], r).remove(0));
            let op = match deleted_idx {
                Some(d) => match (&shape.columns[d].kind, row_cells[d].as_deref()) {
                    (_, None) => Operation::Upsert,
                    (ValueKind::Bool, Some(v)) if v == "false" || v == "0" => Operation::Upsert,
                    _ => Operation::Delete,
                },
                None => Operation::Upsert,
            };
            let mut row = serde_json::Map::new();
            for (col, text) in shape.columns.iter().zip(row_cells) {
                row.insert(col.name.clone(), json_value(text, &col.kind));
            }
            let key_map = shape
                .key
                .iter()
                .map(|k| (k.clone(), row.get(k).cloned().unwrap_or_default()))
                .collect();
            ChangeEvent {
                id: idempotency_id(&shape.job, &key, cursor.as_ref()),
                job: shape.job.clone(),
                table: shape.table.clone(),
                op,
                key: key_map,
                row,
                cursor: cursor.as_ref().map(Scalar::display),
            }
        })
        .collect()
}

/// One message for a broker: its payload, its dedupe id (JetStream's
/// `Nats-Msg-Id`, a Kafka header) and its partitioning key.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The dedupe id: the event's id (JSON), or SHA-256 over the batch's
    /// event ids (Arrow).
    pub id: String,
    /// The partitioning key: the row's canonical key (JSON), or the job
    /// (Arrow batches).
    pub key: String,
    /// The encoded payload.
    pub payload: Vec<u8>,
    /// How many events the message carries.
    pub events: usize,
}

/// Encodes a batch's events into messages.
pub fn encode(
    encoding: Encoding,
    shape: &EventShape,
    batch: &RecordBatch,
    events: &[ChangeEvent],
) -> Result<Vec<Message>, String> {
    match encoding {
        Encoding::Json => events
            .iter()
            .map(|e| {
                Ok(Message {
                    id: e.id.clone(),
                    key: serde_json::Value::Object(e.key.clone()).to_string(),
                    payload: serde_json::to_vec(e).map_err(|err| err.to_string())?,
                    events: 1,
                })
            })
            .collect(),
        Encoding::Arrow => {
            if events.is_empty() {
                return Ok(Vec::new());
            }
            let mut h = Sha256::new();
            for e in events {
                h.update(e.id.as_bytes());
            }
            Ok(vec![Message {
                id: hex::encode(h.finalize()),
                key: shape.job.clone(),
                payload: encode_arrow(shape, batch, events)?,
                events: events.len(),
            }])
        }
    }
}

/// The column names the Arrow encoding adds to a batch.
pub const ARROW_EVENT_COLUMNS: [&str; 4] = [
    "_tidemark_op",
    "_tidemark_key",
    "_tidemark_cursor",
    "_tidemark_id",
];

fn encode_arrow(
    shape: &EventShape,
    batch: &RecordBatch,
    events: &[ChangeEvent],
) -> Result<Vec<u8>, String> {
    use arrow_schema::{Field, Schema};
    let mut fields: Vec<Arc<Field>> = batch.schema().fields().iter().cloned().collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let extra: [Vec<Option<String>>; 4] = [
        events.iter().map(|e| Some(e.op.to_string())).collect(),
        events
            .iter()
            .map(|e| Some(serde_json::Value::Object(e.key.clone()).to_string()))
            .collect(),
        events.iter().map(|e| e.cursor.clone()).collect(),
        events.iter().map(|e| Some(e.id.clone())).collect(),
    ];
    for (name, values) in ARROW_EVENT_COLUMNS.iter().zip(extra) {
        fields.push(Arc::new(Field::new(
            *name,
            arrow_schema::DataType::Utf8,
            *name == "_tidemark_cursor",
        )));
        columns.push(Arc::new(StringArray::from(values)));
    }
    let metadata = HashMap::from([
        ("tidemark.job".to_string(), shape.job.clone()),
        ("tidemark.table".to_string(), shape.table.clone()),
    ]);
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
    let full = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    {
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &schema)
            .map_err(|e| e.to_string())?;
        w.write(&full).map_err(|e| e.to_string())?;
        w.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Reads the events back from an Arrow message (for consumers and tests).
pub fn decode_arrow(payload: &[u8]) -> Result<Vec<RecordBatch>, String> {
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(payload), None)
        .map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::kafka;
    use arrow_array::{Array, BooleanArray, Int32Array, TimestampMicrosecondArray};

    fn col(name: &str, kind: ValueKind) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            native: String::new(),
            kind,
            nullable: true,
            auto_increment: false,
            has_default: false,
        }
    }

    fn shape() -> EventShape {
        EventShape {
            job: "orders_feed".into(),
            table: "public.orders".into(),
            columns: vec![
                col(
                    "id",
                    ValueKind::Int {
                        bytes: 4,
                        unsigned: false,
                    },
                ),
                col("name", ValueKind::Text { max_chars: None }),
                col(
                    "updated_at",
                    ValueKind::Timestamp {
                        tz: false,
                        precision: 6,
                        epoch32: false,
                    },
                ),
                col("gone", ValueKind::Bool),
            ],
            key: vec!["id".into()],
            cursor: Some("updated_at".into()),
            deleted_column: Some("gone".into()),
        }
    }

    fn batch(shape: &EventShape) -> RecordBatch {
        let fields: Vec<arrow_schema::Field> = shape
            .columns
            .iter()
            .map(|c| {
                arrow_schema::Field::new(&c.name, tidemark_db::transfer::arrow_type(&c.kind), true)
            })
            .collect();
        // 2024-05-01 10:00:00 and 10:00:01 UTC, in microseconds.
        let t0 = 1_714_557_600_000_000i64;
        RecordBatch::try_new(
            Arc::new(arrow_schema::Schema::new(fields)),
            vec![
                Arc::new(Int32Array::from(vec![7, 8, 9])),
                Arc::new(StringArray::from(vec![Some("a\"b"), None, Some("ü")])),
                Arc::new(TimestampMicrosecondArray::from(vec![
                    t0,
                    t0,
                    t0 + 1_000_000,
                ])),
                Arc::new(BooleanArray::from(vec![Some(false), None, Some(true)])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn each_row_becomes_one_event_with_its_key_cursor_and_operation() {
        let s = shape();
        let events = events_of_batch(&s, &batch(&s));
        assert_eq!(events.len(), 3);
        let e = &events[0];
        assert_eq!(e.job, "orders_feed");
        assert_eq!(e.table, "public.orders");
        assert_eq!(e.op, Operation::Upsert);
        assert_eq!(
            serde_json::Value::Object(e.key.clone()),
            serde_json::json!({"id": 7})
        );
        assert_eq!(e.row["name"], serde_json::json!("a\"b"));
        assert_eq!(e.row["gone"], serde_json::json!(false));
        assert_eq!(e.cursor.as_deref(), Some("2024-05-01 10:00:00.000000"));
        assert_eq!(
            events[1].op,
            Operation::Upsert,
            "a NULL soft-delete flag is no delete"
        );
        assert_eq!(events[1].row["name"], serde_json::Value::Null);
        assert_eq!(events[2].op, Operation::Delete);
        assert_eq!(
            events[2].cursor.as_deref(),
            Some("2024-05-01 10:00:01.000000")
        );
    }

    #[test]
    fn idempotency_ids_follow_job_key_and_cursor_only() {
        let k = [Scalar::Int(7)];
        let c = Scalar::Timestamp("2024-05-01 10:00:00.000000".into());
        let id = idempotency_id("j", &k, Some(&c));
        assert_eq!(id.len(), 64);
        assert!(id.chars().all(|ch| ch.is_ascii_hexdigit()));
        assert_eq!(id, idempotency_id("j", &k, Some(&c)));
        assert_ne!(id, idempotency_id("j2", &k, Some(&c)));
        assert_ne!(id, idempotency_id("j", &[Scalar::Int(8)], Some(&c)));
        let later = Scalar::Timestamp("2024-05-01 10:00:00.000001".into());
        assert_ne!(id, idempotency_id("j", &k, Some(&later)));
        assert_ne!(id, idempotency_id("j", &k, None));
        // Length prefixes keep ("ab", "c") apart from ("a", "bc").
        assert_ne!(
            idempotency_id("ab", &[Scalar::Text("c".into())], None),
            idempotency_id("a", &[Scalar::Text("bc".into())], None)
        );
        // The same batch read again yields the same ids.
        let s = shape();
        let ids = |b: &RecordBatch| {
            events_of_batch(&s, b)
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&batch(&s)), ids(&batch(&s)));
    }

    #[test]
    fn json_messages_round_trip_one_per_event() {
        let s = shape();
        let b = batch(&s);
        let events = events_of_batch(&s, &b);
        let messages = encode(Encoding::Json, &s, &b, &events).unwrap();
        assert_eq!(messages.len(), 3);
        for (m, e) in messages.iter().zip(&events) {
            assert_eq!(m.id, e.id);
            assert_eq!(m.events, 1);
            let back: ChangeEvent = serde_json::from_slice(&m.payload).unwrap();
            assert_eq!(&back, e);
            let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
            for field in ["job", "table", "op", "key", "row", "cursor", "id"] {
                assert!(v.get(field).is_some(), "{field} missing from {v}");
            }
        }
        assert_eq!(messages[0].key, r#"{"id":7}"#);
    }

    #[test]
    fn arrow_messages_carry_the_batch_and_the_event_columns() {
        let s = shape();
        let b = batch(&s);
        let events = events_of_batch(&s, &b);
        let messages = encode(Encoding::Arrow, &s, &b, &events).unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].events, 3);
        let batches = decode_arrow(&messages[0].payload).unwrap();
        assert_eq!(batches.len(), 1);
        let got = &batches[0];
        assert_eq!(got.num_rows(), 3);
        assert_eq!(
            got.num_columns(),
            s.columns.len() + ARROW_EVENT_COLUMNS.len()
        );
        assert_eq!(got.schema().metadata()["tidemark.job"], "orders_feed");
        let text = |name: &str| {
            got.column_by_name(name)
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            text("_tidemark_op"),
            vec![
                Some("upsert".into()),
                Some("upsert".into()),
                Some("delete".into())
            ]
        );
        assert_eq!(
            text("_tidemark_id"),
            events
                .iter()
                .map(|e| Some(e.id.clone()))
                .collect::<Vec<_>>()
        );
        let ids = got
            .column_by_name("id")
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(ids.values().to_vec(), vec![7, 8, 9]);
        assert!(got.column_by_name("name").unwrap().is_null(1));
        // The batch's dedupe id changes when any event does.
        let fewer = encode(Encoding::Arrow, &s, &b.slice(0, 2), &events[..2]).unwrap();
        assert_ne!(fewer[0].id, messages[0].id);
        assert!(encode(Encoding::Arrow, &s, &b.slice(0, 0), &[])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn kafka_records_use_the_shared_encoding() {
        let s = shape();
        let b = batch(&s);
        let events = events_of_batch(&s, &b);
        for encoding in [Encoding::Json, Encoding::Arrow] {
            let messages = encode(encoding, &s, &b, &events).unwrap();
            let records = kafka::records("orders", &messages);
            assert_eq!(records.len(), messages.len());
            for (r, m) in records.iter().zip(&messages) {
                assert_eq!(r.topic, "orders");
                assert_eq!(r.payload, m.payload);
                assert_eq!(r.key, m.key.as_bytes());
                assert_eq!(
                    r.headers,
                    vec![("tidemark-id".to_string(), m.id.as_bytes().to_vec())]
                );
            }
        }
        let r = kafka::records("orders", &encode(Encoding::Json, &s, &b, &events).unwrap());
        let back: ChangeEvent = serde_json::from_slice(&r[2].payload).unwrap();
        assert_eq!(back, events[2]);
    }

    #[test]
    fn encodings_read_their_names() {
        assert_eq!("ARROW".parse::<Encoding>(), Ok(Encoding::Arrow));
        assert_eq!("json".parse::<Encoding>(), Ok(Encoding::Json));
        assert!("avro".parse::<Encoding>().is_err());
    }
}
