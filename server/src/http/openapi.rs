//! `GET /api/v1/openapi.json`: the contract integrators code against, kept beside the handlers.
use axum::Json;
use serde_json::{json, Value};

/// Every rejection code an ingest line can carry.
pub const INGEST_ERROR_CODES: [&str; 19] = [
    "invalid_json",
    "invalid_type",
    "missing_field",
    "invalid_value",
    "too_long",
    "invalid_timestamp",
    "timestamp_without_offset",
    "timestamp_in_future",
    "timestamp_out_of_range",
    "unknown_unit",
    "unit_not_in_force",
    "level_mismatch",
    "due_before_received",
    "unknown_dossier",
    "duplicate_received",
    "already_resolved",
    "already_withdrawn",
    "already_closed",
    "before_received",
];

fn figures_schema() -> Value {
    let count = json!({"type": "integer", "format": "int64", "minimum": 0});
    let rate = json!({"type": ["number", "null"], "minimum": 0, "maximum": 1,
                      "description": "A fraction 0..1; null when its denominator is 0."});
    json!({
        "type": "object",
        "required": ["code", "name", "received", "resolved", "resolved_early", "resolved_on_time", "resolved_late",
                     "pending", "pending_overdue", "on_time_rate", "late_rate_incl_pending", "online_rate",
                     "online_payment_rate", "avg_days"],
        "properties": {
            "code": {"type": "string", "description": "Official unit code; leading zeros kept."},
            "name": {"type": "string"},
            "received": count, "resolved": count, "resolved_early": count, "resolved_on_time": count,
            "resolved_late": count, "pending": count, "pending_overdue": count,
            "received_online": count, "received_with_fee": count, "paid_online": count,
            "on_time_rate": rate, "late_rate_incl_pending": rate, "online_rate": rate, "online_payment_rate": rate,
            "avg_days": {"type": ["number", "null"], "description": "Mean days from reception to resolution."},
            "apportioned": {"type": "integer", "format": "int64", "minimum": 0,
                            "description": "On today's units: dossiers of old communes split at the 2025 reform counted here by equal shares (0: every count is exact)."}
        }
    })
}

