//! The JSON export: the store's [`SiteDump`] (what `db copy` moves between backends)
//! in an envelope that says what the file is, without the password hashes.
//!
//! The format is documented in `docs/EXPORT.md`. `format_version` is the dump's
//! ([`broadsheet_domain::dump::FORMAT_VERSION`]): a reader refuses a newer version
//! and fills fields added since an older one with their defaults.

use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use broadsheet_domain::{SiteDump, Store};

/// What the `format` field of every export says.
pub const FORMAT: &str = "broadsheet-site";

/// An export file: the envelope, then the dump's fields at the top level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportFile {
    pub format: String,
    pub exported_at: DateTime<Utc>,
    /// The Broadsheet version that wrote it.
    pub generator: String,
    /// The site's signing key, in hex: restored with the site so that avatars and the
    /// signed links in emails already sent keep working. A secret, like the
    /// commenters' emails in the same file.
    #[serde(default)]
    pub signing_key: Option<String>,
    #[serde(flatten)]
    pub site: SiteDump,
}

/// What an export wrote, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub articles: usize,
    pub pages: usize,
    pub users: usize,
    pub comments: usize,
    pub bytes: u64,
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} articles, {} pages, {} users, {} comments ({} bytes)",
            self.articles, self.pages, self.users, self.comments, self.bytes
        )
    }
}

/// The site as an export: everything the store keeps but password hashes (a restored
/// user signs in after "forgot password").
pub async fn snapshot(store: &dyn Store) -> anyhow::Result<ExportFile> {
    let mut site = store.export_site().await?;
    for user in &mut site.users {
        user.password_hash = None;
    }
    let mut candidate = [0; 32];
    getrandom::fill(&mut candidate).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let key = store.signing_key(candidate).await?;
    Ok(ExportFile {
        signing_key: Some(key.iter().map(|b| format!("{b:02x}")).collect()),
        format: FORMAT.to_owned(),
        exported_at: broadsheet_domain::clock::now(),
        generator: format!("broadsheet {}", env!("CARGO_PKG_VERSION")),
        site,
    })
}

/// Writes the export to `path` (through a temporary file, so a failed export never
/// leaves half a file under the name).
pub async fn export(store: &dyn Store, path: &Path) -> anyhow::Result<Written> {
    use anyhow::Context;
    let file = snapshot(store).await?;
    let pages = file
        .site
        .articles
        .iter()
        .filter(|a| a.kind == broadsheet_domain::ContentKind::Page)
        .count();
    let partial = path.with_extension("json.partial");
    {
        let out = std::fs::File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut out = BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, &file)?;
        out.write_all(b"\n")?;
        out.flush()?;
        out.get_ref().sync_all()?;
    }
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Written {
        articles: file.site.articles.len() - pages,
        pages,
        users: file.site.users.len(),
        comments: file.site.comments.len(),
        bytes: std::fs::metadata(path)?.len(),
    })
}
