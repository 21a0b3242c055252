# Institutional Enforcement Map — the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing first (scripts/setup.sh; fast when everything is there).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Build output lives outside the clone so fresh clones (CI) reuse the compiled DuckDB.
export CACHE_DIR ?= $(HOME)/.cache/iem
export CARGO_TARGET_DIR ?= $(CACHE_DIR)/target
export SITE_DIR ?= $(CACHE_DIR)/site
export IEM_SITE_ROOT ?= $(SITE_DIR)
export IEM_DATA_DIR ?= var
export LEPTOS_SITE_ADDR ?= 127.0.0.1:3000
# DuckDB's bundled C++ builds ~20% faster with clang than with gcc (installed by scripts/setup.sh). The build script
# re-runs when this changes, so keep it the same for every cargo command sharing the target directory.
export CXX_x86_64_unknown_linux_gnu ?= clang++-16

SERVER := $(CARGO_TARGET_DIR)/release/server
BENCH_DOSSIERS ?= 10000000
STORES_DOSSIERS ?= 20000000

.PHONY: run test setup site build fmt-check lint lint-ssr lint-hydrate unit unit-cluster e2e openapi crash-test bench clean-data

## make run: build a release and serve the dashboard with the demo (history written on first start, live simulator).
run: build
	$(SERVER) serve --demo

## make test: format, lints (both feature sets), unit + integration tests, the API suite again on
## a ClickHouse cluster, browser tests.
test: setup fmt-check lint unit unit-cluster build e2e
	@echo "make test: all checks passed"

setup:
	@bash scripts/setup.sh

site: setup
	@bash scripts/build-site.sh

build: site
	cargo build --locked --release -p server

fmt-check:
	cargo fmt --all -- --check

lint: lint-ssr lint-hydrate

# The release profile here shares DuckDB's compiled build script output with `build` and `unit`.
lint-ssr: setup
	cargo clippy --locked --release -p server -p app --all-targets -- -D warnings

# Each browser bundle's feature set on its own (`app::BUNDLES`), as build-site.sh builds them.
lint-hydrate: setup
	for pages in public-pages desk-pages embed-page; do \
		cargo clippy --locked --release -p frontend -p app --lib --target wasm32-unknown-unknown \
			--features frontend/$$pages -- -D warnings || exit 1; \
	done

unit: setup
	cargo test --locked --release -p app -p server

# The in-process API suite (calibration included) on a two-shard ClickHouse cluster.
unit-cluster: setup
	bash scripts/api-tests-on-cluster.sh

e2e: build
	node end2end/run.mjs

## make openapi: write docs/openapi.json from the code after a deliberate change of the HTTP API (a unit test fails
## while the committed copy differs from what the handlers' types generate).
openapi: setup
	UPDATE_OPENAPI=1 cargo test --locked --release -p server --lib openapi

## make crash-test: the SIGKILL test at length (IEM_CRASH_KILLS, default here 200; IEM_CRASH_SEED repeats a run).
crash-test: setup
	IEM_CRASH_KILLS=$${IEM_CRASH_KILLS:-200} cargo test --locked --release -p server --test api crash -- --nocapture

## make bench: ingest throughput over HTTP (without and with 1,000 alert rules), alert evaluation on the demo store, stats
## and due-soon latency on a 10-million-dossier store (filled once, cached), 20
## million dossiers in DuckDB and on a two-shard ClickHouse cluster (ingest rate, stats at province and district level),
## boundary import, live-stream delivery to 1,000 clients, a 10-minute soak (SOAK_MINUTES), then the browser benchmarks.
bench: build
	$(CARGO_TARGET_DIR)/release/iem-bench ingest --dossiers 500000 --batch 1000 --connections 8
	$(CARGO_TARGET_DIR)/release/iem-bench ingest --dossiers 500000 --batch 1000 --connections 8 --alert-rules 1000
	$(CARGO_TARGET_DIR)/release/iem-bench alerts --rules 1000 --store-dir $(CACHE_DIR)/bench
	$(CARGO_TARGET_DIR)/release/iem-bench report --rounds 10 --store-dir $(CACHE_DIR)/bench
	$(CARGO_TARGET_DIR)/release/iem-bench stats --dossiers $(BENCH_DOSSIERS) --store-dir $(CACHE_DIR)/bench
	$(CARGO_TARGET_DIR)/release/iem-bench stores --dossiers $(STORES_DOSSIERS) --store-dir $(CACHE_DIR)/bench
	$(CARGO_TARGET_DIR)/release/iem-bench boundaries --features 700
	ulimit -n "$$(ulimit -Hn)" 2>/dev/null || true; $(CARGO_TARGET_DIR)/release/iem-bench live --clients 1000 --rounds 20 --stuck 50
	$(CARGO_TARGET_DIR)/release/iem-bench soak --minutes $${SOAK_MINUTES:-10} --writers 20 --readers 200
	node end2end/run.mjs --bench

clean-data:
	rm -rf "$(IEM_DATA_DIR)"
