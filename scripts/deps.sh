#!/usr/bin/env bash
# Installs what building and testing Tidemark needs; idempotent and quiet when
# everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "cargo (Rust 1.85 or newer) is required: install it with rustup, then retry" >&2
    exit 1
  fi
fi

need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The desktop shell is a workspace member: building it needs WebKitGTK and friends.
bash scripts/tauri-smoke.sh deps
# npm packages of the UI and the browser tests, and Debian's chromium.
bash scripts/ui.sh deps

# The Iceberg REST catalog server the REST catalog tests run against
# (crates/cli/tests/iceberg_support/rest.rs); a debug build, which compiles
# in a fraction of the release profile's time.
RUSTBERG_VERSION=0.3.0
RUSTBERG_ROOT="$HOME/.cache/tidemark/tools"
if ! "$RUSTBERG_ROOT/bin/rustberg" --version 2>/dev/null | grep -qx "rustberg $RUSTBERG_VERSION"; then
  echo "==> cargo install rustberg $RUSTBERG_VERSION into $RUSTBERG_ROOT"
  env -u CARGO_TARGET_DIR cargo install rustberg --version "$RUSTBERG_VERSION" --locked --debug --no-default-features \
    --features cli --root "$RUSTBERG_ROOT" --force --quiet
fi
