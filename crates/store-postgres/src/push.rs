//! Push subscriptions and deliveries in PostgreSQL (see `migrations/0013_push.sql`).
//! Claims lock the due rows with `FOR UPDATE SKIP LOCKED` in a CTE feeding one
//! `UPDATE ... RETURNING`, as the job queue does: nodes sending the same article take
//! different rows and never wait for each other.
//!
//! Push writes publish no change notice: no page or cache shows them.

use std::time::Duration;

use async_trait::async_trait;
use broadsheet_domain::job::lease_until;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    ArticleId, ClaimedPush, NewPushSubscription, PushOutcome, PushProgress, PushStore,
    PushSubscription, PushSubscriptionId, PushTopic, StoreError,
};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::PgStore;
use crate::rows::{db_error, to_u32};

type SubscriptionRow = (i64, String, String, String, DateTime<Utc>, Vec<String>);

/// Reads subscriptions with their topics, by id.
async fn subscriptions(conn: &mut PgConnection, ids: &[i64]) -> StoreResult<Vec<PushSubscription>> {
    let rows: Vec<SubscriptionRow> = sqlx::query_as(
        "SELECT s.id, s.endpoint, s.p256dh, s.auth, s.created_at, \
                COALESCE(array_agg(t.topic ORDER BY t.topic) \
                         FILTER (WHERE t.topic IS NOT NULL), '{}') \
         FROM push_subscriptions s LEFT JOIN push_topics t ON t.subscription_id = s.id \
         WHERE s.id = ANY($1) GROUP BY s.id ORDER BY s.id",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(id, endpoint, p256dh, auth, created_at, topics)| {
            let mut topics: Vec<PushTopic> =
                topics.iter().map(|t| PushTopic::from_key(t)).collect();
            topics.sort();
            PushSubscription {
                id: PushSubscriptionId(id),
                endpoint,
                p256dh,
                auth,
                topics,
                created_at,
            }
        })
        .collect())
}

