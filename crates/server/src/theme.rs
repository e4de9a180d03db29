//! The theme: minijinja templates and static assets.
//!
//! The default theme is compiled into the binary, so `broadsheet serve` needs no files
//! beside it. An operator's `theme_dir` overrides it file by file: `theme_dir/NAME`
//! replaces the built-in template `NAME` (and may add new ones for `include` or
//! `extends`), and `theme_dir/assets/FILE` replaces or adds the asset `FILE`. This is
//! how zola's `components/templates` works, and it means a theme that only wants a
//! different masthead copies one template, not all of them.
//!
//! Every built-in template is compiled at [`Theme::load`], and so is every override of
//! one, so a syntax error in a theme stops the server at start-up rather than turning
//! page views into 500s later.
//!
//! Assets are read into memory once and served with a content hash in their URL
//! (`/assets/style.css?v=1a2b3c4d5e`), so browsers may cache them for a year and still
//! see a new version the moment the theme changes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Bytes;
use minijinja::{AutoEscape, Environment, Error, ErrorKind};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The built-in templates, by the name templates and handlers use.
const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("tag.html", include_str!("../templates/tag.html")),
    ("author.html", include_str!("../templates/author.html")),
    ("article.html", include_str!("../templates/article.html")),
    ("page.html", include_str!("../templates/page.html")),
    ("error.html", include_str!("../templates/error.html")),
    (
        "comments/stop.html",
        include_str!("../templates/comments/stop.html"),
    ),
    (
        "partials/article_list.html",
        include_str!("../templates/partials/article_list.html"),
    ),
    (
        "partials/pagination.html",
        include_str!("../templates/partials/pagination.html"),
    ),
    (
        "partials/byline.html",
        include_str!("../templates/partials/byline.html"),
    ),
    (
        "partials/hashtags.html",
        include_str!("../templates/partials/hashtags.html"),
    ),
    (
        "partials/views.html",
        include_str!("../templates/partials/views.html"),
    ),
    (
        "partials/vote.html",
        include_str!("../templates/partials/vote.html"),
    ),
    (
        "partials/reactions.html",
        include_str!("../templates/partials/reactions.html"),
    ),
    (
        "partials/rating.html",
        include_str!("../templates/partials/rating.html"),
    ),
    (
        "partials/comment_count.html",
        include_str!("../templates/partials/comment_count.html"),
    ),
    (
        "partials/comments.html",
        include_str!("../templates/partials/comments.html"),
    ),
    (
        "partials/push_bell.html",
        include_str!("../templates/partials/push_bell.html"),
    ),
    (
        "admin/layout.html",
        include_str!("../templates/admin/layout.html"),
    ),
    (
        "admin/login.html",
        include_str!("../templates/admin/login.html"),
    ),
    (
        "admin/setup.html",
        include_str!("../templates/admin/setup.html"),
    ),
    (
        "admin/home.html",
        include_str!("../templates/admin/home.html"),
    ),
    (
        "admin/dashboard.html",
        include_str!("../templates/admin/dashboard.html"),
    ),
    (
        "admin/audit.html",
        include_str!("../templates/admin/audit.html"),
    ),
    (
        "admin/jobs.html",
        include_str!("../templates/admin/jobs.html"),
    ),
    (
        "admin/tokens.html",
        include_str!("../templates/admin/tokens.html"),
    ),
    (
        "admin/forgot.html",
        include_str!("../templates/admin/forgot.html"),
    ),
    (
        "admin/reset.html",
        include_str!("../templates/admin/reset.html"),
    ),
    (
        "admin/users.html",
        include_str!("../templates/admin/users.html"),
    ),
    (
        "admin/settings.html",
        include_str!("../templates/admin/settings.html"),
    ),
    (
        "admin/media.html",
        include_str!("../templates/admin/media.html"),
    ),
    (
        "admin/error.html",
        include_str!("../templates/admin/error.html"),
    ),
    (
        "admin/forms.html",
        include_str!("../templates/admin/forms.html"),
    ),
    (
        "admin/comments.html",
        include_str!("../templates/admin/comments.html"),
    ),
    (
        "admin/comment.html",
        include_str!("../templates/admin/comment.html"),
    ),
    (
        "admin/commenter.html",
        include_str!("../templates/admin/commenter.html"),
    ),
    (
        "admin/articles.html",
        include_str!("../templates/admin/articles.html"),
    ),
    (
        "admin/editor.html",
        include_str!("../templates/admin/editor.html"),
    ),
    (
        "admin/revisions.html",
        include_str!("../templates/admin/revisions.html"),
    ),
    (
        "admin/revision.html",
        include_str!("../templates/admin/revision.html"),
    ),
    (
        "newsletter/subscribe.html",
        include_str!("../templates/newsletter/subscribe.html"),
    ),
    (
        "newsletter/confirm.html",
        include_str!("../templates/newsletter/confirm.html"),
    ),
    (
        "partials/subscribe.html",
        include_str!("../templates/partials/subscribe.html"),
    ),
    (
        "admin/subscribers.html",
        include_str!("../templates/admin/subscribers.html"),
    ),
    (
        "admin/webhooks.html",
        include_str!("../templates/admin/webhooks.html"),
    ),
    (
        "admin/webhook.html",
        include_str!("../templates/admin/webhook.html"),
    ),
    (
        "admin/webhook_log.html",
        include_str!("../templates/admin/webhook_log.html"),
    ),
];

