//! Running front-end calls against one [`App`] and reporting long ones as
//! progress events.
//!
//! Both shells use this: `tidemark serve` streams the events over SSE, the
//! desktop app forwards them as Tauri events. A call that finishes within
//! [`QUIET_PERIOD`] emits nothing, so quick reads do not flicker in the status
//! bar; a slower one emits a start event and, when it ends, a finished event
//! (with the error message if it failed).

use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tidemark_app::api::{ApiError, ApiErrorKind, Call};
use tidemark_app::{App, ProgressSink, SyncPhase, SyncProgress};
use tokio::sync::broadcast;

/// How long a call may run before it is reported as background work.
pub const QUIET_PERIOD: Duration = Duration::from_millis(250);

/// Progress of one piece of background work, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ProgressEvent {
    /// Identifies the job across its events, e.g. `job-7`.
    pub job: String,
    /// What is being done, e.g. `snapshot create`.
    pub label: String,
    /// Units done so far (0 when the work has no measurable steps).
    #[ts(type = "number")]
    pub done: u64,
    /// Units in total, when known; absent means indeterminate.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    /// Whether the job has ended (successfully or not).
    pub finished: bool,
    /// The error message, when the job ended with an error.
    pub error: Option<String>,
    /// For a sync run: the run's own progress (rows, batches, rows/s,
    /// watermark), so a view can show it next to the job.
    pub sync: Option<SyncProgress>,
}

impl ProgressEvent {
    /// A sync run's progress: rows so far, finished when the run ends.
    pub fn from_sync(p: &SyncProgress) -> Self {
        let finished = matches!(p.phase, SyncPhase::Finished | SyncPhase::Failed);
        ProgressEvent {
            job: format!("sync-{}", p.run_id),
            label: format!("sync {} · {:.0} rows/s", p.job, p.rows_per_sec),
            done: p.rows,
            total: None,
            finished,
            error: p.message.clone().filter(|_| p.phase == SyncPhase::Failed),
            sync: Some(p.clone()),
        }
    }
}

/// Fans progress events out to every subscriber (SSE clients, the Tauri window).
#[derive(Debug, Clone)]
pub struct ProgressHub {
    sender: broadcast::Sender<ProgressEvent>,
}

impl Default for ProgressHub {
    fn default() -> Self {
        ProgressHub {
            sender: broadcast::channel(256).0,
        }
    }
}

impl ProgressHub {
    /// Sends an event to the current subscribers; none listening is fine.
    pub fn emit(&self, event: ProgressEvent) {
        let _ = self.sender.send(event);
    }

    /// A receiver of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ProgressEvent> {
        self.sender.subscribe()
    }
}

/// One open workspace shared by concurrent requests.
///
/// [`App`] is not `Sync` (it owns a SQLite connection), so calls take turns
/// through a mutex and run on the blocking thread pool.
#[derive(Clone)]
pub struct Backend {
    app: Arc<Mutex<OwnedApp>>,
    progress: ProgressHub,
    next_job: Arc<AtomicU64>,
}

/// The workspace, dropped off the async threads.
///
/// An [`App`] that has talked to a live database owns a runtime of its own,
/// and a runtime must not be dropped on a thread that drives async tasks —
/// which is where the server's last handle usually goes away.
struct OwnedApp(Option<App>);

impl std::ops::Deref for OwnedApp {
    type Target = App;
    fn deref(&self) -> &App {
        self.0.as_ref().expect("the app is only taken on drop")
    }
}

impl std::ops::DerefMut for OwnedApp {
    fn deref_mut(&mut self) -> &mut App {
        self.0.as_mut().expect("the app is only taken on drop")
    }
}

impl Drop for OwnedApp {
    fn drop(&mut self) {
        if let Some(app) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::spawn(move || drop(app)).join();
            }
        }
    }
}

#[derive(Default)]
struct JobState {
    announced: bool,
    finished: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside a call leaves the workspace consistent (every write is
    // one SQLite transaction), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A readable label for a call, e.g. `SnapshotCreate { .. }` → `snapshot create`.
pub fn call_label(call: &Call) -> String {
    let debug = format!("{call:?}");
    let variant: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut label = String::with_capacity(variant.len() + 4);
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                label.push(' ');
            }
            label.push(c.to_ascii_lowercase());
        } else {
            label.push(c);
        }
    }
    label
}

