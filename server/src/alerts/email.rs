//! E-mail delivery of alerts through the deployment's SMTP relay (the relay is the one that
//! talks to the world): plain SMTP on a trusted network, or STARTTLS or TLS with the relay's
//! certificate checked, and a user and password when the relay asks for them; retried like
//! webhooks and logged in the same delivery log.
use app::alerts::Alert;
use app::i18n::Lang;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::Tls;
use lettre::{Address, Message, SmtpTransport, Transport};
use std::time::Duration;

/// Where alert e-mails go out (`serve` settings).
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    /// The relay, `host:port`.
    pub relay: String,
    /// The sender address.
    pub from: String,
    /// Recipients must be in one of these domains; any when empty.
    pub recipient_domains: Vec<String>,
    /// How the connection to the relay is protected.
    pub security: SmtpSecurity,
    /// The user and password the relay asks for (never over a plain connection).
    pub credentials: Option<SmtpCredentials>,
}

/// How the connection to the relay is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP: a relay on the trusted network (port 25).
    #[default]
    None,
    /// Plain, then upgraded with STARTTLS before anything is sent; refused if the relay cannot
    /// (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl std::str::FromStr for SmtpSecurity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(SmtpSecurity::None),
            "starttls" => Ok(SmtpSecurity::StartTls),
            "tls" => Ok(SmtpSecurity::Tls),
            other => Err(format!("'{other}' is not none, starttls or tls")),
        }
    }
}

/// A relay user and password; the password is never printed.
#[derive(Clone)]
pub struct SmtpCredentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("user", &self.user)
            .field("password", &"…")
            .finish()
    }
}

/// Whether `to` is an address alerts may be sent to under `smtp`.
pub fn check_recipient(to: &str, smtp: Option<&SmtpSettings>) -> Result<(), String> {
    let Some(smtp) = smtp else {
        return Err(
            "e-mail: this server has no SMTP relay configured (IEM_SMTP_RELAY): use in_app or a webhook".into(),
        );
    };
    if to.len() > 254 {
        return Err("e-mail: an address of at most 254 characters".into());
    }
    let address: Address = to
        .parse()
        .map_err(|_| format!("e-mail: '{to}' is not an e-mail address"))?;
    let domain = address.domain().to_ascii_lowercase();
    if !smtp.recipient_domains.is_empty() && !smtp.recipient_domains.contains(&domain) {
        return Err(format!(
            "e-mail: this server sends alerts only to addresses at {}",
            smtp.recipient_domains.join(", ")
        ));
    }
    Ok(())
}

/// The alert as an e-mail: Vietnamese, then English.
fn message(smtp: &SmtpSettings, to: &str, alert: &Alert) -> Result<Message, String> {
    let value = |lang: Lang| {
        if alert.indicator.is_rate() {
            app::format::rate(lang, Some(alert.value))
        } else {
            app::format::decimal(lang, alert.value, 1)
        }
    };
    let subject = format!(
        "[Cảnh báo] {}: {} — {} {}",
        alert.rule_name,
        alert.unit_name,
        alert.indicator.as_str(),
        value(Lang::Vi)
    );
    let body = format!(
        "Quy tắc \"{rule}\" đã kích hoạt.\nĐơn vị: {unit} ({code})\nChỉ tiêu: {ind} = {vi}\nKỳ: {from} – {to}\nXem: {link}\n\n\
         Rule \"{rule}\" fired.\nUnit: {unit} ({code})\nIndicator: {ind} = {en}\nPeriod: {from} – {to}\nView: {link}\n",
        rule = alert.rule_name,
        unit = alert.unit_name,
        code = alert.unit_code,
        ind = alert.indicator.as_str(),
        vi = value(Lang::Vi),
        en = value(Lang::En),
        from = alert.from,
        to = alert.to,
        link = alert.link,
    );
    // Quoted-printable: every relay takes it (8-bit needs the relay's 8BITMIME), and Vietnamese
    // text stays mostly readable in the raw message.
    let body = Body::new_with_encoding(body, ContentTransferEncoding::QuotedPrintable)
        .map_err(|_| "the message cannot be encoded".to_string())?;
    Message::builder()
        .from(smtp.from.parse().map_err(|e| format!("from: {e}"))?)
        .to(to.parse().map_err(|e| format!("to: {e}"))?)
        .subject(subject)
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body),
        )
        .map_err(|e| e.to_string())
}

/// Sends one alert (blocking: call from a blocking thread).
pub fn send(
    smtp: &SmtpSettings,
    roots: &super::tls::TrustedRoots,
    to: &str,
    alert: &Alert,
) -> Result<(), String> {
    let email = message(smtp, to, alert)?;
    let (host, port) = smtp
        .relay
        .rsplit_once(':')
        .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_string(), p)))
        .unwrap_or_else(|| (smtp.relay.clone(), 25));
    let tls = match smtp.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::StartTls => Tls::Required(roots.for_smtp(&host)?),
        SmtpSecurity::Tls => Tls::Wrapper(roots.for_smtp(&host)?),
    };
    let mut mailer = SmtpTransport::builder_dangerous(host)
        .port(port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(10)));
    // The settings refuse credentials without TLS; checked again here, where they would leave.
    if let Some(c) = &smtp.credentials {
        if smtp.security == SmtpSecurity::None {
            return Err("a relay password is never sent over a plain connection".into());
        }
        mailer = mailer.credentials(Credentials::new(c.user.clone(), c.password.clone()));
    }
    mailer
        .build()
        .send(&email)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