/// The built-in assets, by file name.
const BUILTIN_ASSETS: &[(&str, &[u8])] = &[
    ("style.css", include_bytes!("../assets/style.css")),
    ("favicon.svg", include_bytes!("../assets/favicon.svg")),
    ("engagement.js", include_bytes!("../assets/engagement.js")),
    ("admin.css", include_bytes!("../assets/admin.css")),
    ("admin.js", include_bytes!("../assets/admin.js")),
    ("push.js", include_bytes!("../assets/push.js")),
    ("sw.js", include_bytes!("../assets/sw.js")),
];

/// Longest asset file we read from a theme directory; anything larger belongs in the
/// media library, not in memory on every node.
const MAX_ASSET_BYTES: u64 = 8 * 1024 * 1024;

/// One static file, ready to serve.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Bytes,
    pub content_type: &'static str,
    /// The first hex digits of the SHA-256 of the bytes; the `v` in asset URLs and the
    /// ETag.
    pub hash: String,
}

impl Asset {
    fn new(name: &str, bytes: Vec<u8>) -> Asset {
        let digest = Sha256::digest(&bytes);
        let mut hash = String::with_capacity(10);
        for byte in &digest[..5] {
            let _ = write!(hash, "{byte:02x}");
        }
        Asset {
            bytes: Bytes::from(bytes),
            content_type: content_type(name),
            hash,
        }
    }
}

/// The loaded theme: a template environment and the assets.
pub struct Theme {
    env: Environment<'static>,
    assets: Arc<HashMap<String, Asset>>,
}

impl std::fmt::Debug for Theme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.assets.keys().collect();
        names.sort();
        f.debug_struct("Theme").field("assets", &names).finish()
    }
}

impl Theme {
    /// Loads the built-in theme, overridden file by file from `theme_dir` when given.
    pub fn load(theme_dir: Option<&Path>) -> anyhow::Result<Theme> {
        let assets = Arc::new(load_assets(theme_dir)?);

        let mut env = Environment::new();
        // Escape everything in HTML templates; the only unescaped value is the article
        // body, which the domain sanitised at save and the site marks safe explicitly.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".htm") || name.ends_with(".xml") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        // minijinja also escapes `/`, which is harmless in HTML but turns every URL in
        // an attribute into `https:&#x2f;&#x2f;...`; escape strings the way ammonia and
        // html-escape do instead, and leave everything else to the default.
        env.set_formatter(|out, state, value| {
            if matches!(state.auto_escape(), AutoEscape::Html)
                && !value.is_safe()
                && let Some(text) = value.as_str()
            {
                return Ok(write_escaped_html(out, text)?);
            }
            minijinja::escape_formatter(out, state, value)
        });
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        let overrides = theme_dir.map(minijinja::path_loader);
        env.set_loader(move |name| {
            if let Some(load) = &overrides
                && let Some(source) = load(name)?
            {
                return Ok(Some(source));
            }
            Ok(BUILTIN_TEMPLATES
                .iter()
                .find(|(builtin, _)| *builtin == name)
                .map(|(_, source)| (*source).to_owned()))
        });
        let for_urls = Arc::clone(&assets);
        env.add_function("asset_url", move |name: &str| -> Result<String, Error> {
            asset_url_in(&for_urls, name).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("the theme has no asset named \"{name}\""),
                )
            })
        });

        for (name, _) in BUILTIN_TEMPLATES {
            env.get_template(name)
                .with_context(|| format!("theme template {name} is invalid"))?;
        }
        Ok(Theme { env, assets })
    }

    /// Renders a template with a serialisable context.
    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, Error> {
        self.env.get_template(name)?.render(context)
    }

    /// An asset by file name.
    pub fn asset(&self, name: &str) -> Option<&Asset> {
        self.assets.get(name)
    }

    /// The versioned URL of an asset, or `None` for an unknown name.
    pub fn asset_url(&self, name: &str) -> Option<String> {
        asset_url_in(&self.assets, name)
    }
}

