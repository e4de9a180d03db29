//! `broadsheet db copy --from URL --to URL`: moves a whole site between backends
//! (SQLite to PostgreSQL when a site outgrows one machine, and back).
//!
//! The copy goes through the Store trait (export, then import into an empty target),
//! so it needs no SQL of its own and works for any pair of backends. It is verified by
//! exporting the target again: the row counts and a SHA-256 checksum of the whole
//! dump must equal the source's, or the command fails.

use sha2::{Digest, Sha256};

use broadsheet_domain::{SiteDump, Store, StoreError};

/// What was copied, for the operator to read and compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub users: usize,
    pub articles: usize,
    pub pages: usize,
    pub tags: usize,
    pub redirects: usize,
    /// Hex SHA-256 of the canonical JSON of the whole site.
    pub checksum: String,
}

impl Summary {
    pub fn of(dump: &SiteDump) -> Summary {
        let mut tags: Vec<&str> = dump
            .articles
            .iter()
            .flat_map(|a| a.tags.iter().map(|t| t.slug.as_str()))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        let pages = dump
            .articles
            .iter()
            .filter(|a| a.kind == broadsheet_domain::ContentKind::Page)
            .count();
        let json = serde_json::to_vec(dump).expect("a dump always serialises");
        Summary {
            users: dump.users.len(),
            articles: dump.articles.len() - pages,
            pages,
            tags: tags.len(),
            redirects: dump.redirects.len(),
            checksum: format!("{:x}", Sha256::digest(&json)),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} users, {} articles, {} pages, {} tags, {} redirects; sha256 {}",
            self.users, self.articles, self.pages, self.tags, self.redirects, self.checksum
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target is not empty; copy into a new, empty database")]
    TargetNotEmpty,
    #[error("verification failed: source has {source_summary}, target has {target_summary}")]
    Mismatch {
        source_summary: Summary,
        target_summary: Summary,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Copies everything from `source` into the empty `target` and verifies the result.
pub async fn copy(source: &dyn Store, target: &dyn Store) -> Result<Summary, CopyError> {
    let dump = source.export_site().await?;
    let source_summary = Summary::of(&dump);
    target.import_site(&dump).await.map_err(|e| match e {
        StoreError::Conflict { field: "site" } => CopyError::TargetNotEmpty,
        other => other.into(),
    })?;
    let target_summary = Summary::of(&target.export_site().await?);
    if target_summary != source_summary {
        return Err(CopyError::Mismatch {
            source_summary,
            target_summary,
        });
    }
    Ok(source_summary)
}
