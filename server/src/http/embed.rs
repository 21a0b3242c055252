//! The embed page's view, built before the page renders (see `app::components::embed`).
use super::AppState;
use app::components::embed::LoadedEmbed;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// For `GET /embed` (and `HEAD`, which axum answers with the same page): builds the view its
/// address describes, off the async workers, and hands it to the page as a request extension.
/// Other requests pass untouched.
pub async fn load_view(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let renders_page = matches!(*request.method(), Method::GET | Method::HEAD);
    if request.uri().path() == app::EMBED_PAGE && renders_page {
        let query = app::nav::parse_query(request.uri().query().unwrap_or(""));
        let wanted = app::components::dashboard::dashboard_request(&query);
        let loaded = app::api::load_embed(
            state.store.clone(),
            wanted,
            state.dashboard_defaults.clone(),
        )
        .await;
        if let Err(e) = &loaded {
            tracing::info!(code = %e.code, "the embed's view was refused");
        }
        request.extensions_mut().insert(LoadedEmbed(loaded));
    }
    next.run(request).await
}
