//! The alerts page (`/alerts`): the viewer's alerts with their unread marks, the rules that raise
//! them, and a form for a new rule. Only for leaders, chairs and admins; every call is checked on
//! the server as the API's are.
use crate::access::{delete_alert_rule, fetch_alerts, mark_alerts_read, save_alert_rule};
use crate::alerts::{
    Alert, AlertChannel, AlertCondition, AlertIndicator, AlertPeriod, AlertRule, AlertRuleInput,
    AlertsPage,
};
use crate::components::dashboard::{url_lang, Page, TopBar};
use crate::components::late::refused;
use crate::components::loaded::PartOwner;
use crate::format;
use crate::i18n::{indicator_key, text, tr, Key, Lang};
use crate::model::{Indicator, Level};
use crate::nav::use_query_map;
use leptos::prelude::*;

fn indicator_label(lang: Lang, indicator: AlertIndicator) -> &'static str {
    let key = match indicator {
        AlertIndicator::OnTimeRate => indicator_key(Indicator::OnTimeRate),
        AlertIndicator::LateRateInclPending => indicator_key(Indicator::LateRateInclPending),
        AlertIndicator::OnlineRate => indicator_key(Indicator::OnlineRate),
        AlertIndicator::OnlinePaymentRate => indicator_key(Indicator::OnlinePaymentRate),
        AlertIndicator::AvgDays => indicator_key(Indicator::AvgDays),
        AlertIndicator::PendingOverdue => Key::PendingOverdue,
        AlertIndicator::DueSoon => Key::DueSoonCount,
    };
    tr(lang, key)
}

fn period_key(period: AlertPeriod) -> Key {
    match period {
        AlertPeriod::MonthToDate => Key::MonthToDate,
        AlertPeriod::QuarterToDate => Key::QuarterToDate,
        AlertPeriod::Rolling30Days => Key::Rolling30Days,
    }
}

/// A value of `indicator` as people read it: a rate as a percentage, a change of one in points.
fn value_text(lang: Lang, indicator: AlertIndicator, value: f64, change: bool) -> String {
    match (indicator.is_rate(), change) {
        (true, false) => format::rate(lang, Some(value)),
        (true, true) => format!(
            "{} {}",
            format::decimal(lang, value * 100.0, 2),
            tr(lang, Key::PercentPoints)
        ),
        (false, _) => format::decimal(
            lang,
            value,
            if indicator == AlertIndicator::AvgDays {
                1
            } else {
                0
            },
        ),
    }
}

fn condition_text(lang: Lang, indicator: AlertIndicator, condition: AlertCondition) -> String {
    let (key, value) = match condition {
        AlertCondition::Below { value } => (Key::CondBelow, value),
        AlertCondition::Above { value } => (Key::CondAbove, value),
        AlertCondition::Drop { value } => (Key::CondDrop, value),
        AlertCondition::Rise { value } => (Key::CondRise, value),
    };
    format!(
        "{} {}",
        tr(lang, key),
        value_text(lang, indicator, value, condition.compares_periods())
    )
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let params = use_query_map();
    let lang = url_lang(params);
    let lang_signal: Signal<Lang> = lang.into();
    // Bumped after every change, so the lists are read again.
    let version = RwSignal::new(0u32);
    let page = crate::codec::load(move || version.get(), |_| fetch_alerts());
    let owner = PartOwner::here();
    view! {
        <TopBar lang current=Page::Alerts/>
        <main class="alerts-page">
            <h2>{text(lang_signal, Key::Alerts)}</h2>
            <Transition fallback=move || view! { <p class="loading">{tr(lang.get_untracked(), Key::Loading)}</p> }>
                {move || {
                    let owner = owner.clone();
                    Suspend::new(async move {
                        match page.await {
                            Ok(p) => owner.part(|| view! { <AlertsBody page=p lang=lang_signal version/> }).into_any(),
                            Err(e) => refused(e, lang_signal, format!("/alerts?lang={}", lang.get_untracked().code())),
                        }
                    })
                }}
            </Transition>
        </main>
        <footer class="source">{text(lang_signal, Key::Source)}</footer>
    }
}

