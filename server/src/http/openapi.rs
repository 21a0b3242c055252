//! `GET /api/v1/openapi.json`: the contract integrators code against, generated from the handlers.
//!
//! Each handler carries its operation (`#[utoipa::path]`: parameters, answers, codes) and each
//! answer's type its schema (`ToSchema`), so the document changes with the code it describes.
//! `docs/openapi.json` is a copy of it, held to the code by a test: a change of the contract
//! shows in review as a change of that file.
use super::error::{ErrorBody, RejectedBody};
use crate::codes::ErrorCode;
use crate::ingest::event::{LineError, WireEvent};
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::Components;
use utoipa::{Modify, OpenApi};

/// The document: the handlers below, the schemas their answers reference, and the ways of
/// signing requests ([`SecurityAddon`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Institutional Enforcement Map API",
        version = "1",
        description = "Dossier events in, indicator figures out. All dates are local dates in \
            Asia/Ho_Chi_Minh (UTC+07:00); a period [from, to] includes both ends. on_time_rate = \
            (resolved_early + resolved_on_time) / resolved (Decision 766)."
    ),
    paths(
        crate::http::events::post_events,
        crate::http::stats::get_stats,
        crate::http::stats::get_trend,
        crate::http::stats::get_uncatalogued,
        crate::http::stream::get_stream,
        crate::http::session::who_am_i,
        crate::http::session::sign_in,
        crate::http::session::sign_out,
        crate::http::late::get_late,
        crate::http::due::get_due,
        crate::http::reports::get_monthly,
        crate::http::alerts::get_rules,
        crate::http::alerts::post_rule,
        crate::http::alerts::put_rule,
        crate::http::alerts::delete_rule,
        crate::http::alerts::get_alerts,
        crate::http::alerts::post_read,
        crate::http::late::get_dossier,
        crate::http::admin::get_users,
        crate::http::admin::get_audit,
        crate::http::boundaries::get_boundaries,
        crate::http::ops::healthz,
        crate::http::ops::readyz
    ),
    components(schemas(ErrorCode, ErrorBody, RejectedBody, LineError, WireEvent)),
    modifiers(&SecurityAddon),
    tags(
        (name = "ingest", description = "Dossier events in"),
        (name = "figures", description = "Indicator figures out: per unit, per week or month, live"),
        (name = "dossiers", description = "Dossier-level data: leaders, chairs and admins within their scope; every call is audited"),
        (name = "alerts", description = "Alert rules and the alerts they raise: leaders, chairs and admins, each their own"),
        (name = "session", description = "Signing in and out"),
        (name = "admin", description = "Accounts and the audit log (admins only)"),
        (name = "map", description = "Map layers"),
        (name = "probes", description = "Liveness and readiness, for orchestrators and load balancers")
    )
)]
pub struct ApiDoc;

/// The ways a caller proves who it is, which the operations' `security` name. Added here
/// because the derive has no syntax for security schemes.
pub struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Components::new);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "ingestToken",
            bearer("A token with ingest rights (the server prints one on its first start)."),
        );
        components.add_security_scheme(
            "readToken",
            bearer("A token with read rights: dossier-level data of its units (`server tokens`)."),
        );
        components.add_security_scheme(
            "sessionCookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::sessions::COOKIE,
                "The session cookie that signing in (POST /api/v1/session) sets: HttpOnly, \
                 SameSite=Strict, Secure behind TLS.",
            ))),
        );
    }
}

/// A date parameter's description: what the date is, then the bounds every date and period is
/// held to ([`app::iso::check_date`], [`app::model::MAX_PERIOD_DAYS`]), taken from the code.
pub fn dated(what: &str) -> String {
    format!(
        "{what}; from {}-01-01 to {}-12-31, a period at most {} days",
        app::iso::FIRST_YEAR,
        app::iso::LAST_YEAR,
        app::model::MAX_PERIOD_DAYS
    )
}

/// The description of `units=` where figures are asked for (stats, trend, stream).
pub const UNITS: &str = "Which units the figures are shown on: `current` (today's units; the old \
    units' dossiers count for the units they went into) or `historical` (the units of the period's \
    time; periods ending by 2025-06-30 only). Default (`auto`): historical for a period ending \
    before 2025-07-01, current otherwise";

// Describes the parameter only: the handler reads the text itself.
/// The order of the rows.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

// Describes the parameter only: the handler reads the text itself.
/// The answer's format.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ListFormat {
    Json,
    Csv,
}

/// The document as JSON, the form the tests and `docs/openapi.json` read.
pub fn spec() -> Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document is plain data")
}

