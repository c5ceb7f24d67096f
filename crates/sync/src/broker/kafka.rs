//! Publishing to Kafka, with the pure-Rust `rskafka` client.
//!
//! Each message of the shared encoding becomes one record: the key is the
//! row's key as JSON (the job for Arrow batches), the value the encoded
//! event(s), and the header `tidemark-id` carries the dedupe id. A batch's
//! records are sent in produce requests of at most [`MAX_REQUEST_BYTES`]
//! (in order), each with acks=all (`rskafka` always asks for every in-sync
//! replica, `acks = -1`) and no compression; the batch counts as published
//! only when every request returned its offsets.
//!
//! Records go to partition 0 of the topic: `rskafka` has no partitioner,
//! and one partition keeps every change in cursor order.

use super::event::Message;
use crate::error::{SyncError, SyncResult};
use chrono::Utc;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::ClientBuilder;
use rskafka::record::Record;
use rskafka::BackoffConfig;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long connecting (and each produce request, with its retries) may
/// take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The partition records are written to.
pub const PARTITION: i32 = 0;

/// The largest produce request, in record bytes (keys, values, headers):
/// below Kafka's default `message.max.bytes` (1 MiB) with room for the
/// framing.
pub const MAX_REQUEST_BYTES: usize = 768 * 1024;

/// The header carrying the dedupe id.
pub const ID_HEADER: &str = "tidemark-id";

/// One Kafka record.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaRecord {
    /// The topic.
    pub topic: String,
    /// The record key: the row's key (JSON encoding), so every change of a
    /// row lands in one partition, in order; the job for Arrow batches.
    pub key: Vec<u8>,
    /// The encoded events.
    pub payload: Vec<u8>,
    /// Headers: `tidemark-id` carries the dedupe id.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl KafkaRecord {
    /// The bytes the record adds to a produce request (keys, values,
    /// headers), as `rskafka` counts them.
    pub fn size(&self) -> usize {
        self.key.len()
            + self.payload.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }

    fn to_rskafka(&self) -> Record {
        Record {
            key: Some(self.key.clone()),
            value: Some(self.payload.clone()),
            headers: self.headers.iter().cloned().collect::<BTreeMap<_, _>>(),
            timestamp: Utc::now(),
        }
    }
}

/// The records for a batch's messages.
pub fn records(topic: &str, messages: &[Message]) -> Vec<KafkaRecord> {
    messages
        .iter()
        .map(|m| KafkaRecord {
            topic: topic.to_string(),
            key: m.key.as_bytes().to_vec(),
            payload: m.payload.clone(),
            headers: vec![(ID_HEADER.to_string(), m.id.as_bytes().to_vec())],
        })
        .collect()
}

/// Splits records, in order, into produce requests of at most `max_bytes`
/// each (a record larger than that goes alone; the broker decides whether
/// it takes it).
pub fn chunks(records: &[KafkaRecord], max_bytes: usize) -> Vec<&[KafkaRecord]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, r) in records.iter().enumerate() {
        let s = r.size();
        if i > start && size + s > max_bytes {
            out.push(&records[start..i]);
            start = i;
            size = 0;
        }
        size += s;
    }
    if start < records.len() {
        out.push(&records[start..]);
    }
    out
}