/// Escapes text for HTML element content and quoted attribute values.
fn write_escaped_html(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..i])?;
        out.write_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[i + 1..];
    }
    out.write_str(rest)
}

fn asset_url_in(assets: &HashMap<String, Asset>, name: &str) -> Option<String> {
    assets
        .get(name)
        .map(|asset| format!("/assets/{name}?v={}", asset.hash))
}

/// The built-in assets plus every plain file in `theme_dir/assets/` (not recursive).
fn load_assets(theme_dir: Option<&Path>) -> anyhow::Result<HashMap<String, Asset>> {
    let mut assets: HashMap<String, Asset> = BUILTIN_ASSETS
        .iter()
        .map(|(name, bytes)| ((*name).to_owned(), Asset::new(name, bytes.to_vec())))
        .collect();
    let Some(dir) = theme_dir.map(|d| d.join("assets")).filter(|d| d.is_dir()) else {
        return Ok(assets);
    };
    let entries =
        std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        // Only names that are safe in a URL without encoding, and no hidden files
        // (editor swap files, .DS_Store).
        if !is_asset_name(&name) || !entry.file_type()?.is_file() {
            continue;
        }
        if entry.metadata()?.len() > MAX_ASSET_BYTES {
            anyhow::bail!(
                "theme asset {} is larger than {} MiB",
                path.display(),
                MAX_ASSET_BYTES / (1024 * 1024)
            );
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        assets.insert(name.clone(), Asset::new(&name, bytes));
    }
    Ok(assets)
}

