//! Webhooks' storage: registering and removing, deliveries recorded once per webhook
//! and event key for the webhooks that listen for the event, attempts logged.

use broadsheet_domain::{
    NewWebhook, StoreError, WebhookAttempt, WebhookDeliveryId, WebhookDeliveryState, WebhookEvent,
    WebhookId,
};
use chrono::TimeDelta;

use crate::backends::each_backend;
use crate::fixtures::now;

fn hook(url: &str, events: &[&str]) -> NewWebhook {
    let events: Vec<String> = events.iter().map(|e| (*e).to_owned()).collect();
    NewWebhook::check(url, &events, format!("secret-for-{url}")).expect("valid webhook")
}

#[tokio::test]
async fn webhooks_record_each_event_once_for_their_listeners() {
    each_backend(|store| async move {
        let articles = store
            .create_webhook(
                &hook(
                    "https://a.example/hook",
                    &["article.published", "article.updated"],
                ),
                now(),
            )
            .await
            .unwrap();
        assert_eq!(
            articles.events,
            [WebhookEvent::ArticlePublished, WebhookEvent::ArticleUpdated]
        );
        assert_eq!(articles.secret, "secret-for-https://a.example/hook");
        let comments = store
            .create_webhook(&hook("https://c.example/hook", &["comment.posted"]), now())
            .await
            .unwrap();
        assert_eq!(
            store.list_webhooks().await.unwrap(),
            [articles.clone(), comments.clone()]
        );

        let body = r#"{"event":"article.published"}"#;
        let ids = store
            .add_webhook_deliveries(
                WebhookEvent::ArticlePublished,
                "article.published:1",
                body,
                now(),
            )
            .await
            .unwrap();
        assert_eq!(ids.len(), 1);
        let again = store
            .add_webhook_deliveries(
                WebhookEvent::ArticlePublished,
                "article.published:1",
                "other",
                now(),
            )
            .await
            .unwrap();
        assert_eq!(
            again, ids,
            "a repeated event adds nothing and names the same delivery"
        );
        let delivery = store.webhook_delivery_by_id(ids[0]).await.unwrap();
        assert_eq!(delivery.webhook_id, articles.id);
        assert_eq!(delivery.body, body);
        assert_eq!(
            (delivery.state, delivery.attempts),
            (WebhookDeliveryState::Pending, 0)
        );
        assert!(
            store
                .add_webhook_deliveries(
                    WebhookEvent::CommentApproved,
                    "comment.approved:3",
                    "{}",
                    now()
                )
                .await
                .unwrap()
                .is_empty(),
            "nobody listens for approvals"
        );

        let later = now() + TimeDelta::seconds(30);
        store
            .record_webhook_attempt(
                ids[0],
                &WebhookAttempt {
                    state: WebhookDeliveryState::Pending,
                    status: Some(503),
                    error: Some("the receiver answered 503".into()),
                },
                later,
            )
            .await
            .unwrap();
        store
            .record_webhook_attempt(
                ids[0],
                &WebhookAttempt {
                    state: WebhookDeliveryState::Delivered,
                    status: Some(200),
                    error: None,
                },
                later,
            )
            .await
            .unwrap();
        let done = store.webhook_delivery_by_id(ids[0]).await.unwrap();
        assert_eq!(
            (
                done.state,
                done.attempts,
                done.last_status,
                done.last_error.as_deref()
            ),
            (WebhookDeliveryState::Delivered, 2, Some(200), None)
        );
        assert_eq!(done.updated_at, later);

        let posted = store
            .add_webhook_deliveries(WebhookEvent::CommentPosted, "comment.posted:9", "{}", now())
            .await
            .unwrap();
        let log = store.list_webhook_deliveries(None, 10).await.unwrap();
        assert_eq!(
            log.iter().map(|d| d.id).collect::<Vec<_>>(),
            [posted[0], ids[0]]
        );
        let only = store
            .list_webhook_deliveries(Some(comments.id), 10)
            .await
            .unwrap();
        assert_eq!(only.len(), 1);

        store.delete_webhook(comments.id).await.unwrap();
        assert!(matches!(
            store.webhook_delivery_by_id(posted[0]).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.list_webhooks().await.unwrap(), [articles]);
        assert!(matches!(
            store.delete_webhook(WebhookId(999)).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .record_webhook_attempt(
                    WebhookDeliveryId(999),
                    &WebhookAttempt {
                        state: WebhookDeliveryState::Failed,
                        status: None,
                        error: None
                    },
                    now()
                )
                .await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}
