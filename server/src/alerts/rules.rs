//! What a rule may say: checked before it is stored, each refusal naming its field. Scope (the
//! unit within the owner's) is checked by the HTTP layer, as for the dossier lists.
use super::AlertSettings;
use app::alerts::{AlertChannel, AlertIndicator, AlertRuleInput};
use app::model::Level;

/// Most rules one owner keeps, and in all: each is evaluated after every commit.
pub const MAX_RULES_PER_OWNER: usize = 100;
pub const MAX_RULES: usize = 10_000;
const MAX_NAME: usize = 100;
const MAX_URL: usize = 500;
const MAX_CHANNELS: usize = 5;

/// A refusal: the field at fault and why.
pub type Refusal = (&'static str, String);

/// The rule, trimmed, or the first thing wrong with it.
pub fn check(
    mut input: AlertRuleInput,
    settings: &AlertSettings,
) -> Result<AlertRuleInput, Refusal> {
    input.name = input.name.trim().to_string();
    if input.name.is_empty() || input.name.chars().count() > MAX_NAME {
        return Err(("name", format!("a name of 1 to {MAX_NAME} characters")));
    }
    input.unit = input.unit.trim().to_string();
    if input.unit.is_empty()
        || input.unit.len() > 16
        || !input.unit.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(("unit", "the code of a unit in force today (digits)".into()));
    }
    match input.level {
        None | Some(Level::Commune) => {}
        Some(other) => {
            return Err((
                "level",
                format!(
                    "'{}': rules watch a unit or each commune under it (today's units have no districts; a province is watched as a unit)",
                    other.as_str()
                ),
            ))
        }
    }
    let indicator = input.indicator;
    let value = input.condition.threshold();
    let (low, high, what) = match (indicator, input.condition) {
        (AlertIndicator::DueSoon, c) if c.compares_periods() => return Err((
            "condition",
            "due_soon counts today's open dossiers and has no previous period: use below or above"
                .into(),
        )),
        (i, c) if i.is_rate() && c.compares_periods() => (
            0.0,
            1.0,
            "a change of a rate, as a fraction above 0 and at most 1 (0.02 is two points)",
        ),
        (i, _) if i.is_rate() => (0.0, 1.0, "a rate as a fraction from 0 to 1 (0.95 is 95%)"),
        (AlertIndicator::AvgDays, _) => (0.0, 3_650.0, "days, from 0 to 3,650"),
        _ => (0.0, 1e9, "a number of dossiers, from 0 to 1,000,000,000"),
    };
    let positive = input.condition.compares_periods();
    if !value.is_finite() || value < low || value > high || (positive && value <= 0.0) {
        return Err(("condition", format!("value: {what}")));
    }
    if let Some(margin) = input.rearm_margin {
        if !margin.is_finite() || margin < 0.0 || margin > high {
            return Err((
                "rearm_margin",
                format!("from 0 to {high}, in the indicator's unit"),
            ));
        }
    }
    if input.channels.is_empty() || input.channels.len() > MAX_CHANNELS {
        return Err((
            "channels",
            format!("1 to {MAX_CHANNELS} channels: in_app, webhook, email"),
        ));
    }
    for channel in &mut input.channels {
        match channel {
            AlertChannel::InApp => {}
            AlertChannel::Webhook { url } => {
                *url = url.trim().to_string();
                webhook_url(url, settings).map_err(|m| ("channels", m))?;
            }
            AlertChannel::Email { to } => {
                *to = to.trim().to_string();
                super::email::check_recipient(to, settings.smtp.as_ref())
                    .map_err(|m| ("channels", m))?;
            }
        }
    }
    let mut seen = Vec::new();
    input.channels.retain(|c| {
        let new = !seen.contains(c);
        seen.push(c.clone());
        new
    });
    Ok(input)
}

