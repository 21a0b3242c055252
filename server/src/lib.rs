//! The dashboard's server: HTTP API, server-side rendering, the DuckDB store and its tools.
pub mod alerts;
pub mod auth;
pub mod boundaries;
pub mod calendar;
pub mod cli;
pub mod codes;
pub mod config;
pub mod control;
pub mod demo;
pub mod geojson;
pub mod http;
pub mod ingest;
pub mod live;
pub mod private_file;
pub mod report;
pub mod scope;
pub mod serve;
pub mod store;
pub mod telemetry;

/// Every binary linking the server (the server, the bench, the tests) allocates with mimalloc;
/// see the note in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
