//! The Kafka side of broker targets: records built from the shared event
//! encoding.
//!
//! The producer itself is not part of this build: the well-kept Kafka
//! client for Rust (`rdkafka`) needs librdkafka (and cmake to build it),
//! which this build does not carry. `kafka:TOPIC` targets are therefore
//! refused when a job is added or run, with [`NOT_BUILT`] as the reason;
//! the record layout below is what a producer sends, and is tested.

use super::event::Message;

/// Why a `kafka:` target is refused.
pub const NOT_BUILT: &str = "kafka targets are not available: this build of Tidemark has no Kafka producer (it needs librdkafka); use a nats:SUBJECT target, see docs/brokers.md";

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

/// The records for a batch's messages.
pub fn records(topic: &str, messages: &[Message]) -> Vec<KafkaRecord> {
    messages
        .iter()
        .map(|m| KafkaRecord {
            topic: topic.to_string(),
            key: m.key.as_bytes().to_vec(),
            payload: m.payload.clone(),
            headers: vec![("tidemark-id".to_string(), m.id.as_bytes().to_vec())],
        })
        .collect()
}
