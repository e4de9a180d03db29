//! Push subscriptions and deliveries: subscribing (again) by endpoint and topic,
//! unsubscribing a topic or everything, planning an article's pushes once for the
//! subscriptions that follow it, claims that lease and never overlap (also between
//! two processes), outcomes, a 410 deleting the subscription, and a resumed send that
//! finds only the deliveries still pending.

use std::collections::HashSet;
use std::time::Duration;

use broadsheet_domain::{
    ArticleId, NewPushSubscription, PushOutcome, PushProgress, PushTopic, StoreError,
};
use chrono::TimeDelta;

use crate::backends::{each_backend, each_backend_twice};
use crate::fixtures::{article, author, now, tags};

const LEASE: Duration = Duration::from_secs(120);
const P256DH: &str =
    "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
const AUTH: &str = "_ordMnz7uTCmrpBTeUV4Bw";

fn endpoint(n: u32) -> String {
    format!("https://push.example.net/send/{n}")
}

fn subscription(n: u32, topic: PushTopic) -> NewPushSubscription {
    NewPushSubscription::check(&endpoint(n), P256DH, AUTH, topic).expect("valid subscription")
}

fn tag(slug: &str) -> PushTopic {
    PushTopic::Tag(slug.to_owned())
}

#[tokio::test]
async fn subscribing_again_adds_topics_and_replaces_keys() {
    each_backend(|store| async move {
        let first = store
            .subscribe_push(&subscription(1, PushTopic::Site), now())
            .await
            .unwrap();
        assert_eq!(first.topics, vec![PushTopic::Site]);
        assert_eq!(first.created_at, now());

        let mut again = subscription(1, tag("nato"));
        again.auth = "AAAAAAAAAAAAAAAAAAAAAA".into();
        let second = store.subscribe_push(&again, now()).await.unwrap();
        assert_eq!(second.id, first.id, "one endpoint, one subscription");
        assert_eq!(second.topics, vec![PushTopic::Site, tag("nato")]);
        assert_eq!(second.auth, "AAAAAAAAAAAAAAAAAAAAAA");
        // The same topic twice is still one.
        store.subscribe_push(&again, now()).await.unwrap();
        let read = store
            .push_subscription_by_endpoint(&endpoint(1))
            .await
            .unwrap();
        assert_eq!(read, second);
        assert_eq!(store.count_push_subscriptions().await.unwrap(), 1);
        assert!(matches!(
            store.push_subscription_by_endpoint(&endpoint(9)).await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn unsubscribing_a_topic_or_everything() {
    each_backend(|store| async move {
        store
            .subscribe_push(&subscription(1, PushTopic::Site), now())
            .await
            .unwrap();
        store
            .subscribe_push(&subscription(1, tag("nato")), now())
            .await
            .unwrap();

        let left = store
            .unsubscribe_push(&endpoint(1), Some(&PushTopic::Site))
            .await
            .unwrap()
            .expect("still follows a tag");
        assert_eq!(left.topics, vec![tag("nato")]);
        // A topic it does not follow, an endpoint nobody has: NotFound.
        assert!(matches!(
            store
                .unsubscribe_push(&endpoint(1), Some(&tag("sport")))
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.unsubscribe_push(&endpoint(2), None).await,
            Err(StoreError::NotFound)
        ));
        // The last topic takes the subscription with it.
        let gone = store
            .unsubscribe_push(&endpoint(1), Some(&tag("nato")))
            .await
            .unwrap();
        assert_eq!(gone, None);
        assert_eq!(store.count_push_subscriptions().await.unwrap(), 0);

        store
            .subscribe_push(&subscription(3, tag("a")), now())
            .await
            .unwrap();
        store
            .subscribe_push(&subscription(3, tag("b")), now())
            .await
            .unwrap();
        assert_eq!(
            store.unsubscribe_push(&endpoint(3), None).await.unwrap(),
            None
        );
        assert_eq!(store.count_push_subscriptions().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_plan_covers_the_followers_once() {
    each_backend(|store| async move {
        let ada = author(store.as_ref(), "Ada").await;
        let story = store
            .insert_article(&article(&ada, "Summit", |a| {
                a.tags = tags(&["NATO", "World"])
            }))
            .await
            .unwrap();
        // 1: the site, 2: a tag of the story, 3: another tag, 4: the site and a tag.
        for (n, topic) in [
            (1, PushTopic::Site),
            (2, tag("nato")),
            (3, tag("sport")),
            (4, PushTopic::Site),
            (4, tag("world")),
        ] {
            store
                .subscribe_push(&subscription(n, topic), now())
                .await
                .unwrap();
        }
        assert_eq!(store.plan_push(story.id, now()).await.unwrap(), 3);
        // Planned once ever: a later subscriber is not added by planning again.
        store
            .subscribe_push(&subscription(5, PushTopic::Site), now())
            .await
            .unwrap();
        assert_eq!(store.plan_push(story.id, now()).await.unwrap(), 0);
        assert_eq!(
            store.push_progress(story.id).await.unwrap(),
            PushProgress {
                pending: 3,
                sent: 0,
                failed: 0
            }
        );
        let claimed = store
            .claim_pushes(story.id, now(), now(), LEASE, 10)
            .await
            .unwrap();
        let endpoints: Vec<&str> = claimed
            .iter()
            .map(|c| c.subscription.endpoint.as_str())
            .collect();
        assert_eq!(endpoints, [endpoint(1), endpoint(2), endpoint(4)]);
        assert!(
            claimed
                .iter()
                .all(|c| c.attempts == 1 && c.article == story.id)
        );
        assert_eq!(
            claimed[2].subscription.topics,
            vec![PushTopic::Site, tag("world")]
        );
        assert!(matches!(
            store.plan_push(ArticleId(9999), now()).await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn outcomes_and_a_resumed_send() {
    each_backend(|store| async move {
        let ada = author(store.as_ref(), "Ada").await;
        let story = store
            .insert_article(&article(&ada, "Budget", |_| {}))
            .await
            .unwrap();
        for n in 1..=6 {
            store
                .subscribe_push(&subscription(n, PushTopic::Site), now())
                .await
                .unwrap();
        }
        assert_eq!(store.plan_push(story.id, now()).await.unwrap(), 6);

        // A first run claims four and hears back from three, then dies.
        let run = store
            .claim_pushes(story.id, now(), now(), LEASE, 4)
            .await
            .unwrap();
        assert_eq!(run.len(), 4);
        let id = |i: usize| run[i].subscription.id;
        store
            .finish_push(story.id, id(0), &PushOutcome::Sent, now())
            .await
            .unwrap();
        store
            .finish_push(story.id, id(1), &PushOutcome::Gone, now())
            .await
            .unwrap();
        let retry_at = now() + TimeDelta::seconds(30);
        store
            .finish_push(
                story.id,
                id(2),
                &PushOutcome::Retry {
                    error: "503 from the push service".into(),
                    retry_at,
                },
                now(),
            )
            .await
            .unwrap();
        // The 410 took the subscription away.
        assert_eq!(store.count_push_subscriptions().await.unwrap(), 5);
        assert!(matches!(
            store.push_subscription_by_endpoint(&endpoint(2)).await,
            Err(StoreError::NotFound)
        ));

        // A resumed run now finds only the two never claimed; the one in flight is
        // leased, the one to retry is not due yet.
        let soon = now() + TimeDelta::seconds(1);
        let resumed = store
            .claim_pushes(story.id, soon, soon, LEASE, 10)
            .await
            .unwrap();
        let endpoints: HashSet<String> = resumed
            .iter()
            .map(|c| c.subscription.endpoint.clone())
            .collect();
        assert_eq!(endpoints, HashSet::from([endpoint(5), endpoint(6)]));
        for claimed in &resumed {
            store
                .finish_push(story.id, claimed.subscription.id, &PushOutcome::Sent, soon)
                .await
                .unwrap();
        }
        // After the lease and the retry time: the lost one and the retried one, each
        // on its second try.
        let later = now() + TimeDelta::seconds(LEASE.as_secs() as i64 + 1);
        let mut last = store
            .claim_pushes(story.id, later, later, LEASE, 10)
            .await
            .unwrap();
        last.sort_by_key(|c| c.subscription.id);
        let endpoints: Vec<&str> = last
            .iter()
            .map(|c| c.subscription.endpoint.as_str())
            .collect();
        assert_eq!(endpoints, [endpoint(3), endpoint(4)]);
        assert!(last.iter().all(|c| c.attempts == 2));
        store
            .finish_push(story.id, last[0].subscription.id, &PushOutcome::Sent, later)
            .await
            .unwrap();
        store
            .finish_push(
                story.id,
                last[1].subscription.id,
                &PushOutcome::Failed {
                    error: "400 from the push service".into(),
                },
                later,
            )
            .await
            .unwrap();
        assert_eq!(
            store.push_progress(story.id).await.unwrap(),
            PushProgress {
                pending: 0,
                sent: 4,
                failed: 1
            }
        );
        assert!(
            store
                .claim_pushes(story.id, later, later, LEASE, 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn two_processes_never_claim_the_same_push() {
    each_backend_twice(|one, two| async move {
        let ada = author(one.as_ref(), "Ada").await;
        let story = one
            .insert_article(&article(&ada, "Race", |_| {}))
            .await
            .unwrap();
        for n in 0..40 {
            one.subscribe_push(&subscription(n, PushTopic::Site), now())
                .await
                .unwrap();
        }
        one.plan_push(story.id, now()).await.unwrap();
        let mut tasks = Vec::new();
        for k in 0..8 {
            let store = if k % 2 == 0 { one.clone() } else { two.clone() };
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_pushes(story.id, now(), now(), LEASE, 3)
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|c| c.subscription.id));
                }
            }));
        }
        let mut seen = HashSet::new();
        for task in tasks {
            for id in task.await.unwrap() {
                assert!(seen.insert(id), "subscription {id} claimed twice");
            }
        }
        assert_eq!(seen.len(), 40);
    })
    .await;
}
