//! Whom alert deliveries trust over TLS (webhooks over `https://`, the SMTP relay with STARTTLS
//! or TLS): the public certificate authorities compiled in (webpki-roots), or instead those of a
//! PEM file the administrator names (`IEM_ALERT_CA_FILE`), for receivers behind an internal CA.
use std::path::Path;
use std::sync::Arc;

/// The certificate authorities alert deliveries trust.
#[derive(Clone, Debug, Default)]
pub enum TrustedRoots {
    /// The public ones (Mozilla's list, as webpki-roots ships it).
    #[default]
    Public,
    /// Only these (DER), read from the administrator's file.
    Only(Arc<Vec<Vec<u8>>>),
}

impl TrustedRoots {
    /// The certificates of the PEM file at `path`; an error (for the settings to name) when it
    /// cannot be read or holds none.
    pub fn from_pem_file(path: &Path) -> Result<Self, String> {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut roots = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => roots.push(cert.der().to_vec()),
                Ok(_) => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        if roots.is_empty() {
            return Err(format!("{}: no PEM certificate in it", path.display()));
        }
        let roots = TrustedRoots::Only(Arc::new(roots));
        // Each certificate parsed as a trust anchor now, at start: a damaged one would otherwise
        // fail every e-mail attempt later (and be skipped by the webhook client).
        roots
            .for_smtp("localhost")
            .map_err(|e| format!("{}: a certificate that does not read: {e}", path.display()))?;
        Ok(roots)
    }

    /// The webhook client's TLS settings.
    pub fn for_http(&self) -> ureq::tls::TlsConfig {
        let builder = ureq::tls::TlsConfig::builder();
        match self {
            TrustedRoots::Public => builder.root_certs(ureq::tls::RootCerts::WebPki),
            TrustedRoots::Only(roots) => {
                builder.root_certs(ureq::tls::RootCerts::Specific(Arc::new(
                    roots
                        .iter()
                        .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
                        .collect(),
                )))
            }
        }
        .build()
    }

    /// The SMTP client's TLS settings for the relay `host`.
    pub fn for_smtp(
        &self,
        host: &str,
    ) -> Result<lettre::transport::smtp::client::TlsParameters, String> {
        use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};
        let mut builder = TlsParameters::builder(host.to_string());
        match self {
            TrustedRoots::Public => {
                builder = builder.certificate_store(CertificateStore::WebpkiRoots);
            }
            TrustedRoots::Only(roots) => {
                builder = builder.certificate_store(CertificateStore::None);
                for der in roots.iter() {
                    let cert = Certificate::from_der(der.clone()).map_err(|e| e.to_string())?;
                    builder = builder.add_root_certificate(cert);
                }
            }
        }
        builder.build_rustls().map_err(|e| e.to_string())
    }
}
