#!/usr/bin/env bash
# Smoke test of the desktop app: builds it, starts it under Xvfb through
# tauri-driver + WebKitWebDriver on a fresh demo workspace, and checks over
# WebDriver that the timeline shows the demo's three snapshots.
#
#   scripts/tauri-smoke.sh        the test (exit 0 only when it passes)
#   scripts/tauri-smoke.sh deps   only install the Tauri build and test dependencies
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tidemark/target}"

APT_BUILD=(libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config)
APT_TEST=(xvfb xauth webkit2gtk-driver)

apt_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

apt_install() {
  local missing
  missing=$(apt_missing "$@")
  if [ -n "$missing" ]; then
    echo "==> apt-get install $missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
}

apt_install "${APT_BUILD[@]}"
if [ "${1:-}" = deps ]; then
  exit 0
fi
apt_install "${APT_TEST[@]}"
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "==> cargo install tauri-driver 2.1.0"
  cargo install tauri-driver --version 2.1.0 --locked --quiet
fi
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/ui.sh build
cargo build -q --workspace --bins

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$CARGO_TARGET_DIR/debug/tidemark" --workspace "$TMP/demo.tmdb" demo >/dev/null

echo "==> desktop smoke test under Xvfb"
TIDEMARK_WORKSPACE="$TMP/demo.tmdb" xvfb-run -a -s "-screen 0 1440x900x24" \
  node tests/e2e/tauri-smoke.mjs "$CARGO_TARGET_DIR/debug/tidemark-desktop"
