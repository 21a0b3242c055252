//! Everything between an integrator's bytes and the store: parsing and per-event checks.
pub mod event;