/// The document as served: built and written once (it is the same for every request, and anyone
/// may ask for it), then answered from memory.
pub async fn document() -> impl axum::response::IntoResponse {
    static DOCUMENT: std::sync::OnceLock<axum::body::Bytes> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        serde_json::to_vec(&ApiDoc::openapi())
            .expect("the OpenAPI document is plain data")
            .into()
    });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The names of the query parameters the document lists for `GET path`.
    fn query_parameters(doc: &Value, path: &str) -> BTreeSet<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has no parameters"))
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// The schema of the query parameter `name` of `GET path`.
    fn parameter_schema<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
        let parameters = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let parameter = parameters.iter().find(|p| p["name"] == name);
        &parameter.unwrap_or_else(|| panic!("{path} lists no {name}"))["schema"]
    }

    #[test]
    fn the_openapi_document_in_docs_is_the_one_the_code_generates() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
        let generated = serde_json::to_string_pretty(&spec()).unwrap() + "\n";
        // The way a developer updates the copy after changing the contract on purpose.
        // Never in CI, where the committed copy is what is checked.
        let in_ci = std::env::var("CI").as_deref() == Ok("true");
        if std::env::var("UPDATE_OPENAPI").as_deref() == Ok("1") && !in_ci {
            std::fs::write(&path, &generated).expect("docs/openapi.json can be written");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        // Not assert_eq!: two whole documents would bury the line that differs.
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        assert!(
            committed == generated,
            "docs/openapi.json differs from the code: run `UPDATE_OPENAPI=1 cargo test -p server \
             --lib openapi` and commit it (first difference at line {}: {:?} in the file, {:?} \
             generated)",
            first_difference + 1,
            committed.lines().nth(first_difference).unwrap_or(""),
            generated.lines().nth(first_difference).unwrap_or(""),
        );
    }

    #[test]
    fn every_error_code_appears_in_the_document() {
        let doc = spec();
        let listed: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .expect("the ErrorCode schema lists its values")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        // The schema is derived from the enum itself, so a variant missing from `ALL` shows here.
        assert_eq!(
            listed.len(),
            ErrorCode::ALL.len(),
            "ErrorCode::ALL misses a variant"
        );
        for code in ErrorCode::ALL {
            assert!(listed.contains(&code.as_str()), "{code} is not listed");
        }
        // And no other: `ALL` misses no variant (the schema is derived from the enum itself).
        assert_eq!(listed.len(), ErrorCode::ALL.len(), "{listed:?}");
        // The error bodies name their code through that schema.
        let error = &doc["components"]["schemas"]["Error"]["properties"]["code"];
        assert_eq!(error["$ref"], "#/components/schemas/ErrorCode", "{error}");
        // A refused line's code lists only the codes a line can carry.
        let line = &doc["components"]["schemas"]["LineError"]["properties"]["code"]["enum"];
        let line_codes: Vec<&str> = ErrorCode::LINE.iter().map(|c| c.as_str()).collect();
        assert_eq!(line, &serde_json::json!(line_codes), "{line}");
    }

    #[test]
    fn the_document_lists_exactly_the_query_parameters_each_handler_reads() {
        fn names(known: &[&str]) -> BTreeSet<String> {
            known.iter().map(|name| name.to_string()).collect()
        }
        let doc = spec();
        let mut stream = names(&crate::http::stats::KNOWN);
        stream.insert(crate::http::stream::LAST_EVENT_ID.to_string());
        for (path, read) in [
            ("/api/v1/stats", names(&crate::http::stats::KNOWN)),
            ("/api/v1/stream", stream),
            ("/api/v1/trend", names(&crate::http::stats::TREND_KNOWN)),
            ("/api/v1/late", names(crate::http::late::KNOWN)),
            ("/api/v1/due", names(crate::http::due::KNOWN)),
            (
                "/api/v1/reports/monthly",
                names(crate::http::reports::KNOWN),
            ),
            ("/api/v1/boundaries", names(&crate::http::boundaries::KNOWN)),
        ] {
            assert_eq!(query_parameters(&doc, path), read, "{path}");
        }
    }

    #[test]
    fn the_limits_the_document_states_are_the_ones_the_code_holds() {
        let doc = spec();
        let event = &doc["components"]["schemas"]["Event"]["properties"];
        for id in ["event_id", "dossier_id", "unit", "procedure", "agency"] {
            assert_eq!(
                event[id]["maxLength"].as_u64(),
                Some(crate::ingest::event::MAX_ID_LEN as u64),
                "{id}"
            );
        }
        for name in ["field", "outcome"] {
            assert_eq!(
                event[name]["maxLength"].as_u64(),
                Some(crate::ingest::event::MAX_NAME_LEN as u64),
                "{name}"
            );
        }
        let page_size = parameter_schema(&doc, "/api/v1/late", "page_size");
        assert_eq!(
            page_size["maximum"].as_f64(),
            Some(f64::from(app::late::MAX_PAGE_SIZE))
        );
        let detail = parameter_schema(&doc, "/api/v1/boundaries", "detail");
        let finest_to_coarsest = crate::boundaries::import::DETAIL_TOLERANCES.len() - 1;
        assert_eq!(detail["maximum"].as_f64(), Some(finest_to_coarsest as f64));
        // The ingest limits are written out in the route's description.
        let ingest = doc["paths"]["/api/v1/events"]["post"]["description"]
            .as_str()
            .unwrap();
        use crate::http::events::{MAX_BODY_BYTES, MAX_EVENTS, MAX_LINE_BYTES};
        assert!(ingest.contains("16 MiB per body") && MAX_BODY_BYTES == 16 << 20);
        assert!(ingest.contains("50,000 events per request") && MAX_EVENTS == 50_000);
        assert!(ingest.contains("64 KiB per line") && MAX_LINE_BYTES == 64 << 10);
        // A date parameter states the years and the longest period the code accepts.
        let from = &doc["paths"]["/api/v1/stats"]["get"]["parameters"][0];
        assert_eq!(from["name"], "from");
        let said = from["description"].as_str().unwrap();
        for bound in [
            format!("{}-01-01", app::iso::FIRST_YEAR),
            format!("{}-12-31", app::iso::LAST_YEAR),
            format!("at most {} days", app::model::MAX_PERIOD_DAYS),
        ] {
            assert!(said.contains(&bound), "{bound} in {said}");
        }
    }

    #[test]
    fn the_security_schemes_are_exactly_those_the_operations_name() {
        let doc = spec();
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        let mut named = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for requirement in operation["security"].as_array().into_iter().flatten() {
                    for name in requirement.as_object().unwrap().keys() {
                        assert!(schemes.contains_key(name), "{method} {path}: {name}");
                        named.insert(name.clone());
                    }
                }
            }
        }
        let defined: BTreeSet<String> = schemes.keys().cloned().collect();
        assert_eq!(
            named, defined,
            "a scheme is defined but no operation uses it"
        );
    }
}
