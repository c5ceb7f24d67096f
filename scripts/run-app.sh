#!/usr/bin/env bash
# Builds the UI and the app, then shows the demo workspace: the desktop app
# when there is a display ($DISPLAY or $WAYLAND_DISPLAY), else `tidemark serve`
# with the URL to open.
#
#   TIDEMARK_WORKSPACE=FILE  show this workspace instead of a fresh demo
#   TIDEMARK_PORT=N          the port for `tidemark serve` (default 7457; 0 = any free)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tidemark/target}"
BIN="$CARGO_TARGET_DIR/debug"

bash scripts/ui.sh build
bash scripts/tauri-smoke.sh deps
# The desktop app embeds ui/dist, so it is built after the UI.
cargo build -q --workspace --bins

if [ -n "${TIDEMARK_WORKSPACE:-}" ]; then
  WORKSPACE=$TIDEMARK_WORKSPACE
else
  WORKSPACE="$HOME/.cache/tidemark/demo.tmdb"
  mkdir -p "$(dirname "$WORKSPACE")"
  "$BIN/tidemark" --workspace "$WORKSPACE" demo --force
  echo
  "$BIN/tidemark" --workspace "$WORKSPACE" snapshot list
  echo
fi

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  echo "==> opening the desktop app on $WORKSPACE"
  TIDEMARK_WORKSPACE="$WORKSPACE" exec "$BIN/tidemark-desktop"
else
  echo "==> no display: serving the web UI instead (Ctrl-C to stop)"
  exec "$BIN/tidemark" --workspace "$WORKSPACE" serve --port "${TIDEMARK_PORT:-7457}" --ui-dir "$ROOT/ui/dist"
fi
