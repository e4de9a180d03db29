//! Operator configuration: a TOML file plus `BROADSHEET_*` environment variables and
//! command-line flags, in two stages. [`RawConfig`] is what the file says, parsed with
//! `deny_unknown_fields` so a typo is an error rather than a silently ignored key;
//! [`Config`] is the validated result that the rest of the program receives through
//! app state (never a global).
//!
//! Precedence, highest first: command-line flag, environment variable (clap reads both),
//! config file, built-in default.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use ipnet::IpNet;
use serde::Deserialize;

/// Where the site's data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// The embedded default: one SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL, shared by every node.
    Postgres(String),
}

impl std::fmt::Debug for Database {
    /// Redacts the password so a config can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            Database::Postgres(url) => write!(f, "Postgres({})", redact_password(url)),
        }
    }
}

impl Database {
    /// Reads a database URL: `postgres://` / `postgresql://`, or `sqlite:PATH`.
    pub fn from_url(url: &str) -> anyhow::Result<Database> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Database::Postgres(url.to_owned()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                bail!("database URL \"{url}\" names no file; use sqlite:PATH");
            }
            Ok(Database::Sqlite(PathBuf::from(path)))
        } else {
            bail!(
                "database URL \"{}\" is neither postgres://... nor sqlite:PATH",
                redact_password(url)
            )
        }
    }
}

fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The config file as written. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub base_url: Option<String>,
    pub theme_dir: Option<PathBuf>,
    /// The `[engagement]` table: reader identity and abuse limits.
    pub engagement: Option<RawEngagement>,
    /// The `[email]` table: the sender address and the SMTP server.
    pub email: Option<RawEmail>,
    /// The `[jobs]` table: the background job worker.
    pub jobs: Option<RawJobs>,
    /// The `[media]` table: the media library's limits.
    pub media: Option<RawMedia>,
    /// The `[push]` table: browser push notifications.
    pub push: Option<crate::push::config::RawPush>,
    /// The `[api]` table: the developer API's CORS and rate limits.
    pub api: Option<RawApi>,
}

/// The `[email]` table as written. Every key is optional.
#[derive(Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmail {
    pub from: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// `starttls`, `tls` or `none`.
    pub smtp_tls: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
}

impl std::fmt::Debug for RawEmail {
    /// Redacts the password so a config can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEmail")
            .field("from", &self.from)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl RawEmail {
    fn or(self, lower: RawEmail) -> RawEmail {
        RawEmail {
            from: self.from.or(lower.from),
            smtp_host: self.smtp_host.or(lower.smtp_host),
            smtp_port: self.smtp_port.or(lower.smtp_port),
            smtp_tls: self.smtp_tls.or(lower.smtp_tls),
            smtp_username: self.smtp_username.or(lower.smtp_username),
            smtp_password: self.smtp_password.or(lower.smtp_password),
        }
    }
}

/// The `[jobs]` table as written. Every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJobs {
    /// How often the worker looks for due jobs, in milliseconds.
    pub poll_interval_ms: Option<u64>,
}

impl RawJobs {
    fn or(self, lower: RawJobs) -> RawJobs {
        RawJobs {
            poll_interval_ms: self.poll_interval_ms.or(lower.poll_interval_ms),
        }
    }
}

/// Merges two optional tables key by key, so a flag for one key keeps the file's
/// others.
fn merge_table<T>(high: Option<T>, low: Option<T>, or: fn(T, T) -> T) -> Option<T> {
    match (high, low) {
        (Some(high), Some(low)) => Some(or(high, low)),
        (high, low) => high.or(low),
    }
}

/// The `[media]` table as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMedia {
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: Option<u64>,
}

impl RawMedia {
    fn or(self, lower: RawMedia) -> RawMedia {
        RawMedia {
            max_upload_bytes: self.max_upload_bytes.or(lower.max_upload_bytes),
        }
    }
}

/// The `[api]` table as written. Every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    /// Origins whose pages may read the API from a browser; `["*"]` for any.
    pub cors_origins: Option<Vec<String>>,
    /// Requests per minute one API token may make.
    pub requests_per_minute_per_token: Option<u32>,
    /// Requests per minute one address may make without a token.
    pub requests_per_minute_per_address: Option<u32>,
}

