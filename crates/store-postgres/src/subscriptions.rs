//! The newsletter in PostgreSQL (see `migrations/0011_subscriptions.sql`). Senders on
//! every node claim delivery rows as workers claim jobs: a CTE with
//! `FOR UPDATE SKIP LOCKED` feeding one `UPDATE … RETURNING`, so two senders never
//! take the same (article, subscriber) and neither waits for the other.
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
use sqlx::PgConnection;

use crate::PgStore;
use crate::rows::{db_error, to_u32};

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
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl SubscriberRow {
    fn into_subscriber(self, tags: Vec<String>) -> StoreResult<Subscriber> {
        Ok(Subscriber {
            id: SubscriberId(self.id),
            email: self.email,
            status: self.status.parse().map_err(StoreError::Backend)?,
            tags,
            failures: to_u32(self.failures)?,
            created_at: self.created_at,
            confirmed_at: self.confirmed_at,
            updated_at: self.updated_at,
        })
    }
}

fn ids_of(ids: &[SubscriberId]) -> Vec<i64> {
    ids.iter().map(|id| id.0).collect()
}

async fn with_tags(
    conn: &mut PgConnection,
    rows: Vec<SubscriberRow>,
) -> StoreResult<Vec<Subscriber>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let pairs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT subscriber_id, tag_slug FROM subscriber_tags WHERE subscriber_id = ANY($1) \
         ORDER BY subscriber_id, tag_slug",
    )
    .bind(&ids)
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

async fn load(conn: &mut PgConnection, id: SubscriberId) -> StoreResult<Subscriber> {
    let row: SubscriberRow = sqlx::query_as(concat!(
        "SELECT ",
        subscriber_columns!(),
        " FROM subscribers WHERE id = $1"
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

async fn replace_tags(conn: &mut PgConnection, id: i64, tags: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM subscriber_tags WHERE subscriber_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO subscriber_tags (subscriber_id, tag_slug) \
         SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(tags)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl SubscriptionStore for PgStore {
    async fn add_subscriber(
        &self,
        request: &SubscribeRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO subscribers (email, status, created_at, updated_at) \
             VALUES ($1, 'pending', $2, $2) ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(&request.email)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let id = match inserted {
            Some(id) => {
                replace_tags(&mut tx, id, &request.tags).await?;
                id
            }
            None => {
                // Locked, so two requests for one address take turns.
                let (id, status): (i64, String) = sqlx::query_as(
                    "SELECT id, status FROM subscribers WHERE email = $1 FOR UPDATE",
                )
                .bind(&request.email)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
                if status != SubscriberStatus::Confirmed.as_str() {
                    sqlx::query(
                        "UPDATE subscribers SET status = 'pending', failures = 0, \
                         updated_at = $1 WHERE id = $2",
                    )
                    .bind(now)
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
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "UPDATE subscribers SET status = 'confirmed', confirmed_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'pending'",
        )
        .bind(now)
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
            "UPDATE subscribers SET status = 'unsubscribed', updated_at = $1 WHERE id = $2",
        )
        .bind(now)
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
             WHERE ($1::text IS NULL OR status = $1) AND id > $2 ORDER BY id LIMIT $3"
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
        let done = sqlx::query(
            "INSERT INTO newsletter_deliveries (article_id, subscriber_id, state, created_at) \
             SELECT $1, s.id, 'pending', $2 FROM subscribers s \
             WHERE s.status = 'confirmed' \
               AND (NOT EXISTS (SELECT 1 FROM subscriber_tags st WHERE st.subscriber_id = s.id) \
                    OR EXISTS (SELECT 1 FROM subscriber_tags st \
                               JOIN tags t ON t.slug = st.tag_slug \
                               JOIN article_tags at ON at.tag_id = t.id \
                               WHERE st.subscriber_id = s.id AND at.article_id = $1)) \
             ON CONFLICT DO NOTHING",
        )
        .bind(article.0)
        .bind(now)
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
        let mut rows: Vec<(i64, String)> = sqlx::query_as(
            "WITH due AS ( \
                 SELECT d.subscriber_id FROM newsletter_deliveries d \
                 JOIN subscribers s ON s.id = d.subscriber_id \
                 WHERE d.article_id = $1 AND s.status = 'confirmed' \
                   AND (d.state = 'pending' OR (d.state = 'sending' AND d.locked_until < $2)) \
                 ORDER BY d.subscriber_id LIMIT $4 \
                 FOR UPDATE OF d SKIP LOCKED) \
             UPDATE newsletter_deliveries nd SET state = 'sending', locked_until = $3 \
             FROM due, subscribers s \
             WHERE nd.article_id = $1 AND nd.subscriber_id = due.subscriber_id \
               AND s.id = due.subscriber_id \
             RETURNING s.id, s.email",
        )
        .bind(article.0)
        .bind(now)
        .bind(lease_until(now, lease))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        // RETURNING promises no order.
        rows.sort_by_key(|(id, _)| *id);
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
        let ids = ids_of(subscribers);
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "UPDATE newsletter_deliveries SET state = 'sent', locked_until = NULL, sent_at = $1 \
             WHERE article_id = $2 AND subscriber_id = ANY($3)",
        )
        .bind(now)
        .bind(article.0)
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query("UPDATE subscribers SET failures = 0 WHERE failures > 0 AND id = ANY($1)")
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
             WHERE article_id = $1 AND state = 'sending' AND subscriber_id = ANY($2)",
        )
        .bind(article.0)
        .bind(ids_of(subscribers))
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
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "UPDATE newsletter_deliveries SET state = 'failed', locked_until = NULL \
             WHERE article_id = $1 AND subscriber_id = $2",
        )
        .bind(article.0)
        .bind(subscriber.0)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let status: String = sqlx::query_scalar(
            "UPDATE subscribers SET failures = failures + 1, updated_at = $1, \
                 status = CASE WHEN failures + 1 >= $2 AND status = 'confirmed' \
                               THEN 'bounced' ELSE status END \
             WHERE id = $3 RETURNING status",
        )
        .bind(now)
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
            "SELECT state, COUNT(*) FROM newsletter_deliveries WHERE article_id = $1 \
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
