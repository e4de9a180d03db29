//! The `[push]` table: who we are to push services (the VAPID subject), which push
//! services we send to, and how long a notification may wait for an offline browser.

use std::time::Duration;

use anyhow::bail;
use broadsheet_domain::push::endpoint_origin;
use serde::Deserialize;

/// The `[push]` table as written. Every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPush {
    /// A `mailto:` or `https:` URL push services may use to reach the operator.
    pub subject: Option<String>,
    /// Push services subscriptions may name (`https://fcm.googleapis.com`,
    /// `https://*.notify.windows.com`).
    pub services: Option<Vec<String>>,
    /// How long a push service keeps a notification for an offline browser, seconds.
    pub ttl_secs: Option<u32>,
    /// The `Urgency` of a new-article push: very-low, low, normal or high.
    pub urgency: Option<String>,
    /// Where the VAPID private key is kept; `<data_dir>/vapid_private_key.pem` by
    /// default. Nodes sharing a database must share the key.
    pub vapid_key_file: Option<std::path::PathBuf>,
}

impl RawPush {
    pub fn or(self, lower: RawPush) -> RawPush {
        RawPush {
            subject: self.subject.or(lower.subject),
            services: self.services.or(lower.services),
            ttl_secs: self.ttl_secs.or(lower.ttl_secs),
            urgency: self.urgency.or(lower.urgency),
            vapid_key_file: self.vapid_key_file.or(lower.vapid_key_file),
        }
    }
}

/// The push services of the browsers in use today: Chrome, Edge's Chromium, Opera,
/// Samsung Internet and Brave (Firebase Cloud Messaging), Firefox (Mozilla's autopush),
/// Edge's own (Windows Push Notification Services) and Safari (Apple).
pub const DEFAULT_SERVICES: &[&str] = &[
    "https://fcm.googleapis.com",
    "https://*.push.services.mozilla.com",
    "https://*.notify.windows.com",
    "https://web.push.apple.com",
];

pub const DEFAULT_TTL_SECS: u32 = 24 * 60 * 60;
/// Push services keep a message at most about four weeks.
pub const MAX_TTL_SECS: u32 = 28 * 24 * 60 * 60;

/// One allowed push service: a scheme and a host, or every subdomain of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePattern {
    scheme: &'static str,
    host: String,
    subdomains: bool,
}

impl ServicePattern {
    fn parse(text: &str) -> Option<ServicePattern> {
        let text = text.trim();
        let (scheme, rest) = text.split_once("://")?;
        let (subdomains, host) = match rest.strip_prefix("*.") {
            Some(host) => (true, host),
            None => (false, rest),
        };
        let (scheme, host) = endpoint_origin(&format!("{scheme}://{host}"))?;
        Some(ServicePattern {
            scheme,
            host,
            subdomains,
        })
    }

    fn matches(&self, scheme: &str, host: &str) -> bool {
        scheme == self.scheme
            && if self.subdomains {
                host.strip_suffix(&self.host)
                    .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
            } else {
                host == self.host
            }
    }
}

/// Validated `[push]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushConfig {
    pub subject: String,
    pub services: Vec<ServicePattern>,
    pub ttl: Duration,
    pub urgency: &'static str,
    pub vapid_key_file: std::path::PathBuf,
}

impl PushConfig {
    /// Validates the table; `contact` (the email sender's address) and `data_dir` give
    /// the defaults.
    pub fn from_raw(
        raw: RawPush,
        contact: &str,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<PushConfig> {
        let subject = match raw.subject.as_deref().map(str::trim) {
            None | Some("") => format!("mailto:{contact}"),
            Some(s) if s.starts_with("mailto:") || s.starts_with("https://") => s.to_owned(),
            Some(other) => {
                bail!("push.subject: \"{other}\" is neither a mailto: nor an https:// URL")
            }
        };
        let services = match raw.services {
            None => DEFAULT_SERVICES
                .iter()
                .map(|s| ServicePattern::parse(s).expect("the defaults parse"))
                .collect(),
            Some(list) => list
                .iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    ServicePattern::parse(s).ok_or_else(|| {
                        anyhow::anyhow!(
                            "push.services: \"{s}\" is not like https://push.example.com \
                             or https://*.example.com"
                        )
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        };
        let ttl_secs = raw.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
        if ttl_secs > MAX_TTL_SECS {
            bail!("push.ttl_secs: at most {MAX_TTL_SECS} (28 days)");
        }
        let urgency = match raw.urgency.as_deref().map(str::trim) {
            None | Some("normal") => "normal",
            Some("very-low") => "very-low",
            Some("low") => "low",
            Some("high") => "high",
            Some(other) => {
                bail!("push.urgency: \"{other}\" is not very-low, low, normal or high")
            }
        };
        Ok(PushConfig {
            subject,
            services,
            ttl: Duration::from_secs(u64::from(ttl_secs)),
            urgency,
            vapid_key_file: raw
                .vapid_key_file
                .unwrap_or_else(|| data_dir.join("vapid_private_key.pem")),
        })
    }

    /// Whether we send to this endpoint: its scheme and host are an allowed service.
    pub fn allows(&self, endpoint: &str) -> bool {
        endpoint_origin(endpoint)
            .is_some_and(|(scheme, host)| self.services.iter().any(|s| s.matches(scheme, &host)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(raw: RawPush) -> anyhow::Result<PushConfig> {
        PushConfig::from_raw(raw, "desk@example.org", std::path::Path::new("/data"))
    }

    #[test]
    fn defaults_allow_the_big_push_services_only() {
        let push = config(RawPush::default()).unwrap();
        assert_eq!(push.subject, "mailto:desk@example.org");
        assert_eq!(push.urgency, "normal");
        assert_eq!(push.ttl, Duration::from_secs(86400));
        assert_eq!(
            push.vapid_key_file,
            std::path::Path::new("/data/vapid_private_key.pem")
        );
        for ok in [
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/x",
            "https://wns2-by3p.notify.windows.com/w/?token=x",
            "https://web.push.apple.com/QGx",
        ] {
            assert!(push.allows(ok), "{ok}");
        }
        for refused in [
            "http://fcm.googleapis.com/fcm/send/abc",
            "https://fcm.googleapis.com.evil.example/",
            "https://push.services.mozilla.com/",
            "https://evilnotify.windows.com/",
            "https://127.0.0.1/",
            "not a url",
        ] {
            assert!(!push.allows(refused), "{refused}");
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (
                RawPush {
                    subject: Some("desk@example.org".into()),
                    ..RawPush::default()
                },
                "push.subject",
            ),
            (
                RawPush {
                    services: Some(vec!["fcm.googleapis.com".into()]),
                    ..RawPush::default()
                },
                "push.services",
            ),
            (
                RawPush {
                    ttl_secs: Some(MAX_TTL_SECS + 1),
                    ..RawPush::default()
                },
                "push.ttl_secs",
            ),
            (
                RawPush {
                    urgency: Some("urgent".into()),
                    ..RawPush::default()
                },
                "push.urgency",
            ),
        ];
        for (raw, key) in cases {
            let err = config(raw).unwrap_err().to_string();
            assert!(err.starts_with(key), "{err}");
        }
    }

    #[test]
    fn a_loopback_service_for_tests() {
        let push = config(RawPush {
            services: Some(vec!["http://127.0.0.1".into()]),
            ..RawPush::default()
        })
        .unwrap();
        assert!(push.allows("http://127.0.0.1:41234/push/0"));
        assert!(!push.allows("https://fcm.googleapis.com/fcm/send/abc"));
    }
}
