//! The newsletter in SQLite (see `migrations/0013_subscriptions.sql`). Writes run in
//! `BEGIN IMMEDIATE` transactions or single statements, so a claim of deliveries
//! (select unsent rows, mark them sending) can never hand a row to two senders, in
//! this process or another on the same file. Lists of ids travel as one JSON array
//! (`json_each`), so statements keep a fixed shape.
//!
//! Subscriber writes publish no change notice: no page or cache shows them.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use broadsheet_domain::job::lease_until;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::subscription::BOUNCE_AFTER;
use broadsheet_domain::{
    ArticleId, Delivery, DeliveryCounts, StoreError, SubscribeRequest, Subscriber,
    SubscriberCounts, SubscriberId, SubscriberStatus, SubscriptionStore,
};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use crate::SqliteStore;
use crate::rows::{db_error, from_millis, millis, to_u32};

/// The columns of [`SubscriberRow`].
macro_rules! subscriber_columns {
    () => {
        "id, email, status, failures, created_at, confirmed_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct SubscriberRow {
    id: i64,
    email: String,
    status: String,
    failures: i64,
    created_at: i64,
    confirmed_at: Option<i64>,
    updated_at: i64,
}

impl SubscriberRow {
    fn into_subscriber(self, tags: Vec<String>) -> StoreResult<Subscriber> {
        Ok(Subscriber {
            id: SubscriberId(self.id),
            email: self.email,
            status: self.status.parse().map_err(StoreError::Backend)?,
            tags,
            failures: to_u32(self.failures)?,
            created_at: from_millis(self.created_at)?,
            confirmed_at: self.confirmed_at.map(from_millis).transpose()?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

fn id_array(ids: &[SubscriberId]) -> String {
    serde_json::Value::from(ids.iter().map(|id| id.0).collect::<Vec<_>>()).to_string()
}

/// The tags of each subscriber in `rows`, sorted.
async fn with_tags(
    conn: &mut SqliteConnection,
    rows: Vec<SubscriberRow>,
) -> StoreResult<Vec<Subscriber>> {
    let ids: Vec<SubscriberId> = rows.iter().map(|r| SubscriberId(r.id)).collect();
    let pairs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT subscriber_id, tag_slug FROM subscriber_tags \
         WHERE subscriber_id IN (SELECT value FROM json_each(?)) \
         ORDER BY subscriber_id, tag_slug",
    )
    .bind(id_array(&ids))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, slug) in pairs {
        tags.entry(id).or_default().push(slug);
    }
    rows.into_iter()
        .map(|row| {
            let own = tags.remove(&row.id).unwrap_or_default();
            row.into_subscriber(own)
        })
        .collect()
}

async fn load(conn: &mut SqliteConnection, id: SubscriberId) -> StoreResult<Subscriber> {
    let row: SubscriberRow = sqlx::query_as(concat!(
        "SELECT ",
        subscriber_columns!(),
        " FROM subscribers WHERE id = ?"
    ))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?
    .ok_or(StoreError::NotFound)?;
    with_tags(conn, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

async fn replace_tags(conn: &mut SqliteConnection, id: i64, tags: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM subscriber_tags WHERE subscriber_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO subscriber_tags (subscriber_id, tag_slug) \
         SELECT ?, value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(serde_json::Value::from(tags.to_vec()).to_string())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl SubscriptionStore for SqliteStore {
    async fn add_subscriber(
        &self,
        request: &SubscribeRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        let mut tx = self.begin_write().await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO subscribers (email, status, created_at, updated_at) \
             VALUES (?, 'pending', ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(&request.email)
        .bind(millis(now))
        .bind(millis(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let id = match inserted {
            Some(id) => {
                replace_tags(&mut tx, id, &request.tags).await?;
                id
            }
            None => {
                let (id, status): (i64, String) =
                    sqlx::query_as("SELECT id, status FROM subscribers WHERE email = ?")
                        .bind(&request.email)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_error)?;
                if status != SubscriberStatus::Confirmed.as_str() {
                    sqlx::query(
                        "UPDATE subscribers SET status = 'pending', failures = 0, \
                         updated_at = ? WHERE id = ?",
                    )
                    .bind(millis(now))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                    replace_tags(&mut tx, id, &request.tags).await?;
                }
                id
            }
        };
        let subscriber = load(&mut tx, SubscriberId(id)).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(subscriber)
    }

    async fn subscriber_by_id(&self, id: SubscriberId) -> StoreResult<Subscriber> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        load(&mut conn, id).await
    }

    async fn confirm_subscriber(
        &self,
        id: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE subscribers SET status = 'confirmed', confirmed_at = ?1, updated_at = ?1 \
             WHERE id = ?2 AND status = 'pending'",
        )
        .bind(millis(now))
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let subscriber = load(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)?;
        match subscriber.status {
            SubscriberStatus::Confirmed => Ok(subscriber),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn unsubscribe(&self, id: SubscriberId, now: DateTime<Utc>) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE subscribers SET status = 'unsubscribed', updated_at = ? WHERE id = ?",
        )
        .bind(millis(now))
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_subscribers(
        &self,
        status: Option<SubscriberStatus>,
        after_id: Option<SubscriberId>,
        limit: u32,
    ) -> StoreResult<Vec<Subscriber>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let rows: Vec<SubscriberRow> = sqlx::query_as(concat!(
            "SELECT ",
            subscriber_columns!(),
            " FROM subscribers \
             WHERE (?1 IS NULL OR status = ?1) AND id > ?2 ORDER BY id LIMIT ?3"
        ))
        .bind(status.map(SubscriberStatus::as_str))
        .bind(after_id.map_or(0, |id| id.0))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        with_tags(&mut conn, rows).await
    }

    async fn subscriber_counts(&self) -> StoreResult<SubscriberCounts> {
        let pairs: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM subscribers GROUP BY status")
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        let pairs = pairs
            .into_iter()
            .map(|(status, n)| {
                let status = status.parse().map_err(StoreError::Backend)?;
                Ok((status, u64::try_from(n).unwrap_or(0)))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(SubscriberCounts::from_pairs(pairs))
    }

    async fn queue_deliveries(&self, article: ArticleId, now: DateTime<Utc>) -> StoreResult<u64> {
        // `WHERE` keeps SQLite from reading `ON CONFLICT` as part of a join.
        let done = sqlx::query(
            "INSERT INTO newsletter_deliveries (article_id, subscriber_id, state, created_at) \
             SELECT ?1, s.id, 'pending', ?2 FROM subscribers s \
             WHERE s.status = 'confirmed' \
               AND (NOT EXISTS (SELECT 1 FROM subscriber_tags st WHERE st.subscriber_id = s.id) \
                    OR EXISTS (SELECT 1 FROM subscriber_tags st \
                               JOIN tags t ON t.slug = st.tag_slug \
                               JOIN article_tags at ON at.tag_id = t.id \
                               WHERE st.subscriber_id = s.id AND at.article_id = ?1)) \
             ON CONFLICT DO NOTHING",
        )
        .bind(article.0)
        .bind(millis(now))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn claim_deliveries(
        &self,
        article: ArticleId,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let mut tx = self.begin_write().await?;
        let claimed: Vec<i64> = sqlx::query_scalar(
            "UPDATE newsletter_deliveries SET state = 'sending', locked_until = ?3 \
             WHERE article_id = ?1 AND subscriber_id IN ( \
                 SELECT d.subscriber_id FROM newsletter_deliveries d \
                 JOIN subscribers s ON s.id = d.subscriber_id \
                 WHERE d.article_id = ?1 AND s.status = 'confirmed' \
                   AND (d.state = 'pending' OR (d.state = 'sending' AND d.locked_until < ?2)) \
                 ORDER BY d.subscriber_id LIMIT ?4) \
             RETURNING subscriber_id",
        )
        .bind(article.0)
        .bind(millis(now))
        .bind(millis(lease_until(now, lease)))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let ids: Vec<SubscriberId> = claimed.into_iter().map(SubscriberId).collect();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, email FROM subscribers \
             WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
        )
        .bind(id_array(&ids))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(id, email)| Delivery {
                subscriber: SubscriberId(id),
                email,
            })
            .collect())
    }

    async fn mark_sent(
        &self,
        article: ArticleId,
        subscribers: &[SubscriberId],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        if subscribers.is_empty() {
            return Ok(());
        }
        let ids = id_array(subscribers);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE newsletter_deliveries SET state = 'sent', locked_until = NULL, sent_at = ? \
             WHERE article_id = ? AND subscriber_id IN (SELECT value FROM json_each(?))",
        )
        .bind(millis(now))
        .bind(article.0)
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "UPDATE subscribers SET failures = 0 \
             WHERE failures > 0 AND id IN (SELECT value FROM json_each(?))",
        )
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn release_deliveries(
        &self,
        article: ArticleId,
        subscribers: &[SubscriberId],
    ) -> StoreResult<()> {
        if subscribers.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE newsletter_deliveries SET state = 'pending', locked_until = NULL \
             WHERE article_id = ? AND state = 'sending' \
               AND subscriber_id IN (SELECT value FROM json_each(?))",
        )
        .bind(article.0)
        .bind(id_array(subscribers))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn delivery_failed(
        &self,
        article: ArticleId,
        subscriber: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<SubscriberStatus> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE newsletter_deliveries SET state = 'failed', locked_until = NULL \
             WHERE article_id = ? AND subscriber_id = ?",
        )
        .bind(article.0)
        .bind(subscriber.0)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let status: String = sqlx::query_scalar(
            "UPDATE subscribers SET failures = failures + 1, updated_at = ?1, \
                 status = CASE WHEN failures + 1 >= ?2 AND status = 'confirmed' \
                               THEN 'bounced' ELSE status END \
             WHERE id = ?3 RETURNING status",
        )
        .bind(millis(now))
        .bind(i64::from(BOUNCE_AFTER))
        .bind(subscriber.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(db_error)?;
        status.parse().map_err(StoreError::Backend)
    }

    async fn delivery_counts(&self, article: ArticleId) -> StoreResult<DeliveryCounts> {
        let pairs: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM newsletter_deliveries WHERE article_id = ? \
             GROUP BY state",
        )
        .bind(article.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(DeliveryCounts::from_pairs(pairs.iter().map(
            |(state, n)| (state.as_str(), u64::try_from(*n).unwrap_or(0)),
        )))
    }
}