/// Whether a file name can be an asset: letters, digits, `-`, `_` and `.`, not hidden.
pub fn is_asset_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn builtin_theme_loads_and_versions_assets() {
        let theme = Theme::load(None).unwrap();
        let url = theme.asset_url("style.css").unwrap();
        assert!(url.starts_with("/assets/style.css?v="), "{url}");
        assert_eq!(url.len(), "/assets/style.css?v=".len() + 10);
        assert_eq!(
            theme.asset("style.css").unwrap().content_type,
            "text/css; charset=utf-8"
        );
        assert!(theme.asset("nope.css").is_none());
    }

    #[test]
    fn html_templates_escape_and_safe_values_pass() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("probe.html"),
            "{{ text }}|{{ body }}|{{ asset_url('style.css') }}",
        )
        .unwrap();
        let theme = Theme::load(Some(dir.path())).unwrap();
        let out = theme
            .render(
                "probe.html",
                context! {
                    text => "<b a=\"'\">&</b>",
                    body => minijinja::Value::from_safe_string("<p>ok</p>".into()),
                },
            )
            .unwrap();
        let (text, rest) = out.split_once('|').unwrap();
        assert_eq!(text, "&lt;b a=&quot;&#39;&quot;&gt;&amp;&lt;/b&gt;");
        assert!(rest.starts_with("<p>ok</p>|/assets/style.css?v="), "{out}");
    }

    #[test]
    fn theme_dir_overrides_templates_and_assets_file_by_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("error.html"), "custom {{ error.status }}").unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("assets/style.css"), "body{}").unwrap();
        std::fs::write(dir.path().join("assets/logo.png"), [0x89, b'P']).unwrap();
        std::fs::write(dir.path().join("assets/.hidden"), "x").unwrap();
        let builtin = Theme::load(None).unwrap();
        let theme = Theme::load(Some(dir.path())).unwrap();
        let out = theme
            .render(
                "error.html",
                context! { error => context! { status => 404 } },
            )
            .unwrap();
        assert_eq!(out, "custom 404");
        assert_eq!(&*theme.asset("style.css").unwrap().bytes, b"body{}");
        assert_ne!(theme.asset_url("style.css"), builtin.asset_url("style.css"));
        assert_eq!(theme.asset("logo.png").unwrap().content_type, "image/png");
        assert!(theme.asset(".hidden").is_none());
        // Templates not overridden still come from the binary.
        assert!(theme.render("partials/pagination.html", ()).is_ok());
    }

    /// The article page's context as the handler builds it, with engagement.
    fn article_context(choices: serde_json::Value) -> serde_json::Value {
        let reactions: Vec<_> = [("happy", "Happy", 2, 67), ("sad", "Sad", 1, 33)]
            .iter()
            .map(|(key, label, count, percent)| {
                serde_json::json!({"key": key, "label": label, "emoji": "🙂",
                    "count": count, "percent": percent})
            })
            .collect();
        serde_json::json!({
            "site": {"title": "T", "language": "en", "nav": [], "year": 2026},
            "meta": {"title": "A", "path": "/2026/03/04/a/"},
            "article": {"id": 7, "title": "A", "body": "<p>x</p>", "tags": [],
                "author": {"name": "N", "url": "/author/n/"},
                "read_time": {"short": "1 min", "long": "1 minute", "seconds": 60}},
            "engagement": {"article_id": 7, "views": 1, "likes": 3, "dislikes": 0,
                "comments": 0, "reactions": reactions,
                "rating": {"average": 4.0, "count": 2, "stars": [
                    {"stars": 5, "count": 1, "percent": 50},
                    {"stars": 4, "count": 0, "percent": 0},
                    {"stars": 3, "count": 1, "percent": 50},
                    {"stars": 2, "count": 0, "percent": 0},
                    {"stars": 1, "count": 0, "percent": 0}]}},
            "choices": choices,
            "engage_url": "/articles/7/engage",
            "api": {"engagement": "/e", "me": "/m", "live": "/l", "view": "/v", "pixel": "/p.gif"},
        })
    }

    #[test]
    fn article_widgets_show_engagement_and_the_readers_choices() {
        let theme = Theme::load(None).unwrap();
        let page = theme
            .render("article.html", article_context(serde_json::Value::Null))
            .unwrap();
        for expected in [
            r#"<span data-count="views">1</span> <span data-unit-for="views" data-one="view" data-other="views">view</span>"#,
            r#"<span class="visually-hidden">Like, </span><span class="vote-count" data-count="likes">3</span>"#,
            r#"value="happy" aria-pressed="false""#,
            r#"<span data-field="percent">67</span> %"#,
            r#"<span class="rating-average" data-field="average">4.0</span>"#,
            "5 Star",
            r#"<input type="radio" id="rate-4" name="value" value="4" required>"#,
            r#"<form class="clear-rating" method="post" action="/articles/7/engage" data-engage="clear_rating" hidden>"#,
            "/assets/engagement.js?v=",
            r#"<noscript><img class="view-pixel" src="/p.gif""#,
        ] {
            assert!(page.contains(expected), "{expected} missing in {page}");
        }
        let mine = serde_json::json!({"vote": "like", "reaction": "sad", "rating": 4});
        let page = theme.render("article.html", article_context(mine)).unwrap();
        for expected in [
            r#"value="like" aria-pressed="true""#,
            r#"value="dislike" aria-pressed="false""#,
            r#"value="sad" aria-pressed="true""#,
            r#"value="happy" aria-pressed="false""#,
            r#"value="4" checked required>"#,
            r#"data-engage="clear_rating">"#,
        ] {
            assert!(page.contains(expected), "{expected} missing in {page}");
        }
    }

    #[test]
    fn a_broken_override_fails_at_load_not_at_request() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("article.html"), "{% if %}").unwrap();
        let err = Theme::load(Some(dir.path())).unwrap_err();
        assert!(format!("{err:#}").contains("article.html"), "{err:#}");
    }

    #[test]
    fn template_names_cannot_escape_the_theme_dir() {
        let dir = tempfile::tempdir().unwrap();
        let theme = Theme::load(Some(dir.path())).unwrap();
        assert!(theme.render("../../etc/passwd", ()).is_err());
    }

    #[test]
    fn asset_names_are_url_safe() {
        assert!(is_asset_name("style.css"));
        assert!(is_asset_name("logo-2_x.png"));
        for bad in ["", ".env", "a b.css", "a/b.css", "é.css", "a?.css"] {
            assert!(!is_asset_name(bad), "{bad}");
        }
    }
}
