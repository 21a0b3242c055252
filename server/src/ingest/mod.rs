//! Everything between an integrator's bytes and the store: parsing, per-event checks, file import.
pub mod event;
pub mod import;