impl Backend {
    /// Wraps an open workspace.
    pub fn new(app: App) -> Self {
        Backend {
            app: Arc::new(Mutex::new(OwnedApp(Some(app)))),
            progress: ProgressHub::default(),
            next_job: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Where this backend's progress events go.
    pub fn progress(&self) -> &ProgressHub {
        &self.progress
    }

    /// Runs one call on the blocking pool, reporting it if it takes long.
    ///
    /// A sync run reports its own progress (rows after every batch) instead.
    pub async fn call(&self, call: Call) -> Result<Value, ApiError> {
        if let Call::SyncRun { name } = call {
            return self.sync_run(name).await;
        }
        let job = format!("job-{}", self.next_job.fetch_add(1, Ordering::Relaxed));
        let label = call_label(&call);
        let state = Arc::new(Mutex::new(JobState::default()));

        let announcer = {
            let (state, hub, job, label) = (
                state.clone(),
                self.progress.clone(),
                job.clone(),
                label.clone(),
            );
            tokio::spawn(async move {
                tokio::time::sleep(QUIET_PERIOD).await;
                let mut s = lock(&state);
                if !s.finished {
                    s.announced = true;
                    hub.emit(ProgressEvent {
                        job,
                        label,
                        done: 0,
                        total: None,
                        finished: false,
                        error: None,
                        sync: None,
                    });
                }
            })
        };

        let app = self.app.clone();
        let result = tokio::task::spawn_blocking(move || lock(&app).call(call))
            .await
            .unwrap_or_else(|e| {
                Err(ApiError {
                    kind: ApiErrorKind::Failure,
                    message: format!("the {label} call stopped unexpectedly: {e}"),
                })
            });

        let announced = {
            let mut s = lock(&state);
            s.finished = true;
            s.announced
        };
        announcer.abort();
        if announced {
            self.progress.emit(ProgressEvent {
                job,
                label,
                done: 1,
                total: Some(1),
                finished: true,
                error: result.as_ref().err().map(|e| e.message.clone()),
                sync: None,
            });
        }
        result
    }
}

impl Backend {
    async fn sync_run(&self, name: String) -> Result<Value, ApiError> {
        let app = self.app.clone();
        let hub = self.progress.clone();
        let sink: ProgressSink =
            Arc::new(move |p: &SyncProgress| hub.emit(ProgressEvent::from_sync(p)));
        tokio::task::spawn_blocking(move || {
            let mut results = lock(&app)
                .sync_run(&[name], 1, sink, Arc::new(AtomicBool::new(false)))
                .map_err(ApiError::from)?;
            serde_json::to_value(results.remove(0)).map_err(|e| ApiError {
                kind: ApiErrorKind::Failure,
                message: format!("cannot encode the sync result: {e}"),
            })
        })
        .await
        .unwrap_or_else(|e| {
            Err(ApiError {
                kind: ApiErrorKind::Failure,
                message: format!("the sync run stopped unexpectedly: {e}"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_progress_becomes_a_status_bar_event() {
        let mut p = SyncProgress {
            job: "orders".into(),
            run_id: "run_1".into(),
            phase: SyncPhase::Loading,
            rows: 1200,
            batches: 3,
            rows_per_sec: 4000.4,
            elapsed_ms: 300,
            watermark: None,
            message: None,
        };
        let e = ProgressEvent::from_sync(&p);
        assert_eq!(
            (e.job.as_str(), e.done, e.finished),
            ("sync-run_1", 1200, false)
        );
        assert_eq!(e.label, "sync orders · 4000 rows/s");
        assert_eq!(
            e.sync.as_ref().map(|s| (s.rows, s.batches)),
            Some((1200, 3))
        );
        p.phase = SyncPhase::Failed;
        p.message = Some("target is gone".into());
        let e = ProgressEvent::from_sync(&p);
        assert!(e.finished);
        assert_eq!(e.error.as_deref(), Some("target is gone"));
    }

    #[test]
    fn labels_are_spaced_lower_case_variant_names() {
        assert_eq!(call_label(&Call::SnapshotList), "snapshot list");
        assert_eq!(
            call_label(&Call::Diff {
                from: "1.0.0".into(),
                to: "working".into()
            }),
            "diff"
        );
    }
}
