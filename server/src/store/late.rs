//! What both engines' late-dossier reads share: the store keys a late list covers, and how an
//! event's UTC offset is written in its timeline.
use super::StoreFailure;

/// `+07:00` for an offset of 25,200 seconds east of UTC (RFC 3339).
pub(crate) fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// The store keys whose dossiers a late list of `unit` (a store key) covers: the unit, and for a
/// unit of today the old units that went into it (an old province wholly, an old commune whole
/// or split). Under each, every unit below it counts too.
pub fn late_scope(
    conn: &duckdb::Connection,
    conversion: &super::conversion::Conversion,
    unit: &str,
) -> Result<Vec<String>, StoreFailure> {
    let era = app::era::Era::of_key(unit);
    match super::query::unit_level(conn, unit)? {
        Some((level, name)) => Ok(super::view::gather(
            conversion,
            era,
            &super::view::ViewUnit {
                key: unit.to_string(),
                level,
                name,
            },
        )
        .1),
        None => Ok(vec![unit.to_string()]),
    }
}

#[cfg(test)]
mod tests {
    use super::format_offset;

    #[test]
    fn offsets_print_as_rfc3339() {
        assert_eq!(format_offset(25_200), "+07:00");
        assert_eq!(format_offset(-19_800), "-05:30");
        assert_eq!(format_offset(0), "+00:00");
    }
}
