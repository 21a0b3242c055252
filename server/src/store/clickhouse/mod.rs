//! The ClickHouse cluster store (issue 9, in progress): its address, the HTTP client and the schema.
//! Not yet a store the server can serve from; DuckDB stays the only one `serve` opens.
pub mod address;
pub mod client;
pub mod copy;
pub mod schema;

pub use address::ClusterAddress;
pub use client::{ClickHouse, ClickHouseError};
