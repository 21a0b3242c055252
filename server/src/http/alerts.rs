//! `/api/v1/alerts/rules` (a leader's, chair's or admin's alert rules) and `/api/v1/alerts`
//! (the alerts they raised, with the unread count). Rules and alerts belong to whoever defined
//! them; a rule's unit must be within its owner's scope, checked as the dossier lists check it.
use super::access::Caller;
use super::due::vietnam_today;
use super::error::{ApiError, ErrorBody};
use super::late::authorize_unit;
use super::AppState;
use crate::alerts::rules::{check, MAX_RULES, MAX_RULES_PER_OWNER};
use crate::alerts::Alerts;
use app::alerts::{AlertList, AlertRule, AlertRuleInput};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use std::sync::Arc;

fn alerts(state: &AppState) -> Result<Arc<Alerts>, ApiError> {
    state
        .alerts
        .clone()
        .ok_or_else(|| ApiError::Unavailable("alerts are not available on this server".into()))
}

fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A rule id as the server makes them (16 hex digits), before it reaches the audit log: an id of
/// any other shape names no rule, and a huge one would fill the log.
fn known_shape(id: &str) -> Result<(), ApiError> {
    if id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ApiError::NotFound("no alert rule with that id".into()))
    }
}

/// A rule from a request body, or 400 naming the field at fault (each field is read on its own
/// to tell which: serde's own message names a variant or a type, not where it was).
fn rule_input(body: serde_json::Value) -> Result<AlertRuleInput, ApiError> {
    use serde::de::DeserializeOwned;
    fn reads<T: DeserializeOwned>(v: &serde_json::Value) -> Result<(), String> {
        serde_json::from_value::<T>(v.clone())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    type Reader = fn(&serde_json::Value) -> Result<(), String>;
    let fields: [(&str, bool, Reader); 9] = [
        ("name", true, reads::<String>),
        ("indicator", true, reads::<app::alerts::AlertIndicator>),
        ("unit", true, reads::<String>),
        ("level", false, reads::<Option<app::model::Level>>),
        ("period", true, reads::<app::alerts::AlertPeriod>),
        ("condition", true, reads::<app::alerts::AlertCondition>),
        ("rearm_margin", false, reads::<Option<f64>>),
        ("channels", true, reads::<Vec<app::alerts::AlertChannel>>),
        ("enabled", false, reads::<bool>),
    ];
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("body", "a JSON object (an alert rule)"))?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !fields.iter().any(|(f, _, _)| f == k))
    {
        let known: Vec<&str> = fields.iter().map(|(f, _, _)| *f).collect();
        return Err(ApiError::bad_request(
            unknown.clone(),
            format!("unknown field; known: {}", known.join(", ")),
        ));
    }
    for (name, required, read) in fields {
        match object.get(name) {
            None if required => {
                return Err(ApiError::bad_request(name, format!("{name} is required")))
            }
            None => {}
            Some(value) => read(value).map_err(|m| ApiError::bad_request(name, m))?,
        }
    }
    serde_json::from_value(body).map_err(|e| ApiError::bad_request("body", e.to_string()))
}

/// Checks a rule and that its unit is within the caller's scope.
async fn checked(
    state: &AppState,
    caller: &Caller,
    alerts: &Alerts,
    input: AlertRuleInput,
) -> Result<AlertRuleInput, ApiError> {
    let input = check(input, &alerts.settings)
        .map_err(|(field, message)| ApiError::bad_request(field, message))?;
    let key = app::era::Era::on(vietnam_today())
        .key(&input.unit)
        .ok_or_else(|| ApiError::bad_request("unit", "a unit code (digits)"))?;
    authorize_unit(state, caller, &key).await?;
    if input.level.is_some() {
        let store = state.store.clone();
        let place = tokio::task::spawn_blocking(move || store.unit_place(&key)).await??;
        if place.is_some_and(|p| p.code != p.province_code) {
            return Err(ApiError::bad_request(
                "level",
                "a commune has no units under it: leave level out to watch the commune itself",
            ));
        }
    }
    Ok(input)
}

/// The rules the caller sees: their own (an admin: everyone's).
fn visible(caller: &Caller, rule: &AlertRule) -> bool {
    caller.principal.is_admin() || rule.owner == caller.principal.actor()
}

/// Runs a change of the alert file on a blocking thread.
async fn change<T: Send + 'static>(
    alerts: Arc<Alerts>,
    f: impl FnOnce(&mut crate::alerts::book::AlertFile) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        alerts.with_book(|book| {
            book.update(f)
                .map_err(|e| ApiError::Internal(format!("alert file: {e}")))?
        })
    })
    .await?
}

/// The caller's alert rules and alerts together (the alerts page).
pub fn page(state: &AppState, caller: &Caller) -> Result<app::alerts::AlertsPage, ApiError> {
    Ok(app::alerts::AlertsPage {
        alerts: alert_list(state, caller)?,
        rules: list_rules(state, caller)?,
    })
}

