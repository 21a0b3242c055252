//! Who is looking at a page, and the server functions that return dossier-level data. Each
//! function authenticates and authorises inside itself through [`DossierAccess`], which the server
//! provides: the same checks, audit lines and errors as `GET /api/v1/late`.
use crate::alerts::{AlertList, AlertRule, AlertRuleInput, AlertsPage};
use crate::due::{DuePage, DueQuery};
use crate::error::AppError;
use crate::late::{DossierTimeline, LatePage, LateQuery};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in person, as pages show them; `None` fields for the public.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub username: Option<String>,
    /// leader, chair or admin.
    pub role: Option<String>,
    /// A leader's province or a chair's district.
    pub unit: Option<String>,
    /// Unread alerts, for those who may define alert rules.
    #[serde(default)]
    pub unread_alerts: Option<u64>,
}

impl Viewer {
    /// Whether the drill-down is offered at all (the server checks every request anyway).
    pub fn reads_dossiers(&self) -> bool {
        matches!(self.role.as_deref(), Some("leader" | "chair" | "admin"))
    }
}

#[cfg(feature = "ssr")]
pub type AccessFuture<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, AppError>> + Send>>;

/// The server's side of authentication for server functions (request headers and peer
/// address come in the request's parts).
#[cfg(feature = "ssr")]
pub trait DossierAccess: Send + Sync + 'static {
    fn viewer(&self, parts: &axum::http::request::Parts) -> Result<Viewer, AppError>;
    fn late(&self, parts: &axum::http::request::Parts, query: LateQuery) -> AccessFuture<LatePage>;
    fn due(&self, parts: &axum::http::request::Parts, query: DueQuery) -> AccessFuture<DuePage>;
    fn due_summary(
        &self,
        parts: &axum::http::request::Parts,
        unit: String,
        listed: Vec<String>,
    ) -> AccessFuture<Option<crate::due::DueSummary>>;
    fn timeline(
        &self,
        parts: &axum::http::request::Parts,
        dossier_id: String,
    ) -> AccessFuture<DossierTimeline>;
    fn alerts(&self, parts: &axum::http::request::Parts) -> AccessFuture<AlertsPage>;
    fn save_alert_rule(
        &self,
        parts: &axum::http::request::Parts,
        rule: AlertRuleInput,
    ) -> AccessFuture<AlertRule>;
    fn delete_alert_rule(&self, parts: &axum::http::request::Parts, id: String)
        -> AccessFuture<()>;
    fn mark_alerts_read(&self, parts: &axum::http::request::Parts) -> AccessFuture<AlertList>;
}

#[cfg(feature = "ssr")]
pub type SharedDossierAccess = std::sync::Arc<dyn DossierAccess>;

#[cfg(feature = "ssr")]
fn access() -> Result<(SharedDossierAccess, axum::http::request::Parts), AppError> {
    let access = use_context::<SharedDossierAccess>().ok_or_else(|| {
        AppError::new(
            "internal",
            "authentication is not available to this request",
        )
    })?;
    let parts = use_context::<axum::http::request::Parts>()
        .ok_or_else(|| AppError::new("internal", "the request is not available"))?;
    Ok((access, parts))
}

#[server(prefix = "/api/fn", endpoint = "viewer", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_viewer() -> Result<Viewer, AppError> {
    let (access, parts) = access()?;
    access.viewer(&parts)
}

#[server(prefix = "/api/fn", endpoint = "late", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_late(query: LateQuery) -> Result<LatePage, AppError> {
    let (access, parts) = access()?;
    access.late(&parts, query).await
}

#[server(prefix = "/api/fn", endpoint = "due", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_due(query: DueQuery) -> Result<DuePage, AppError> {
    let (access, parts) = access()?;
    access.due(&parts, query).await
}

/// The due-soon figures of the unit shown and its listed units, for a reader whose scope covers
/// it; `None` for everybody else (the dashboard then shows nothing of it).
#[server(prefix = "/api/fn", endpoint = "due_summary", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_due_summary(
    unit: String,
    listed: Vec<String>,
) -> Result<Option<crate::due::DueSummary>, AppError> {
    let (access, parts) = access()?;
    access.due_summary(&parts, unit, listed).await
}

#[server(prefix = "/api/fn", endpoint = "timeline", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_timeline(dossier_id: String) -> Result<DossierTimeline, AppError> {
    let (access, parts) = access()?;
    access.timeline(&parts, dossier_id).await
}

#[server(prefix = "/api/fn", endpoint = "alerts", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_alerts() -> Result<AlertsPage, AppError> {
    let (access, parts) = access()?;
    access.alerts(&parts).await
}

#[server(prefix = "/api/fn", endpoint = "alert_rule", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn save_alert_rule(rule: AlertRuleInput) -> Result<AlertRule, AppError> {
    let (access, parts) = access()?;
    access.save_alert_rule(&parts, rule).await
}

#[server(prefix = "/api/fn", endpoint = "alert_rule_delete", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn delete_alert_rule(id: String) -> Result<(), AppError> {
    let (access, parts) = access()?;
    access.delete_alert_rule(&parts, id).await
}

#[server(prefix = "/api/fn", endpoint = "alerts_read", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn mark_alerts_read() -> Result<AlertList, AppError> {
    let (access, parts) = access()?;
    access.mark_alerts_read(&parts).await
}
