//! A deterministic demo history, written through the same ingest path integrators use.
use crate::ingest::event::{Event, EventKind, Reception};
use crate::store::writer::BatchError;
use crate::store::DuckStore;
use app::model::{Channel, Level};
use chrono::{Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};

/// A small, fast pseudo-random generator (SplitMix64): the same seed gives the same history.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const FIELDS: [(&str, &str, u32); 5] = [
    ("Đất đai", "DD-01", 15),
    ("Hộ tịch", "HT-01", 3),
    ("Chứng thực", "CT-01", 1),
    ("Xây dựng", "XD-01", 12),
    ("Đăng ký kinh doanh", "KD-01", 5),
];

/// Writes a small history (each district and its communes, the last 15 months before `today`)
/// if the store holds no dossier yet. Returns the number of events written.
pub fn seed_placeholder(store: &DuckStore, today: NaiveDate) -> Result<u64, BatchError> {
    if store.summary()?.dossiers > 0 {
        return Ok(0);
    }
    let units = {
        use app::store::IndicatorStore;
        let mut all = Vec::new();
        for province in store
            .units(Level::Province, None)
            .map_err(|e| crate::store::StoreFailure::Corrupt(e.to_string()))?
        {
            for district in store
                .units(Level::District, Some(&province.code))
                .map_err(|e| crate::store::StoreFailure::Corrupt(e.to_string()))?
            {
                all.push(district.code);
            }
        }
        all
    };
    let tz = FixedOffset::east_opt(7 * 3600).expect("offset");
    let start = today - Duration::days(460);
    let mut rng = Rng::new(0x1EA_2021);
    let mut batch = Vec::new();
    let mut written = 0u64;
    for (ui, unit) in units.iter().enumerate() {
        // Units differ in size and in punctuality, so the map has contrast.
        let daily = 4 + rng.below(10);
        let punctuality = 0.88 + 0.11 * rng.unit();
        let mut day = start;
        let mut n = 0u64;
        while day < today {
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            let count = if weekend { daily / 4 } else { daily };
            for _ in 0..count {
                n += 1;
                let (field, procedure, allowed) = FIELDS[rng.below(FIELDS.len() as u64) as usize];
                let dossier_id = format!("DEMO-{unit}-{n:06}");
                let received_at = tz
                    .from_local_datetime(
                        &day.and_hms_opt(7 + rng.below(9) as u32, rng.below(60) as u32, 0)
                            .expect("time"),
                    )
                    .single()
                    .expect("fixed offset");
                let due = received_at + Duration::days(i64::from(allowed));
                let channel = if rng.unit() < 0.45 {
                    Channel::Online
                } else {
                    Channel::Direct
                };
                let fee = rng.unit() < 0.6;
                batch.push((
                    0,
                    Event {
                        event_id: format!("{dossier_id}-r"),
                        dossier_id: dossier_id.clone(),
                        at: received_at,
                        kind: EventKind::Received(Reception {
                            unit: unit.clone(),
                            level: Level::District,
                            procedure: procedure.to_string(),
                            field: field.to_string(),
                            channel,
                            due,
                            fee,
                            paid_online: fee && channel == Channel::Online,
                            agency: None,
                        }),
                    },
                ));
                let late = rng.unit() > punctuality;
                let days = if late {
                    i64::from(allowed) + 1 + rng.below(10) as i64
                } else {
                    rng.below(u64::from(allowed) + 1) as i64
                };
                let resolved_at = received_at + Duration::days(days);
                if resolved_at.date_naive() < today {
                    batch.push((
                        0,
                        Event {
                            event_id: format!("{dossier_id}-s"),
                            dossier_id,
                            at: resolved_at,
                            kind: EventKind::Resolved { outcome: None },
                        },
                    ));
                }
            }
            day += Duration::days(1);
        }
        if batch.len() > 20_000 || ui + 1 == units.len() {
            for (i, (line, _)) in batch.iter_mut().enumerate() {
                *line = i as u32 + 1;
            }
            written += store.ingest(&batch)?.accepted;
            batch.clear();
            tracing::info!(
                units_done = ui + 1,
                units = units.len(),
                events = written,
                "writing demo history"
            );
        }
    }
    Ok(written)
}