impl RawApi {
    fn or(self, lower: RawApi) -> RawApi {
        RawApi {
            cors_origins: self.cors_origins.or(lower.cors_origins),
            requests_per_minute_per_token: self
                .requests_per_minute_per_token
                .or(lower.requests_per_minute_per_token),
            requests_per_minute_per_address: self
                .requests_per_minute_per_address
                .or(lower.requests_per_minute_per_address),
        }
    }
}

/// The `[engagement]` table as written. Every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEngagement {
    /// Addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<Vec<String>>,
    pub votes_per_minute_per_reader: Option<u32>,
    pub votes_per_minute_per_network: Option<u32>,
    pub readers_per_network_per_article_per_day: Option<u32>,
}

impl RawEngagement {
    fn or(self, lower: RawEngagement) -> RawEngagement {
        RawEngagement {
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            votes_per_minute_per_reader: self
                .votes_per_minute_per_reader
                .or(lower.votes_per_minute_per_reader),
            votes_per_minute_per_network: self
                .votes_per_minute_per_network
                .or(lower.votes_per_minute_per_network),
            readers_per_network_per_article_per_day: self
                .readers_per_network_per_article_per_day
                .or(lower.readers_per_network_per_article_per_day),
        }
    }
}

impl RawConfig {
    pub fn load(path: &Path) -> anyhow::Result<RawConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config file {} is invalid", path.display()))
    }

    /// Fills every key that is unset here from `lower` (a lower-precedence source).
    pub fn or(self, lower: RawConfig) -> RawConfig {
        RawConfig {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            base_url: self.base_url.or(lower.base_url),
            theme_dir: self.theme_dir.or(lower.theme_dir),
            engagement: merge_table(self.engagement, lower.engagement, RawEngagement::or),
            email: merge_table(self.email, lower.email, RawEmail::or),
            jobs: merge_table(self.jobs, lower.jobs, RawJobs::or),
            media: merge_table(self.media, lower.media, RawMedia::or),
            push: merge_table(self.push, lower.push, crate::push::config::RawPush::or),
            api: merge_table(self.api, lower.api, RawApi::or),
        }
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: Database,
    /// Scheme, host and optional path prefix of the public site, without a trailing
    /// slash; canonical URLs are built from it.
    pub base_url: String,
    /// A directory whose templates and assets override the built-in theme.
    pub theme_dir: Option<PathBuf>,
    pub engagement: EngagementConfig,
    pub email: EmailConfig,
    pub jobs: JobsConfig,
    pub media: MediaConfig,
    pub push: crate::push::config::PushConfig,
    pub api: ApiConfig,
}

/// Where email goes: an SMTP server, or without one the outbox folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    /// The sender, `Name <address>` or a bare address.
    pub from: lettre::message::Mailbox,
    /// `None`: write each email as a `.eml` file into `<data_dir>/outbox/`.
    pub smtp: Option<SmtpConfig>,
}

pub const DEFAULT_EMAIL_FROM: &str = "Broadsheet <broadsheet@localhost>";

/// How to reach the SMTP server.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpConfig {
    /// Redacts the password so a config can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on localhost or a trusted network (port 25).
    None,
}

impl SmtpTls {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

impl EmailConfig {
    fn from_raw(raw: RawEmail) -> anyhow::Result<EmailConfig> {
        let from_text = raw.from.as_deref().unwrap_or(DEFAULT_EMAIL_FROM).trim();
        let from = from_text.parse().map_err(|_| {
            anyhow::anyhow!(
                "email.from: \"{from_text}\" is not an address like \"Newsroom <news@example.com>\""
            )
        })?;
        let tls = match raw.smtp_tls.as_deref().map(str::trim) {
            None | Some("starttls") => SmtpTls::Starttls,
            Some("tls") => SmtpTls::Tls,
            Some("none") => SmtpTls::None,
            Some(other) => bail!("email.smtp_tls: \"{other}\" is not starttls, tls or none"),
        };
        let non_empty = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let smtp = non_empty(raw.smtp_host).map(|host| SmtpConfig {
            host: host.trim().to_owned(),
            port: raw.smtp_port.unwrap_or(tls.default_port()),
            tls,
            username: non_empty(raw.smtp_username),
            password: non_empty(raw.smtp_password),
        });
        Ok(EmailConfig { from, smtp })
    }
}

/// The background job worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsConfig {
    /// How often the worker looks for due jobs when nothing woke it sooner.
    pub poll_interval: Duration,
}

