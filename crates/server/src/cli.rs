//! The command line: `broadsheet serve`, `user add`, `article publish`, `comments`,
//! `settings`, `db copy`, `config default`.
//!
//! Every flag can also come from a `BROADSHEET_*` environment variable (clap reads both)
//! and, for the keys of the config file, from that file; see [`crate::config`].

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use broadsheet_domain::{CommentId, CommentQuery, CommentStatus, NewUser, Role, Store};

use crate::config::{
    self, Config, Database, RawConfig, RawEmail, RawEngagement, RawJobs, RawMedia,
};

#[derive(Debug, Parser)]
#[command(
    name = "broadsheet",
    version,
    about = "A news and blog publishing server in one binary."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// A TOML config file (see `broadsheet config default`).
    #[arg(long, global = true, env = "BROADSHEET_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where data lives [default: ./data].
    #[arg(long, global = true, env = "BROADSHEET_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A postgres:// URL, or sqlite:PATH [default: SQLite in the data directory].
    #[arg(
        long,
        global = true,
        env = "BROADSHEET_DATABASE_URL",
        value_name = "URL"
    )]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site over HTTP.
    Serve(ServeArgs),
    /// Manage the newsroom's users.
    #[command(subcommand)]
    User(UserCommand),
    /// Publish articles from files.
    #[command(subcommand)]
    Article(ArticleCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Show or change the site settings (title, time zone, reading speed...).
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Database tools.
    #[command(subcommand)]
    Db(DbCommand),
    /// Moderate readers' comments.
    #[command(subcommand)]
    Comments(CommentsCommand),
    /// Move a site in: a WordPress export, a folder of Markdown files, a JSON export.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Move a site out: everything as JSON, or articles and pages as Markdown files.
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a WordPress export (WXR 1.0-1.2: Tools → Export in WordPress): posts,
    /// pages, authors, categories and tags, comments, and redirects from the old URLs.
    /// Running it again changes nothing.
    Wordpress { file: PathBuf },
    /// Import every Markdown file under a folder (Hugo, Zola, Jekyll front matter).
    Markdown {
        dir: PathBuf,
        /// The author's slug or email, overriding the files' `author`.
        #[arg(long)]
        author: Option<String>,
    },
    /// Restore a `broadsheet export json` file into a new, empty site.
    Json { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write the whole site (articles, pages, tags, users without passwords, comments,
    /// engagement counters, settings, old URLs) as one JSON file (docs/EXPORT.md).
    Json { file: PathBuf },
    /// Write every article and page as a Markdown file with front matter.
    Markdown { dir: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum CommentsCommand {
    /// List comments, newest first.
    List {
        /// pending, approved, spam or trash.
        #[arg(long, default_value = "pending")]
        status: CommentStatus,
        /// Only the comments on this article (its id).
        #[arg(long)]
        article: Option<i64>,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// Approve comments by id (a reply tells the commenter it answers, if they asked).
    Approve {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Mark comments as spam by id.
    Spam {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Move comments to the trash by id.
    Trash {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the site settings as TOML.
    Show,
    /// Change one setting: title, description, time_zone, language, words_per_minute,
    /// cjk_chars_per_minute, per_page or feed_content (full or excerpt). Running servers pick it up within a second.
    Set { key: String, value: String },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy a whole site into a new, empty database (SQLite to PostgreSQL or back),
    /// verified by row counts and a checksum.
    Copy {
        /// sqlite:PATH or postgres://...
        #[arg(long, value_name = "URL")]
        from: String,
        /// sqlite:PATH or postgres://...; must be empty.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "BROADSHEET_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Public URL of the site, for canonical links [default: http://<listen>].
    #[arg(long, env = "BROADSHEET_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// A directory of templates and assets overriding the built-in theme.
    #[arg(long, env = "BROADSHEET_THEME_DIR", value_name = "DIR")]
    pub theme_dir: Option<PathBuf>,
    /// Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR ranges,
    /// comma-separated [default: none, the header is ignored].
    #[arg(
        long,
        env = "BROADSHEET_TRUSTED_PROXIES",
        value_name = "NETS",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Votes, reactions and ratings one reader may cast per minute [default: 30].
    #[arg(long, env = "BROADSHEET_VOTES_PER_MINUTE_PER_READER", value_name = "N")]
    pub votes_per_minute_per_reader: Option<u32>,
    /// Votes one network (address and browser) may cast per minute [default: 600].
    #[arg(
        long,
        env = "BROADSHEET_VOTES_PER_MINUTE_PER_NETWORK",
        value_name = "N"
    )]
    pub votes_per_minute_per_network: Option<u32>,
    /// Readers new to an article one network may add to it per day [default: 50].
    #[arg(
        long,
        env = "BROADSHEET_READERS_PER_NETWORK_PER_ARTICLE_PER_DAY",
        value_name = "N"
    )]
    pub readers_per_network_per_article_per_day: Option<u32>,
    /// The sender of every email [default: Broadsheet <broadsheet@localhost>].
    #[arg(long, env = "BROADSHEET_EMAIL_FROM", value_name = "MAILBOX")]
    pub email_from: Option<String>,
    /// The SMTP server [default: none, emails are written to <data_dir>/outbox/].
    /// Its password comes from BROADSHEET_SMTP_PASSWORD (or the config file), never
    /// from a flag, which other users of the machine could read.
    #[arg(long, env = "BROADSHEET_SMTP_HOST", value_name = "HOST")]
    pub smtp_host: Option<String>,
    /// The SMTP port [default: 587, 465 or 25 by TLS mode].
    #[arg(long, env = "BROADSHEET_SMTP_PORT", value_name = "PORT")]
    pub smtp_port: Option<u16>,
    /// starttls, tls or none [default: starttls].
    #[arg(long, env = "BROADSHEET_SMTP_TLS", value_name = "MODE")]
    pub smtp_tls: Option<String>,
    /// The SMTP user name.
    #[arg(long, env = "BROADSHEET_SMTP_USERNAME", value_name = "NAME")]
    pub smtp_username: Option<String>,
    /// How often the job worker looks for due jobs, in milliseconds [default: 1000].
    #[arg(long, env = "BROADSHEET_JOBS_POLL_INTERVAL_MS", value_name = "MS")]
    pub jobs_poll_interval_ms: Option<u64>,
    /// Largest image upload accepted, in bytes [default: 10485760, 10 MiB].
    #[arg(long, env = "BROADSHEET_MAX_UPLOAD_BYTES", value_name = "BYTES")]
    pub max_upload_bytes: Option<u64>,
}

impl ServeArgs {
    /// The `[engagement]` keys given as flags or environment variables.
    fn engagement(&self) -> RawEngagement {
        RawEngagement {
            trusted_proxies: self.trusted_proxies.clone(),
            votes_per_minute_per_reader: self.votes_per_minute_per_reader,
            votes_per_minute_per_network: self.votes_per_minute_per_network,
            readers_per_network_per_article_per_day: self.readers_per_network_per_article_per_day,
        }
    }

    /// The `[email]` keys given as flags or environment variables.
    fn email(&self) -> RawEmail {
        RawEmail {
            from: self.email_from.clone(),
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port,
            smtp_tls: self.smtp_tls.clone(),
            smtp_username: self.smtp_username.clone(),
            smtp_password: std::env::var("BROADSHEET_SMTP_PASSWORD").ok(),
        }
    }

    fn jobs(&self) -> RawJobs {
        RawJobs {
            poll_interval_ms: self.jobs_poll_interval_ms,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is asked for on a terminal, or read from
    /// BROADSHEET_PASSWORD.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// contributor, author, editor or admin.
        #[arg(long, default_value = "author")]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArticleCommand {
    /// Publish a Markdown file with YAML (---) or TOML (+++) front matter; a file whose
    /// slug exists already updates that article.
    Publish {
        file: PathBuf,
        /// The author's slug or email, overriding the file's `author`.
        #[arg(long)]
        author: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print an annotated example config file.
    Default,
}

impl Cli {
    /// Merges flags, environment and the config file into a validated [`Config`].
    pub fn config(&self, serve: Option<&ServeArgs>) -> anyhow::Result<Config> {
        let from_flags = RawConfig {
            listen: serve.and_then(|s| s.listen.clone()),
            data_dir: self.global.data_dir.clone(),
            database_url: self.global.database_url.clone(),
            base_url: serve.and_then(|s| s.base_url.clone()),
            theme_dir: serve.and_then(|s| s.theme_dir.clone()),
            engagement: serve.map(ServeArgs::engagement),
            email: serve.map(ServeArgs::email),
            jobs: serve.map(ServeArgs::jobs),
            media: serve.map(|s| RawMedia {
                max_upload_bytes: s.max_upload_bytes,
            }),
            // The [push] table has no flags: the file only.
            push: None,
            // The API's keys are set in the file only.
            api: None,
        };
        let from_file = match &self.global.config {
            Some(path) => RawConfig::load(path)?,
            None => RawConfig::default(),
        };
        Config::from_raw(from_flags.or(from_file))
    }
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => crate::serve::run(cli.config(Some(args))?).await,
        Command::User(UserCommand::Add { name, email, role }) => {
            let config = cli.config(None)?;
            let password = read_password()?;
            let hash = crate::password::hash(&password)?;
            let new = NewUser::validate(name, email, *role, Some(hash))?;
            let store = crate::backend::open(&config.database).await?;
            let user = store.create_user(&new).await.map_err(|e| match e {
                broadsheet_domain::StoreError::Conflict { field } => {
                    anyhow::anyhow!("{field}: a user with this {field} exists already")
                }
                other => other.into(),
            })?;
            println!(
                "added {} <{}> as {} (/author/{}/)",
                user.display_name, user.email, user.role, user.slug
            );
            Ok(())
        }
        Command::Article(ArticleCommand::Publish { file, author }) => {
            let config = cli.config(None)?;
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let store = crate::backend::open(&config.database).await?;
            let outcome = crate::publish::publish(store.as_ref(), &bytes, author.as_deref())
                .await
                .with_context(|| format!("{} was not published", file.display()))?;
            let settings = store.settings().await?;
            let article = outcome.article();
            let verb = match outcome {
                crate::publish::Outcome::Created(_) => "created",
                crate::publish::Outcome::Updated(_) => "updated",
            };
            println!(
                "{verb} {} ({}): {}{} · read time {}",
                article.kind.as_str(),
                article.status.as_str(),
                config.base_url,
                article.permalink(settings.tz()),
                article.read_time.short()
            );
            Ok(())
        }
        Command::Settings(command) => {
            let config = cli.config(None)?;
            let store = crate::backend::open(&config.database).await?;
            let mut settings = store.settings().await?;
            if let SettingsCommand::Set { key, value } = command {
                crate::settings::set(&mut settings, key, value)?;
                store.save_settings(&settings).await?;
            }
            print!("{}", toml::to_string(&settings)?);
            Ok(())
        }
        Command::Db(DbCommand::Copy { from, to }) => {
            let source = crate::backend::open(&Database::from_url(from).context("--from")?).await?;
            let target = crate::backend::open(&Database::from_url(to).context("--to")?).await?;
            let summary = crate::db_copy::copy(source.as_ref(), target.as_ref()).await?;
            println!("copied {summary}");
            Ok(())
        }
        Command::Comments(command) => {
            let config = cli.config(None)?;
            let store = crate::backend::open(&config.database).await?;
            moderate(store.as_ref(), &config.base_url, command).await
        }
        Command::Import(command) => {
            let config = cli.config(None)?;
            // SQLite's connection threads start with the store: on the importer's core.
            if matches!(config.database, Database::Sqlite(_)) {
                crate::import::one_core::confine();
            }
            let store = crate::backend::open(&config.database).await?;
            import(store.as_ref(), command).await
        }
        Command::Export(command) => {
            let config = cli.config(None)?;
            let store = crate::backend::open(&config.database).await?;
            match command {
                ExportCommand::Json { file } => {
                    let written = crate::export::json::export(store.as_ref(), file).await?;
                    println!("exported {written} to {}", file.display());
                }
                ExportCommand::Markdown { dir } => {
                    let n = crate::export::markdown::export(store.as_ref(), dir).await?;
                    println!("exported {n} articles and pages to {}", dir.display());
                }
            }
            Ok(())
        }
        Command::Config(ConfigCommand::Default) => {
            print!("{}", config::DEFAULT_TOML);
            Ok(())
        }
    }
}

/// `broadsheet import ...`: prints the summary; fails when anything failed, so a
/// script notices (what did import stays imported, and a second run skips it).
async fn import(store: &dyn Store, command: &ImportCommand) -> anyhow::Result<()> {
    let summary = match command {
        ImportCommand::Wordpress { file } => crate::import::wordpress::import(store, file).await?,
        ImportCommand::Markdown { dir, author } => {
            crate::import::markdown::import(store, dir, author.as_deref()).await?
        }
        ImportCommand::Json { file } => {
            let summary = crate::import::json::import(store, file).await?;
            println!("restored {summary}");
            return Ok(());
        }
    };
    print!("{summary}");
    if !summary.failed.is_empty() {
        bail!(
            "{} items failed to import (listed above)",
            summary.failed.len()
        );
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    let password = match std::env::var("BROADSHEET_PASSWORD") {
        Ok(p) => p,
        Err(_) if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password("Password: ")?;
            let again = rpassword::prompt_password("Password again: ")?;
            if first != again {
                bail!("password: the two entries differ");
            }
            first
        }
        Err(_) => bail!("password: set BROADSHEET_PASSWORD or run on a terminal to be asked"),
    };
    crate::password::check_strength(&password).map_err(|m| anyhow::anyhow!("password: {m}"))?;
    Ok(password)
}

/// Comments per page of `comments list`.
const COMMENTS_PER_PAGE: u32 = 50;

/// `broadsheet comments ...` on the database directly, as `article publish` works:
/// running servers see the changes at once, and their job worker sends the reply
/// notifications an approval queues.
async fn moderate(
    store: &dyn Store,
    base_url: &str,
    command: &CommentsCommand,
) -> anyhow::Result<()> {
    let (ids, status) = match command {
        CommentsCommand::List {
            status,
            article,
            page,
        } => {
            print!("{}", list_comments(store, *status, *article, *page).await?);
            return Ok(());
        }
        CommentsCommand::Approve { ids } => (ids, CommentStatus::Approved),
        CommentsCommand::Spam { ids } => (ids, CommentStatus::Spam),
        CommentsCommand::Trash { ids } => (ids, CommentStatus::Trash),
    };
    let ids: Vec<CommentId> = ids.iter().copied().map(CommentId).collect();
    let changed = store.set_comment_status(&ids, status).await?;
    if status == CommentStatus::Approved {
        for comment in &changed {
            crate::comments::notify::approved(store, base_url, comment).await?;
        }
    }
    let moved: Vec<CommentId> = changed.iter().map(|c| c.id).collect();
    println!("{status}: {}", joined(&moved));
    let untouched: Vec<CommentId> = ids.into_iter().filter(|id| !moved.contains(id)).collect();
    if !untouched.is_empty() {
        println!(
            "unchanged (already {status}, or no such comment): {}",
            joined(&untouched)
        );
    }
    Ok(())
}

fn joined(ids: &[CommentId]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per comment: id, date, article, author, the start of the text.
async fn list_comments(
    store: &dyn Store,
    status: CommentStatus,
    article: Option<i64>,
    page: u32,
) -> anyhow::Result<String> {
    let counts = store.comment_status_counts().await?;
    let listed = store
        .list_comments(&CommentQuery {
            status: Some(status),
            article: article.map(broadsheet_domain::ArticleId),
            page: page.max(1),
            per_page: COMMENTS_PER_PAGE,
        })
        .await?;
    let mut out = String::new();
    writeln!(
        out,
        "pending {} · approved {} · spam {} · trash {}",
        counts.pending, counts.approved, counts.spam, counts.trash
    )?;
    for c in &listed.items {
        writeln!(
            out,
            "#{id}  {at}  article {article}  {name} <{email}>{reason}\n    {text}",
            id = c.id,
            at = c.created_at.format("%Y-%m-%d %H:%M"),
            article = c.article_id,
            name = c.author_name,
            email = c.author_email,
            reason = c
                .reason
                .as_deref()
                .map(|r| format!("  (held: {r})"))
                .unwrap_or_default(),
            text = excerpt(&c.body, 100),
        )?;
    }
    writeln!(
        out,
        "{status}: page {} of {}, {} in all",
        listed.page,
        listed.pages(),
        listed.total
    )?;
    Ok(out)
}

/// The first `max` characters of `text` on one line.
fn excerpt(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_line_and_cut_on_characters() {
        assert_eq!(excerpt("a\n\nb  c", 10), "a b c");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
    }
}
