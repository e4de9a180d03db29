//! Operator configuration: a TOML file plus `BROADSHEET_*` environment variables and
//! command-line flags, in two stages. [`RawConfig`] is what the file says, parsed with
//! `deny_unknown_fields` so a typo is an error rather than a silently ignored key;
//! [`Config`] is the validated result that the rest of the program receives through
//! app state (never a global).
//!
//! Precedence, highest first: command-line flag, environment variable (clap reads both),
//! config file, built-in default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
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
        Ok(Config {
            listen,
            data_dir,
            database,
            base_url,
            theme_dir: raw.theme_dir,
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