#[component]
fn AlertsBody(page: AlertsPage, lang: Signal<Lang>, version: RwSignal<u32>) -> impl IntoView {
    let l = lang.get_untracked();
    let unread = page.alerts.unread;
    let mark_read = Action::new(move |_: &()| async move {
        let done = mark_alerts_read().await;
        version.update(|v| *v += 1);
        done
    });
    let alerts = page.alerts.alerts.clone();
    let empty_alerts = alerts.is_empty();
    let rules = page.rules.clone();
    let empty_rules = rules.is_empty();
    view! {
        <section class="alert-list-section">
            <p class="alert-summary">
                <strong class="unread-count">{unread}</strong> " " {text(lang, Key::Unread)}
                " "
                <button type="button" class="mark-read" on:click=move |_| { mark_read.dispatch(()); } disabled=unread == 0>
                    {text(lang, Key::MarkAllRead)}
                </button>
            </p>
            {empty_alerts.then(|| view! { <p class="empty">{text(lang, Key::NoAlerts)}</p> })}
            <ul class="alert-list">
                {alerts.into_iter().map(|a| alert_item(l, a)).collect_view()}
            </ul>
        </section>
        <section class="alert-rules-section">
            <h3>{text(lang, Key::AlertRules)}</h3>
            {empty_rules.then(|| view! { <p class="empty">{text(lang, Key::NoRules)}</p> })}
            <ul class="alert-rules">
                {rules.into_iter().map(|r| rule_item(l, r, version)).collect_view()}
            </ul>
            <RuleForm lang version/>
        </section>
    }
}

