//! Writes a SQLite database of generated articles for `bench/search.sh`:
//! `search_corpus PATH COUNT`. Words follow a Zipf-like distribution over a fixed
//! vocabulary (a few words in most articles, most words in few), from a seeded
//! generator, so every run builds the same corpus. The articles go through the
//! domain's `prepare` like any article and into the store in one import, which fills
//! the search index through its triggers like any other write.

use std::path::PathBuf;

use broadsheet_domain::dump::FORMAT_VERSION;
use broadsheet_domain::read_time::ReadingSpeed;
use broadsheet_domain::{
    Article, ArticleId, ArticleInput, AuthorRef, ContentKind, NewUser, Role, SiteDump,
    SiteSettings, SourceFormat, Status, Store, User, UserId,
};
use broadsheet_store_sqlite::SqliteStore;
use chrono::{TimeDelta, Utc};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// An index in `0..n` favouring small ones (rank r drawn with weight ~ 1/r).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

fn vocabulary() -> Vec<String> {
    let news = [
        "council", "budget", "harbour", "election", "minister", "police", "school", "hospital",
        "bridge", "court", "strike", "energy", "housing", "climate", "market", "football",
        "festival", "museum", "railway", "river", "storm", "vote", "tax", "report",
    ];
    let syllables = [
        "ka", "lo", "mi", "ser", "tan", "vu", "rel", "do", "pi", "nor", "que", "zat",
    ];
    let mut words: Vec<String> = news.iter().map(|w| (*w).to_owned()).collect();
    'outer: for a in syllables {
        for b in syllables {
            for c in syllables {
                if words.len() == 1_500 {
                    break 'outer;
                }
                words.push(format!("{a}{b}{c}"));
            }
        }
    }
    words
}

fn sentence(rng: &mut Rng, words: &[String], len: usize) -> String {
    (0..len)
        .map(|_| words[rng.zipf(words.len())].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: search_corpus PATH COUNT")?);
    let count: i64 = args
        .next()
        .ok_or("usage: search_corpus PATH COUNT")?
        .parse()?;
    let store = SqliteStore::open(&path).await?;
    store.migrate().await?;

    let now = broadsheet_domain::clock::now();
    let new = NewUser::validate("Bench Writer", "bench@example.org", Role::Author, None)?;
    let author = User {
        id: UserId(1),
        slug: new.slug.clone(),
        display_name: new.display_name.clone(),
        email: new.email.clone(),
        role: Role::Author,
        bio: String::new(),
        active: true,
        password_hash: None,
        created_at: now,
    };
    let words = vocabulary();
    let tag_names: Vec<String> = (0..50).map(|i| format!("Topic {i}")).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut articles = Vec::with_capacity(count as usize);
    for i in 1..=count {
        let published = now - TimeDelta::minutes(i * 5);
        let paragraphs: Vec<String> = (0..3).map(|_| sentence(&mut rng, &words, 50)).collect();
        let input = ArticleInput {
            kind: ContentKind::Article,
            title: format!("{} {i}", sentence(&mut rng, &words, 6)),
            slug: Some(format!("story-{i}")),
            excerpt: None,
            source: paragraphs.join("\n\n"),
            format: SourceFormat::Markdown,
            tags: vec![
                tag_names[rng.zipf(tag_names.len())].clone(),
                tag_names[rng.zipf(tag_names.len())].clone(),
            ],
            author_id: author.id,
            status: Status::Published,
            published_at: Some(published),
            cover_image: None,
            featured: false,
        };
        let write = input
            .prepare(ReadingSpeed::default(), now)
            .map_err(|e| e.to_string())?;
        articles.push(Article {
            id: ArticleId(i),
            kind: write.kind,
            slug: write.slug,
            title: write.title,
            excerpt: write.excerpt,
            source: write.source,
            format: write.format,
            body_html: write.body_html,
            body_text: write.body_text,
            tags: write.tags,
            author: AuthorRef {
                id: author.id,
                slug: author.slug.clone(),
                display_name: author.display_name.clone(),
            },
            status: write.status,
            published_at: write.published_at,
            created_at: published,
            updated_at: published,
            read_time: write.read_time,
            word_count: write.word_count,
            cover_image: None,
            featured: false,
        });
    }
    let started = Utc::now();
    store
        .import_site(&SiteDump {
            format_version: FORMAT_VERSION,
            settings: SiteSettings::default(),
            users: vec![author],
            articles,
            redirects: Vec::new(),
            counts: Vec::new(),
            reader_choices: Vec::new(),
            daily: Vec::new(),
            comments: Vec::new(),
            comment_notices_off: Vec::new(),
            legacy_redirects: Vec::new(),
            import_map: Vec::new(),
        })
        .await?;
    eprintln!(
        "imported {count} articles in {} ms",
        (Utc::now() - started).num_milliseconds()
    );
    Ok(())
}