pub const DEFAULT_JOBS_POLL_INTERVAL_MS: u64 = 1000;

impl JobsConfig {
    fn from_raw(raw: RawJobs) -> anyhow::Result<JobsConfig> {
        let ms = raw
            .poll_interval_ms
            .unwrap_or(DEFAULT_JOBS_POLL_INTERVAL_MS);
        if ms == 0 {
            bail!("jobs.poll_interval_ms: must be at least 1");
        }
        Ok(JobsConfig {
            poll_interval: Duration::from_millis(ms),
        })
    }
}

/// The media library's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaConfig {
    /// Largest upload accepted, in bytes; counted while the upload streams in.
    pub max_upload_bytes: u64,
}

pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// The highest `max_upload_bytes` allowed: every image is held in memory while it is
/// processed and kept in one database value.
pub const MAX_UPLOAD_BYTES_CEILING: u64 = 256 * 1024 * 1024;

impl MediaConfig {
    fn from_raw(raw: RawMedia) -> anyhow::Result<MediaConfig> {
        let max_upload_bytes = raw.max_upload_bytes.unwrap_or(DEFAULT_MAX_UPLOAD_BYTES);
        if !(1024..=MAX_UPLOAD_BYTES_CEILING).contains(&max_upload_bytes) {
            bail!(
                "media.max_upload_bytes: must be between 1024 and {MAX_UPLOAD_BYTES_CEILING} \
                 (256 MiB)"
            );
        }
        Ok(MediaConfig { max_upload_bytes })
    }
}

/// The developer API's CORS and rate limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Origins whose pages may read the API from a browser; `*` for any.
    pub cors_origins: Vec<String>,
    pub requests_per_minute_per_token: NonZeroU32,
    pub requests_per_minute_per_address: NonZeroU32,
}

impl ApiConfig {
    fn from_raw(raw: RawApi) -> anyhow::Result<ApiConfig> {
        let cors_origins = raw.cors_origins.unwrap_or_else(|| vec!["*".to_owned()]);
        for origin in &cors_origins {
            let ok = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/')
                    && origin
                        .split("://")
                        .nth(1)
                        .is_some_and(|h| !h.is_empty() && !h.contains('/')));
            if !ok {
                bail!(
                    "api.cors_origins: \"{origin}\" must be \"*\" or an origin like \
                     \"https://app.example.com\" (scheme and host, no path)"
                );
            }
        }
        let positive = |value: Option<u32>, default: u32, key: &str| {
            NonZeroU32::new(value.unwrap_or(default))
                .with_context(|| format!("api.{key}: must be at least 1"))
        };
        Ok(ApiConfig {
            cors_origins,
            requests_per_minute_per_token: positive(
                raw.requests_per_minute_per_token,
                600,
                "requests_per_minute_per_token",
            )?,
            requests_per_minute_per_address: positive(
                raw.requests_per_minute_per_address,
                600,
                "requests_per_minute_per_address",
            )?,
        })
    }
}

/// Reader identity and abuse limits for likes, reactions and ratings (SPEC.md 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementConfig {
    /// Peers whose `X-Forwarded-For` names the client. Empty: the socket's peer is the
    /// client and the header is ignored, so nobody can choose their own address.
    pub trusted_proxies: Vec<IpNet>,
    pub votes_per_minute_per_reader: NonZeroU32,
    pub votes_per_minute_per_network: NonZeroU32,
    /// How many readers new to an article one network may add to it per day.
    pub readers_per_network_per_article_per_day: NonZeroU32,
}

pub const DEFAULT_VOTES_PER_MINUTE_PER_READER: u32 = 30;
pub const DEFAULT_VOTES_PER_MINUTE_PER_NETWORK: u32 = 600;
pub const DEFAULT_READERS_PER_NETWORK_PER_ARTICLE_PER_DAY: u32 = 50;

