//! Server functions of the dashboard. Each is a public endpoint and checks its own input.
//! What they take and return is in `views`; their server-side bodies are in `api_ssr`.
use crate::error::AppError;
// Only `context` reads the server's defaults.
#[cfg(feature = "ssr")]
use crate::views::DashboardDefaults;
use crate::views::{
    DashboardRequest, DashboardView, ProceduresView, SelectionRequest, SelectionView,
};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "dashboard", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_dashboard(request: DashboardRequest) -> Result<DashboardView, AppError> {
    let (store, defaults) = context()?;
    tokio::task::spawn_blocking(move || {
        crate::api_ssr::build_dashboard(store.as_ref(), request, defaults)
    })
    .await
    // A panic: the panic hook has logged its message, which is not for the page.
    .map_err(|_| AppError::internal())?
}

/// The embed's view: the dashboard's, built the same way, with only what the embed draws. Not a
/// server function: the server builds it before rendering the embed page and writes it into the
/// page (`components::embed`), so the embed's bundle carries no request code.
#[cfg(feature = "ssr")]
pub async fn load_embed(
    store: crate::store::SharedIndicatorStore,
    request: DashboardRequest,
    defaults: DashboardDefaults,
) -> Result<crate::views::EmbedView, AppError> {
    tokio::task::spawn_blocking(move || {
        crate::api_ssr::build_embed(store.as_ref(), request, defaults)
    })
    .await
    // A panic: the panic hook has logged its message, which is not for the page.
    .map_err(|_| AppError::internal())?
}

#[server(prefix = "/api/fn", endpoint = "selection", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_selection(request: SelectionRequest) -> Result<SelectionView, AppError> {
    let (store, defaults) = context()?;
    tokio::task::spawn_blocking(move || {
        crate::api_ssr::build_selection(store.as_ref(), request, defaults)
    })
    .await
    // A panic: the panic hook has logged its message, which is not for the page.
    .map_err(|_| AppError::internal())?
}

#[server(prefix = "/api/fn", endpoint = "procedures", input = crate::codec::PageJson, output = crate::codec::PageJson)]
pub async fn fetch_procedures(request: SelectionRequest) -> Result<ProceduresView, AppError> {
    let (store, defaults) = context()?;
    tokio::task::spawn_blocking(move || {
        crate::api_ssr::build_procedures(store.as_ref(), request, defaults)
    })
    .await
    // A panic: the panic hook has logged its message, which is not for the page.
    .map_err(|_| AppError::internal())?
}

#[cfg(feature = "ssr")]
fn context() -> Result<(crate::store::SharedIndicatorStore, DashboardDefaults), AppError> {
    let store = use_context::<crate::store::SharedIndicatorStore>()
        .ok_or_else(|| AppError::new("internal", "the store is not available to this request"))?;
    Ok((
        store,
        use_context::<DashboardDefaults>().unwrap_or_default(),
    ))
}
