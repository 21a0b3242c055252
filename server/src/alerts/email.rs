//! E-mail delivery of alerts through the deployment's SMTP relay (plain SMTP on a trusted
//! network: the relay is the one that talks to the world), retried like webhooks and logged in
//! the same delivery log.
use app::alerts::Alert;
use app::i18n::Lang;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, SinglePart};
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
pub fn send(smtp: &SmtpSettings, to: &str, alert: &Alert) -> Result<(), String> {
    let email = message(smtp, to, alert)?;
    let (host, port) = smtp
        .relay
        .rsplit_once(':')
        .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_string(), p)))
        .unwrap_or_else(|| (smtp.relay.clone(), 25));
    let mailer = SmtpTransport::builder_dangerous(host)
        .port(port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    mailer.send(&email).map(|_| ()).map_err(|e| e.to_string())
}