impl EngagementConfig {
    fn from_raw(raw: RawEngagement) -> anyhow::Result<EngagementConfig> {
        let trusted_proxies = raw
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            // `BROADSHEET_TRUSTED_PROXIES=` (set but empty) means none.
            .filter(|text| !text.trim().is_empty())
            .map(|text| parse_net(text))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let positive = |key: &str, value: Option<u32>, default: u32| {
            NonZeroU32::new(value.unwrap_or(default))
                .with_context(|| format!("engagement.{key}: must be at least 1"))
        };
        Ok(EngagementConfig {
            trusted_proxies,
            votes_per_minute_per_reader: positive(
                "votes_per_minute_per_reader",
                raw.votes_per_minute_per_reader,
                DEFAULT_VOTES_PER_MINUTE_PER_READER,
            )?,
            votes_per_minute_per_network: positive(
                "votes_per_minute_per_network",
                raw.votes_per_minute_per_network,
                DEFAULT_VOTES_PER_MINUTE_PER_NETWORK,
            )?,
            readers_per_network_per_article_per_day: positive(
                "readers_per_network_per_article_per_day",
                raw.readers_per_network_per_article_per_day,
                DEFAULT_READERS_PER_NETWORK_PER_ARTICLE_PER_DAY,
            )?,
        })
    }
}

/// An address (`10.0.0.1`, a /32 or /128) or a range (`10.0.0.0/8`, `fd00::/8`).
fn parse_net(text: &str) -> anyhow::Result<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| {
            anyhow::anyhow!(
                "engagement.trusted_proxies: \"{text}\" is not an address or range like 10.0.0.0/8"
            )
        })
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./data";

impl Config {
    /// Validates a merged raw config, naming the key of each problem.
    pub fn from_raw(raw: RawConfig) -> anyhow::Result<Config> {
        let listen_text = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_text.parse().with_context(|| {
            format!("listen: \"{listen_text}\" is not an address like 127.0.0.1:8080")
        })?;
        let data_dir = raw
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database = match raw.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => Database::from_url(url.trim()).context("database_url")?,
            None => Database::Sqlite(data_dir.join("broadsheet.sqlite3")),
        };
        let base_url = match raw.base_url {
            Some(url) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.split("://").nth(1).is_none_or(str::is_empty)
                {
                    bail!("base_url: \"{url}\" must be an http:// or https:// URL");
                }
                url
            }
            None => format!("http://{listen}"),
        };
        if let Some(dir) = &raw.theme_dir
            && !dir.is_dir()
        {
            bail!("theme_dir: {} is not a directory", dir.display());
        }
        let engagement = EngagementConfig::from_raw(raw.engagement.unwrap_or_default())?;
        let email = EmailConfig::from_raw(raw.email.unwrap_or_default())?;
        let jobs = JobsConfig::from_raw(raw.jobs.unwrap_or_default())?;
        let media = MediaConfig::from_raw(raw.media.unwrap_or_default())?;
        let push = crate::push::config::PushConfig::from_raw(
            raw.push.unwrap_or_default(),
            email.from.email.as_ref(),
            &data_dir,
        )?;
        let api = ApiConfig::from_raw(raw.api.unwrap_or_default())?;
        Ok(Config {
            listen,
            data_dir,
            database,
            base_url,
            theme_dir: raw.theme_dir,
            engagement,
            email,
            jobs,
            media,
            push,
            api,
        })
    }

    /// A config for tests and tools: SQLite in `data_dir`, everything else default.
    pub fn for_data_dir(data_dir: &Path) -> Config {
        Config::from_raw(RawConfig {
            data_dir: Some(data_dir.to_owned()),
            ..RawConfig::default()
        })
        .expect("the default config is valid")
    }
}

/// The annotated example that `broadsheet config default` prints.
pub const DEFAULT_TOML: &str = r#"# Broadsheet configuration.
#
# Every key is optional. Each can also be set by an environment variable
# (BROADSHEET_<KEY>, e.g. BROADSHEET_LISTEN) or a command-line flag (--listen);
# flags win over environment variables, which win over this file.
# Site settings that editors change (title, time zone, reading speed) are not here:
# they live in the database, so every node of a site shares them.

# Address and port to serve HTTP on.
listen = "127.0.0.1:8080"

