//! The newsletter's storage: subscribing (no duplicates, confirmed stays confirmed,
//! coming back after leaving), confirming, unsubscribing; deliveries queued once per
//! (article, subscriber) for those who want the article's tags; claims that never
//! overlap, even between two connections racing; leases that run out; refusals that
//! bounce an address after repeated failures.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use broadsheet_domain::subscription::BOUNCE_AFTER;
use broadsheet_domain::{
    ArticleId, Store, StoreError, SubscribeRequest, Subscriber, SubscriberId, SubscriberStatus,
};
use chrono::TimeDelta;

use crate::backends::{each_backend, each_backend_twice};
use crate::fixtures::{article, author, now, tags};

const LEASE: Duration = Duration::from_secs(120);

fn request(email: &str, tags: &[&str]) -> SubscribeRequest {
    let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
    SubscribeRequest::check(email, &tags).expect("valid request")
}

async fn confirmed(store: &dyn Store, email: &str, tags: &[&str]) -> Subscriber {
    let subscriber = store
        .add_subscriber(&request(email, tags), now())
        .await
        .unwrap();
    store
        .confirm_subscriber(subscriber.id, now())
        .await
        .unwrap()
}

async fn published(store: &dyn Store, title: &str, tag_names: &[&str]) -> ArticleId {
    let writer = match store.user_by_slug("writer").await {
        Ok(user) => user,
        Err(_) => author(store, "Writer").await,
    };
    store
        .insert_article(&article(&writer, title, |a| a.tags = tags(tag_names)))
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn subscribe_confirm_and_leave() {
    each_backend(|store| async move {
        let first = store
            .add_subscriber(
                &request(" Ann@Example.org ", &["harbour", "city-hall"]),
                now(),
            )
            .await
            .unwrap();
        assert_eq!(first.email, "ann@example.org");
        assert_eq!(first.status, SubscriberStatus::Pending);
        assert_eq!(first.tags, ["city-hall", "harbour"]);
        assert_eq!(first.confirmed_at, None);

        // Asking again: the same subscriber, with the new choice of tags.
        let again = store
            .add_subscriber(&request("ann@example.org", &["ferries"]), now())
            .await
            .unwrap();
        assert_eq!(
            (again.id, again.status),
            (first.id, SubscriberStatus::Pending)
        );
        assert_eq!(again.tags, ["ferries"]);

        let later = now() + TimeDelta::minutes(5);
        let ok = store.confirm_subscriber(first.id, later).await.unwrap();
        assert_eq!(ok.status, SubscriberStatus::Confirmed);
        assert_eq!(ok.confirmed_at, Some(later));
        // Confirming twice is fine; a confirmed subscriber asking again changes nothing.
        store.confirm_subscriber(first.id, later).await.unwrap();
        let still = store
            .add_subscriber(&request("ann@example.org", &[]), now())
            .await
            .unwrap();
        assert_eq!(
            (still.status, still.tags.clone()),
            (SubscriberStatus::Confirmed, tags(&["ferries"]))
        );

        store.unsubscribe(first.id, later).await.unwrap();
        let gone = store.subscriber_by_id(first.id).await.unwrap();
        assert_eq!(gone.status, SubscriberStatus::Unsubscribed);
        // An old confirmation link no longer brings them back.
        assert!(matches!(
            store.confirm_subscriber(first.id, later).await,
            Err(StoreError::NotFound)
        ));
        // Subscribing again starts over, with a new confirmation.
        let back = store
            .add_subscriber(&request("ann@example.org", &[]), later)
            .await
            .unwrap();
        assert_eq!(
            (back.id, back.status),
            (first.id, SubscriberStatus::Pending)
        );
        assert!(back.tags.is_empty());

        for missing in [
            store.unsubscribe(SubscriberId(999), now()).await.err(),
            store
                .confirm_subscriber(SubscriberId(999), now())
                .await
                .err(),
            store.subscriber_by_id(SubscriberId(999)).await.err(),
        ] {
            assert!(matches!(missing, Some(StoreError::NotFound)), "{missing:?}");
        }

        store
            .add_subscriber(&request("bo@example.org", &[]), now())
            .await
            .unwrap();
        let counts = store.subscriber_counts().await.unwrap();
        assert_eq!((counts.pending, counts.total()), (2, 2));
        let pending = store
            .list_subscribers(Some(SubscriberStatus::Pending), None, 10)
            .await
            .unwrap();
        assert_eq!(pending.len(), 2);
        let page = store
            .list_subscribers(None, Some(first.id), 10)
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].email, "bo@example.org");
    })
    .await;
}