fn alert_item(l: Lang, a: Alert) -> impl IntoView {
    let change = a.condition.compares_periods();
    let value = match (change, a.previous) {
        (true, Some(previous)) => format!(
            "{} → {}",
            value_text(l, a.indicator, previous, false),
            value_text(l, a.indicator, a.value, false)
        ),
        _ => value_text(l, a.indicator, a.value, false),
    };
    let when = chrono::DateTime::parse_from_rfc3339(&a.fired_at)
        .map(|t| format::date_time(l, t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| a.fired_at.clone());
    view! {
        <li class="alert" class:unread=!a.read data-rule=a.rule_id.clone()>
            <span class="when">{when}</span>
            <strong class="unit">{a.unit_name.clone()} " (" {a.unit_code.clone()} ")"</strong>
            <span class="what">{indicator_label(l, a.indicator)} ": " <span class="value">{value}</span>
                " · " {condition_text(l, a.indicator, a.condition)}</span>
            <span class="rule">{a.rule_name.clone()}</span>
            <a href=format!("{}&lang={}", a.link, l.code()) rel="external">{tr(l, Key::ShowOnMap)}</a>
        </li>
    }
}

fn rule_item(l: Lang, r: AlertRule, version: RwSignal<u32>) -> impl IntoView {
    let id = r.id.clone();
    let delete = Action::new(move |id: &String| {
        let id = id.clone();
        async move {
            let done = delete_alert_rule(id).await;
            version.update(|v| *v += 1);
            done
        }
    });
    let webhook = r
        .rule
        .channels
        .iter()
        .any(|c| matches!(c, AlertChannel::Webhook { .. }));
    let email = r
        .rule
        .channels
        .iter()
        .any(|c| matches!(c, AlertChannel::Email { .. }));
    view! {
        <li class="alert-rule" data-rule=r.id.clone()>
            <strong>{r.rule.name.clone()}</strong>
            <span>{indicator_label(l, r.rule.indicator)} " · " {condition_text(l, r.rule.indicator, r.rule.condition)}</span>
            <span>{tr(l, Key::Unit)} " " {r.rule.unit.clone()}
                {r.rule.level.is_some().then(|| format!(" · {}", tr(l, Key::EachCommune)))}</span>
            <span>{tr(l, period_key(r.rule.period))}</span>
            {webhook.then_some(" · webhook")}
            {email.then_some(" · e-mail")}
            <button type="button" class="delete-rule" on:click=move |_| { delete.dispatch(id.clone()); }>
                {tr(l, Key::DeleteRule)}
            </button>
        </li>
    }
}

/// The new-rule form; values as people write them (95 for 95%, 2 for two points).
#[component]
fn RuleForm(lang: Signal<Lang>, version: RwSignal<u32>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let indicator = RwSignal::new(AlertIndicator::OnTimeRate);
    let unit = RwSignal::new(String::new());
    let each = RwSignal::new(false);
    let period = RwSignal::new(AlertPeriod::MonthToDate);
    let op = RwSignal::new("below".to_string());
    let value = RwSignal::new("95".to_string());
    let webhook = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let save = Action::new(move |input: &AlertRuleInput| {
        let input = input.clone();
        async move {
            match save_alert_rule(input).await {
                Ok(_) => {
                    problem.set(None);
                    name.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ind = indicator.get_untracked();
        let raw: f64 = value
            .get_untracked()
            .trim()
            .replace(',', ".")
            .parse()
            .unwrap_or(f64::NAN);
        let v = if ind.is_rate() { raw / 100.0 } else { raw };
        let condition = match op.get_untracked().as_str() {
            "above" => AlertCondition::Above { value: v },
            "drop" => AlertCondition::Drop { value: v },
            "rise" => AlertCondition::Rise { value: v },
            _ => AlertCondition::Below { value: v },
        };
        let mut channels = vec![AlertChannel::InApp];
        let hook = webhook.get_untracked().trim().to_string();
        if !hook.is_empty() {
            channels.push(AlertChannel::Webhook { url: hook });
        }
        let to = email.get_untracked().trim().to_string();
        if !to.is_empty() {
            channels.push(AlertChannel::Email { to });
        }
        save.dispatch(AlertRuleInput {
            name: name.get_untracked(),
            indicator: ind,
            unit: unit.get_untracked().trim().to_string(),
            level: each.get_untracked().then_some(Level::Commune),
            period: period.get_untracked(),
            condition,
            rearm_margin: None,
            channels,
            enabled: true,
        });
    };
    let l = move || lang.get();
    view! {
        <form class="rule-form filters" on:submit=submit>
            <h4>{text(lang, Key::NewAlertRule)}</h4>
            <label>{text(lang, Key::RuleName)} <input type="text" name="name" required maxlength="100" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/></label>
            <label>
                {text(lang, Key::WatchedIndicator)}
                <select name="indicator" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Some(i) = AlertIndicator::ALL.into_iter().find(|i| i.as_str() == v) { indicator.set(i) }
                }>
                    {AlertIndicator::ALL.map(|i| view! { <option value=i.as_str()>{move || indicator_label(l(), i)}</option> }).into_iter().collect_view()}
                </select>
            </label>
            <label>{text(lang, Key::Unit)} <input type="text" name="unit" required inputmode="numeric" pattern="[0-9]+" prop:value=unit on:input=move |ev| unit.set(event_target_value(&ev))/></label>
            <label class="check"><input type="checkbox" name="each" prop:checked=each on:change=move |ev| each.set(event_target_checked(&ev))/> {text(lang, Key::EachCommune)}</label>
            <label>
                {text(lang, Key::Period)}
                <select name="period" on:change=move |ev| {
                    period.set(match event_target_value(&ev).as_str() {
                        "quarter_to_date" => AlertPeriod::QuarterToDate,
                        "rolling_30_days" => AlertPeriod::Rolling30Days,
                        _ => AlertPeriod::MonthToDate,
                    })
                }>
                    <option value="month_to_date">{text(lang, Key::MonthToDate)}</option>
                    <option value="quarter_to_date">{text(lang, Key::QuarterToDate)}</option>
                    <option value="rolling_30_days">{text(lang, Key::Rolling30Days)}</option>
                </select>
            </label>
            <label>
                {text(lang, Key::Condition)}
                <select name="op" on:change=move |ev| op.set(event_target_value(&ev))>
                    <option value="below">{text(lang, Key::CondBelow)}</option>
                    <option value="above">{text(lang, Key::CondAbove)}</option>
                    <option value="drop">{text(lang, Key::CondDrop)}</option>
                    <option value="rise">{text(lang, Key::CondRise)}</option>
                </select>
            </label>
            <label>{text(lang, Key::ThresholdValue)} <input type="text" name="value" required inputmode="decimal" prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/></label>
            <label>{text(lang, Key::WebhookUrl)} <input type="url" name="webhook" prop:value=webhook on:input=move |ev| webhook.set(event_target_value(&ev))/></label>
            <label>{text(lang, Key::EmailAddress)} <input type="email" name="email" maxlength="254" prop:value=email on:input=move |ev| email.set(event_target_value(&ev))/></label>
            <button type="submit">{text(lang, Key::SaveRule)}</button>
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
        </form>
    }
}
