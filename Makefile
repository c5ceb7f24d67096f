# Tidemark — `make run` runs the app on a demo workspace, `make test` runs every test.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/tidemark/target
export CARGO_TERM_COLOR ?= never
BIN := $(CARGO_TARGET_DIR)/debug/tidemark
DEMO ?= $(HOME)/.cache/tidemark/demo.tmdb

.PHONY: run test build deps services lint fmt bench

## run: build, create the demo workspace and show it
run: deps build
	$(BIN) --workspace $(DEMO) demo --force
	$(BIN) --workspace $(DEMO) snapshot list

## test: every test (starts the local database servers if they are down)
test: deps services
	cargo build --workspace --all-targets
	cargo test --workspace --no-fail-fast 2>&1 | tee $(CARGO_TARGET_DIR)/test.log | grep -E '^(test result|running|error|failures|---- |thread)' ; test $${PIPESTATUS[0]} -eq 0
	@bash scripts/test-summary.sh $(CARGO_TARGET_DIR)/test.log

build:
	cargo build --workspace

deps:
	@bash scripts/deps.sh

services:
	@bash scripts/services.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

bench:
	cargo bench --workspace
