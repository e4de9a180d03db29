//! Email: what to send ([`Email`]), queueing it ([`enqueue_email`]), and the
//! [`Mailer`] the job worker sends it with.
//!
//! Nothing sends mail inline. A request that wants an email sent queues a `send_email`
//! job and answers at once; the worker sends it, retrying with backoff while the SMTP
//! server is away, so a slow or failing server never slows a page and an
//! acknowledged email survives a restart. Without an SMTP server in the config, the
//! worker writes each email as a `.eml` file into `<data_dir>/outbox/`, so a newcomer
//! sees what would have been sent.
//!
//! Recipients' addresses are never logged: failures name the job, not the person.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use broadsheet_domain::{JobId, NewJob, Store, StoreError, clock};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::{EmailConfig, SmtpConfig, SmtpTls};

/// The job kind the worker sends email for.
pub const SEND_EMAIL: &str = "send_email";

/// SMTP connections kept open at most: the newsletter sends this many messages at once.
pub const SMTP_CONNECTIONS: u32 = 16;

/// How long one SMTP conversation may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// One email to one recipient. It is the `send_email` job's payload as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// The recipient, `Name <address>` or a bare address.
    pub to: String,
    pub subject: String,
    /// The plain-text body, always sent.
    pub text: String,
    /// An HTML body; with one, the message is multipart/alternative.
    pub html: Option<String>,
    /// An https link that stops emails like this one with a single POST. It becomes
    /// the `List-Unsubscribe` and `List-Unsubscribe-Post` headers of RFC 8058, so mail
    /// programs can offer their own "unsubscribe" button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_unsubscribe: Option<String>,
}

/// Queues `email` to be sent by the job worker. With a `key`, queueing the same key
/// again adds nothing (and returns the first job's id), so a retried request does not
/// send twice.
pub async fn enqueue_email(
    store: &dyn Store,
    email: &Email,
    key: Option<String>,
) -> Result<JobId, StoreError> {
    let payload = serde_json::to_value(email).map_err(StoreError::backend)?;
    let mut job = NewJob::new(SEND_EMAIL, payload, clock::now());
    job.key = key;
    store.enqueue_job(&job).await
}

/// Why an email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The SMTP server refused the recipient for good (the reply code).
    #[error("the SMTP server refused the recipient for good ({0})")]
    Refused(String),
    /// Anything else: worth trying again later.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Sends email by SMTP, or into the outbox folder when no SMTP server is configured.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox {
        dir: PathBuf,
        files: AsyncFileTransport<Tokio1Executor>,
    },
}

impl Mailer {
    /// The mailer `config` describes; the outbox is `<data_dir>/outbox/`.
    pub fn new(config: &EmailConfig, data_dir: &Path) -> anyhow::Result<Mailer> {
        let transport = match &config.smtp {
            Some(smtp) => Transport::Smtp(smtp_transport(smtp)?),
            None => {
                let dir = data_dir.join("outbox");
                Transport::Outbox {
                    files: AsyncFileTransport::new(&dir),
                    dir,
                }
            }
        };
        Ok(Mailer {
            from: config.from.clone(),
            transport,
        })
    }

    /// The folder emails are written to, when there is no SMTP server.
    pub fn outbox(&self) -> Option<&Path> {
        match &self.transport {
            Transport::Smtp(_) => None,
            Transport::Outbox { dir, .. } => Some(dir),
        }
    }

    /// Sends one email. Errors say what failed without the recipient's address.
    pub async fn send(&self, email: &Email) -> anyhow::Result<()> {
        self.try_send(email).await.map_err(anyhow::Error::from)
    }