/// The caller's alert rules
#[utoipa::path(
    get,
    path = "/api/v1/alerts/rules",
    tag = "alerts",
    security(("sessionCookie" = []), ("readToken" = [])),
    responses(
        (status = 200, description = "The caller's rules (an admin's: everyone's)", body = Vec<AlertRule>),
        (status = 401, description = "Not signed in and no token", body = ErrorBody),
        (status = 403, description = "The caller cannot read dossier-level data", body = ErrorBody)
    )
)]
pub async fn get_rules(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AlertRule>>, ApiError> {
    Ok(Json(list_rules(&state, &caller)?))
}

/// The rules `caller` sees (others' webhook secrets blanked).
pub fn list_rules(state: &AppState, caller: &Caller) -> Result<Vec<AlertRule>, ApiError> {
    caller.require_dossier_reader()?;
    let alerts = alerts(state)?;
    let me = caller.principal.actor();
    Ok(alerts.with_book(|b| {
        b.file()
            .rules
            .iter()
            .filter(|r| visible(caller, r))
            .cloned()
            .map(|mut r| {
                // An admin sees others' rules, not the keys their receivers trust.
                if r.owner != me {
                    r.webhook_secret = String::new();
                }
                r
            })
            .collect()
    }))
}

/// Defines an alert rule
#[utoipa::path(
    post,
    path = "/api/v1/alerts/rules",
    tag = "alerts",
    description = "A rule watches an indicator of a unit in force today (or of each commune under \
        it, `level: commune`) over a period ending today, and fires when its condition becomes \
        true: `below`/`above` a value (rates as fractions: 0.95), or a `drop`/`rise` of at least \
        a value against the previous period. It fires again only after the value has come back \
        past the threshold by `rearm_margin`. Alerts go to the owner's list (`in_app`) and to \
        webhooks on hosts the administrator allowed (POST of the alert as JSON, \
        `X-IEM-Signature: sha256=<hex HMAC-SHA256 of the body under the rule's webhook_secret>`, \
        retried with doubling waits on 429, 5xx or no answer). Rules are evaluated after commits \
        and once a day. Audited.",
    security(("sessionCookie" = []), ("readToken" = [])),
    request_body = AlertRuleInput,
    responses(
        (status = 201, description = "The rule as stored, with its id and webhook secret", body = AlertRule),
        (status = 400, description = "Something in the rule is wrong, `field` naming it (`rules`: the caller has 100 rules already)", body = ErrorBody),
        (status = 401, description = "Not signed in and no token", body = ErrorBody),
        (status = 403, description = "The unit is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such unit in force today", body = ErrorBody)
    )
)]
pub async fn post_rule(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<serde_json::Value>,
) -> Result<(StatusCode, Json<AlertRule>), ApiError> {
    caller.require_dossier_reader()?;
    let rule = create_rule(&state, &caller, rule_input(body)?).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// Checks and stores a new rule of `caller`'s.
pub async fn create_rule(
    state: &AppState,
    caller: &Caller,
    input: AlertRuleInput,
) -> Result<AlertRule, ApiError> {
    caller.require_dossier_reader()?;
    let alerts = alerts(state)?;
    let input = checked(state, caller, &alerts, input).await?;
    let rule = AlertRule {
        id: random_hex(8)?,
        owner: caller.principal.actor(),
        webhook_secret: random_hex(32)?,
        rule: input,
    };
    caller.audit(
        state,
        "alert_rule_create",
        &format!("rule={} unit={}", rule.id, rule.rule.unit),
        "ok",
    )?;
    let stored = rule.clone();
    change(alerts.clone(), move |file| {
        let owned = file.rules.iter().filter(|r| r.owner == stored.owner).count();
        if owned >= MAX_RULES_PER_OWNER || file.rules.len() >= MAX_RULES {
            return Err(ApiError::bad_request(
                "rules",
                format!("at most {MAX_RULES_PER_OWNER} rules each and {MAX_RULES} in all: delete one first"),
            ));
        }
        file.rules.push(stored);
        Ok(())
    })
    .await?;
    alerts.wake.notify_one();
    Ok(rule)
}

/// Replaces an alert rule
#[utoipa::path(
    put,
    path = "/api/v1/alerts/rules/{id}",
    tag = "alerts",
    security(("sessionCookie" = []), ("readToken" = [])),
    params(("id" = String, Path, description = "The rule's id")),
    request_body = AlertRuleInput,
    responses(
        (status = 200, description = "The rule as stored (its state starts afresh)", body = AlertRule),
        (status = 400, description = "Something in the rule is wrong; `field` names it", body = ErrorBody),
        (status = 401, description = "Not signed in and no token", body = ErrorBody),
        (status = 403, description = "The unit is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No rule of the caller's with that id", body = ErrorBody)
    )
)]
pub async fn put_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<Json<AlertRule>, ApiError> {
    caller.require_dossier_reader()?;
    known_shape(&id)?;
    let alerts = alerts(&state)?;
    let input = checked(&state, &caller, &alerts, rule_input(body)?).await?;
    caller.audit(
        &state,
        "alert_rule_update",
        &format!("rule={id} unit={}", input.unit),
        "ok",
    )?;
    let admin = caller.principal.is_admin();
    let actor = caller.principal.actor();
    let updated = change(alerts.clone(), move |file| {
        let rule = file
            .rules
            .iter_mut()
            .find(|r| r.id == id && (admin || r.owner == actor))
            .ok_or_else(|| ApiError::NotFound(format!("no alert rule '{id}'")))?;
        rule.rule = input;
        let rule = rule.clone();
        file.firing.remove(&id);
        Ok(rule)
    })
    .await?;
    alerts.wake.notify_one();
    Ok(Json(updated))
}

