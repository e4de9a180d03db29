//! Webhooks and their delivery log in SQLite (see `migrations/0014_webhooks.sql`).
//! Recording an event's deliveries is one `INSERT … SELECT` over the webhooks that
//! listen for it, with the event key unique per webhook, so an event reported twice
//! (a job run again after its lease ran out) is delivered once.
//!
//! Webhook writes publish no change notice: no page or cache shows them.

use std::collections::HashMap;

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    NewWebhook, StoreError, Webhook, WebhookAttempt, WebhookDelivery, WebhookDeliveryId,
    WebhookEvent, WebhookId, WebhookStore,
};
use chrono::{DateTime, Utc};

use crate::SqliteStore;
use crate::rows::{db_error, from_millis, millis, to_u32};

/// The columns of [`DeliveryRow`].
macro_rules! delivery_columns {
    () => {
        "id, webhook_id, event, body, state, attempts, last_status, last_error, created_at, \
         updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    webhook_id: i64,
    event: String,
    body: String,
    state: String,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<DeliveryRow> for WebhookDelivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> StoreResult<WebhookDelivery> {
        Ok(WebhookDelivery {
            id: WebhookDeliveryId(row.id),
            webhook_id: WebhookId(row.webhook_id),
            event: row.event.parse().map_err(StoreError::Backend)?,
            body: row.body,
            state: row.state.parse().map_err(StoreError::Backend)?,
            attempts: to_u32(row.attempts)?,
            last_status: row.last_status.and_then(|s| u16::try_from(s).ok()),
            last_error: row.last_error,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

impl SqliteStore {
    /// Webhooks with their events; `only` narrows to one.
    async fn webhooks(&self, only: Option<WebhookId>) -> StoreResult<Vec<Webhook>> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, url, secret, created_at FROM webhooks \
             WHERE ?1 IS NULL OR id = ?1 ORDER BY id",
        )
        .bind(only.map(|id| id.0))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let events: Vec<(i64, String)> = sqlx::query_as(
            "SELECT webhook_id, event FROM webhook_events \
             WHERE ?1 IS NULL OR webhook_id = ?1 ORDER BY webhook_id",
        )
        .bind(only.map(|id| id.0))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut by_hook: HashMap<i64, Vec<WebhookEvent>> = HashMap::new();
        for (id, event) in events {
            by_hook
                .entry(id)
                .or_default()
                .push(event.parse().map_err(StoreError::Backend)?);
        }
        rows.into_iter()
            .map(|(id, url, secret, created_at)| {
                let mut events = by_hook.remove(&id).unwrap_or_default();
                events.sort();
                Ok(Webhook {
                    id: WebhookId(id),
                    url,
                    events,
                    secret,
                    created_at: from_millis(created_at)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(
        &self,
        webhook: &NewWebhook,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (url, secret, created_at) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(&webhook.url)
        .bind(&webhook.secret)
        .bind(millis(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        for event in &webhook.events {
            sqlx::query("INSERT INTO webhook_events (webhook_id, event) VALUES (?, ?)")
                .bind(id)
                .bind(event.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        self.webhook_by_id(WebhookId(id)).await
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>> {
        self.webhooks(None).await
    }

    async fn webhook_by_id(&self, id: WebhookId) -> StoreResult<Webhook> {
        self.webhooks(Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    async fn delete_webhook(&self, id: WebhookId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = ?")
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn add_webhook_deliveries(
        &self,
        event: WebhookEvent,
        key: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<WebhookDeliveryId>> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, event, event_key, body, state, \
                 created_at, updated_at) \
             SELECT e.webhook_id, e.event, ?2, ?3, 'pending', ?4, ?4 \
             FROM webhook_events e WHERE e.event = ?1 \
             ON CONFLICT (webhook_id, event_key) DO NOTHING",
        )
        .bind(event.as_str())
        .bind(key)
        .bind(body)
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE event_key = ? ORDER BY id")
                .bind(key)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(ids.into_iter().map(WebhookDeliveryId).collect())
    }

    async fn webhook_delivery_by_id(&self, id: WebhookDeliveryId) -> StoreResult<WebhookDelivery> {
        let row: DeliveryRow = sqlx::query_as(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries WHERE id = ?"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    async fn record_webhook_attempt(
        &self,
        id: WebhookDeliveryId,
        attempt: &WebhookAttempt,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, state = ?, \
                 last_status = ?, last_error = ?, updated_at = ? WHERE id = ?",
        )
        .bind(attempt.state.as_str())
        .bind(attempt.status.map(i64::from))
        .bind(&attempt.error)
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

    async fn list_webhook_deliveries(
        &self,
        webhook: Option<WebhookId>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDelivery>> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries WHERE ?1 IS NULL OR webhook_id = ?1 \
             ORDER BY id DESC LIMIT ?2"
        ))
        .bind(webhook.map(|id| id.0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(WebhookDelivery::try_from).collect()
    }
}
