//! The job queue: enqueue, claim, complete; keys that make enqueueing idempotent; jobs
//! that wait for their time; failures retried after a backoff and dead once their
//! attempts are spent, and revived by hand; leases that run out; pruning; claimers
//! racing over many jobs; and scheduled articles published exactly once however many
//! workers race for them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use broadsheet_domain::job::backoff;
use broadsheet_domain::{
    ArticleId, Change, JobCounts, JobId, JobState, NewJob, Status, Store, StoreError,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::backends::{each_backend, each_backend_twice};
use crate::changes::next;
use crate::fixtures::{article, author, hours_ago, hours_ahead, now};

const LEASE: Duration = Duration::from_secs(300);

fn email_job(n: u32, run_at: DateTime<Utc>) -> NewJob {
    NewJob::new(
        "send_email",
        json!({ "to": format!("reader{n}@example.org") }),
        run_at,
    )
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

fn later(t: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    t + TimeDelta::seconds(seconds)
}

#[tokio::test]
async fn enqueue_claim_complete() {
    each_backend(|store| async move {
        let id = store
            .enqueue_job(&email_job(1, hours_ago(1)))
            .await
            .unwrap();
        let queued = store.job_by_id(id).await.unwrap();
        assert_eq!(queued.state, JobState::Queued);
        assert_eq!(
            (queued.attempts, queued.max_attempts),
            (0, NewJob::DEFAULT_MAX_ATTEMPTS)
        );
        assert_eq!(queued.kind, "send_email");
        assert_eq!(queued.payload, json!({ "to": "reader1@example.org" }));
        assert_eq!(queued.run_at, hours_ago(1));
        assert_eq!(queued.key, None);

        let claimed = store.claim_jobs(now(), LEASE, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        let job = &claimed[0];
        assert_eq!(
            (job.id, job.state, job.attempts),
            (id, JobState::Running, 1)
        );
        assert_eq!(job.locked_until, Some(later(now(), 300)));
        assert_eq!(job.payload, queued.payload);
        assert!(
            store.claim_jobs(now(), LEASE, 10).await.unwrap().is_empty(),
            "a running job with a live lease is nobody else's"
        );

        store.complete_job(id, now()).await.unwrap();
        let done = store.job_by_id(id).await.unwrap();
        assert_eq!((done.state, done.locked_until), (JobState::Done, None));
        assert!(
            store
                .claim_jobs(later(now(), 3600), LEASE, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.job_counts().await.unwrap(),
            JobCounts {
                done: 1,
                ..JobCounts::default()
            }
        );

        let ghost = JobId(987_654);
        assert_not_found(store.complete_job(ghost, now()).await);
        assert_not_found(store.job_by_id(ghost).await);
    })
    .await;
}

#[tokio::test]
async fn claims_take_the_oldest_due_first_and_respect_the_limit() {
    each_backend(|store| async move {
        let mut ids = Vec::new();
        for hours in [1, 3, 2] {
            ids.push(
                store
                    .enqueue_job(&email_job(1, hours_ago(hours)))
                    .await
                    .unwrap(),
            );
        }
        let future = store
            .enqueue_job(&email_job(2, hours_ahead(1)))
            .await
            .unwrap();

        let first = store.claim_jobs(now(), LEASE, 2).await.unwrap();
        let first: Vec<JobId> = first.iter().map(|j| j.id).collect();
        assert_eq!(first, [ids[1], ids[2]], "three hours ago, then two");
        let rest = store.claim_jobs(now(), LEASE, 2).await.unwrap();
        assert_eq!(rest.iter().map(|j| j.id).collect::<Vec<_>>(), [ids[0]]);
        for id in &ids {
            store.complete_job(*id, now()).await.unwrap();
        }

        assert_eq!(
            store.job_by_id(future).await.unwrap().state,
            JobState::Queued,
            "not claimed before its run_at"
        );
        let at_its_time = store.claim_jobs(hours_ahead(1), LEASE, 10).await.unwrap();
        assert_eq!(
            at_its_time.iter().map(|j| j.id).collect::<Vec<_>>(),
            [future]
        );
    })
    .await;
}

#[tokio::test]
async fn a_key_enqueues_once_whatever_the_state() {
    each_backend(|store| async move {
        let job = email_job(1, hours_ago(1)).with_key("welcome:ada");
        let id = store.enqueue_job(&job).await.unwrap();
        let again = NewJob::new("other", json!({}), hours_ahead(5)).with_key("welcome:ada");
        assert_eq!(store.enqueue_job(&again).await.unwrap(), id);
        let kept = store.job_by_id(id).await.unwrap();
        assert_eq!(
            (kept.kind.as_str(), kept.run_at),
            ("send_email", hours_ago(1))
        );
        assert_eq!(kept.key.as_deref(), Some("welcome:ada"));

        store.claim_jobs(now(), LEASE, 10).await.unwrap();
        store.complete_job(id, now()).await.unwrap();
        assert_eq!(
            store.enqueue_job(&job).await.unwrap(),
            id,
            "done still counts"
        );
        assert_eq!(store.job_counts().await.unwrap().total(), 1);

        // Jobs without a key never clash.
        let a = store.enqueue_job(&email_job(2, now())).await.unwrap();
        let b = store.enqueue_job(&email_job(2, now())).await.unwrap();
        assert_ne!(a, b);
    })
    .await;
}

#[tokio::test]
async fn racing_enqueues_of_one_key_make_one_job() {
    each_backend_twice(|one, two| async move {
        let mut tasks = Vec::new();
        for n in 0..8 {
            let store = if n % 2 == 0 { one.clone() } else { two.clone() };
            tasks.push(tokio::spawn(async move {
                let job = email_job(n, now()).with_key("digest:2026-06-01");
                store.enqueue_job(&job).await.unwrap()
            }));
        }
        let mut ids = HashSet::new();
        for task in tasks {
            ids.insert(task.await.unwrap());
        }
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(one.job_counts().await.unwrap().queued, 1);
    })
    .await;
}

#[tokio::test]
async fn failures_retry_after_their_backoff_then_the_job_is_dead_until_revived() {
    each_backend(|store| async move {
        let id = store
            .enqueue_job(&email_job(1, now()).with_max_attempts(3))
            .await
            .unwrap();
        let mut clock = now();
        for attempt in 1..=3u32 {
            let claimed = store.claim_jobs(clock, LEASE, 10).await.unwrap();
            assert_eq!(claimed.len(), 1, "attempt {attempt}");
            assert_eq!(claimed[0].attempts, attempt);
            let retry_at = clock + TimeDelta::from_std(backoff(attempt)).unwrap();
            let state = store
                .fail_job(id, &format!("refused, try {attempt}"), retry_at, clock)
                .await
                .unwrap();
            let job = store.job_by_id(id).await.unwrap();
            assert_eq!(
                job.last_error.as_deref(),
                Some(format!("refused, try {attempt}").as_str())
            );
            assert_eq!(job.locked_until, None);
            if attempt < 3 {
                assert_eq!(state, JobState::Queued);
                assert_eq!(job.run_at, retry_at);
                assert!(
                    store
                        .claim_jobs(later(retry_at, -1), LEASE, 10)
                        .await
                        .unwrap()
                        .is_empty(),
                    "not before its backoff"
                );
                clock = retry_at;
            } else {
                assert_eq!(state, JobState::Dead);
                assert_eq!(job.attempts, 3);
            }
        }
        assert!(
            store
                .claim_jobs(later(clock, 86_400), LEASE, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.job_counts().await.unwrap().dead, 1);
        let dead = store.list_jobs(Some(JobState::Dead), 10).await.unwrap();
        assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);

        let revived_at = later(clock, 60);
        store.retry_job(id, revived_at).await.unwrap();
        let revived = store.job_by_id(id).await.unwrap();
        assert_eq!(
            (revived.state, revived.attempts, revived.run_at),
            (JobState::Queued, 0, revived_at)
        );
        // Only a dead job can be revived.
        assert_not_found(store.retry_job(id, revived_at).await);
        assert_not_found(store.retry_job(JobId(987_654), now()).await);
        let claimed = store.claim_jobs(revived_at, LEASE, 10).await.unwrap();
        assert_eq!((claimed.len(), claimed[0].attempts), (1, 1));
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again() {
    each_backend_twice(|one, two| async move {
        let id = one.enqueue_job(&email_job(1, now())).await.unwrap();
        let first = one.claim_jobs(now(), LEASE, 10).await.unwrap();
        assert_eq!(first.len(), 1);
        // The first worker died: before its lease ends nobody may take the job over...
        let before_end = later(now(), 299);
        assert!(
            two.claim_jobs(before_end, LEASE, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // ...after it, another worker does, and it counts as another attempt.
        let after_end = later(now(), 301);
        let second = two.claim_jobs(after_end, LEASE, 10).await.unwrap();
        assert_eq!(
            second
                .iter()
                .map(|j| (j.id, j.attempts))
                .collect::<Vec<_>>(),
            [(id, 2)]
        );
        assert_eq!(second[0].locked_until, Some(later(after_end, 300)));
    })
    .await;
}

#[tokio::test]
async fn listing_counting_and_pruning() {
    each_backend(|store| async move {
        let old_done = store
            .enqueue_job(&email_job(1, hours_ago(300)))
            .await
            .unwrap();
        let new_done = store
            .enqueue_job(&email_job(2, hours_ago(2)))
            .await
            .unwrap();
        let dead = store
            .enqueue_job(&email_job(3, hours_ago(2)).with_max_attempts(1))
            .await
            .unwrap();
        let queued = store
            .enqueue_job(&email_job(4, hours_ahead(2)))
            .await
            .unwrap();

        store.claim_jobs(hours_ago(200), LEASE, 10).await.unwrap();
        store.complete_job(old_done, hours_ago(200)).await.unwrap();
        store.claim_jobs(hours_ago(1), LEASE, 10).await.unwrap();
        store.complete_job(new_done, hours_ago(1)).await.unwrap();
        store
            .fail_job(dead, "no such mailbox", now(), now())
            .await
            .unwrap();
        assert_eq!(
            store.job_counts().await.unwrap(),
            JobCounts {
                queued: 1,
                running: 0,
                done: 2,
                dead: 1
            }
        );

        let all: Vec<JobId> = store
            .list_jobs(None, 10)
            .await
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        // Enqueueing stamps the real clock, later than the stories' fixed one, so the
        // job untouched since then comes first.
        assert_eq!(
            all,
            [queued, dead, new_done, old_done],
            "most recently changed first"
        );
        let limited = store.list_jobs(None, 2).await.unwrap();
        assert_eq!(limited.len(), 2);
        let done: Vec<JobId> = store
            .list_jobs(Some(JobState::Done), 10)
            .await
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(done, [new_done, old_done]);

        // A week before now: only the done job changed before then goes.
        assert_eq!(store.prune_jobs(hours_ago(7 * 24)).await.unwrap(), 1);
        assert_not_found(store.job_by_id(old_done).await);
        for kept in [new_done, dead, queued] {
            store.job_by_id(kept).await.unwrap();
        }
        assert_eq!(store.prune_jobs(hours_ago(7 * 24)).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn concurrent_claimers_share_the_jobs_without_overlap() {
    const JOBS: u32 = 200;
    each_backend_twice(|one, two| async move {
        for n in 0..JOBS {
            one.enqueue_job(&email_job(n, hours_ago(1))).await.unwrap();
        }
        // Four workers, two on each store (pool): every claim is its own connection,
        // so on PostgreSQL they truly overlap.
        let mut workers = Vec::new();
        for w in 0..4 {
            let store: Arc<dyn Store> = if w % 2 == 0 { one.clone() } else { two.clone() };
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_jobs(now(), LEASE, 7).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    for job in batch {
                        store.complete_job(job.id, now()).await.unwrap();
                        mine.push(job.id);
                    }
                }
            }));
        }
        let mut seen = HashSet::new();
        let mut busy = 0;
        for worker in workers {
            let mine = worker.await.unwrap();
            busy += usize::from(!mine.is_empty());
            for id in mine {
                assert!(seen.insert(id), "job {id} claimed twice");
            }
        }
        assert_eq!(seen.len(), JOBS as usize, "every job claimed");
        assert!(busy >= 2, "the claimers took turns");
        assert_eq!(one.job_counts().await.unwrap().done, u64::from(JOBS));
    })
    .await;
}

/// A scheduled article an hour ahead of the stories' clock, and its id.
async fn scheduled(store: &dyn Store) -> ArticleId {
    let ada = author(store, "Ada Lovelace").await;
    let write = article(&ada, "Tomorrow's news", |a| {
        a.status = Status::Scheduled;
        a.published_at = Some(hours_ahead(1));
    });
    let stored = store.insert_article(&write).await.unwrap();
    assert_eq!(stored.status, Status::Scheduled);
    stored.id
}

#[tokio::test]
async fn publish_due_publishes_a_due_scheduled_article_once() {
    each_backend(|store| async move {
        let id = scheduled(store.as_ref()).await;
        assert_eq!(
            store.scheduled_articles().await.unwrap(),
            [(id, hours_ahead(1))]
        );
        let mut changes = store.subscribe().await.unwrap();

        assert!(!store.publish_due(id, now()).await.unwrap(), "not due yet");
        assert_eq!(
            store.article_by_id(id).await.unwrap().status,
            Status::Scheduled
        );

        assert!(store.publish_due(id, hours_ahead(1)).await.unwrap());
        let published = store.article_by_id(id).await.unwrap();
        assert_eq!(published.status, Status::Published);
        assert_eq!(
            published.published_at,
            Some(hours_ahead(1)),
            "its time is kept"
        );
        assert_eq!(next(&mut changes).await, Change::Article(id));

        assert!(
            !store.publish_due(id, hours_ahead(2)).await.unwrap(),
            "only once"
        );
        assert!(store.scheduled_articles().await.unwrap().is_empty());
        assert_not_found(store.publish_due(ArticleId(4242), now()).await);

        // A draft is never published by the queue.
        let ada = store.list_users().await.unwrap().remove(0);
        let draft = article(&ada, "Not yet", |a| a.status = Status::Draft);
        let draft = store.insert_article(&draft).await.unwrap();
        assert!(!store.publish_due(draft.id, hours_ahead(100)).await.unwrap());
        assert_eq!(
            store.article_by_id(draft.id).await.unwrap().status,
            Status::Draft
        );
    })
    .await;
}

#[tokio::test]
async fn racing_publishers_publish_exactly_once() {
    each_backend_twice(|one, two| async move {
        let id = scheduled(one.as_ref()).await;
        let due = hours_ahead(1);
        let mut racers = Vec::new();
        for n in 0..8 {
            let store = if n % 2 == 0 { one.clone() } else { two.clone() };
            racers.push(tokio::spawn(async move {
                store.publish_due(id, due).await.unwrap()
            }));
        }
        let mut flipped = 0;
        for racer in racers {
            flipped += usize::from(racer.await.unwrap());
        }
        assert_eq!(flipped, 1);
        assert_eq!(
            two.article_by_id(id).await.unwrap().status,
            Status::Published
        );
    })
    .await;
}

#[tokio::test]
async fn two_workers_racing_for_publish_jobs_publish_once() {
    each_backend_twice(|one, two| async move {
        let id = scheduled(one.as_ref()).await;
        let due = hours_ahead(1);
        // The save enqueued once; a second enqueue with the same key (a startup sweep
        // on another node) adds nothing.
        let job = NewJob::new("publish_article", json!({ "article": id }), due)
            .with_key(format!("publish_article:{id}:{}", due.timestamp_millis()));
        let job_id = one.enqueue_job(&job).await.unwrap();
        assert_eq!(two.enqueue_job(&job).await.unwrap(), job_id);

        // Each worker: claim what is due at `at`, publish, complete. The first round
        // runs before the job's time; in the last, the lease of a worker that "died"
        // after publishing has run out, so the job runs a second time.
        async fn work(store: Arc<dyn Store>, at: DateTime<Utc>, complete: bool) -> (usize, usize) {
            let mut claimed = 0;
            let mut flipped = 0;
            for job in store.claim_jobs(at, LEASE, 10).await.unwrap() {
                claimed += 1;
                let article = ArticleId(job.payload["article"].as_i64().unwrap());
                flipped += usize::from(store.publish_due(article, at).await.unwrap());
                if complete {
                    store.complete_job(job.id, at).await.unwrap();
                }
            }
            (claimed, flipped)
        }

        let early = tokio::join!(
            work(one.clone(), now(), true),
            work(two.clone(), now(), true)
        );
        assert_eq!(early, ((0, 0), (0, 0)), "nothing before its time");

        let (a, b) = tokio::join!(work(one.clone(), due, false), work(two.clone(), due, false));
        assert_eq!((a.0 + b.0, a.1 + b.1), (1, 1), "one claim, one publication");

        let after_lease = later(due, 301);
        let (a, b) = tokio::join!(
            work(one.clone(), after_lease, true),
            work(two.clone(), after_lease, true)
        );
        assert_eq!(
            (a.0 + b.0, a.1 + b.1),
            (1, 0),
            "run again, published already"
        );
        let job = one.job_by_id(job_id).await.unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Done, 2));
        assert_eq!(
            one.article_by_id(id).await.unwrap().status,
            Status::Published
        );
    })
    .await;
}