fn one_line(e: impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn failed(brokers: &[String], e: impl std::fmt::Display) -> SyncError {
    SyncError::Broker(format!(
        "Kafka at {}: {}; nothing after the last acknowledged batch was checkpointed, the next run publishes it again",
        brokers.join(","),
        one_line(e)
    ))
}

/// A Kafka connection producing to one topic.
pub struct Publisher {
    partition: PartitionClient,
    brokers: Vec<String>,
    topic: String,
}

impl Publisher {
    /// Connects to the bootstrap servers and to the leader of the topic's
    /// partition 0 (waiting for the topic while Kafka reports it unknown,
    /// up to the timeout).
    pub async fn connect(brokers: &[String], topic: &str) -> SyncResult<Publisher> {
        let backoff = BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
            deadline: Some(TIMEOUT),
        };
        let connect = async {
            let client = ClientBuilder::new(brokers.to_vec())
                .client_id("tidemark")
                .backoff_config(backoff)
                .build()
                .await
                .map_err(|e| failed(brokers, format!("connecting: {e}")))?;
            client
                .partition_client(topic, PARTITION, UnknownTopicHandling::Retry)
                .await
                .map_err(|e| failed(brokers, format!("opening topic {topic}: {e}")))
        };
        let partition = tokio::time::timeout(TIMEOUT + Duration::from_secs(5), connect)
            .await
            .map_err(|_| failed(brokers, format!("no answer within {}s", TIMEOUT.as_secs())))??;
        Ok(Publisher {
            partition,
            brokers: brokers.to_vec(),
            topic: topic.to_string(),
        })
    }

    /// Produces every message (acks=all) and returns once every produce
    /// request was acknowledged. Kafka reports no duplicates: always 0.
    pub async fn publish_all(&mut self, messages: &[Message]) -> SyncResult<u64> {
        let records = records(&self.topic, messages);
        for chunk in chunks(&records, MAX_REQUEST_BYTES) {
            let batch: Vec<Record> = chunk.iter().map(KafkaRecord::to_rskafka).collect();
            // The broker waits up to 30 s for the in-sync replicas; rskafka
            // retries within the backoff deadline.
            let produced = tokio::time::timeout(
                TIMEOUT + Duration::from_secs(30),
                self.partition.produce(batch, Compression::NoCompression),
            )
            .await
            .map_err(|_| failed(&self.brokers, "producing: no acknowledgement in time"))?
            .map_err(|e| failed(&self.brokers, format!("producing to {}: {e}", self.topic)))?;
            if produced.len() != chunk.len() {
                return Err(failed(
                    &self.brokers,
                    format!(
                        "producing to {}: {} of {} records acknowledged",
                        self.topic,
                        produced.len(),
                        chunk.len()
                    ),
                ));
            }
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(key: &str, id: &str, payload: &[u8]) -> Message {
        Message {
            key: key.into(),
            id: id.into(),
            payload: payload.to_vec(),
            events: 1,
        }
    }

    #[test]
    fn records_carry_key_payload_and_id_header() {
        let rs = records(
            "orders",
            &[
                message(r#"{"id":1}"#, "aa", b"{\"x\":1}"),
                message(r#"{"id":2}"#, "bb", b"{\"x\":2}"),
            ],
        );
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].topic, "orders");
        assert_eq!(rs[0].key, br#"{"id":1}"#);
        assert_eq!(rs[0].payload, b"{\"x\":1}");
        assert_eq!(rs[0].headers, vec![(ID_HEADER.to_string(), b"aa".to_vec())]);
        let r = rs[1].to_rskafka();
        assert_eq!(r.key.as_deref(), Some(&br#"{"id":2}"#[..]));
        assert_eq!(r.value.as_deref(), Some(&b"{\"x\":2}"[..]));
        assert_eq!(
            r.headers.get(ID_HEADER).map(Vec::as_slice),
            Some(&b"bb"[..])
        );
        assert_eq!(r.approximate_size(), rs[1].size());
    }

    #[test]
    fn batches_split_in_order_below_the_request_limit() {
        let ms: Vec<Message> = (0..10)
            .map(|i| message(&format!("k{i}"), &format!("i{i}"), &[b'x'; 96]))
            .collect();
        let rs = records("t", &ms);
        let size = rs[0].size();
        assert_eq!(size, 2 + 96 + ID_HEADER.len() + 2);
        let parts = chunks(&rs, size * 3);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![3, 3, 3, 1]
        );
        let flat: Vec<&KafkaRecord> = parts.iter().flat_map(|p| p.iter()).collect();
        assert!(flat.iter().zip(&rs).all(|(a, b)| *a == b));
        assert_eq!(chunks(&rs, MAX_REQUEST_BYTES).len(), 1);
        // A record over the limit goes alone; nothing is dropped.
        let parts = chunks(&rs, 1);
        assert_eq!(parts.len(), 10);
        assert!(chunks(&[], 10).is_empty());
    }

    #[tokio::test]
    async fn an_unreachable_broker_fails_with_one_line_naming_it() {
        // Bind then drop: the port is closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let brokers = vec![format!("127.0.0.1:{port}")];
        let err = match Publisher::connect(&brokers, "orders").await {
            Ok(_) => panic!("connected to a closed port"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(&format!("Kafka at 127.0.0.1:{port}")), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}
