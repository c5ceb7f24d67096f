//! Publishing to NATS JetStream.
//!
//! Messages carry their dedupe id in the `Nats-Msg-Id` header, so a batch
//! published again within the stream's duplicate window (two minutes unless
//! the stream says otherwise) is stored once. The stream that captures the
//! subject is used if there is one; otherwise `tidemark_<subject>` is
//! created for it.

use super::event::Message;
use crate::error::{SyncError, SyncResult};
use async_nats::header::{HeaderMap, NATS_MESSAGE_ID};
use async_nats::jetstream::{self, context::PublishAckFuture};
use std::time::Duration;

/// How long a connection attempt and each acknowledgement may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The stream name Tidemark creates for a subject no stream captures.
pub fn stream_name(subject: &str) -> String {
    let safe: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("tidemark_{safe}")
}

fn unreachable(url: &str, e: impl std::fmt::Display) -> SyncError {
    SyncError::Broker(format!(
        "NATS at {url}: {e}; nothing after the last acknowledged batch was checkpointed, the next run publishes it again"
    ))
}

/// A JetStream connection publishing to one subject.
pub struct Publisher {
    client: async_nats::Client,
    js: jetstream::Context,
    url: String,
    subject: String,
}

impl Publisher {
    /// Connects and makes sure a stream captures `subject`.
    pub async fn connect(url: &str, subject: &str) -> SyncResult<Publisher> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(TIMEOUT)
            .name("tidemark")
            .connect(url)
            .await
            .map_err(|e| unreachable(url, e))?;
        let mut js = jetstream::new(client.clone());
        js.set_timeout(TIMEOUT);
        if js.stream_by_subject(subject).await.is_err() {
            js.get_or_create_stream(jetstream::stream::Config {
                name: stream_name(subject),
                subjects: vec![subject.to_string()],
                ..Default::default()
            })
            .await
            .map_err(|e| {
                unreachable(
                    url,
                    format!(
                        "creating stream {} for {subject}: {e}",
                        stream_name(subject)
                    ),
                )
            })?;
        }
        Ok(Publisher {
            client,
            js,
            url: url.to_string(),
            subject: subject.to_string(),
        })
    }

    /// Publishes every message and waits for every acknowledgement.
    /// Returns how many the stream reported as duplicates (already stored).
    pub async fn publish_all(&mut self, messages: &[Message]) -> SyncResult<u64> {
        let mut acks: Vec<PublishAckFuture> = Vec::with_capacity(messages.len());
        for m in messages {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, m.id.as_str());
            headers.insert("Tidemark-Key", m.key.as_str());
            let ack = self
                .js
                .publish_with_headers(self.subject.clone(), headers, m.payload.clone().into())
                .await
                .map_err(|e| unreachable(&self.url, format!("publishing: {e}")))?;
            acks.push(ack);
        }
        let mut duplicates = 0;
        for ack in acks {
            let ack = ack
                .await
                .map_err(|e| unreachable(&self.url, format!("waiting for acknowledgement: {e}")))?;
            duplicates += u64::from(ack.duplicate);
        }
        Ok(duplicates)
    }

    /// Flushes and drops the connection.
    pub async fn close(self) {
        let _ = self.client.flush().await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stream_names_are_valid_for_any_subject() {
        assert_eq!(
            super::stream_name("orders.changes-v1"),
            "tidemark_orders_changes-v1"
        );
    }
}
