//! Everything between an integrator's bytes and the store: parsing, per-event checks, the ingest
//! pipeline every writer calls, file import.
pub mod event;
pub mod import;
pub mod service;