    /// [`Mailer::send`], telling a permanent refusal of the recipient (a 5xx answer:
    /// no such mailbox, say) from a failure worth retrying (the server away, busy or
    /// answering 4xx). The server's own words are left out: they often quote the
    /// address.
    pub async fn try_send(&self, email: &Email) -> Result<(), SendError> {
        let message = self.message(email)?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                if let Err(err) = smtp.send(message).await {
                    if err.is_permanent() {
                        let code = err.status().map(|c| c.to_string()).unwrap_or_default();
                        return Err(SendError::Refused(code));
                    }
                    // A reply's text may quote the address; a connection error's does not.
                    let failed = match err.status() {
                        Some(code) => {
                            anyhow::anyhow!("the SMTP server did not take the email ({code})")
                        }
                        None => anyhow::Error::new(err)
                            .context("the SMTP server did not take the email"),
                    };
                    return Err(SendError::Failed(failed));
                }
            }
            Transport::Outbox { dir, files } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("cannot create the outbox {}", dir.display()))?;
                files
                    .send(message)
                    .await
                    .with_context(|| format!("cannot write into the outbox {}", dir.display()))?;
            }
        }
        Ok(())
    }

    fn message(&self, email: &Email) -> anyhow::Result<Message> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|_| anyhow::anyhow!("the recipient is not a valid email address"))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject);
        if let Some(link) = &email.list_unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{link}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let message = match &email.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(email.text.clone()),
        };
        message.context("cannot build the email")
    }
}

fn smtp_transport(smtp: &SmtpConfig) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = match smtp.tls {
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
        SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &smtp.host,
        )),
    }
    .with_context(|| format!("email.smtp_host: cannot use \"{}\"", smtp.host))?;
    let builder = builder
        .port(smtp.port)
        .timeout(Some(SMTP_TIMEOUT))
        .pool_config(PoolConfig::new().max_size(SMTP_CONNECTIONS));
    let builder = match (&smtp.username, &smtp.password) {
        (Some(user), password) => builder.credentials(Credentials::new(
            user.clone(),
            password.clone().unwrap_or_default(),
        )),
        (None, _) => builder,
    };
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn outbox_mailer(dir: &Path) -> Mailer {
        Mailer::new(&Config::for_data_dir(dir).email, dir).unwrap()
    }

    #[tokio::test]
    async fn html_makes_a_multipart_alternative_message() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = outbox_mailer(dir.path());
        let email = Email {
            to: "Ada <ada@example.org>".into(),
            subject: "Hello".into(),
            text: "Plain words".into(),
            html: Some("<p>Rich words</p>".into()),
            list_unsubscribe: None,
        };
        let formatted = String::from_utf8(mailer.message(&email).unwrap().formatted()).unwrap();
        assert!(formatted.contains("multipart/alternative"), "{formatted}");
        assert!(formatted.contains("Plain words") && formatted.contains("<p>Rich words</p>"));

        let plain = Email {
            html: None,
            ..email
        };
        let formatted = String::from_utf8(mailer.message(&plain).unwrap().formatted()).unwrap();
        assert!(!formatted.contains("multipart"), "{formatted}");
        assert!(
            formatted.contains("Content-Type: text/plain"),
            "{formatted}"
        );
        assert!(!formatted.contains("List-Unsubscribe"), "{formatted}");
    }

    #[tokio::test]
    async fn a_stop_link_becomes_the_one_click_unsubscribe_headers() {
        let dir = tempfile::tempdir().unwrap();
        let email = Email {
            to: "ada@example.org".into(),
            subject: "A reply".into(),
            text: "Words".into(),
            html: None,
            list_unsubscribe: Some("https://news.example.com/comments/stop?token=r1.ab".into()),
        };
        let message = outbox_mailer(dir.path()).message(&email).unwrap();
        let formatted = String::from_utf8(message.formatted()).unwrap();
        assert!(
            formatted.contains(
                "List-Unsubscribe: <https://news.example.com/comments/stop?token=r1.ab>\r\n"
            ),
            "{formatted}"
        );
        assert!(
            formatted.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{formatted}"
        );
    }

    #[tokio::test]
    async fn a_bad_recipient_is_refused_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let email = Email {
            to: "secret-person at nowhere".into(),
            subject: "Hi".into(),
            text: "x".into(),
            html: None,
            list_unsubscribe: None,
        };
        let err = outbox_mailer(dir.path()).send(&email).await.unwrap_err();
        let shown = format!("{err:#}");
        assert!(shown.contains("not a valid email address"), "{shown}");
        assert!(!shown.contains("secret-person"), "{shown}");
    }
}