async fn one(conn: &mut PgConnection, id: i64) -> StoreResult<PushSubscription> {
    subscriptions(conn, &[id])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

#[async_trait]
impl PushStore for PgStore {
    async fn subscribe_push(
        &self,
        subscription: &NewPushSubscription,
        now: DateTime<Utc>,
    ) -> StoreResult<PushSubscription> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, \
             auth = excluded.auth, updated_at = excluded.updated_at RETURNING id",
        )
        .bind(&subscription.endpoint)
        .bind(&subscription.p256dh)
        .bind(&subscription.auth)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO push_topics (subscription_id, topic) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(subscription.topic.as_key())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let stored = one(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }

    async fn unsubscribe_push(
        &self,
        endpoint: &str,
        topic: Option<&PushTopic>,
    ) -> StoreResult<Option<PushSubscription>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let id: i64 =
            sqlx::query_scalar("SELECT id FROM push_subscriptions WHERE endpoint = $1 FOR UPDATE")
                .bind(endpoint)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?
                .ok_or(StoreError::NotFound)?;
        if let Some(topic) = topic {
            let removed =
                sqlx::query("DELETE FROM push_topics WHERE subscription_id = $1 AND topic = $2")
                    .bind(id)
                    .bind(topic.as_key())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?
                    .rows_affected();
            if removed == 0 {
                return Err(StoreError::NotFound);
            }
        }
        // A subscription following nothing is of no use: it goes, deliveries and all.
        let delete = match topic {
            None => "DELETE FROM push_subscriptions WHERE id = $1",
            Some(_) => {
                "DELETE FROM push_subscriptions WHERE id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM push_topics WHERE subscription_id = $1)"
            }
        };
        sqlx::query(delete)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let left = subscriptions(&mut tx, &[id]).await?.pop();
        tx.commit().await.map_err(db_error)?;
        Ok(left)
    }

    async fn push_subscription_by_endpoint(&self, endpoint: &str) -> StoreResult<PushSubscription> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM push_subscriptions WHERE endpoint = $1")
            .bind(endpoint)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound)?;
        one(&mut conn, id).await
    }

    async fn count_push_subscriptions(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_subscriptions")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        u64::try_from(n).map_err(StoreError::backend)
    }

    async fn plan_push(&self, article: ArticleId, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // The plan row is the once-ever marker: a concurrent planner waits on it and
        // then inserts nothing. A missing article fails its foreign key: NotFound.
        let planned = sqlx::query(
            "INSERT INTO push_plans (article_id, planned_at) VALUES ($1, $2) \
             ON CONFLICT (article_id) DO NOTHING",
        )
        .bind(article.0)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if planned == 0 {
            return Ok(0);
        }
        let added = sqlx::query(
            "INSERT INTO push_deliveries (article_id, subscription_id, state, due_at, \
             updated_at) \
             SELECT DISTINCT $1::bigint, pt.subscription_id, 'pending', $2::timestamptz, \
                    $2::timestamptz FROM push_topics pt \
             WHERE pt.topic = '' OR pt.topic IN (SELECT t.slug FROM article_tags at \
                                                 JOIN tags t ON t.id = at.tag_id \
                                                 WHERE at.article_id = $1)",
        )
        .bind(article.0)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        tx.commit().await.map_err(db_error)?;
        Ok(added)
    }

    async fn claim_pushes(
        &self,
        article: ArticleId,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedPush>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let mut claimed: Vec<(i64, i64)> = sqlx::query_as(
            "WITH due AS ( \
                 SELECT subscription_id FROM push_deliveries \
                 WHERE article_id = $1 AND state = 'pending' AND due_at <= $2 \
                 ORDER BY subscription_id LIMIT $5 \
                 FOR UPDATE SKIP LOCKED) \
             UPDATE push_deliveries d SET attempts = d.attempts + 1, due_at = $3, \
                    updated_at = $4 \
             FROM due WHERE d.article_id = $1 AND d.subscription_id = due.subscription_id \
             RETURNING d.subscription_id, d.attempts",
        )
        .bind(article.0)
        .bind(due)
        .bind(lease_until(now, lease))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        claimed.sort_unstable();
        let ids: Vec<i64> = claimed.iter().map(|c| c.0).collect();
        let found = subscriptions(&mut tx, &ids).await?;
        tx.commit().await.map_err(db_error)?;
        found
            .into_iter()
            .zip(claimed)
            .map(|(subscription, (_, attempts))| {
                Ok(ClaimedPush {
                    article,
                    subscription,
                    attempts: to_u32(attempts)?,
                })
            })
            .collect()
    }

    async fn finish_push(
        &self,
        article: ArticleId,
        subscription: PushSubscriptionId,
        outcome: &PushOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (state, error, due) = match outcome {
            PushOutcome::Gone => {
                // Deliveries go with it (ON DELETE CASCADE).
                sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
                    .bind(subscription.0)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                return Ok(());
            }
            PushOutcome::Sent => ("sent", None, now),
            PushOutcome::Retry { error, retry_at } => ("pending", Some(error), *retry_at),
            PushOutcome::Failed { error } => ("failed", Some(error), now),
        };
        sqlx::query(
            "UPDATE push_deliveries SET state = $1, last_error = $2, due_at = $3, \
             updated_at = $4 WHERE article_id = $5 AND subscription_id = $6",
        )
        .bind(state)
        .bind(error)
        .bind(due)
        .bind(now)
        .bind(article.0)
        .bind(subscription.0)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn push_progress(&self, article: ArticleId) -> StoreResult<PushProgress> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM push_deliveries WHERE article_id = $1 GROUP BY state",
        )
        .bind(article.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let pairs = rows
            .into_iter()
            .map(|(state, n)| Ok((state, u64::try_from(n).map_err(StoreError::backend)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        PushProgress::from_pairs(pairs).map_err(StoreError::Backend)
    }
}
