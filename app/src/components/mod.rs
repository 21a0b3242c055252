//! UI components, one domain area per module.
pub mod account;
pub mod alerts;
pub mod chart_frame;
pub mod charts;
pub mod dashboard;
pub mod due;
pub mod due_card;
pub mod embed;
pub mod headline;
pub mod late;
pub mod live;
pub mod loaded;
pub mod map;
pub mod map_bench;
pub mod procedures;
pub mod ranking;
pub mod signin;