# Where Broadsheet keeps its data: the SQLite database, media and outgoing mail.
data_dir = "./data"

# Leave unset for the embedded SQLite database in data_dir. Set to a PostgreSQL URL
# to share one database between several nodes:
# database_url = "postgres://broadsheet:secret@db.example.com/broadsheet"

# The public address of the site, used for canonical URLs, feeds and emails.
# Defaults to http://<listen>.
# base_url = "https://news.example.com"

# A directory of templates (and an assets/ folder) overriding the built-in theme,
# file by file.
# theme_dir = "./theme"

# Likes, reactions, ratings and views.
[engagement]
# Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For header names the
# reader's address. Leave empty when readers connect directly: the header is then
# ignored, so nobody can pick an address to dodge the limits below. Addresses are only
# ever used as a keyed, daily-salted hash; no IP address is stored or logged.
trusted_proxies = []
# How often one reader (one browser) may vote, react or rate.
votes_per_minute_per_reader = 30
# How often one network (address and browser) may, across all its readers.
votes_per_minute_per_network = 600
# How many readers new to an article one network may add to it in a day.
readers_per_network_per_article_per_day = 50

# Outgoing email (password resets, notifications). Sent by the job queue, so a
# message survives a restart and a failed send is retried.
[email]
# The sender of every email (BROADSHEET_EMAIL_FROM).
from = "Broadsheet <broadsheet@localhost>"
# The SMTP server (BROADSHEET_SMTP_HOST). Leave unset to send nothing and instead
# write each email as a .eml file into <data_dir>/outbox/, to read what would be sent.
# smtp_host = "smtp.example.com"
# starttls (default; port 587), tls (TLS from the start; port 465) or none
# (unencrypted; port 25, only for a relay on a trusted network) (BROADSHEET_SMTP_TLS).
# smtp_tls = "starttls"
# Defaults to the TLS mode's port (BROADSHEET_SMTP_PORT).
# smtp_port = 587
# Credentials, when the server wants them (BROADSHEET_SMTP_USERNAME). Prefer the
# environment variable BROADSHEET_SMTP_PASSWORD to writing the password here.
# smtp_username = "broadsheet"
# smtp_password = "secret"

# The background job worker every node runs: scheduled publishing, email.
[jobs]
# How often it looks for due jobs, in milliseconds (BROADSHEET_JOBS_POLL_INTERVAL_MS).
# Jobs this node enqueues start at once; this bounds the wait for the others'.
poll_interval_ms = 1000

# The media library: images uploaded in the admin. They are stored in the database
# (the re-encoded original and its resized variants), so every node serves them.
[media]
# Largest upload accepted, in bytes (10 MiB; at most 256 MiB).
max_upload_bytes = 10485760

# Browser push notifications (the bell on the site). The VAPID key pair is made on
# first start and kept in vapid_key_file (mode 0600); nodes sharing a database must
# share that file, or browsers' subscriptions made through one node fail on another.
[push]
# How push services can reach you; defaults to mailto:<email.from's address>.
# subject = "mailto:desk@example.com"
# The push services subscriptions may point at. Anything else is refused, so the
# server never posts to an address a reader made up.
services = ["https://fcm.googleapis.com", "https://*.push.services.mozilla.com", "https://*.notify.windows.com", "https://web.push.apple.com"]
# How long a push service keeps a notification for a browser that is offline (s).
ttl_secs = 86400
# very-low, low, normal or high.
urgency = "normal"
# vapid_key_file = "./data/vapid_private_key.pem"

