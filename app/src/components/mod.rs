//! UI components, one domain area per module.
pub mod dashboard;
pub mod headline;
pub mod map;
pub mod map_bench;
pub mod ranking;
