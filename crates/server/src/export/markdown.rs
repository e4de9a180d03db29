//! `broadsheet export markdown DIR`: every article and page as a Markdown file with
//! YAML front matter, `posts/SLUG.md` and `pages/SLUG.md`, in the form
//! `broadsheet import markdown` (and `article publish`) read back. Imported HTML stays
//! HTML (`format: html`); Markdown stays the writer's own Markdown.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use broadsheet_domain::{Article, ContentKind, SourceFormat, Status, Store};

#[derive(Serialize)]
struct Front<'a> {
    title: &'a str,
    slug: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    author: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    excerpt: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cover_image: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    featured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'a str>,
}

/// The file for one article: front matter, then the body as written.
pub fn file_of(article: &Article) -> anyhow::Result<String> {
    let front = Front {
        title: &article.title,
        slug: &article.slug,
        kind: article.kind.as_str(),
        status: match article.status {
            // A scheduled article is published on its date; the reader of the file
            // schedules it again from `date`.
            Status::Scheduled => "published",
            other => other.as_str(),
        },
        date: article.published_at.map(|d| d.to_rfc3339()),
        author: &article.author.slug,
        tags: article.tags.iter().map(|t| t.name.as_str()).collect(),
        excerpt: &article.excerpt,
        cover_image: article.cover_image.as_deref(),
        featured: article.featured,
        format: (article.format == SourceFormat::Html).then_some("html"),
    };
    let yaml = serde_norway::to_string(&front)?;
    let mut out = String::with_capacity(yaml.len() + article.source.len() + 16);
    out.push_str("---\n");
    out.push_str(&yaml);
    if !yaml.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("---\n\n");
    // The body exactly as stored, so reading the file back gives the same article.
    out.push_str(&article.source);
    Ok(out)
}

/// Writes every article and page under `dir`; returns how many files were written.
pub async fn export(store: &dyn Store, dir: &Path) -> anyhow::Result<usize> {
    let site = store.export_site().await?;
    for sub in ["posts", "pages"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
    }
    for article in &site.articles {
        let sub = match article.kind {
            ContentKind::Article => "posts",
            ContentKind::Page => "pages",
        };
        let path = dir.join(sub).join(format!("{}.md", article.slug));
        std::fs::write(&path, file_of(article)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(site.articles.len())
}
