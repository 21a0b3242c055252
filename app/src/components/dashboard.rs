//! The dashboard page: reads its state from the URL and lays out the figures.
use crate::api::{fetch_dashboard, fetch_selection};
use crate::browser;
use crate::classify::Method;
use crate::components::account::AccountArea;
use crate::components::loaded::PartOwner;
use crate::components::{
    charts::ChartsSection, headline::Headline, live::LiveIndicator, map::ChoroplethMap,
    ranking::ranked_rows, ranking::RankingTable,
};
use crate::error::AppError;
use crate::format;
use crate::i18n::indicator_key;
use crate::i18n::{text, tr, Key, Lang};
use crate::model::{Bucket, Channel, Indicator, Level, MapKind};
use crate::nav::NavigateOptions;
use crate::nav::{use_navigate, use_query_map};
use crate::periods::Preset;
use crate::views::{DashboardRequest, DashboardView, SelectionRequest, SelectionView, COUNTRY};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let lang = url_lang(query);
    let request = Memo::new(move |_| query.with(dashboard_request));
    let dashboard = crate::codec::load(move || request.get(), fetch_dashboard);
    // The charts' query starts here, beside the dashboard's, so the server runs both at once
    // instead of one after the other; the live stream's sequence number fetches it again.
    let live_seq = RwSignal::new(0i64);
    // The body stays on the page while the next one loads: it keeps its own signals till then.
    let owner = PartOwner::here();
    let selection_request = Memo::new(move |_| query.with(selection_request));
    let selection = crate::codec::load(
        move || (selection_request.get(), live_seq.get()),
        |(request, _)| fetch_selection(request),
    );

    view! {
        <TopBar lang current=Page::Dashboard/>
        <main class="dashboard">
            <Transition fallback=move || {
                view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }
            }>
                <ErrorBoundary fallback=move |errors| {
                    view! {
                        <div class="error" role="alert">
                            <h2>{tr(lang.get_untracked(), Key::LoadFailed)}</h2>
                            <ul>
                                {move || {
                                    errors
                                        .get()
                                        .into_iter()
                                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                        .collect_view()
                                }}
                            </ul>
                        </div>
                    }
                }>
                    {move || {
                        let owner = owner.clone();
                        Suspend::new(async move {
                            dashboard.await.map(|view| {
                                owner.part(|| view! { <DashboardBody view lang=lang.into() selection selection_request live_seq/> })
                            })
                        })
                    }}
                </ErrorBoundary>
            </Transition>
        </main>
        <footer class="source">{text(lang.into(), Key::Source)}</footer>
    }
}

/// The language of the URL (`lang=`), Vietnamese by default.
pub fn url_lang(query: Memo<ParamsMap>) -> Memo<Lang> {
    Memo::new(move |_| {
        query
            .read()
            .get("lang")
            .and_then(|l| l.parse::<Lang>().ok())
            .unwrap_or_default()
    })
}

/// The dashboard view a URL's parameters describe.
pub fn dashboard_request(q: &ParamsMap) -> DashboardRequest {
    DashboardRequest {
        unit: q.get("unit"),
        province: q.get("province"),
        map: q.get("map").and_then(|s| s.parse().ok()),
        field: q.get("field").filter(|f| !f.is_empty()),
        channel: q.get("channel").and_then(|s| s.parse().ok()),
        dossier_level: q.get("dossier_level").and_then(|s| s.parse().ok()),
        from: q.get("from").and_then(|s| crate::iso::parse_date(&s)),
        to: q.get("to").and_then(|s| crate::iso::parse_date(&s)),
        units: q.get("units").and_then(|s| s.parse().ok()),
        level: q.get("level").and_then(|s| s.parse().ok()),
        vs_from: q.get("vs_from").and_then(|s| crate::iso::parse_date(&s)),
        vs_to: q.get("vs_to").and_then(|s| crate::iso::parse_date(&s)),
    }
}

