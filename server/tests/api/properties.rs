//! Property tests (proptest) of the two parsers that take outside input: the ingest parser
//! (body splitting and event validation) and the boundary importer (GeoJSON / TopoJSON reading,
//! geometry checks, simplification). Inputs are generated near the valid shapes, where bugs
//! hide, as well as at random. `PROPTEST_CASES` raises the number of cases for a longer run.
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use server::boundaries::layer::read_layer;
use server::boundaries::repair::check;
use server::boundaries::simplify::simplify_layer;
use server::http::events::split_body;
use server::ingest::event::parse_event;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(512),
        ..ProptestConfig::default()
    }
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Timestamps as integrators send them, right and wrong.
fn timestamp() -> impl Strategy<Value = Value> {
    prop_oneof![
        (2000i32..2100, 1u32..13, 1u32..32, 0u32..24, 0u32..60).prop_map(
            |(y, m, d, h, min)| json!(format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:00+07:00"))
        ),
        (1u32..32, 1u32..13, 1990i32..2100)
            .prop_map(|(d, m, y)| json!(format!("{d:02}/{m:02}/{y}"))),
        ".{0,30}".prop_map(Value::String),
        any_json(),
    ]
}

/// An event object: the known fields with plausible or odd values, some missing, some extra.
fn event_like() -> impl Strategy<Value = Value> {
    let field = |name: &'static str, values: BoxedStrategy<Value>| {
        prop::option::weighted(0.85, values).prop_map(move |v| (name, v))
    };
    (
        (
            field(
                "event_id",
                prop_oneof![".{0,80}".prop_map(Value::String), any_json()].boxed(),
            ),
            field(
                "dossier_id",
                prop_oneof!["[A-Z0-9-]{0,40}".prop_map(Value::String), any_json()].boxed(),
            ),
            field(
                "type",
                prop_oneof![
                    prop::sample::select(vec![
                        "received",
                        "resolved",
                        "withdrawn",
                        "due_changed",
                        "RESOLVED",
                        ""
                    ])
                    .prop_map(|s| json!(s)),
                    any_json()
                ]
                .boxed(),
            ),
            field("at", timestamp().boxed()),
            field("due", timestamp().boxed()),
            field(
                "unit",
                prop_oneof![
                    prop::sample::select(vec!["502", "49", "20335", "99999", ""])
                        .prop_map(|s| json!(s)),
                    any_json()
                ]
                .boxed(),
            ),
            field(
                "level",
                prop_oneof![
                    prop::sample::select(vec!["province", "district", "commune", "x"])
                        .prop_map(|s| json!(s)),
                    any_json()
                ]
                .boxed(),
            ),
        ),
        (
            field(
                "procedure",
                prop_oneof!["[A-Z]{2}-[0-9]{2}".prop_map(Value::String), any_json()].boxed(),
            ),
            field(
                "field",
                prop_oneof![
                    Just(json!("Đất đai")),
                    ".{0,20}".prop_map(Value::String),
                    any_json()
                ]
                .boxed(),
            ),
            field(
                "channel",
                prop_oneof![
                    prop::sample::select(vec!["online", "direct", "postal", "fax"])
                        .prop_map(|s| json!(s)),
                    any_json()
                ]
                .boxed(),
            ),
            field("fee", any_json().boxed()),
            field("paid_online", any_json().boxed()),
        ),
        (".{0,10}", any_json()),
    )
        .prop_map(|((a, b, c, d, e, f, g), (h, i, j, k, l), extra)| {
            let mut object = Map::new();
            for (name, value) in [a, b, c, d, e, f, g, h, i, j, k, l] {
                if let Some(v) = value {
                    object.insert(name.to_string(), v);
                }
            }
            object.insert(extra.0, extra.1);
            Value::Object(object)
        })
}