# The developer API (/api/v1 and the WordPress-compatible /wp-json/).
[api]
# Origins whose web pages may read the API from a browser (CORS): "*" for any, or a
# list such as ["https://app.example.com"]. Only reads are opened to other origins.
cors_origins = ["*"]
# Requests per minute one API token may make (429 with Retry-After beyond it).
requests_per_minute_per_token = 600
# Requests per minute one client address may make without a token.
requests_per_minute_per_address = 600
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_parses_and_validates() {
        let raw: RawConfig = toml::from_str(DEFAULT_TOML).unwrap();
        let config = Config::from_raw(raw).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            config.database,
            Database::Sqlite(PathBuf::from("./data/broadsheet.sqlite3"))
        );
        assert_eq!(config.base_url, "http://127.0.0.1:8080");
        // The example shows the defaults, so it is the same as no [engagement] at all.
        let none = Config::from_raw(RawConfig::default()).unwrap();
        assert_eq!(config.engagement, none.engagement);
        assert_eq!(config.engagement.votes_per_minute_per_reader.get(), 30);
        assert!(config.engagement.trusted_proxies.is_empty());
        assert_eq!(config.email, none.email);
        assert_eq!(config.email.from.to_string(), DEFAULT_EMAIL_FROM);
        assert_eq!(config.email.smtp, None);
        assert_eq!(config.jobs, none.jobs);
        assert_eq!(config.jobs.poll_interval, Duration::from_secs(1));
        assert_eq!(config.media, none.media);
        assert_eq!(config.media.max_upload_bytes, DEFAULT_MAX_UPLOAD_BYTES);
        assert_eq!(config.api, none.api);
        assert_eq!(config.api.cors_origins, vec!["*".to_owned()]);
    }

    #[test]
    fn api_keys_are_checked_by_name() {
        let file: RawConfig = toml::from_str(
            "[api]\ncors_origins = [\"https://app.example.org\"]\nrequests_per_minute_per_token = 5",
        )
        .unwrap();
        let config = Config::from_raw(file).unwrap();
        assert_eq!(config.api.cors_origins, vec!["https://app.example.org"]);
        assert_eq!(config.api.requests_per_minute_per_token.get(), 5);
        for bad in [
            "[api]\ncors_origins = [\"app.example.org\"]",
            "[api]\ncors_origins = [\"https://app.example.org/path\"]",
            "[api]\nrequests_per_minute_per_token = 0",
        ] {
            let err = Config::from_raw(toml::from_str(bad).unwrap()).unwrap_err();
            assert!(format!("{err:#}").contains("api."), "{bad}: {err:#}");
        }
    }

    #[test]
    fn email_keys_parse_merge_and_hide_the_password() {
        let file: RawConfig = toml::from_str(
            "[email]\nfrom = \"Desk <desk@example.org>\"\nsmtp_host = \"smtp.example.org\"\n\
             smtp_tls = \"tls\"\nsmtp_username = \"desk\"\nsmtp_password = \"hunter2\"",
        )
        .unwrap();
        assert!(!format!("{file:?}").contains("hunter2"));
        let flags = RawConfig {
            email: Some(RawEmail {
                smtp_port: Some(2465),
                ..RawEmail::default()
            }),
            ..RawConfig::default()
        };
        let config = Config::from_raw(flags.or(file)).unwrap();
        assert_eq!(config.email.from.email.to_string(), "desk@example.org");
        let smtp = config.email.smtp.clone().unwrap();
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.tls),
            ("smtp.example.org", 2465, SmtpTls::Tls)
        );
        assert_eq!(smtp.password.as_deref(), Some("hunter2"));
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("***"),
            "{shown}"
        );

        let default_port = |tls: &str| {
            let raw: RawConfig =
                toml::from_str(&format!("[email]\nsmtp_host = \"h\"\nsmtp_tls = \"{tls}\""))
                    .unwrap();
            Config::from_raw(raw).unwrap().email.smtp.unwrap().port
        };
        assert_eq!(
            [
                default_port("starttls"),
                default_port("tls"),
                default_port("none")
            ],
            [587, 465, 25]
        );

        for (raw, key) in [
            ("[email]\nfrom = \"not an address\"", "email.from"),
            ("[email]\nsmtp_tls = \"ssl\"", "email.smtp_tls"),
            ("[jobs]\npoll_interval_ms = 0", "jobs.poll_interval_ms"),
        ] {
            let err = Config::from_raw(toml::from_str(raw).unwrap()).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{err:#}");
        }
        let err = toml::from_str::<RawConfig>("[email]\nsmtp_pasword = \"x\"").unwrap_err();
        assert!(err.to_string().contains("smtp_pasword"), "{err}");
    }

    #[test]
    fn media_limit_parses_merges_and_is_bounded() {
        let file: RawConfig = toml::from_str("[media]\nmax_upload_bytes = 2048").unwrap();
        let config = Config::from_raw(RawConfig::default().or(file)).unwrap();
        assert_eq!(config.media.max_upload_bytes, 2048);
        let flags = RawConfig {
            media: Some(RawMedia {
                max_upload_bytes: Some(4096),
            }),
            ..RawConfig::default()
        };
        let file: RawConfig = toml::from_str("[media]\nmax_upload_bytes = 2048").unwrap();
        assert_eq!(
            Config::from_raw(flags.or(file))
                .unwrap()
                .media
                .max_upload_bytes,
            4096
        );
        for bad in [0, 1023, MAX_UPLOAD_BYTES_CEILING + 1] {
            let err = Config::from_raw(RawConfig {
                media: Some(RawMedia {
                    max_upload_bytes: Some(bad),
                }),
                ..RawConfig::default()
            })
            .unwrap_err();
            assert!(
                format!("{err:#}").contains("media.max_upload_bytes"),
                "{err:#}"
            );
        }
        let err = toml::from_str::<RawConfig>("[media]\nmax_upload = 1").unwrap_err();
        assert!(err.to_string().contains("max_upload"), "{err}");
    }

    #[test]
    fn engagement_keys_parse_and_merge() {
        let file: RawConfig = toml::from_str(
            "[engagement]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\", \"fd00::1/8\"]\n\
             votes_per_minute_per_reader = 5",
        )
        .unwrap();
        let flags = RawConfig {
            engagement: Some(RawEngagement {
                votes_per_minute_per_network: Some(9),
                ..RawEngagement::default()
            }),
            ..RawConfig::default()
        };
        let config = Config::from_raw(flags.or(file)).unwrap().engagement;
        let nets: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]);
        assert_eq!(config.votes_per_minute_per_reader.get(), 5);
        assert_eq!(config.votes_per_minute_per_network.get(), 9);

        let empty = Config::from_raw(RawConfig {
            engagement: Some(RawEngagement {
                trusted_proxies: Some(vec![String::new()]),
                ..RawEngagement::default()
            }),
            ..RawConfig::default()
        })
        .unwrap();
        assert!(empty.engagement.trusted_proxies.is_empty());

        let err = toml::from_str::<RawConfig>("[engagement]\nvotes_per_minut = 1").unwrap_err();
        assert!(err.to_string().contains("votes_per_minut"), "{err}");
        for (raw, key) in [
            (
                RawEngagement {
                    trusted_proxies: Some(vec!["the-proxy".into()]),
                    ..RawEngagement::default()
                },
                "trusted_proxies",
            ),
            (
                RawEngagement {
                    readers_per_network_per_article_per_day: Some(0),
                    ..RawEngagement::default()
                },
                "readers_per_network_per_article_per_day",
            ),
        ] {
            let err = Config::from_raw(RawConfig {
                engagement: Some(raw),
                ..RawConfig::default()
            })
            .unwrap_err();
            assert!(format!("{err:#}").contains(key), "{err:#}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = toml::from_str::<RawConfig>("lisen = \"x\"").unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        let err = Config::from_raw(RawConfig {
            listen: Some("nowhere".into()),
            ..RawConfig::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("listen"), "{err:#}");
        let err = Config::from_raw(RawConfig {
            base_url: Some("news.example.com".into()),
            ..RawConfig::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("base_url"));
        let err = Config::from_raw(RawConfig {
            database_url: Some("mysql://x".into()),
            ..RawConfig::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("database_url"));
    }

    #[test]
    fn higher_precedence_wins() {
        let flags = RawConfig {
            listen: Some("0.0.0.0:9000".into()),
            ..RawConfig::default()
        };
        let file = RawConfig {
            listen: Some("127.0.0.1:1".into()),
            base_url: Some("https://news.example.com/".into()),
            ..RawConfig::default()
        };
        let config = Config::from_raw(flags.or(file)).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.base_url, "https://news.example.com");
    }

    #[test]
    fn database_urls_and_redaction() {
        assert_eq!(
            Database::from_url("sqlite:/tmp/x.db").unwrap(),
            Database::Sqlite("/tmp/x.db".into())
        );
        let pg = Database::from_url("postgres://u:hunter2@h/db").unwrap();
        let shown = format!("{pg:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("u:***@h/db"),
            "{shown}"
        );
    }
}