/// The charts' selection a URL describes: the view, the focused unit and the trend's bucket.
pub fn selection_request(q: &ParamsMap) -> SelectionRequest {
    SelectionRequest {
        view: dashboard_request(q),
        focus: q.get("focus").filter(|f| !f.is_empty()),
        bucket: q.get("bucket").and_then(|b| b.parse().ok()),
    }
}

/// The map's indicator and classes from the URL; a value that cannot be read is named in the
/// returned problems and the default is used.
pub fn map_choice(q: &ParamsMap) -> (Indicator, Method, Vec<String>) {
    let mut problems = Vec::new();
    // The due-soon map is the dashboard's own choice (for signed-in readers): not an error.
    let indicator = match q
        .get("indicator")
        .filter(|i| i != crate::components::due_card::DUE_SOON)
        .map(|i| i.parse::<Indicator>())
    {
        Some(Ok(i)) => i,
        Some(Err(e)) => {
            problems.push(format!("indicator: {e}"));
            Indicator::default()
        }
        None => Indicator::default(),
    };
    let method = Method::from_url(
        q.get("classes").as_deref(),
        q.get("limits").as_deref(),
        indicator,
    )
    .unwrap_or_else(|e| {
        problems.push(e);
        Method::thresholds_for(indicator)
    });
    (indicator, method, problems)
}

/// The pages of the top bar.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Dashboard,
    Procedures,
    Late,
    Alerts,
    SignIn,
}

/// Title, page links (keeping the view's parameters), theme and language switches.
#[component]
pub fn TopBar(lang: Memo<Lang>, current: Page) -> impl IntoView {
    let lang: Signal<Lang> = lang.into();
    let query = use_query_map();
    let lang_switch_href = move || {
        let mut q = query.get();
        q.replace("lang", lang.get().other().code().to_string());
        format!("{}{}", path_of(current), q.to_query_string())
    };
    let page_link = move |page: Page, key: Key| {
        view! {
            <a
                href=move || format!("{}{}", path_of(page), query.get().to_query_string())
                class="page-link"
                // The pages belong to different browser bundles (`crate::BUNDLES`): load each whole.
                rel="external"
                aria-current=(page == current).then_some("page")
            >
                {text(lang, key)}
            </a>
        }
    };
    // The theme follows the system until chosen; the choice is kept on this device.
    Effect::new(move |_| {
        if let Some(theme) = browser::stored_theme() {
            browser::apply_theme(&theme);
        }
    });
    let toggle_theme = move |_| {
        browser::apply_theme(if browser::is_dark() { "light" } else { "dark" });
    };
    view! {
        <header class="topbar">
            <div class="brand">
                <h1>{text(lang, Key::AppTitle)}</h1>
                <p class="subtitle">{text(lang, Key::AppSubtitle)}</p>
            </div>
            <nav class="pages" aria-label=text(lang, Key::Views)>
                {page_link(Page::Dashboard, Key::BackToMap)}
                {page_link(Page::Procedures, Key::Procedures)}
            </nav>
            <div class="switches">
                <button type="button" class="theme-switch" on:click=toggle_theme title=text(lang, Key::ThemeToggle) aria-label=text(lang, Key::ThemeToggle)>
                    "◐"
                </button>
                <a class="lang-switch" href=lang_switch_href hreflang=move || lang.get().other().code()>
                    {text(lang, Key::SwitchLanguage)}
                </a>
                <AccountArea lang/>
            </div>
        </header>
    }
}

fn path_of(page: Page) -> &'static str {
    match page {
        Page::Dashboard => "/",
        Page::Procedures => "/procedures",
        Page::Late => "/late",
        Page::Alerts => "/alerts",
        Page::SignIn => "/signin",
    }
}