pub fn spec() -> Value {
    // Every date lies in 2000–2099 (`app::iso::check_date`) and a period covers at most
    // `app::model::MAX_PERIOD_DAYS`; say so where the dates are asked for.
    let date_param = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "required": true,
               "description": format!("{description}; from {}-01-01 to {}-12-31, a period at most {} days",
                                      app::iso::FIRST_YEAR, app::iso::LAST_YEAR, app::model::MAX_PERIOD_DAYS),
               "schema": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}})
    };
    let optional = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema});
    let level = || json!({"type": "string", "enum": ["province", "district", "commune"]});
    let channel = || json!({"type": "string", "enum": ["online", "direct", "postal"]});
    let error_response = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Institutional Enforcement Map API",
            "version": "1",
            "description": "Dossier events in, indicator figures out. All dates are local dates in Asia/Ho_Chi_Minh (UTC+07:00); a period [from, to] includes both ends. on_time_rate = (resolved_early + resolved_on_time) / resolved (Decision 766)."
        },
        "paths": {
            "/api/v1/events": {
                "post": {
                    "summary": "Push dossier events",
                    "description": "NDJSON (one event per line) or a JSON array. The reply comes once the events are durable. If any line is invalid nothing from the request is stored and every bad line is listed. Resending an event (same event_id, same content) is a no-op counted in `duplicates`. Limits: 16 MiB per body, 50,000 events per request, 64 KiB per line (413 beyond).",
                    "security": [{"ingestToken": []}],
                    "requestBody": {"required": true, "content": {
                        "application/x-ndjson": {"schema": {"type": "string", "description": "One Event JSON object per line."}},
                        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}
                    }},
                    "responses": {
                        "200": {"description": "Stored", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["accepted", "duplicates"],
                            "properties": {"accepted": {"type": "integer"}, "duplicates": {"type": "integer"}}}}}},
                        "401": error_response("Missing or invalid bearer token"),
                        "403": error_response("The token or session is not an ingest token"),
                        "429": error_response("The token is over its request rate; `Retry-After` says when to resend. Nothing from the request was stored"),
                        "409": {"description": "The only problem: event ids reused with different content", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rejected"}}}},
                        "413": error_response("Body, line or event count over the limits"),
                        "415": error_response("Content type other than application/x-ndjson or application/json"),
                        "422": {"description": "Invalid lines; nothing stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rejected"}}}},
                        "503": error_response("The store cannot take writes now")
                    }
                }
            },
            "/api/v1/stats": {
                "get": {
                    "summary": "Figures per unit for a period",
                    "description": "Lists the units of `level` in force at `to` (children or descendants of `parent` when given); on today's units (`units=current`), those in force from 2025-07-01, with no district level (`level=district` answers 400). A unit's figures cover the dossiers handled by the unit itself and by every unit under it. `total` is the parent's figures (its own dossiers included) when `parent` is given, otherwise the sum of the listed units.",
                    "parameters": [
                        date_param("from", "First day of the period (YYYY-MM-DD)"),
                        date_param("to", "Last day of the period (YYYY-MM-DD)"),
                        {"name": "level", "in": "query", "required": true, "schema": level()},
                        optional("parent", "List only units under this unit code", json!({"type": "string"})),
                        optional("field", "Keep only dossiers of this sector, e.g. Đất đai", json!({"type": "string"})),
                        optional("channel", "Keep only dossiers received through this channel", channel()),
                        optional("dossier_level", "Keep only dossiers handled at this administrative level", level()),
                        optional("units", "Which units the figures are shown on: `current` (today's units; the old units' dossiers count for the units they went into) or `historical` (the units of the period's time; periods ending by 2025-06-30 only). Default: historical for a period ending before 2025-07-01, current otherwise", json!({"type": "string", "enum": ["current", "historical"]})),
                    ],
                    "responses": {
                        "200": {"description": "Figures", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["from", "to", "level", "units", "total"],
                            "properties": {
                                "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                                "level": level(), "units": {"type": "array", "items": {"$ref": "#/components/schemas/Figures"}},
                                "total": {"$ref": "#/components/schemas/Figures"},
                                "era": {"type": "string", "enum": ["before2025", "from2025"], "description": "Whose units are listed: those before the 2025 reform, or today's"},
                                "conversion": {"type": ["object", "null"], "description": "On today's units, how the old units' dossiers were counted: `rule` (`equal_shares`: a commune split between k new ones gives each an equal share, in whole dossiers), `apportioned` (dossiers received by split communes, shared out over the listed units), `not_converted` (old communes the conversion table does not name, with their figures; counted in the total only)"}}}}}},
                        "400": error_response("A parameter is missing or wrong; `field` names it")
                    }
                }
            },
            "/api/v1/stream": {
                "get": {
                    "summary": "Live figures for a view, as server-sent events",
                    "description": "Takes the parameters of /api/v1/stats. Sends `event: figures` with `id: <commit sequence number>` and data `{\"seq\", \"data_as_of\", \"stats\"}` (stats as /api/v1/stats answers it): the current figures at once, then after each commit that changes them, at most one message per 250 ms. With `Last-Event-ID` (header) or `last_event_id` (query), nothing is sent until the next change if the client already has the current figures; otherwise the current figures are sent at once.",
                    "parameters": [
                        date_param("from", "First day of the period (YYYY-MM-DD)"),
                        date_param("to", "Last day of the period (YYYY-MM-DD)"),
                        {"name": "level", "in": "query", "required": true, "schema": level()},
                        optional("parent", "List only units under this unit code", json!({"type": "string"})),
                        optional("field", "Sector filter", json!({"type": "string"})),
                        optional("channel", "Channel filter", channel()),
                        optional("dossier_level", "Handling level filter", level()),
                        optional("units", "Which units the figures are shown on: `current` (today's units; the old units' dossiers count for the units they went into) or `historical` (the units of the period's time; periods ending by 2025-06-30 only). Default: historical for a period ending before 2025-07-01, current otherwise", json!({"type": "string", "enum": ["current", "historical"]})),
                        optional("last_event_id", "The id of the last message the client has", json!({"type": "integer"})),
                        {"name": "Last-Event-ID", "in": "header", "required": false, "schema": {"type": "integer"}},
                    ],
                    "responses": {
                        "200": {"description": "A stream of messages", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                        "400": error_response("A parameter is missing or wrong; `field` names it")
                    }
                }
            },
            "/api/v1/session": {
                "get": {"summary": "Who is signed in (or which token is used)", "responses": {"200": {"description": "`{signed_in, username?, role?, unit?}`"}}},
                "post": {
                    "summary": "Sign in",
                    "description": "JSON `{\"username\", \"password\"}`, or an HTML form (application/x-www-form-urlencoded, with an optional `next` path; answered by a 303 redirect). Sets the HttpOnly, SameSite=Strict session cookie `iem_session` (Secure behind TLS). Rate-limited per client address.",
                    "responses": {
                        "200": {"description": "Signed in: `{signed_in, username, role, unit}`"},
                        "400": error_response("username or password missing"),
                        "401": error_response("Unknown username or wrong password (the same answer for both)"),
                        "429": error_response("Too many attempts; `Retry-After` says when to try again")
                    }
                },
                "delete": {"summary": "Sign out (ends the session, clears the cookie)", "responses": {"204": {"description": "Signed out"}}}
            },
            "/api/v1/late": {
                "get": {
                    "summary": "Late dossiers of a unit (dossier-level: leaders, chairs and admins within their scope)",
                    "description": "Dossiers resolved late in the period (`resolved_late`) and those still open past their due date at its end (`pending_overdue`), counted exactly as /api/v1/stats counts them, for the unit and every unit under it. Needs a session cookie or `Authorization: Bearer <token>` with read rights. Every call is written to the audit log.",
                    "parameters": [
                        {"name": "unit", "in": "query", "required": true, "schema": {"type": "string"}},
                        date_param("from", "First day of the period (YYYY-MM-DD)"),
                        date_param("to", "Last day of the period (YYYY-MM-DD)"),
                        optional("kind", "Which late dossiers", json!({"type": "string", "enum": ["all", "resolved_late", "pending_overdue"]})),
                        optional("field", "Sector filter", json!({"type": "string"})),
                        optional("procedure", "Procedure code filter", json!({"type": "string"})),
                        optional("agency", "Agency code filter", json!({"type": "string"})),
                        optional("sort", "Sort column", json!({"type": "string", "enum": ["days_overdue", "dossier_id", "procedure", "field", "agency", "received", "due", "resolved", "stage"]})),
                        optional("order", "asc or desc (default)", json!({"type": "string", "enum": ["asc", "desc"]})),
                        optional("page", "1-based page", json!({"type": "integer", "minimum": 1})),
                        optional("page_size", "Rows per page (default 50, at most 500)", json!({"type": "integer", "minimum": 1, "maximum": 500})),
                        optional("format", "json (default) or csv (every row, UTF-8 with BOM)", json!({"type": "string", "enum": ["json", "csv"]}))
                    ],
                    "responses": {
                        "200": {"description": "`{query, total, resolved_late, pending_overdue, rows: [{dossier_id, unit_code, unit_name, procedure, procedure_name, field, agency, received, due, resolved, days_overdue, stage}]}`"},
                        "400": error_response("A parameter is missing or wrong; `field` names it"),
                        "401": error_response("Not signed in and no token"),
                        "403": error_response("The unit is outside the caller's province or district, or the token cannot read"),
                        "404": error_response("No such unit")
                    }
                }
            },
            "/api/v1/dossiers/{id}": {
                "get": {
                    "summary": "A dossier's events in order (dossier-level, same rights as /api/v1/late)",
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "`{dossier_id, unit_code, events: [{seq, event_id, type, at, due, outcome, agency}]}`"},
                        "401": error_response("Not signed in and no token"),
                        "403": error_response("The dossier's unit is outside the caller's scope"),
                        "404": error_response("No such dossier")
                    }
                }
            },
            "/api/v1/admin/accounts": {
                "get": {"summary": "Users and tokens, never their secrets (admins only)", "responses": {"200": {"description": "`{users, tokens}`"}, "401": error_response("Not signed in"), "403": error_response("Not an admin")}}
            },
            "/api/v1/admin/audit": {
                "get": {"summary": "The last entries of the audit log (admins only)",
                        "parameters": [optional("limit", "How many (default 200)", json!({"type": "integer", "minimum": 1, "maximum": 10000}))],
                        "responses": {"200": {"description": "`{entries: [{at, action, actor, target, outcome, client}]}`"}, "401": error_response("Not signed in"), "403": error_response("Not an admin")}}
            },
            "/api/v1/trend": {
                "get": {
                    "summary": "A unit's figures per week or month",
                    "parameters": [
                        {"name": "unit", "in": "query", "required": true, "schema": {"type": "string"}},
                        date_param("from", "First day"), date_param("to", "Last day"),
                        optional("bucket", "Bucket size (default month); weeks run Monday to Sunday, buckets are clipped to the period", json!({"type": "string", "enum": ["week", "month"]})),
                        optional("field", "Sector filter", json!({"type": "string"})),
                        optional("channel", "Channel filter", channel()),
                        optional("dossier_level", "Handling level filter", level()),
                        optional("units", "Which units the figures are shown on: `current` (today's units; the old units' dossiers count for the units they went into) or `historical` (the units of the period's time; periods ending by 2025-06-30 only). Default: historical for a period ending before 2025-07-01, current otherwise", json!({"type": "string", "enum": ["current", "historical"]})),
                    ],
                    "responses": {
                        "200": {"description": "One point per bucket: its from/to and the Figures fields"},
                        "400": error_response("A parameter is missing or wrong; `field` names it")
                    }
                }
            },
            "/api/v1/boundaries": {
                "get": {
                    "summary": "The boundary layer in force on a date, simplified, as GeoJSON",
                    "parameters": [
                        {"name": "level", "in": "query", "required": true, "schema": level()},
                        {"name": "parent", "in": "query", "required": true, "schema": {"type": "string"}, "description": "Code of the unit above"},
                        optional("date", "Day the layer must be in force (default today)", json!({"type": "string", "format": "date"})),
                        optional("detail", "Level of detail: 0 finest (~20 m), 1 (~100 m, default), 2 coarsest (~400 m)", json!({"type": "integer", "enum": [0, 1, 2]})),
                    ],
                    "responses": {
                        "200": {"description": "A FeatureCollection; each feature has `code`, `name` and `label` [lon, lat]. Also `valid_from`, `valid_to`, `source`, and `not_on_map`: units without a feature"},
                        "400": error_response("A parameter is missing or wrong; `field` names it"),
                        "404": error_response("No boundary set is in force for that level, parent and date")
                    }
                }
            },
            "/api/v1/procedures/uncatalogued": {
                "get": {
                    "summary": "Procedure codes used by received dossiers but missing from the catalogue",
                    "responses": {
                        "200": {"description": "`{\"procedures\": [{procedure, field, dossiers, first_received, last_received}]}`, most used first"}
                    }
                }
            },
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "The process is up"}}}},
            "/readyz": {"get": {"summary": "Readiness", "responses": {
                "200": {"description": "Store open and migrated"}, "503": {"description": "Store unavailable"}}}}
        },
        "components": {
            "securitySchemes": {"ingestToken": {"type": "http", "scheme": "bearer",
                "description": "A token with ingest rights (the server prints one on its first start)."}},
            "schemas": {
                "Figures": figures_schema(),
                "Event": {
                    "type": "object",
                    "required": ["event_id", "dossier_id", "type", "at"],
                    "properties": {
                        "event_id": {"type": "string", "maxLength": 128, "description": "Unique per event; resending is a no-op."},
                        "dossier_id": {"type": "string", "maxLength": 128},
                        "type": {"type": "string", "enum": ["received", "due_changed", "resolved", "withdrawn"]},
                        "at": {"type": "string", "format": "date-time", "description": "RFC 3339 with an offset; when the event happened; at most 5 minutes in the future."},
                        "unit": {"type": "string", "description": "received: the handling unit's code"},
                        "level": level(),
                        "procedure": {"type": "string", "description": "received: procedure code (codes missing from the catalogue are accepted and listed as uncatalogued)"},
                        "field": {"type": "string", "description": "received: sector, e.g. Đất đai"},
                        "channel": channel(),
                        "due": {"type": "string", "format": "date-time", "description": "received and due_changed: the due date; not before the reception"},
                        "fee": {"type": "boolean", "default": false},
                        "paid_online": {"type": "boolean", "default": false},
                        "agency": {"type": "string", "description": "received: the department's code"},
                        "outcome": {"type": "string", "description": "resolved: optional outcome"}
                    }
                },
                "Error": {"type": "object", "required": ["status", "code", "message"], "properties": {
                    "status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"},
                    "field": {"type": "string"}}},
                "Rejected": {"type": "object", "required": ["status", "code", "message", "errors"], "properties": {
                    "status": {"type": "integer"}, "code": {"type": "string", "enum": ["invalid_events", "event_id_conflict"]},
                    "message": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object", "required": ["line", "field", "code", "message"],
                        "properties": {"line": {"type": "integer", "description": "1-based NDJSON line or array position"},
                            "field": {"type": "string"},
                            "code": {"type": "string", "enum": INGEST_ERROR_CODES.iter().chain(["event_id_conflict"].iter()).collect::<Vec<_>>()},
                            "message": {"type": "string"}}}}}}
            }
        }
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
