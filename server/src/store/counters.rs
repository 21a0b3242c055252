//! The rollup counters, named once for both engines' tables, sums and copies.
//!
//! They are split by how a period reads them: the range counters (the first nine) are summed over
//! the period itself; the prefix counters (the last three) only feed the pending figures, which
//! are prefix sums over every day up to the period's end (`pending = sum(received - closed)`,
//! `pending_overdue = sum(due - due_or_closed)`) that no sum over the period alone can give.
//! Every rollup table (DuckDB's and the cluster's, daily and monthly) has these columns in this
//! order, and [`super::rollup::Counters`] a field of each name.

/// Every rollup counter, in the tables' column order.
pub const COUNTERS: [&str; 12] = [
    "received",
    "received_online",
    "received_with_fee",
    "paid_online",
    "resolved",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "resolved_days",
    "closed",
    "due",
    "due_or_closed",
];

/// How many counters, from the first, are range counters.
const RANGE_LEN: usize = 9;

/// The counters summed over the period itself (the first nine), in the order of the figures of
/// `app::model::Counts` they give (`resolved_days` gives `resolved_days_total`).
pub const RANGE_COUNTERS: &[&str] = COUNTERS.split_at(RANGE_LEN).0;

/// The counters read only through the pending prefix sums (the last three).
pub const PREFIX_COUNTERS: &[&str] = COUNTERS.split_at(RANGE_LEN).1;
