//! The "live" indicator: connected with the time of the last update, or reconnecting.
use crate::format;
use crate::i18n::{tr, Key, Lang};
use crate::live::LiveStatus;
use leptos::prelude::*;

#[component]
pub fn LiveIndicator(status: ReadSignal<LiveStatus>, lang: Signal<Lang>) -> impl IntoView {
    let state = move || match status.get() {
        LiveStatus::Connecting => "connecting",
        LiveStatus::Live(_) => "live",
        LiveStatus::Reconnecting => "reconnecting",
    };
    let text = move || {
        let l = lang.get();
        match status.get() {
            LiveStatus::Connecting => tr(l, Key::LiveConnecting).to_string(),
            LiveStatus::Live(None) => tr(l, Key::LiveOn).to_string(),
            LiveStatus::Live(Some(at)) => format!(
                "{} · {} {}",
                tr(l, Key::LiveOn),
                tr(l, Key::LiveUpdatedAt),
                format::time_of_day(at)
            ),
            LiveStatus::Reconnecting => tr(l, Key::LiveReconnecting).to_string(),
        }
    };
    view! {
        <p class="live-status" data-status=state role="status" aria-live="polite">
            <span class="live-dot" aria-hidden="true"></span>
            <span class="live-text">{text}</span>
        </p>
    }
}
