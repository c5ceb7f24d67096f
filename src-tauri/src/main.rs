//! The Tidemark desktop app: one window with the web UI and one command,
//! `call`, over the same [`Backend`] as `tidemark serve`. Progress events are
//! forwarded to the window as `progress` events.
//!
//! The workspace is `$TIDEMARK_WORKSPACE`, else the demo workspace in the
//! platform data folder (created on first start).

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use serde_json::Value;
use std::path::PathBuf;
use tauri::{Emitter, Manager};
use tidemark_app::api::{ApiError, Call};
use tidemark_app::App;
use tidemark_server::Backend;
use tokio::sync::broadcast::error::RecvError;

/// Runs one front-end call (the UI's transport sends every call through here).
#[tauri::command]
async fn call(call: Call, backend: tauri::State<'_, Backend>) -> Result<Value, ApiError> {
    backend.call(call).await
}

fn workspace_path() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("TIDEMARK_WORKSPACE").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let demo = dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("tidemark")
        .join("demo.tmdb");
    if !demo.exists() {
        if let Some(dir) = demo.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        tidemark_app::create_demo(&demo, false).map_err(|e| e.to_string())?;
    }
    Ok(demo)
}

fn context() -> tauri::Context<tauri::Wry> {
    #[cfg(ui_built)]
    return tauri::generate_context!("tauri.conf.json");
    #[cfg(not(ui_built))]
    return tauri::generate_context!("tauri.noui.conf.json");
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIDEMARK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let workspace = match workspace_path() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("error: cannot prepare the demo workspace: {e}");
            std::process::exit(1);
        }
    };
    let app = match App::open(&workspace, tidemark_app::default_actor()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!(
                "error: cannot open the workspace {}: {e}",
                workspace.display()
            );
            std::process::exit(1);
        }
    };
    let backend = Backend::new(app);
    let progress = backend.progress().clone();
    let result = tauri::Builder::default()
        .manage(backend)
        .setup(move |app| {
            let handle = app.handle().clone();
            let mut events = progress.subscribe();
            tauri::async_runtime::spawn(async move {
                loop {
                    match events.recv().await {
                        Ok(event) => {
                            let _ = handle.emit("progress", event);
                        }
                        // Missed a few while the window was busy; later ones still matter.
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => break,
                    }
                }
            });
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.set_title(&format!("Tidemark — {}", workspace.display()));
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![call])
        .run(context());
    if let Err(e) = result {
        eprintln!("error: the desktop app failed: {e}");
        std::process::exit(1);
    }
}
