#!/usr/bin/env bash
# Installs what building Tidemark needs; idempotent and quiet when all is there.
set -euo pipefail

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    echo "cargo is in \$HOME/.cargo/bin but not on PATH: run 'source \$HOME/.cargo/env' and retry" >&2
  else
    echo "cargo (Rust 1.85 or newer) is required: install it with rustup, then retry" >&2
  fi
  exit 1
fi
