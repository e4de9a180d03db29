//! Times a publish notification to many subscribers, for `bench/newsletter.sh`:
//! `newsletter_bench SMTP_PORT SUBSCRIBERS`.
//!
//! A fresh SQLite site gets SUBSCRIBERS confirmed subscribers, then an article is
//! published through `publish::save`, as the editor does, and one job worker (as one
//! `serve` runs) works the queue against the SMTP server on 127.0.0.1:SMTP_PORT until
//! every delivery is sent. It prints the time to queue (the announcement job: one
//! `INSERT … SELECT` of every delivery, and the sender jobs) and the time to send.

use std::sync::Arc;
use std::time::Instant;

use broadsheet::config::{Config, RawConfig, RawEmail};
use broadsheet::jobs::{JobsHandle, Worker};
use broadsheet_domain::{
    ArticleInput, ContentKind, NewUser, Role, SourceFormat, Status, Store, SubscribeRequest, clock,
};
use broadsheet_store_sqlite::SqliteStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().unwrap_or_default().parse()?;
    let subscribers: u64 = args.next().unwrap_or_else(|| "10000".into()).parse()?;
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("site.sqlite3")).await?;
    store.migrate().await?;
    let store: Arc<dyn Store> = Arc::new(store);

    let setup = Instant::now();
    for n in 0..subscribers {
        let request = SubscribeRequest::check(&format!("reader{n:06}@example.org"), &[])
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let sub = store.add_subscriber(&request, clock::now()).await?;
        store.confirm_subscriber(sub.id, clock::now()).await?;
    }
    eprintln!(
        "set up {subscribers} confirmed subscribers in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let author = store
        .create_user(&NewUser::validate(
            "Bench Writer",
            "writer@example.org",
            Role::Author,
            None,
        )?)
        .await?;
    let config = Config::from_raw(RawConfig {
        data_dir: Some(dir.path().to_owned()),
        base_url: Some("https://news.example.com".into()),
        email: Some(RawEmail {
            from: Some("Bench <bench@news.example.com>".into()),
            smtp_host: Some("127.0.0.1".into()),
            smtp_port: Some(port),
            smtp_tls: Some("none".into()),
            ..RawEmail::default()
        }),
        ..RawConfig::default()
    })?;
    let worker = Worker::new(store.clone(), &config, JobsHandle::default())?;

    let input = ArticleInput {
        kind: ContentKind::Article,
        title: "The bench edition".into(),
        slug: None,
        excerpt: None,
        source: "A story for every subscriber.".into(),
        format: SourceFormat::Markdown,
        tags: vec!["Bench".into()],
        author_id: author.id,
        status: Status::Published,
        published_at: Some(clock::now()),
        cover_image: None,
        featured: false,
    };
    let write = broadsheet::publish::prepare(input, &store.settings().await?)
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let start = Instant::now();
    let article = broadsheet::publish::save(store.as_ref(), None, &write).await?;
    // The announcement is the only job due: it queues every delivery and the senders.
    worker.run_due(clock::now()).await?;
    let queued = start.elapsed();
    let counts = store.delivery_counts(article.id).await?;
    anyhow::ensure!(
        counts.pending == subscribers,
        "queued {} of {subscribers}",
        counts.pending
    );
    loop {
        let ran = worker.run_due(clock::now()).await?;
        let counts = store.delivery_counts(article.id).await?;
        if counts.sent == subscribers {
            break;
        }
        anyhow::ensure!(ran > 0, "the senders stopped with {counts:?}");
    }
    let total = start.elapsed();
    let sending = total - queued;
    println!(
        "subscribers={subscribers} queue_ms={:.1} send_s={:.2} total_s={:.2} emails_per_s={:.0}",
        queued.as_secs_f64() * 1000.0,
        sending.as_secs_f64(),
        total.as_secs_f64(),
        subscribers as f64 / sending.as_secs_f64()
    );
    Ok(())
}