/// A webhook URL the server may POST to: `http://` or `https://` to a host the administrator
/// allowed.
fn webhook_url(url: &str, settings: &AlertSettings) -> Result<(), String> {
    if url.len() > MAX_URL {
        return Err(format!("webhook: a URL of at most {MAX_URL} characters"));
    }
    let uri: axum::http::Uri = url
        .parse()
        .map_err(|_| format!("webhook: '{url}' is not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("webhook: an http:// or https:// URL".into());
    }
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_ascii_lowercase())
        .ok_or_else(|| format!("webhook: '{url}' names no host"))?;
    if authority.contains('@') {
        return Err("webhook: no user or password in the URL".into());
    }
    let host = uri.host().unwrap_or_default().to_ascii_lowercase();
    // The port connected to: written, or the scheme's (an entry `host:443` allows `https://host/`).
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let with_port = format!("{host}:{port}");
    let allowed = settings
        .webhook_hosts
        .iter()
        .any(|h| *h == authority || *h == host || *h == with_port);
    if !allowed {
        return Err(if settings.webhook_hosts.is_empty() {
            "webhook: this server's administrator has allowed no webhook host (IEM_ALERT_WEBHOOK_HOSTS)".into()
        } else {
            format!("webhook: '{authority}' is not one of the hosts this server sends to")
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::alerts::{AlertCondition, AlertPeriod};

    fn rule() -> AlertRuleInput {
        AlertRuleInput {
            name: " Đà Nẵng dưới 95% ".into(),
            indicator: AlertIndicator::OnTimeRate,
            unit: "48".into(),
            level: Some(Level::Commune),
            period: AlertPeriod::MonthToDate,
            condition: AlertCondition::Below { value: 0.95 },
            rearm_margin: None,
            channels: vec![AlertChannel::InApp],
            enabled: true,
        }
    }

    fn field_of(input: AlertRuleInput, settings: &AlertSettings) -> &'static str {
        check(input, settings).unwrap_err().0
    }

    #[test]
    fn a_rule_is_trimmed_and_each_mistake_names_its_field() {
        let s = AlertSettings::default();
        assert_eq!(check(rule(), &s).unwrap().name, "Đà Nẵng dưới 95%");
        let mut r = rule();
        r.name = " ".into();
        assert_eq!(field_of(r, &s), "name");
        let mut r = rule();
        r.unit = "48; DROP".into();
        assert_eq!(field_of(r, &s), "unit");
        let mut r = rule();
        r.level = Some(Level::District);
        assert_eq!(field_of(r, &s), "level");
        let mut r = rule();
        r.condition = AlertCondition::Below { value: 95.0 };
        assert_eq!(field_of(r, &s), "condition", "rates are fractions");
        let mut r = rule();
        r.condition = AlertCondition::Below { value: f64::NAN };
        assert_eq!(field_of(r, &s), "condition");
        let mut r = rule();
        r.indicator = AlertIndicator::DueSoon;
        r.condition = AlertCondition::Rise { value: 3.0 };
        assert_eq!(field_of(r, &s), "condition");
        let mut r = rule();
        r.rearm_margin = Some(-1.0);
        assert_eq!(field_of(r, &s), "rearm_margin");
        let mut r = rule();
        r.channels.clear();
        assert_eq!(field_of(r, &s), "channels");
        let mut r = rule();
        r.channels = vec![AlertChannel::Email {
            to: "a@b.vn".into(),
        }];
        assert_eq!(field_of(r, &s), "channels", "no relay configured");
        let relay = AlertSettings {
            smtp: Some(super::super::email::SmtpSettings {
                relay: "127.0.0.1:25".into(),
                from: "iem@tinh.gov.vn".into(),
                recipient_domains: vec!["danang.gov.vn".into()],
                security: Default::default(),
                credentials: None,
            }),
            ..Default::default()
        };
        let mut r = rule();
        r.channels = vec![AlertChannel::Email {
            to: " chu.tich@danang.gov.vn ".into(),
        }];
        assert_eq!(
            check(r, &relay).unwrap().channels,
            vec![AlertChannel::Email {
                to: "chu.tich@danang.gov.vn".into()
            }]
        );
        for bad in ["someone@gmail.com", "not an address", "a@b@danang.gov.vn"] {
            let mut r = rule();
            r.channels = vec![AlertChannel::Email { to: bad.into() }];
            assert_eq!(field_of(r, &relay), "channels", "{bad}");
        }
    }

    #[test]
    fn webhooks_go_only_to_hosts_the_administrator_allowed() {
        let with = |url: &str, hosts: &[&str]| {
            let mut r = rule();
            r.channels = vec![AlertChannel::Webhook { url: url.into() }];
            let s = AlertSettings {
                webhook_hosts: hosts.iter().map(|h| h.to_string()).collect(),
                ..Default::default()
            };
            check(r, &s).map(|_| ()).map_err(|e| e.1)
        };
        assert!(with("http://hooks.example.vn/iem", &[])
            .unwrap_err()
            .contains("allowed no webhook host"));
        assert!(with("http://hooks.example.vn/iem", &["hooks.example.vn"]).is_ok());
        assert!(with("http://127.0.0.1:9000/x", &["127.0.0.1:9000"]).is_ok());
        assert!(
            with("http://127.0.0.1:8123/?query=DROP", &["127.0.0.1:9000"]).is_err(),
            "another port"
        );
        assert!(with("http://user@hooks.example.vn/", &["hooks.example.vn"]).is_err());
        assert!(with("https://hooks.example.vn/", &["hooks.example.vn"]).is_ok());
        assert!(
            with("https://hooks.example.vn/", &["hooks.example.vn:8443"]).is_err(),
            "port 443, not the one allowed"
        );
        assert!(with("https://hooks.example.vn/", &["hooks.example.vn:443"]).is_ok());
        assert!(with("http://hooks.example.vn/", &["hooks.example.vn:80"]).is_ok());
        assert!(with("http://hooks.example.vn/", &["hooks.example.vn:443"]).is_err());
        assert!(with("ftp://hooks.example.vn/", &["hooks.example.vn"])
            .unwrap_err()
            .contains("https://"));
        assert!(with("file:///etc/passwd", &["hooks.example.vn"]).is_err());
    }
}
