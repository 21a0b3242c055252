//! Integration tests, in one binary: each test binary links all of DuckDB, so one link instead of five.
mod access;
mod backup_restore;
mod boundaries;
mod calibration;
mod clickhouse;
mod cluster_store;
mod common;
mod crash;
mod disk_full;
mod import_cli;
mod ingest_api;
mod live_stream;
mod migrations;
mod process;
mod properties;
mod stats_api;
mod units_in_force;