/// Deletes an alert rule
#[utoipa::path(
    delete,
    path = "/api/v1/alerts/rules/{id}",
    tag = "alerts",
    security(("sessionCookie" = []), ("readToken" = [])),
    params(("id" = String, Path, description = "The rule's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in and no token", body = ErrorBody),
        (status = 404, description = "No rule of the caller's with that id", body = ErrorBody)
    )
)]
pub async fn delete_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove_rule(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes one of `caller`'s rules (an admin: anyone's).
pub async fn remove_rule(state: &AppState, caller: &Caller, id: String) -> Result<(), ApiError> {
    caller.require_dossier_reader()?;
    known_shape(&id)?;
    let alerts = alerts(state)?;
    caller.audit(state, "alert_rule_delete", &format!("rule={id}"), "ok")?;
    let admin = caller.principal.is_admin();
    let actor = caller.principal.actor();
    change(alerts, move |file| {
        let before = file.rules.len();
        file.rules
            .retain(|r| !(r.id == id && (admin || r.owner == actor)));
        if file.rules.len() == before {
            return Err(ApiError::NotFound(format!("no alert rule '{id}'")));
        }
        file.firing.remove(&id);
        Ok(())
    })
    .await
}

fn list_of(alerts: &Alerts, owner: &str) -> AlertList {
    alerts.with_book(|b| {
        let mine = b.file().alerts.get(owner).cloned().unwrap_or_default();
        AlertList {
            unread: mine.iter().filter(|a| !a.read).count() as u64,
            alerts: mine.into_iter().rev().collect(),
        }
    })
}

/// The caller's alerts, newest first, with the unread count
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = "alerts",
    security(("sessionCookie" = []), ("readToken" = [])),
    responses(
        (status = 200, description = "The alerts the caller's in-app rules raised (the last 500)", body = AlertList),
        (status = 401, description = "Not signed in and no token", body = ErrorBody)
    )
)]
pub async fn get_alerts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AlertList>, ApiError> {
    Ok(Json(alert_list(&state, &caller)?))
}

/// `caller`'s alerts, newest first.
pub fn alert_list(state: &AppState, caller: &Caller) -> Result<AlertList, ApiError> {
    caller.require_dossier_reader()?;
    let alerts = alerts(state)?;
    Ok(list_of(&alerts, &caller.principal.actor()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct MarkRead {
    /// The alerts to mark read; all of the caller's when absent.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
}

/// Marks the caller's alerts read
#[utoipa::path(
    post,
    path = "/api/v1/alerts/read",
    tag = "alerts",
    security(("sessionCookie" = []), ("readToken" = [])),
    request_body = MarkRead,
    responses(
        (status = 200, description = "The caller's alerts after the change", body = AlertList),
        (status = 401, description = "Not signed in and no token", body = ErrorBody)
    )
)]
pub async fn post_read(
    State(state): State<AppState>,
    caller: Caller,
    Json(mark): Json<MarkRead>,
) -> Result<Json<AlertList>, ApiError> {
    Ok(Json(mark_read(&state, &caller, mark.ids).await?))
}

/// Marks `caller`'s alerts read (those of `ids`, or all).
pub async fn mark_read(
    state: &AppState,
    caller: &Caller,
    ids: Option<Vec<String>>,
) -> Result<AlertList, ApiError> {
    caller.require_dossier_reader()?;
    let alerts = alerts(state)?;
    let owner = caller.principal.actor();
    let who = owner.clone();
    change(alerts.clone(), move |file| {
        for a in file.alerts.entry(who).or_default() {
            if ids.as_ref().is_none_or(|ids| ids.contains(&a.id)) {
                a.read = true;
            }
        }
        Ok(())
    })
    .await?;
    Ok(list_of(&alerts, &owner))
}
