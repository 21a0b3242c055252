//! Boundary sets: importing GeoJSON/TopoJSON layers and pairing their features with units.
pub mod cli;
pub mod import;
pub mod layer;
pub mod names;
pub mod repair;
pub mod shipped;
pub mod simplify;
