//! Which articles readers may engage with: public articles only (a draft, a page or
//! an article scheduled for later is "not found", as on the site).
//!
//! Every vote and view names its article by id and must be checked. The node keeps the
//! articles it checked, dropped on the article's change notice, so thousands of votes a
//! second on one article cost no reads. Publication time is checked on each use, so a
//! scheduled article opens at its time without a notice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use broadsheet_domain::{Article, ArticleId, ContentKind, Store};
use chrono::{DateTime, Utc};

use crate::cache::MAX_AGE;
use crate::error::AppError;

/// Articles kept; past this the cache starts over.
const MAX_CACHED: usize = 20_000;

#[derive(Default)]
pub struct ArticleGate {
    state: Mutex<GateState>,
}

#[derive(Default)]
struct GateState {
    articles: HashMap<ArticleId, (Arc<Article>, Instant)>,
    /// Bumped by every invalidation, so a load that raced one is not kept.
    generation: u64,
}

impl ArticleGate {
    /// The article if readers may engage with it at `now`; `NotFound` otherwise.
    pub async fn public(
        &self,
        store: &dyn Store,
        id: ArticleId,
        now: DateTime<Utc>,
    ) -> Result<Arc<Article>, AppError> {
        let article = self.get(store, id).await?;
        if article.kind != ContentKind::Article || !article.is_public(now) {
            return Err(AppError::NotFound);
        }
        Ok(article)
    }

    async fn get(&self, store: &dyn Store, id: ArticleId) -> Result<Arc<Article>, AppError> {
        let generation = {
            let state = self.lock();
            if let Some((article, at)) = state.articles.get(&id)
                && at.elapsed() < MAX_AGE
            {
                return Ok(article.clone());
            }
            state.generation
        };
        let article = Arc::new(store.article_by_id(id).await?);
        let mut state = self.lock();
        if state.generation == generation {
            if state.articles.len() >= MAX_CACHED {
                state.articles.clear();
            }
            state.articles.insert(id, (article.clone(), Instant::now()));
        }
        Ok(article)
    }

    /// The article changed (published, unpublished, moved, removed).
    pub fn forget(&self, id: ArticleId) {
        let mut state = self.lock();
        state.articles.remove(&id);
        state.generation += 1;
    }

    pub fn forget_all(&self) {
        let mut state = self.lock();
        state.articles.clear();
        state.generation += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // Map operations only: a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
