//! `tidemark serve`: the web UI and the API on this machine's loopback address.

use anyhow::Context;
use clap::Args;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use tidemark_server::{ServeOptions, Server, DEFAULT_PORT};

/// Options of `tidemark serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Listen on this address instead of 127.0.0.1. Any non-loopback address
    /// exposes the workspace to the network (the token still guards it).
    #[arg(long, value_name = "ADDR")]
    bind: Option<IpAddr>,
    /// The built web UI [default: the source tree's ui/dist].
    #[arg(long, env = "TIDEMARK_UI_DIR", value_name = "DIR")]
    ui_dir: Option<PathBuf>,
    /// Open the URL in the default browser.
    #[arg(long)]
    open: bool,
}

/// Where `npm --prefix ui run build` puts the UI in this source tree.
fn default_ui_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/cli → the source tree's root.
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(crate_dir)
        .join("ui")
        .join("dist")
}

/// Serves `workspace` until Ctrl-C.
pub fn run(args: ServeArgs, workspace: &Path) -> anyhow::Result<()> {
    let mut opts = ServeOptions::new(workspace, args.ui_dir.unwrap_or_else(default_ui_dir));
    opts.port = args.port;
    if let Some(bind) = args.bind {
        // Passing --bind is the explicit opt-in to a non-loopback address.
        opts.bind = bind;
        opts.allow_non_loopback = true;
        if !bind.is_loopback() {
            eprintln!(
                "warning: listening on {bind}: anyone who can reach this machine on port {} and learns the token can read and change the workspace",
                args.port
            );
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(opts).await?;
        let url = server.url();
        println!(
            "Tidemark is serving {} at {url}",
            server.workspace().display()
        );
        eprintln!("Press Ctrl-C to stop.");
        if args.open {
            open_browser(&url);
        }
        server
            .run(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        eprintln!("Stopped.");
        anyhow::Ok(())
    })
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("could not open a browser ({opener}: {e}); open the URL above yourself");
    }
}
