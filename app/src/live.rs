//! The browser end of the live stream: an `EventSource` per shown view, its status, and the
//! reconnection back-off.
use crate::model::StatsQuery;
use crate::views::LiveFigures;
use leptos::prelude::*;

/// What the "live" indicator says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    /// Opening the stream (or not in a browser).
    Connecting,
    /// Connected; the time of the last figures received, if any yet.
    Live(Option<chrono::DateTime<chrono::Utc>>),
    /// The stream dropped; a new attempt is scheduled.
    Reconnecting,
}

/// Reconnection delays: 1 s, doubling up to 30 s, reset once figures arrive again. A server
/// that restarts is not hammered by every open dashboard at once, and a short drop heals fast.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub const FIRST_MS: u32 = 1_000;
    pub const MAX_MS: u32 = 30_000;

    /// The delay before the next attempt, counting this failure.
    pub fn next_delay_ms(&mut self) -> u32 {
        let delay = Self::FIRST_MS
            .saturating_mul(1 << self.failures.min(5))
            .min(Self::MAX_MS);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// The URL of a view's stream; `last_event_id` resumes where an earlier connection stopped.
pub fn stream_url(query: &StatsQuery, last_event_id: Option<i64>) -> String {
    let mut url = format!("/api/v1/stream{}", query.to_query_string());
    if let Some(id) = last_event_id {
        url.push_str(&format!("&last_event_id={id}"));
    }
    url
}

/// The live figures of a view and the stream's status. The stream opens after hydration and
/// closes when the calling component is dropped (the view changed).
pub struct Live {
    pub figures: ReadSignal<Option<LiveFigures>>,
    pub status: ReadSignal<LiveStatus>,
}

pub fn follow(query: StatsQuery) -> Live {
    let (figures, set_figures) = signal(None::<LiveFigures>);
    let (status, set_status) = signal(LiveStatus::Connecting);
    #[cfg(feature = "hydrate")]
    browser::open(query, set_figures, set_status);
    #[cfg(not(feature = "hydrate"))]
    let _ = (query, set_figures, set_status);
    Live { figures, status }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{stream_url, Backoff, LiveStatus};
    use crate::model::StatsQuery;
    use crate::views::LiveFigures;
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    struct Connection {
        source: EventSource,
        // Kept alive as long as the source can call them.
        _on_figures: Closure<dyn FnMut(MessageEvent)>,
        _on_open: Closure<dyn FnMut(web_sys::Event)>,
        _on_error: Closure<dyn FnMut(web_sys::Event)>,
    }

    struct State {
        query: StatsQuery,
        connection: Option<Connection>,
        backoff: Backoff,
        last_id: Option<i64>,
        retry: Option<leptos::leptos_dom::helpers::TimeoutHandle>,
        closed: bool,
        /// When the last figures arrived.
        updated_at: Option<chrono::DateTime<chrono::Utc>>,
        set_figures: WriteSignal<Option<LiveFigures>>,
        set_status: WriteSignal<LiveStatus>,
    }

    type Shared = Rc<RefCell<State>>;

    pub fn open(
        query: StatsQuery,
        set_figures: WriteSignal<Option<LiveFigures>>,
        set_status: WriteSignal<LiveStatus>,
    ) {
        let state: Shared = Rc::new(RefCell::new(State {
            query,
            connection: None,
            backoff: Backoff::default(),
            last_id: None,
            retry: None,
            closed: false,
            updated_at: None,
            set_figures,
            set_status,
        }));
        // After hydration: the server-rendered page already shows the same figures.
        let start = state.clone();
        Effect::new(move |_| connect(&start));
        let stop = send_wrapper::SendWrapper::new(state);
        on_cleanup(move || {
            let mut s = stop.borrow_mut();
            s.closed = true;
            if let Some(handle) = s.retry.take() {
                handle.clear();
            }
            if let Some(c) = s.connection.take() {
                c.source.close();
            }
        });
    }

    fn connect(state: &Shared) {
        let url = {
            let s = state.borrow();
            if s.closed {
                return;
            }
            stream_url(&s.query, s.last_id)
        };
        let source = match EventSource::new(&url) {
            Ok(s) => s,
            Err(e) => {
                leptos::logging::error!("cannot open the live stream: {e:?}");
                schedule_retry(state);
                return;
            }
        };
        let on_figures = {
            let state = state.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let Some(text) = ev.data().as_string() else {
                    return;
                };
                match crate::codec::parse::<LiveFigures>(&text) {
                    Ok(figures) => {
                        let mut s = state.borrow_mut();
                        s.backoff.reset();
                        s.last_id = Some(figures.seq);
                        // chrono's clock is not in the WASM build; the browser's is.
                        let now =
                            chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64);
                        s.updated_at = now;
                        s.set_status.set(LiveStatus::Live(now));
                        s.set_figures.set(Some(figures));
                    }
                    Err(e) => leptos::logging::error!("unreadable live figures: {e}"),
                }
            })
        };
        let on_open = {
            let state = state.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                let s = state.borrow();
                s.set_status.set(LiveStatus::Live(s.updated_at));
            })
        };
        let on_error = {
            let state = state.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                // The browser's own retry has no back-off: close and schedule ours.
                if let Some(c) = state.borrow_mut().connection.take() {
                    c.source.close();
                }
                schedule_retry(&state);
            })
        };
        let listen = |name: &str, f: &js_sys::Function| {
            if let Err(e) = source.add_event_listener_with_callback(name, f) {
                leptos::logging::error!("cannot listen to the live stream: {e:?}");
            }
        };
        listen("figures", on_figures.as_ref().unchecked_ref());
        listen("open", on_open.as_ref().unchecked_ref());
        listen("error", on_error.as_ref().unchecked_ref());
        state.borrow_mut().connection = Some(Connection {
            source,
            _on_figures: on_figures,
            _on_open: on_open,
            _on_error: on_error,
        });
    }

    fn schedule_retry(state: &Shared) {
        let delay = {
            let mut s = state.borrow_mut();
            if s.closed {
                return;
            }
            s.set_status.set(LiveStatus::Reconnecting);
            s.backoff.next_delay_ms()
        };
        let again = send_wrapper::SendWrapper::new(state.clone());
        let handle = set_timeout_with_handle(
            move || {
                again.borrow_mut().retry = None;
                connect(&again);
            },
            std::time::Duration::from_millis(u64::from(delay)),
        );
        match handle {
            Ok(h) => state.borrow_mut().retry = Some(h),
            Err(e) => leptos::logging::error!("cannot schedule a reconnection: {e:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Level, Period};

    #[test]
    fn reconnection_backs_off_to_thirty_seconds_and_resets() {
        let mut b = Backoff::default();
        let delays: Vec<u32> = (0..8).map(|_| b.next_delay_ms()).collect();
        assert_eq!(
            delays,
            [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
        b.reset();
        assert_eq!(b.next_delay_ms(), 1_000);
    }

    #[test]
    fn a_resumed_stream_names_the_last_message_it_had() {
        let q = StatsQuery {
            period: Period::new("2021-01-01".parse().unwrap(), "2021-03-31".parse().unwrap())
                .unwrap(),
            level: Level::District,
            parent: Some("49".into()),
            field: None,
            channel: None,
            dossier_level: None,
            units: Default::default(),
        };
        assert_eq!(
            stream_url(&q, None),
            "/api/v1/stream?from=2021-01-01&to=2021-03-31&level=district&parent=49"
        );
        assert!(stream_url(&q, Some(42)).ends_with("&parent=49&last_event_id=42"));
    }
}