proptest! {
    #![proptest_config(config())]

    /// Every object gets an answer: an event, or errors that name the line and a code.
    #[test]
    fn the_event_parser_answers_every_object(value in prop_oneof![event_like(), any_json()], line in 1u32..1_000_000) {
        let now = chrono::Utc::now();
        match parse_event(line, &value, now) {
            Ok(event) => {
                // A parsed event is stable: parsing it again gives the same meaning.
                let again = parse_event(line, &value, now).expect("same input, same answer");
                prop_assert_eq!(event.content_hash(), again.content_hash());
                prop_assert!(!event.event_id.is_empty() && !event.dossier_id.is_empty());
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in errors {
                    prop_assert_eq!(e.line, line);
                    prop_assert!(!e.code.as_str().is_empty() && !e.message.is_empty());
                }
            }
        }
    }

    /// Any bytes under any content type: lines and line numbers, or a clear refusal, never a panic.
    #[test]
    fn the_body_splitter_answers_any_bytes(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            prop::collection::vec(event_like(), 0..8).prop_map(|v| v.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n").into_bytes()),
            prop::collection::vec(event_like(), 0..8).prop_map(|v| Value::Array(v).to_string().into_bytes()),
        ],
        content_type in prop::sample::select(vec!["application/x-ndjson", "application/json", "application/ndjson; charset=utf-8", "text/plain", ""]),
    ) {
        if let Ok(lines) = split_body(content_type, &body) {
            let numbers: Vec<u32> = lines.iter().map(|(n, _)| *n).collect();
            prop_assert!(numbers.windows(2).all(|w| w[0] < w[1]), "line numbers increase: {:?}", numbers);
        }
    }
}

/// A ring of points around a centre, possibly open, self-crossing or degenerate.
fn ring() -> impl Strategy<Value = Value> {
    (
        100.0f64..110.0,
        8.0f64..24.0,
        prop::collection::vec((-0.5f64..0.5, -0.5f64..0.5), 0..12),
        any::<bool>(),
    )
        .prop_map(|(x, y, offsets, close)| {
            let mut points: Vec<Value> = offsets
                .iter()
                .map(|(dx, dy)| json!([x + dx, y + dy]))
                .collect();
            if close {
                if let Some(first) = points.first().cloned() {
                    points.push(first);
                }
            }
            Value::Array(points)
        })
}

fn geometry() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(ring(), 0..3)
            .prop_map(|rings| json!({"type": "Polygon", "coordinates": rings})),
        prop::collection::vec(prop::collection::vec(ring(), 0..3), 0..3)
            .prop_map(|polygons| json!({"type": "MultiPolygon", "coordinates": polygons})),
        (".{0,12}", any_json()).prop_map(|(t, c)| json!({"type": t, "coordinates": c})),
        any_json(),
    ]
}

fn geojson() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            geometry(),
            prop::collection::btree_map("[a-z_]{1,8}", any_json(), 0..4),
        ),
        0..6,
    )
    .prop_map(|features| {
        json!({"type": "FeatureCollection", "features": features.into_iter().map(|(g, p)| {
            json!({"type": "Feature", "properties": p, "geometry": g})
        }).collect::<Vec<_>>()})
    })
}

fn topojson() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(prop::collection::vec((-1000i64..1000, -1000i64..1000), 0..10), 0..6),
        prop::collection::vec(prop::collection::vec(prop::collection::vec(-8i64..8, 0..4), 0..3), 0..5),
        any::<bool>(),
    )
        .prop_map(|(arcs, polygons, quantized)| {
            let arcs: Vec<Value> = arcs
                .into_iter()
                .map(|a| Value::Array(a.into_iter().map(|(x, y)| json!([x, y])).collect()))
                .collect();
            let mut doc = json!({
                "type": "Topology",
                "arcs": arcs,
                "objects": {"units": {"type": "GeometryCollection", "geometries": polygons.into_iter().map(|rings| {
                    json!({"type": "Polygon", "arcs": rings, "properties": {"name": "x"}})
                }).collect::<Vec<_>>()}}
            });
            if quantized {
                doc["transform"] = json!({"scale": [0.001, 0.001], "translate": [105.0, 15.0]});
            }
            doc
        })
}

proptest! {
    #![proptest_config(config())]

    /// Any document: features with checked geometry, or a clear error; checks and
    /// simplification of what was read never panic and keep the feature count.
    #[test]
    fn the_boundary_reader_answers_any_document(doc in prop_oneof![geojson(), topojson(), any_json()]) {
        let bytes = doc.to_string().into_bytes();
        if let Ok(features) = read_layer(bytes.as_slice(), None) {
            for f in &features {
                let _ = check(f);
            }
            let geometries: Vec<_> = features.iter().map(|f| f.geometry.clone()).collect();
            let simplified = simplify_layer(&geometries, 0.001);
            prop_assert_eq!(simplified.len(), geometries.len());
        }
    }

    /// Cut-off files are refused, never half-read.
    #[test]
    fn truncated_boundary_files_are_refused(doc in geojson(), cut in 0.0f64..1.0) {
        let text = doc.to_string();
        let at = ((text.len() as f64) * cut) as usize;
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        if at < text.len() {
            prop_assert!(read_layer(&text.as_bytes()[..at], None).is_err());
        }
    }
}
