//! The sign-in page: a plain form (it works before and without WebAssembly) posted to
//! `POST /api/v1/session`, which sets the session cookie and returns here on failure.
use crate::components::dashboard::{url_lang, Page, TopBar};
use crate::i18n::{text, Key};
use crate::nav::use_query_map;
use leptos::prelude::*;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let lang = url_lang(query);
    // The server checks `next` again; checking here too keeps a crafted link's target out of
    // the page.
    let next = move || {
        query
            .read()
            .get("next")
            .map(|n| crate::redirect::safe_next(&n).to_string())
            .unwrap_or_else(|| format!("/late?lang={}", lang.get().code()))
    };
    let error = move || {
        query.read().get("error").map(|e| match e.as_str() {
            "rate_limited" => Key::SignInRateLimited,
            "incomplete" => Key::SignInIncomplete,
            _ => Key::SignInFailed,
        })
    };
    let lang_signal: Signal<_> = lang.into();
    view! {
        <TopBar lang current=Page::SignIn/>
        <main class="signin-page">
            <h2>{text(lang_signal, Key::SignIn)}</h2>
            <p class="hint">{text(lang_signal, Key::SignInHelp)}</p>
            {move || error().map(|key| view! { <p class="error" role="alert">{text(lang_signal, key)}</p> })}
            <form method="post" action="/api/v1/session" class="signin-form">
                <input type="hidden" name="next" value=next/>
                <label>
                    {text(lang_signal, Key::Username)}
                    <input type="text" name="username" autocomplete="username" required maxlength="64"/>
                </label>
                <label>
                    {text(lang_signal, Key::Password)}
                    <input type="password" name="password" autocomplete="current-password" required maxlength="1024"/>
                </label>
                <button type="submit">{text(lang_signal, Key::SignIn)}</button>
            </form>
        </main>
    }
}
