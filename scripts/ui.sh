#!/usr/bin/env bash
# The web UI and its tests.
#
#   scripts/ui.sh test    install, type check, unit tests (vitest), build, browser tests
#   scripts/ui.sh build   install and build ui/dist
#   scripts/ui.sh deps    install the npm packages and Debian's chromium
#   scripts/ui.sh check | unit | e2e   one step
#
# Idempotent and quiet when everything is in place. The browser tests build
# the tidemark CLI, start `tidemark serve` on fresh demo workspaces and drive
# Debian's chromium; screenshots land in artifacts/screenshots/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tidemark/target}"
export npm_config_loglevel=error
NPM_FLAGS=(--no-fund --no-audit)

need_node() {
  if ! command -v node >/dev/null 2>&1; then
    echo "node (20.19 or newer) is required for the UI" >&2
    exit 1
  fi
  local v
  v=$(node -p 'process.versions.node')
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "node $v is too old for Vite 8: install node 20.19 or newer" >&2
    exit 1
  fi
}

# npm ci when node_modules is missing or older than the lock file.
npm_deps() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "==> npm ci in $dir"
    (cd "$dir" && npm ci "${NPM_FLAGS[@]}" >/dev/null)
  fi
}

chromium_dep() {
  if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "==> apt-get install chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  fi
}

deps() {
  need_node
  npm_deps ui
  npm_deps tests/e2e
}

check() { (cd ui && npx tsc --noEmit); }
unit() { (cd ui && npx vitest run); }
build() { (cd ui && npx vite build --logLevel warn); }
e2e() {
  chromium_dep
  node --test --test-concurrency=1 --test-reporter=spec tests/e2e
}

case "${1:-test}" in
  deps) deps; chromium_dep ;;
  check) deps; check ;;
  unit) deps; unit ;;
  build) deps; build ;;
  e2e) deps; [ -f ui/dist/index.html ] || build; e2e ;;
  test)
    deps
    echo "==> type check"
    check
    echo "==> unit tests"
    unit
    echo "==> build"
    build
    echo "==> browser tests"
    e2e
    ;;
  *)
    echo "usage: scripts/ui.sh [test|build|deps|check|unit|e2e]" >&2
    exit 2
    ;;
esac