#[tokio::test]
async fn deliveries_go_once_to_those_who_want_the_article() {
    each_backend(|store| async move {
        let everything = confirmed(store.as_ref(), "all@example.org", &[]).await;
        let harbour = confirmed(store.as_ref(), "harbour@example.org", &["harbour"]).await;
        let _ferries = confirmed(store.as_ref(), "ferries@example.org", &["ferries"]).await;
        store
            .add_subscriber(&request("pending@example.org", &[]), now())
            .await
            .unwrap();
        let left = confirmed(store.as_ref(), "left@example.org", &[]).await;
        store.unsubscribe(left.id, now()).await.unwrap();

        let story = published(store.as_ref(), "Harbour news", &["Harbour", "City"]).await;
        assert_eq!(store.queue_deliveries(story, now()).await.unwrap(), 2);
        assert_eq!(
            store.queue_deliveries(story, now()).await.unwrap(),
            0,
            "idempotent"
        );

        let claimed = store
            .claim_deliveries(story, now(), LEASE, 10)
            .await
            .unwrap();
        let ids: Vec<SubscriberId> = claimed.iter().map(|d| d.subscriber).collect();
        assert_eq!(ids, [everything.id, harbour.id]);
        assert_eq!(claimed[1].email, "harbour@example.org");
        assert!(
            store
                .claim_deliveries(story, now(), LEASE, 10)
                .await
                .unwrap()
                .is_empty(),
            "claimed rows are nobody else's while the lease lasts"
        );

        store
            .mark_sent(story, &[everything.id], now())
            .await
            .unwrap();
        store
            .release_deliveries(story, &[harbour.id])
            .await
            .unwrap();
        let counts = store.delivery_counts(story).await.unwrap();
        assert_eq!((counts.sent, counts.pending, counts.sending), (1, 1, 0));
        let retry = store
            .claim_deliveries(story, now(), LEASE, 10)
            .await
            .unwrap();
        assert_eq!(retry.len(), 1);
        assert_eq!(retry[0].subscriber, harbour.id);

        // A sender that died: its claim comes back once the lease ran out.
        let after_lease = now() + TimeDelta::seconds(121);
        assert!(
            store
                .claim_deliveries(story, now(), LEASE, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let reclaimed = store
            .claim_deliveries(story, after_lease, LEASE, 10)
            .await
            .unwrap();
        assert_eq!(reclaimed.len(), 1);
        store
            .mark_sent(story, &[harbour.id], after_lease)
            .await
            .unwrap();
        assert!(
            store
                .claim_deliveries(story, after_lease + TimeDelta::hours(1), LEASE, 10)
                .await
                .unwrap()
                .is_empty(),
            "sent is sent"
        );

        // Someone who unsubscribes mid-send is skipped.
        let other = published(store.as_ref(), "Other news", &[]).await;
        assert_eq!(store.queue_deliveries(other, now()).await.unwrap(), 1);
        store.unsubscribe(everything.id, now()).await.unwrap();
        assert!(
            store
                .claim_deliveries(other, now(), LEASE, 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn repeated_refusals_bounce_an_address() {
    each_backend(|store| async move {
        let sub = confirmed(store.as_ref(), "gone@example.org", &[]).await;
        for n in 1..=BOUNCE_AFTER {
            let story = published(store.as_ref(), &format!("Story {n}"), &[]).await;
            store.queue_deliveries(story, now()).await.unwrap();
            let claimed = store
                .claim_deliveries(story, now(), LEASE, 10)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 1, "still mailed after {} failures", n - 1);
            let status = store.delivery_failed(story, sub.id, now()).await.unwrap();
            let want = if n < BOUNCE_AFTER {
                SubscriberStatus::Confirmed
            } else {
                SubscriberStatus::Bounced
            };
            assert_eq!(status, want);
            let counts = store.delivery_counts(story).await.unwrap();
            assert_eq!(counts.failed, 1);
        }
        assert_eq!(
            store.subscriber_by_id(sub.id).await.unwrap().failures,
            BOUNCE_AFTER
        );
        let next = published(store.as_ref(), "After the bounce", &[]).await;
        assert_eq!(store.queue_deliveries(next, now()).await.unwrap(), 0);

        // A success in between forgets earlier failures.
        let ok = confirmed(store.as_ref(), "flaky@example.org", &[]).await;
        let a = published(store.as_ref(), "Flaky one", &[]).await;
        store.queue_deliveries(a, now()).await.unwrap();
        store.claim_deliveries(a, now(), LEASE, 10).await.unwrap();
        store.delivery_failed(a, ok.id, now()).await.unwrap();
        let b = published(store.as_ref(), "Flaky two", &[]).await;
        store.queue_deliveries(b, now()).await.unwrap();
        store.claim_deliveries(b, now(), LEASE, 10).await.unwrap();
        store.mark_sent(b, &[ok.id], now()).await.unwrap();
        assert_eq!(store.subscriber_by_id(ok.id).await.unwrap().failures, 0);
    })
    .await;
}

#[tokio::test]
async fn racing_senders_never_claim_the_same_delivery() {
    each_backend_twice(|one, two| async move {
        for n in 0..120 {
            confirmed(one.as_ref(), &format!("reader{n}@example.org"), &[]).await;
        }
        let story = published(one.as_ref(), "Big news", &[]).await;
        assert_eq!(one.queue_deliveries(story, now()).await.unwrap(), 120);
        let sender = |store: Arc<dyn Store>| {
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_deliveries(story, now(), LEASE, 7)
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        break mine;
                    }
                    let ids: Vec<SubscriberId> = batch.iter().map(|d| d.subscriber).collect();
                    store.mark_sent(story, &ids, now()).await.unwrap();
                    mine.extend(ids);
                }
            })
        };
        let (a, b) = (sender(one.clone()), sender(two.clone()));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let all: HashSet<SubscriberId> = a.iter().chain(&b).copied().collect();
        assert_eq!(a.len() + b.len(), 120, "no delivery claimed twice");
        assert_eq!(all.len(), 120, "every delivery claimed");
        assert_eq!(one.delivery_counts(story).await.unwrap().sent, 120);
    })
    .await;
}
