//! The cluster store answers as the embedded one: the same events go into a DuckDB store and a
//! two-shard cluster, and every figure, list and refusal is compared field by field.
use crate::clickhouse::Cluster;
use crate::common::{authored_data, Lcg};
use app::late::{LateKind, LateQuery, LateSort};
use app::model::{Bucket, Channel, Level, Period, StatsQuery, TrendQuery};
use app::selection::SelectionQuery;
use app::store::IndicatorStore;
use app::views::COUNTRY;
use chrono::{Duration, NaiveDate, Utc};
use server::ingest::event::{parse_event, Event};
use server::store::check::BatchError;
use server::store::clickhouse::ClusterStore;
use server::store::served::ServedStore;
use server::store::DuckStore;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The events of `dossiers` dossiers of Quảng Nam over the first half of 2025, in time order:
/// receptions at every level, due date changes, resolutions early, on time and late,
/// withdrawals, some left open, one procedure the catalogue lacks.
fn history(duck: &DuckStore, dossiers: u32) -> Vec<(i64, serde_json::Value)> {
    let mut rng = Lcg(49);
    let districts = duck.children("49", Level::District).unwrap();
    let mut units: Vec<(String, &str)> = vec![("49".into(), "province")];
    for district in districts.iter().take(6) {
        units.push((district.clone(), "district"));
        for commune in duck
            .children(district, Level::Commune)
            .unwrap()
            .into_iter()
            .take(4)
        {
            units.push((commune, "commune"));
        }
    }
    let mut procedures = duck.procedures().unwrap();
    procedures.truncate(12);
    procedures.push(("XX-99".into(), "Khác".into(), 7));
    let agencies = duck.agencies("49").unwrap();
    let channels = ["online", "direct", "postal"];
    let mut events = Vec::new();
    let start = d("2025-01-01").and_hms_opt(1, 0, 0).unwrap();
    for k in 0..dossiers {
        let id = format!("HS-{k:05}");
        let (unit, level) = &units[rng.below(units.len() as u64) as usize];
        let (procedure, field, days) = &procedures[rng.below(procedures.len() as u64) as usize];
        let received = start + Duration::minutes(rng.below(180 * 24 * 60) as i64);
        let due = received + Duration::days(i64::from(*days));
        let at = |t: chrono::NaiveDateTime| format!("{}+07:00", t.format("%Y-%m-%dT%H:%M:%S"));
        let mut reception = serde_json::json!({
            "event_id": format!("{id}-r"), "dossier_id": id, "type": "received",
            "at": at(received), "unit": unit, "level": level, "procedure": procedure,
            "field": field, "channel": channels[rng.below(3) as usize], "due": at(due),
        });
        let fee = rng.below(2) == 0;
        reception["fee"] = fee.into();
        reception["paid_online"] = (fee && rng.below(3) == 0).into();
        if !agencies.is_empty() && rng.below(2) == 0 {
            reception["agency"] = agencies[rng.below(agencies.len() as u64) as usize]
                .clone()
                .into();
        }
        events.push((received.and_utc().timestamp(), reception));
        let mut due = due;
        if rng.below(5) == 0 {
            let changed = received + Duration::hours(rng.below(72) as i64 + 1);
            due += Duration::days(rng.below(9) as i64 + 1);
            events.push((
                changed.and_utc().timestamp(),
                serde_json::json!({"event_id": format!("{id}-c"), "dossier_id": id,
                    "type": "due_changed", "at": at(changed), "due": at(due)}),
            ));
        }
        let span = (due - received).num_minutes().max(60);
        match rng.below(20) {
            0 => {
                let withdrawn = received + Duration::minutes(rng.below(span as u64) as i64 + 61);
                events.push((
                    withdrawn.and_utc().timestamp(),
                    serde_json::json!({"event_id": format!("{id}-w"), "dossier_id": id,
                        "type": "withdrawn", "at": at(withdrawn)}),
                ));
            }
            1..=14 => {
                let resolved =
                    received + Duration::minutes(rng.below(span as u64 * 3 / 2) as i64 + 61);
                events.push((
                    resolved.and_utc().timestamp(),
                    serde_json::json!({"event_id": format!("{id}-x"), "dossier_id": id,
                        "type": "resolved", "at": at(resolved), "outcome": "approved"}),
                ));
            }
            _ => {}
        }
    }
    events.sort_by_key(|(t, _)| *t);
    events
}

fn parse(lines: &[(i64, serde_json::Value)]) -> Vec<(u32, Event)> {
    let now = Utc::now();
    lines
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let line = i as u32 + 1;
            (line, parse_event(line, v, now).expect("a valid event"))
        })
        .collect()
}

/// Both stores take (or refuse) a batch the same way.
fn ingest_both(duck: &DuckStore, cluster: &ClusterStore, batch: Vec<(u32, Event)>) {
    let everything = server::auth::Scope::Everything;
    let a = ServedStore::ingest(duck, batch.clone(), &everything);
    let b = ServedStore::ingest(cluster, batch, &everything);
    match (a, b) {
        (Ok(a), Ok(b)) => assert_eq!(
            (a.accepted, a.duplicates),
            (b.accepted, b.duplicates),
            "accepted and duplicates"
        ),
        (Err(BatchError::Rejected(a)), Err(BatchError::Rejected(b))) => assert_eq!(a, b),
        (a, b) => panic!("the stores disagree: DuckDB {a:?}, cluster {b:?}"),
    }
}

