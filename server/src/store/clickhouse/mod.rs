//! The ClickHouse cluster store: its address, the HTTP client, the schema, the copy from DuckDB,
//! the write lock the web servers share, and the store itself (ingest, figures, dossier-level reads).
pub mod address;
pub mod client;
pub mod copy;
pub mod due;
pub mod figures;
pub mod late;
pub mod lock;
pub mod schema;
pub mod store;

pub use address::ClusterAddress;
pub use client::{ClickHouse, ClickHouseError};
pub use store::ClusterStore;