/// The current URL with `changes` applied (`None` removes a parameter): every view is a link.
fn href_with(query: &ParamsMap, changes: &[(&'static str, Option<String>)]) -> String {
    let mut q = query.clone();
    for (key, value) in changes {
        match value {
            Some(v) => q.replace(*key, v.clone()),
            None => {
                q.remove(key);
            }
        }
    }
    format!("/{}", q.to_query_string())
}

/// The change of each unit's on-time rate as bars either side of zero, largest gain first.
fn change_bars(rows: Vec<crate::model::IndicatorRow>, lang: Signal<Lang>) -> impl IntoView {
    let mut changed: Vec<(String, f64)> = rows
        .into_iter()
        .filter_map(|r| r.on_time_rate.map(|c| (r.name, c)))
        .collect();
    crate::order::sort_by(&mut changed, |a, b| {
        b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal)
    });
    let largest = changed
        .iter()
        .map(|(_, c)| c.abs())
        .fold(0.0f64, f64::max)
        .max(0.01);
    let (width, row_height) = (600.0, 18.0);
    let height = row_height * changed.len().max(1) as f64;
    let bars = changed
        .into_iter()
        .enumerate()
        .map(|(i, (name, change))| {
            let half = width / 2.0;
            let length = change.abs() / largest * (half - 120.0);
            let x = if change < 0.0 { half - length } else { half };
            let y = i as f64 * row_height;
            let fill = if change < 0.0 { "#d7191c" } else { "#2c7bb6" };
            let label = format!("{name}: {}", format::rate_change(lang.get_untracked(), Some(change)));
            view! {
                <g>
                    <title>{label}</title>
                    <rect x=format!("{x:.1}") y=format!("{:.1}", y + 3.0) width=format!("{length:.1}") height=format!("{:.1}", row_height - 6.0) fill=fill></rect>
                    <text x=format!("{:.1}", if change < 0.0 { half + 4.0 } else { half - 4.0 }) y=format!("{:.1}", y + row_height - 5.0) text-anchor=if change < 0.0 { "start" } else { "end" } font-size="11">{name}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="change-bars" viewBox=format!("0 0 {width} {height}") role="img" aria-label=text(lang, Key::ChangeChart)>
            <line x1="300" x2="300" y1="0" y2=format!("{height}") stroke="#888"></line>
            {bars}
        </svg>
    }
}

/// The link that shows `unit`'s children (the old `province` parameter gives way to `unit`).
fn unit_href(query: &ParamsMap, unit: &str) -> String {
    href_with(
        query,
        &[("unit", Some(unit.to_string())), ("province", None)],
    )
}

/// Period presets, a custom range and the sector / channel / handling-level filters; every
/// choice is a URL, so views can be shared and the back button walks through them.
fn filter_bar(
    query: Memo<ParamsMap>,
    lang: Signal<Lang>,
    period: crate::model::Period,
    fields: Vec<String>,
) -> impl IntoView {
    let set_param = {
        let navigate = use_navigate();
        Callback::new(move |(key, value): (&'static str, String)| {
            let value = (!value.is_empty()).then_some(value);
            navigate(
                &href_with(&query.get_untracked(), &[(key, value)]),
                Default::default(),
            );
        })
    };
    let current = move |key: &'static str| query.with(|q| q.get(key).unwrap_or_default());
    let presets = Preset::ALL
        .into_iter()
        .map(|preset| {
            let p = preset.period(period.to);
            let key = match preset {
                Preset::Month => Key::PresetMonth,
                Preset::Quarter => Key::PresetQuarter,
                Preset::Year => Key::PresetYear,
                Preset::YearToDate => Key::PresetYearToDate,
            };
            let selected = p == period;
            view! {
                <a
                    class="preset"
                    class:current=selected
                    aria-current=selected.then_some("true")
                    href=move || {
                        href_with(
                            &query.get(),
                            &[("from", Some(p.from.to_string())), ("to", Some(p.to.to_string()))],
                        )
                    }
                >
                    {text(lang, key)}
                </a>
            }
        })
        .collect_view();
    // The custom range is a plain GET form: the other parameters ride along as hidden fields.
    let hidden = move || {
        query.with(|q| {
            [
                "unit",
                "province",
                "units",
                "level",
                "vs_from",
                "vs_to",
                "lang",
                "field",
                "channel",
                "dossier_level",
                "map",
                "indicator",
                "classes",
                "limits",
            ]
            .into_iter()
            .filter_map(|k| {
                q.get(k)
                    .map(|v| view! { <input type="hidden" name=k value=v/> })
            })
            .collect_view()
        })
    };
    let choice = move |name: &'static str, all: Key, options: Vec<(String, Option<Key>)>| {
        view! {
            <select name=name on:change=move |ev| set_param.run((name, event_target_value(&ev)))>
                <option value="" selected=move || current(name).is_empty()>{text(lang, all)}</option>
                {options
                    .into_iter()
                    .map(|(value, key)| {
                        let shown = value.clone();
                        let is = value.clone();
                        view! {
                            <option value=value selected=move || current(name) == is>
                                {move || key.map_or(shown.clone(), |k| tr(lang.get(), k).to_string())}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        }
    };
    let channels = Channel::ALL
        .into_iter()
        .map(|c| {
            let key = match c {
                Channel::Online => Key::ChannelOnline,
                Channel::Direct => Key::ChannelDirect,
                Channel::Postal => Key::ChannelPostal,
            };
            (c.as_str().to_string(), Some(key))
        })
        .collect();
    let levels = Level::ALL
        .into_iter()
        .map(|l| {
            let key = match l {
                Level::Province => Key::LevelProvince,
                Level::District => Key::LevelDistrict,
                Level::Commune => Key::LevelCommune,
            };
            (l.as_str().to_string(), Some(key))
        })
        .collect();
    let sectors = fields.into_iter().map(|f| (f, None)).collect();
    view! {
        <section class="filters" aria-label=text(lang, Key::Filters)>
            <nav class="presets">{presets}</nav>
            <form method="get" action="/" class="custom-range">
                {hidden}
                <label>{text(lang, Key::DateFrom)} " " <input type="date" name="from" value=period.from.to_string() required/></label>
                <label>{text(lang, Key::DateTo)} " " <input type="date" name="to" value=period.to.to_string() required/></label>
                <button type="submit">{text(lang, Key::Apply)}</button>
            </form>
            <label>{text(lang, Key::Sector)} " " {choice("field", Key::AllSectors, sectors)}</label>
            <label>{text(lang, Key::Channel)} " " {choice("channel", Key::AllChannels, channels)}</label>
            <label>{text(lang, Key::HandlingLevel)} " " {choice("dossier_level", Key::AllLevels, levels)}</label>
        </section>
    }
}

#[component]
fn DashboardBody(
    view: DashboardView,
    lang: Signal<Lang>,
    selection: crate::codec::Loaded<Result<SelectionView, AppError>>,
    selection_request: Memo<SelectionRequest>,
    /// The last sequence number the live stream delivered; the page refetches the charts on it.
    live_seq: RwSignal<i64>,
) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let period = view.period;
    let title = view.trail.last().map(|u| u.name.clone());
    // Figures pushed by the live stream replace the loaded ones in place: map colours, headline,
    // ranking and the timeliness chart follow `current`; the other charts are fetched again.
    let live = crate::live::follow(view.live_query.clone());
    let loaded = StoredValue::new(view.current.clone());
    let current = Memo::new(move |_| {
        live.figures
            .with(|f| f.as_ref().map(|f| f.stats.clone()))
            .unwrap_or_else(|| loaded.get_value())
    });
    // A new body (after a filter change) starts without live figures: only a delivered number
    // that differs from the last one means new events, and only then are the charts fetched again.
    Effect::new(move |_| {
        if let Some(seq) = live.figures.with(|f| f.as_ref().map(|f| f.seq)) {
            live_seq.maybe_update(|last| std::mem::replace(last, seq) != seq);
        }
    });
    let rows = Signal::derive(move || current.with(|c| c.units.clone()));
    // Due soon is about today: on today's units only.
    let due = crate::components::due_card::due_summary(
        view.trail
            .last()
            .filter(|_| view.current.era == crate::era::Era::From2025)
            .map(|u| u.code.clone()),
        view.current.units.iter().map(|r| r.code.clone()).collect(),
    );
    let due_map = Memo::new(move |_| {
        query.with(|q| q.get("indicator").as_deref() == Some(crate::components::due_card::DUE_SOON))
    });
    let loaded_as_of = view.data_as_of;
    let data_as_of = Signal::derive(move || {
        live.figures
            .with(|f| f.as_ref().map(|f| f.data_as_of))
            .unwrap_or(loaded_as_of)
    });
    let live_status = live.status;
    // The map is redrawn when the indicator or classes change; the figures are repainted.
    let map_layer = StoredValue::new(view.map.clone());
    let go = Callback::new(move |unit: String| {
        navigate(
            &unit_href(&query.get_untracked(), &unit),
            Default::default(),
        );
    });
    let on_drill = view.current.era.child(view.level).map(|_| go);
    // Escape from a province leads to the country, from a district to its province.
    let up = match view.trail.len() {
        0 => None,
        1 => Some(COUNTRY.to_string()),
        n => Some(view.trail[n - 2].code.clone()),
    };
    let on_up = up.map(|code| Callback::new(move |_: ()| go.run(code.clone())));
    // Cross-filtering: the focused unit and the sector live in the URL like everything else;
    // choosing the same again clears it. The page stays where it is.
    let focus = Signal::derive(move || query.with(|q| q.get("focus").filter(|f| !f.is_empty())));
    let sector = Signal::derive(move || query.with(|q| q.get("field").filter(|f| !f.is_empty())));
    let toggle = {
        let navigate = use_navigate();
        move |key: &'static str, value: String| {
            let same = query.with_untracked(|q| q.get(key).as_deref() == Some(value.as_str()));
            navigate(
                &href_with(&query.get_untracked(), &[(key, (!same).then_some(value))]),
                NavigateOptions { scroll: false },
            );
        }
    };
    let on_focus = {
        let toggle = toggle.clone();
        Callback::new(move |code: String| toggle("focus", code))
    };
    let on_sector = Callback::new(move |name: String| toggle("field", name));
    let bucket_href = Callback::new(move |b: Bucket| {
        let name = match b {
            Bucket::Week => "week",
            Bucket::Month => "month",
        };
        href_with(&query.get(), &[("bucket", Some(name.to_string()))])
    });
    let previous_units = StoredValue::new(view.previous_units.clone());
    let sparklines = StoredValue::new(view.sparklines.clone());
    let ranked = Signal::derive(move || {
        current.with(|c| {
            previous_units.with_value(|p| sparklines.with_value(|s| ranked_rows(&c.units, p, s)))
        })
    });
    let csv_name = format!(
        "xep-hang-{}-{}-{}.csv",
        view.trail.last().map_or(COUNTRY, |u| u.code.as_str()),
        period.from,
        period.to
    );
    let origin = RwSignal::new(String::new());
    Effect::new(move |_| origin.set(browser::origin().unwrap_or_default()));
    let embed_snippet = move || {
        let mut q = query.get();
        for key in ["focus", "bucket"] {
            q.remove(key);
        }
        format!(
            r#"<iframe src="{}/embed{}" title="{}" width="100%" height="560" style="border:0" loading="lazy"></iframe>"#,
            origin.get(),
            q.to_query_string(),
            tr(lang.get(), Key::EmbedTitle)
        )
    };
    let level_key = match view.level {
        Level::Province => Key::Provinces,
        Level::District => Key::Districts,
        Level::Commune => Key::Communes,
    };
    let crumbs = {
        let last = view.trail.len();
        let country = (last > 0).then(|| {
            view! { <li><a href=move || unit_href(&query.get(), COUNTRY)>{text(lang, Key::Country)}</a></li> }
        });
        let here_country = (last == 0).then(|| {
            view! { <li aria-current="page">{text(lang, Key::Country)}</li> }
        });
        let steps = view
            .trail
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let (code, name) = (u.code.clone(), u.name.clone());
                if i + 1 == last {
                    view! { <li aria-current="page" data-unit=code>{name}</li> }.into_any()
                } else {
                    let target = code.clone();
                    view! { <li data-unit=code><a href=move || unit_href(&query.get(), &target)>{name}</a></li> }
                        .into_any()
                }
            })
            .collect_view();
        view! {
            <nav class="breadcrumb" aria-label=text(lang, Key::Breadcrumb)>
                <ol>{country}{here_country}{steps}</ol>
            </nav>
        }
    };
    // The map's indicator and classes come from the URL; a value it cannot read is named in a
    // notice and the default is used.
    let map_choice = Memo::new(move |_| query.with(map_choice));
    let choose = {
        let navigate = use_navigate();
        Callback::new(move |(key, value): (&'static str, String)| {
            let mut changes = vec![(key, Some(value))];
            // Custom limits belong to one indicator and to fixed thresholds.
            changes.push(("limits", None));
            navigate(
                &href_with(&query.get_untracked(), &changes),
                Default::default(),
            );
        })
    };
    let map_options = view! {
        <div class="map-options">
            <label>
                {text(lang, Key::IndicatorChoice)} " "
                <select name="indicator" on:change=move |ev| choose.run(("indicator", event_target_value(&ev)))>
                    {Indicator::ALL
                        .into_iter()
                        .map(|i| {
                            view! {
                                <option value=i.as_str() selected=move || map_choice.with(|c| c.0 == i)>
                                    {move || tr(lang.get(), indicator_key(i))}
                                </option>
                            }
                        })
                        .collect_view()}
                    {move || due.with(Option::is_some).then(|| view! {
                        <option value=crate::components::due_card::DUE_SOON selected=move || due_map.get()>
                            {text(lang, Key::DueSoon)}
                        </option>
                    })}
                </select>
            </label>
            <label>
                {text(lang, Key::Classification)} " "
                <select name="classes" on:change=move |ev| choose.run(("classes", event_target_value(&ev)))>
                    {[("thresholds", Key::ClassThresholds), ("quantiles", Key::ClassQuantiles), ("jenks", Key::ClassJenks)]
                        .into_iter()
                        .map(|(name, key)| {
                            view! {
                                <option value=name selected=move || map_choice.with(|c| c.1.url_name() == name)>
                                    {text(lang, key)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            {move || {
                map_choice
                    .with(|c| (!c.2.is_empty()).then(|| c.2.join("; ")))
                    .map(|problems| view! { <p class="error" role="alert">{problems}</p> })
            }}
        </div>
    };
    let filters = filter_bar(query, lang, period, view.fields.clone());
    // A period before the reform can be shown on today's units or on those of its time.
    let units_choice = (period.from < crate::era::REFORM_DATE).then(|| {
        let today = view.current.era == crate::era::Era::From2025;
        let link = move |units: &'static str, key: Key, current: bool, enabled: bool| {
            enabled.then(|| {
                view! {
                    <a
                        href=move || {
                            href_with(
                                &query.get(),
                                &[("units", Some(units.to_string())), ("unit", None), ("province", None), ("focus", None)],
                            )
                        }
                        class="units-choice"
                        class:current=current
                        aria-current=current.then_some("true")
                        data-units=units
                    >
                        {text(lang, key)}
                    </a>
                }
            })
        };
        view! {
            <div class="units-switch" role="group" aria-label=text(lang, Key::UnitsChoice)>
                <span>{text(lang, Key::UnitsChoice)} ": "</span>
                {link("current", Key::UnitsToday, today, true)}
                {link("historical", Key::UnitsHistorical, !today, period.to < crate::era::REFORM_DATE)}
            </div>
        }
    });
    // The national view of today's units: the provinces, or all the communes as one layer.
    let national_layers = (view.trail.is_empty() && view.current.era == crate::era::Era::From2025)
        .then(|| {
            let communes = view.level == Level::Commune;
            let link = move |level: Option<&'static str>, key: Key, current: bool| {
                view! {
                    <a
                        href=move || href_with(&query.get(), &[("level", level.map(str::to_string)), ("focus", None)])
                        class="map-kind"
                        class:current=current
                        aria-current=current.then_some("true")
                        data-layer=level.unwrap_or("province")
                    >
                        {text(lang, key)}
                    </a>
                }
            };
            view! {
                <div class="map-switch national-layers" role="group">
                    {link(None, Key::Provinces, !communes)}
                    {link(Some("commune"), Key::AllCommunes, communes)}
                </div>
            }
        });
    // The comparison view (`vs_from`, `vs_to`): changes against a chosen base period.
    let comparing = view.base_period.is_some();
    let base_label = view
        .base_period
        .map(|b| format!("{} – {}", b.from, b.to))
        .unwrap_or_default();
    let map_rows = Signal::derive(move || {
        current.with(|c| previous_units.with_value(|p| crate::compare::change_rows(&c.units, p)))
    });
    let compare_links = {
        let year_earlier = period.year_earlier();
        view! {
            <div class="compare-switch" role="group">
                {year_earlier.map(|b| view! {
                    <a
                        class="compare"
                        class:current=view.base_period == Some(b)
                        data-compare="year-earlier"
                        href=move || href_with(&query.get(), &[("vs_from", Some(b.from.to_string())), ("vs_to", Some(b.to.to_string()))])
                    >
                        {text(lang, Key::CompareYearEarlier)}
                    </a>
                })}
                {comparing.then(|| view! {
                    <a class="compare" data-compare="off" href=move || href_with(&query.get(), &[("vs_from", None), ("vs_to", None)])>
                        {text(lang, Key::CompareOff)}
                    </a>
                })}
            </div>
        }
    };
    // How the figures of old units were carried onto today's: the rule, the shares, the rest.
    let conversion_note = view.current.conversion.clone().map(|note| {
        let not_converted = (!note.not_converted.is_empty()).then(|| {
            let list = note
                .not_converted
                .iter()
                .map(|u| format!("{} ({}, {})", u.name, u.code, u.received))
                .collect::<Vec<_>>()
                .join(", ");
            view! { <p class="note not-converted">{text(lang, Key::NotConverted)} " " {list}</p> }
        });
        view! {
            <div class="conversion-note">
                <p class="note">
                    {text(lang, Key::ConversionNote)} " "
                    {move || format::count(lang.get(), note.apportioned)}
                </p>
                {not_converted}
            </div>
        }
    });
    let map_switch = view.map.geographic_available.then(|| {
        let geographic = view.map.geographic;
        let link = move |kind: MapKind, key: Key, current: bool| {
            view! {
                <a
                    href=move || href_with(&query.get(), &[("map", Some(kind.as_str().to_string()))])
                    class="map-kind"
                    class:current=current
                    aria-current=current.then_some("true")
                    data-kind=kind.as_str()
                >
                    {text(lang, key)}
                </a>
            }
        };
        view! {
            <div class="map-switch" role="group">
                {link(MapKind::Geographic, Key::MapGeographic, geographic)}
                {link(MapKind::Tiles, Key::MapTiles, !geographic)}
            </div>
        }
    });
    // The shown unit's month (the one the period ends in) as the PDF for the monthly meeting,
    // when the units shown are those the report reads for that month.
    let report = view
        .trail
        .last()
        .filter(|_| view.current.era == crate::era::Era::on(period.to))
        .map(|unit| {
            let base = format!(
                "/api/v1/reports/monthly?unit={}&month={}",
                unit.code,
                &period.to.to_string()[..7]
            );
            view! {
                <a class="report" rel="external" href=move || format!("{base}&lang={}", lang.get().code())>
                    {text(lang, Key::MonthlyReport)}
                </a>
            }
        });
    view! {
        {crumbs}
        <section class="scope" aria-label=text(lang, Key::Period)>
            <h2>{title.unwrap_or_else(|| tr(lang.get_untracked(), Key::Country).to_string())}</h2>
            <p class="period">
                {text(lang, Key::Period)} ": "
                <time datetime=period.from.to_string()>{move || format::date(lang.get(), period.from)}</time>
                " – "
                <time datetime=period.to.to_string()>{move || format::date(lang.get(), period.to)}</time>
            </p>
            <p class="data-as-of">
                {text(lang, Key::DataAsOf)} ": "
                {move || match data_as_of.get() {
                    Some(t) => view! { <time datetime=t.to_rfc3339()>{format::date_time(lang.get(), t)}</time> }.into_any(),
                    None => tr(lang.get(), Key::NoDataYet).into_any(),
                }}
            </p>
            <LiveIndicator status=live_status lang/>
            <button type="button" class="print" on:click=move |_| browser::print()>{text(lang, Key::Print)}</button>
            {report}
        </section>
        {filters}
        {units_choice}
        {compare_links}
        {
            let previous = view.previous_total.clone();
            let year_earlier = view.year_earlier_total.clone();
            move || {
                view! {
                    <Headline
                        current=current.with(|c| c.total.clone())
                        previous=previous.clone()
                        year_earlier=year_earlier.clone()
                        lang
                    />
                }
            }
        }
        <crate::components::due_card::DueSoonCard summary=due lang/>
        <section class="map-section">
            <div class="map-heading">
                <h2>{text(lang, Key::Map)}</h2>
                {national_layers}
                {map_switch}
            </div>
            {map_options}
            {comparing.then(|| view! { <p class="note compare-note">{text(lang, Key::ChangeAgainst)} " " {base_label.clone()}</p> })}
            {move || {
                // The due-soon map: each unit coloured by its open dossiers due within three
                // working days (more is redder), for a signed-in reader only.
                if due_map.get() && !comparing {
                    if let Some(summary) = due.get() {
                        let counts: std::collections::HashMap<String, u64> = summary.units.into_iter().collect();
                        let due_rows = Signal::derive(move || {
                            let mut listed = rows.get();
                            for row in &mut listed {
                                row.avg_days = counts.get(&row.code).map(|n| *n as f64);
                            }
                            listed
                        });
                        return view! {
                            <ChoroplethMap
                                layer=map_layer.get_value()
                                rows=due_rows
                                lang
                                on_drill
                                on_up
                                indicator=Indicator::AvgDays
                                method=Method::Thresholds(vec![1.0, 5.0, 10.0, 20.0])
                                selected=focus
                                on_select=on_focus
                                count_of=Key::DueSoonCount
                            />
                        }
                        .into_any();
                    }
                }
                let (indicator, method, _) = map_choice.get();
                // The comparison view colours each unit by its change, on a diverging scale.
                let (rows, method) = if comparing {
                    (map_rows, crate::compare::change_method(indicator))
                } else {
                    (rows, method)
                };
                view! {
                    <ChoroplethMap
                        layer=map_layer.get_value()
                        rows
                        lang
                        on_drill
                        on_up
                        indicator
                        method
                        selected=focus
                        on_select=on_focus
                    />
                }
                .into_any()
            }}
        </section>
        <section class="ranking">
            <h2>{text(lang, Key::Ranking)} " – " {text(lang, level_key)}</h2>
            <RankingTable rows=ranked lang focus on_focus csv_name/>
            <p class="note">{text(lang, Key::ThresholdNote)}</p>
            {conversion_note}
        </section>
        {comparing.then(|| view! {
            <section class="change-chart">
                <h2>{text(lang, Key::ChangeChart)} " – " {text(lang, Key::OnTimeRate)}</h2>
                {move || change_bars(map_rows.get(), lang)}
            </section>
        })}
        <ChartsSection
            request=selection_request
            selection
            units=rows
            lang
            focus
            sector
            on_focus
            on_sector
            bucket_href
        />
        <details class="embed">
            <summary>{text(lang, Key::Embed)}</summary>
            <p>{text(lang, Key::EmbedHelp)}</p>
            <textarea readonly rows="3" aria-label=text(lang, Key::Embed) prop:value=embed_snippet>{embed_snippet}</textarea>
        </details>
    }
}