#[test]
fn the_cluster_store_answers_every_query_as_duckdb_does() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let duck = DuckStore::open(&dir.path().join("iem.duckdb"), &authored_data()).unwrap();
    let clustered = ClusterStore::open(
        cluster.address.clone(),
        &dir.path().join("reference.duckdb"),
        &authored_data(),
    )
    .expect("the cluster store opens");

    let lines = history(&duck, 4_000);
    let mut batches = 0;
    for chunk in lines.chunks(700) {
        ingest_both(&duck, &clustered, parse(chunk));
        batches += 1;
    }
    assert!(batches > 5);
    // A resend (another web server, a lost reply) is counted once by both.
    ingest_both(&duck, &clustered, parse(&lines[..300]));
    // The same refusals, naming the same lines and fields.
    let bad = vec![
        serde_json::json!({"event_id": "bad-1", "dossier_id": "HS-00001", "type": "received",
            "at": "2025-07-01T08:00:00+07:00", "unit": "49", "level": "province",
            "procedure": "X", "field": "Y", "channel": "online", "due": "2025-07-09T08:00:00+07:00"}),
        serde_json::json!({"event_id": "bad-2", "dossier_id": "nobody", "type": "resolved",
            "at": "2025-07-01T08:00:00+07:00"}),
        serde_json::json!({"event_id": "HS-00002-r", "dossier_id": "HS-00002", "type": "withdrawn",
            "at": "2025-07-01T08:00:00+07:00"}),
    ];
    let bad: Vec<_> = bad.into_iter().map(|v| (0, v)).collect();
    ingest_both(&duck, &clustered, parse(&bad));
    let (events, dossiers) = clustered.counts().unwrap();
    assert_eq!(duck.summary().unwrap().events, events);
    assert_eq!(duck.summary().unwrap().dossiers, dossiers);

    let districts = duck.children("49", Level::District).unwrap();
    let district = districts[0].clone();
    let commune = duck.children(&district, Level::Commune).unwrap()[0].clone();
    let field = duck.procedures().unwrap()[0].1.clone();
    let periods = [
        ("2025-01-01", "2025-03-31"),
        ("2025-04-01", "2025-06-30"),
        ("2025-01-15", "2025-03-10"),
        ("2025-02-03", "2025-02-09"),
        ("2025-06-01", "2025-06-30"),
        ("2024-10-01", "2025-06-30"),
    ]
    .map(|(from, to)| Period {
        from: d(from),
        to: d(to),
    });
    type Filters = (Option<String>, Option<Channel>, Option<Level>);
    let filters: [Filters; 4] = [
        (None, None, None),
        (Some(field.clone()), None, None),
        (None, Some(Channel::Online), None),
        (None, None, Some(Level::Commune)),
    ];
    let mut compared = 0;
    for period in periods {
        for (field, channel, dossier_level) in &filters {
            let views = [
                (Level::Province, None),
                (Level::District, Some("49".to_string())),
                (Level::Commune, Some("49".to_string())),
                (Level::Commune, Some(district.clone())),
            ];
            for (level, parent) in views {
                let q = StatsQuery {
                    period,
                    level,
                    parent,
                    field: field.clone(),
                    channel: *channel,
                    dossier_level: *dossier_level,
                    units: Default::default(),
                };
                assert_eq!(
                    duck.stats(&q).unwrap(),
                    clustered.stats(&q).unwrap(),
                    "stats {q:?}"
                );
                assert_eq!(
                    duck.monthly_on_time(&q).unwrap(),
                    clustered.monthly_on_time(&q).unwrap(),
                    "monthly {q:?}"
                );
                compared += 2;
            }
            for unit in [COUNTRY, "49", &district, &commune] {
                for bucket in [Bucket::Week, Bucket::Month] {
                    let q = TrendQuery {
                        unit: unit.to_string(),
                        period,
                        bucket,
                        field: field.clone(),
                        channel: *channel,
                        dossier_level: *dossier_level,
                        units: Default::default(),
                    };
                    assert_eq!(
                        duck.trend(&q).unwrap(),
                        clustered.trend(&q).unwrap(),
                        "trend {q:?}"
                    );
                    compared += 1;
                }
            }
            for unit in [
                None,
                Some("49".to_string()),
                Some(district.clone()),
                Some(commune.clone()),
            ] {
                let q = SelectionQuery {
                    unit,
                    period,
                    field: field.clone(),
                    channel: *channel,
                    dossier_level: *dossier_level,
                    units: Default::default(),
                };
                assert_eq!(
                    duck.by_sector(&q).unwrap(),
                    clustered.by_sector(&q).unwrap(),
                    "{q:?}"
                );
                assert_eq!(
                    duck.days_distribution(&q).unwrap(),
                    clustered.days_distribution(&q).unwrap(),
                    "{q:?}"
                );
                assert_eq!(
                    IndicatorStore::procedures(&duck, &q).unwrap(),
                    IndicatorStore::procedures(&clustered, &q).unwrap(),
                    "{q:?}"
                );
                compared += 3;
            }
        }
    }
    // On today's units (the old units' dossiers converted), across the reform.
    let across = Period {
        from: d("2024-10-01"),
        to: d("2025-12-31"),
    };
    for (level, parent) in [
        (Level::Province, None),
        (Level::Commune, Some("48".to_string())),
    ] {
        let q = StatsQuery {
            period: across,
            level,
            parent,
            field: None,
            channel: None,
            dossier_level: None,
            units: app::era::UnitsView::Current,
        };
        let figures = duck.stats(&q).unwrap();
        assert!(figures.total.received > 0, "{q:?}");
        assert_eq!(figures, clustered.stats(&q).unwrap(), "stats {q:?}");
        assert_eq!(
            duck.monthly_on_time(&q).unwrap(),
            clustered.monthly_on_time(&q).unwrap(),
            "monthly {q:?}"
        );
        compared += 2;
    }
    let today_units = duck
        .stats(&StatsQuery {
            period: across,
            level: Level::Commune,
            parent: Some("48".into()),
            field: None,
            channel: None,
            dossier_level: None,
            units: app::era::UnitsView::Current,
        })
        .unwrap();
    let busiest = today_units
        .units
        .iter()
        .max_by_key(|u| u.received)
        .map(|u| u.code.clone())
        .unwrap();
    for unit in ["48", busiest.as_str()] {
        let q = TrendQuery {
            unit: unit.to_string(),
            period: across,
            bucket: Bucket::Month,
            field: None,
            channel: None,
            dossier_level: None,
            units: app::era::UnitsView::Current,
        };
        assert_eq!(
            duck.trend(&q).unwrap(),
            clustered.trend(&q).unwrap(),
            "{q:?}"
        );
        let q = SelectionQuery {
            unit: Some(unit.to_string()),
            period: across,
            field: None,
            channel: None,
            dossier_level: None,
            units: app::era::UnitsView::Current,
        };
        assert_eq!(
            duck.by_sector(&q).unwrap(),
            clustered.by_sector(&q).unwrap(),
            "{q:?}"
        );
        assert_eq!(
            duck.days_distribution(&q).unwrap(),
            clustered.days_distribution(&q).unwrap(),
            "{q:?}"
        );
        assert_eq!(
            IndicatorStore::procedures(&duck, &q).unwrap(),
            IndicatorStore::procedures(&clustered, &q).unwrap(),
            "{q:?}"
        );
        compared += 4;
    }

    // The figures are not all zero: the comparison compares something.
    let q1 = duck
        .stats(&StatsQuery {
            period: periods[0],
            level: Level::District,
            parent: Some("49".into()),
            field: None,
            channel: None,
            dossier_level: None,
            units: Default::default(),
        })
        .unwrap();
    assert!(q1.total.received > 1_000 && q1.total.resolved_late > 0 && q1.total.pending > 0);

    // The late lists: every kind, every order, two pages.
    let sorts = [
        LateSort::DaysOverdue,
        LateSort::DossierId,
        LateSort::Procedure,
        LateSort::Field,
        LateSort::Agency,
        LateSort::Received,
        LateSort::Due,
        LateSort::Resolved,
        LateSort::Stage,
    ];
    for unit in ["49", district.as_str(), commune.as_str()] {
        for kind in [
            LateKind::All,
            LateKind::ResolvedLate,
            LateKind::PendingOverdue,
        ] {
            for sort in sorts {
                for (page, descending) in [(1, true), (2, false)] {
                    let q = LateQuery {
                        unit: unit.into(),
                        from: periods[0].from,
                        to: periods[0].to,
                        kind,
                        field: None,
                        procedure: None,
                        agency: None,
                        sort,
                        descending,
                        page,
                        page_size: 25,
                        units: Default::default(),
                    };
                    assert_eq!(
                        duck.late_dossiers(&q).unwrap(),
                        clustered.late_dossiers(&q).unwrap(),
                        "late {q:?}"
                    );
                    compared += 1;
                }
            }
        }
    }
    // One dossier's timeline: the same events, times and due dates (sequence numbers are each
    // store's own).
    for id in ["HS-00001", "HS-00002", "HS-00017", "HS-03999", "nobody"] {
        let strip = |events: Vec<app::late::TimelineEvent>| {
            events
                .into_iter()
                .map(|mut e| {
                    e.seq = 0;
                    e
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(duck.dossier_events(id).unwrap()),
            strip(clustered.dossier_events(id).unwrap()),
            "{id}"
        );
        assert_eq!(
            ServedStore::dossier_unit(&duck, id).unwrap(),
            ServedStore::dossier_unit(&clustered, id).unwrap()
        );
    }
    assert_eq!(
        ServedStore::uncatalogued_procedures(&duck).unwrap(),
        ServedStore::uncatalogued_procedures(&clustered).unwrap()
    );
    assert!(compared > 800, "{compared} answers compared");
    println!("{compared} answers compared field by field");
}
