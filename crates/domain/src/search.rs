//! Full-text search: what a reader typed turned into plain terms, what a store is asked
//! and what it answers.
//!
//! Readers type anything: quotes, `AND`/`NOT`/`NEAR`, `title:`, `*`, unbalanced
//! parentheses, CJK, emoji, megabytes of garbage. Each engine (SQLite FTS5, PostgreSQL
//! `tsquery`) has its own syntax, and a syntax error would be a 500. So nothing the
//! reader typed reaches an engine as syntax: [`SearchTerms::parse`] keeps only runs of
//! letters and digits, and each store quotes them as literal words. Operators become
//! ordinary words ("and" is searched for like any other), which is what the issue asks:
//! a bad query is treated as plain words.
//!
//! Ranking is bounded: a word in every article (a town's name on its local paper) must
//! not cost a score for each of a hundred thousand articles. A store takes the matches
//! most recently written first, at most [`SearchQuery::ranked`] of them, and
//! [`rank`] orders those: title matches first, then relevance, then newest. A query
//! matching more says so ([`SearchResults::more`]); narrowing it by date reaches older
//! articles. Under that many matches, every match is ranked.
//!
//! Snippets come back from the engines with the matches between two private-use
//! sentinels (engines do not escape HTML); [`Highlighted::to_html`] escapes the text
//! first and only then turns the sentinels into `<mark>`, so an article's text can
//! never inject markup into the results page.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::article::{Article, ArticleId, Paged};
use crate::store::StoreResult;
use crate::user::UserId;

/// At most this many terms are searched; the rest of a long query is ignored (a
/// thousand-word paste should cost no more than a sentence).
pub const MAX_TERMS: usize = 12;
/// Longer "words" are cut: no real word is this long, and engines index whole tokens.
pub const MAX_TERM_CHARS: usize = 64;

/// How many matches are ranked, at most, unless a query asks for another bound.
pub const MAX_RANKED: u32 = 1_000;

/// Opens a match in an engine's snippet (U+E000, private use).
pub const MARK_START: char = '\u{E000}';
/// Closes a match in an engine's snippet (U+E001, private use).
pub const MARK_END: char = '\u{E001}';

/// A query as lowercase words of letters and digits, in the order typed, without
/// repeats. Empty when the input had no word at all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    pub fn parse(input: &str) -> SearchTerms {
        let mut terms: Vec<String> = Vec::new();
        for word in input.split(|c: char| !c.is_alphanumeric()) {
            if terms.len() == MAX_TERMS {
                break;
            }
            if word.is_empty() {
                continue;
            }
            let term: String = word
                .chars()
                .take(MAX_TERM_CHARS)
                .collect::<String>()
                .to_lowercase();
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        SearchTerms(terms)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn terms(&self) -> &[String] {
        &self.0
    }

    /// The terms as an FTS5 query matching rows that hold every term: each term is a
    /// double-quoted string, which FTS5 reads as a literal token sequence whatever its
    /// content (a term holds no `"`, so no escaping is needed). An optional column
    /// filter (`{title}`) narrows every term to that column.
    pub fn to_fts5(&self, column: Option<&str>) -> String {
        let all = self
            .0
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" ");
        match column {
            Some(column) => format!("{{{column}}} : ({all})"),
            None => all,
        }
    }

    /// The terms separated by spaces, for PostgreSQL's `plainto_tsquery`, which ignores
    /// any operator syntax in its input (and there is none left here anyway).
    pub fn to_plain(&self) -> String {
        self.0.join(" ")
    }
}

/// What readers may search: published articles (not pages) whose time has come,
/// optionally narrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub terms: SearchTerms,
    pub now: DateTime<Utc>,
    /// A tag slug.
    pub tag: Option<String>,
    pub author: Option<UserId>,
    /// Published at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Published before this instant.
    pub until: Option<DateTime<Utc>>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    /// At most this many matches, the most recently written, are ranked and paged.
    pub ranked: u32,
}

impl SearchQuery {
    pub fn new(terms: SearchTerms, now: DateTime<Utc>, page: u32, per_page: u32) -> SearchQuery {
        SearchQuery {
            terms,
            now,
            tag: None,
            author: None,
            from: None,
            until: None,
            page: page.max(1),
            per_page: per_page.clamp(1, 100),
            ranked: MAX_RANKED,
        }
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.per_page)
    }
}

/// Text with the engine's match sentinels in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlighted(pub String);

impl Highlighted {
    /// The text HTML-escaped, with each match in `<mark>`. Stray or nested sentinels
    /// (an article could contain the characters) never leave a `<mark>` unbalanced.
    pub fn to_html(&self) -> String {
        let mut html = String::with_capacity(self.0.len() + 16);
        let mut open = false;
        let mut rest = self.0.as_str();
        while let Some(at) = rest.find([MARK_START, MARK_END]) {
            html.push_str(&html_escape::encode_text(&rest[..at]));
            let sentinel = rest[at..].chars().next().unwrap_or(MARK_END);
            match (sentinel == MARK_START, open) {
                (true, false) => html.push_str("<mark>"),
                (false, true) => html.push_str("</mark>"),
                _ => {}
            }
            open = sentinel == MARK_START || (open && sentinel != MARK_END);
            rest = &rest[at + sentinel.len_utf8()..];
        }
        html.push_str(&html_escape::encode_text(rest));
        if open {
            html.push_str("</mark>");
        }
        html
    }

    /// The text without sentinels.
    pub fn plain(&self) -> String {
        self.0.replace([MARK_START, MARK_END], "")
    }
}

/// One result: the article, its title with matches marked, and a passage of its body.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub article: Article,
    pub title: Highlighted,
    pub snippet: Highlighted,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// The page asked for; `total` counts the ranked matches.
    pub hits: Paged<SearchHit>,
    /// More articles match than were ranked ([`SearchQuery::ranked`]): the results are
    /// the most recently written of them.
    pub more: bool,
}

/// A match as an engine scored it, before ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub id: ArticleId,
    /// A term (any one of them) is in the title.
    pub in_title: bool,
    /// The engine's relevance, higher is better.
    pub relevance: f64,
    pub published_at: Option<DateTime<Utc>>,
}

/// What a store fetches a page's highlights and articles for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    /// The page's ids, in order.
    pub page: Vec<ArticleId>,
    /// How many candidates were ranked.
    pub total: u64,
    pub more: bool,
}

/// Orders the candidates a store found (at most `query.ranked + 1`, the most recently
/// written first) and cuts the query's page: title matches first, then relevance,
/// then newest, then the higher id.
pub fn rank(mut candidates: Vec<Candidate>, query: &SearchQuery) -> Ranked {
    let ranked = usize::try_from(query.ranked).unwrap_or(usize::MAX);
    let more = candidates.len() > ranked;
    candidates.truncate(ranked);
    candidates.sort_by(|a, b| {
        b.in_title
            .cmp(&a.in_title)
            .then(b.relevance.total_cmp(&a.relevance))
            .then(b.published_at.cmp(&a.published_at))
            .then(b.id.cmp(&a.id))
    });
    let offset = usize::try_from(query.offset()).unwrap_or(usize::MAX);
    Ranked {
        page: candidates
            .iter()
            .skip(offset)
            .take(query.per_page as usize)
            .map(|c| c.id)
            .collect(),
        total: candidates.len() as u64,
        more,
    }
}

impl SearchResults {
    /// The page a store read for `ranked`: `articles` in the page's order, and each
    /// one's highlighted title and body passage by id (without one, its plain title).
    pub fn assemble(
        query: &SearchQuery,
        ranked: &Ranked,
        articles: Vec<Article>,
        mut marked: HashMap<ArticleId, (String, String)>,
    ) -> SearchResults {
        let items = articles
            .into_iter()
            .map(|article| {
                let (title, snippet) = marked
                    .remove(&article.id)
                    .unwrap_or_else(|| (article.title.clone(), String::new()));
                SearchHit {
                    article,
                    title: Highlighted(title),
                    snippet: Highlighted(snippet),
                }
            })
            .collect();
        SearchResults {
            hits: Paged {
                items,
                total: ranked.total,
                page: query.page,
                per_page: query.per_page,
            },
            more: ranked.more,
        }
    }

    /// Results for nothing to search.
    pub fn empty(query: &SearchQuery) -> SearchResults {
        SearchResults {
            hits: Paged {
                items: Vec::new(),
                total: 0,
                page: query.page,
                per_page: query.per_page,
            },
            more: false,
        }
    }
}

#[async_trait]
pub trait SearchStore {
    /// Public articles holding every term (in title, excerpt, body or tag names),
    /// ranked by [`rank`] among the most recently written `query.ranked` of them.
    /// An empty query finds nothing. The index is written in the article write's own
    /// transaction, so it never disagrees with the articles.
    async fn search(&self, query: &SearchQuery) -> StoreResult<SearchResults>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(input: &str) -> Vec<String> {
        SearchTerms::parse(input).terms().to_vec()
    }

    fn candidate(id: i64, in_title: bool, relevance: f64, day: u32) -> Candidate {
        use chrono::TimeZone;
        Candidate {
            id: ArticleId(id),
            in_title,
            relevance,
            published_at: Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).single(),
        }
    }

    #[test]
    fn ranking_puts_title_matches_first_then_relevance_then_newest_and_pages() {
        let now = Utc::now();
        let mut query = SearchQuery::new(SearchTerms::parse("ferry"), now, 1, 2);
        let found = vec![
            candidate(6, false, 9.0, 6),
            candidate(5, true, 1.0, 5),
            candidate(4, false, 2.0, 4),
            candidate(3, false, 2.0, 5),
            candidate(2, true, 3.0, 2),
        ];
        let first = rank(found.clone(), &query);
        let ids = |r: &Ranked| r.page.iter().map(|id| id.0).collect::<Vec<_>>();
        assert_eq!(ids(&first), [2, 5]);
        assert_eq!((first.total, first.more), (5, false));
        query.page = 2;
        assert_eq!(ids(&rank(found.clone(), &query)), [6, 3]);
        query.page = 3;
        assert_eq!(ids(&rank(found.clone(), &query)), [4]);
        query.page = 9;
        assert!(rank(found.clone(), &query).page.is_empty());

        // Past the bound only the first (most recently written) candidates count.
        query.page = 1;
        query.ranked = 3;
        let bounded = rank(found, &query);
        assert_eq!(ids(&bounded), [5, 6]);
        assert_eq!((bounded.total, bounded.more), (3, true));
    }

    #[test]
    fn operators_quotes_and_garbage_become_plain_words() {
        assert_eq!(
            terms(r#""nato summit" AND -riga*"#),
            ["nato", "summit", "and", "riga"]
        );
        assert_eq!(
            terms("title:(budget OR NEAR(tax"),
            ["title", "budget", "or", "near", "tax"]
        );
        assert_eq!(terms("^*\"()';--%_\\"), Vec::<String>::new());
        assert_eq!(terms("Élysée café"), ["élysée", "café"]);
        assert_eq!(terms("東京 オリンピック"), ["東京", "オリンピック"]);
        assert_eq!(terms("tax Tax TAX"), ["tax"]);
    }

    #[test]
    fn long_input_is_bounded() {
        let many = (0..100)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(terms(&many).len(), MAX_TERMS);
        let long = "a".repeat(10_000);
        assert_eq!(terms(&long)[0].chars().count(), MAX_TERM_CHARS);
    }

    #[test]
    fn engine_queries_are_quoted_literals() {
        let t = SearchTerms::parse("budget NOT tax");
        assert_eq!(t.to_fts5(None), r#""budget" "not" "tax""#);
        assert_eq!(
            t.to_fts5(Some("title")),
            r#"{title} : ("budget" "not" "tax")"#
        );
        assert_eq!(t.to_plain(), "budget not tax");
    }

    #[test]
    fn highlights_escape_before_marking() {
        let s = format!("a <b>{MARK_START}x&y{MARK_END}</b> z");
        assert_eq!(
            Highlighted(s).to_html(),
            "a &lt;b&gt;<mark>x&amp;y</mark>&lt;/b&gt; z"
        );
        let stray = format!("{MARK_END}a{MARK_START}{MARK_START}b");
        assert_eq!(Highlighted(stray.clone()).to_html(), "a<mark>b</mark>");
        assert_eq!(Highlighted(stray).plain(), "ab");
    }
}
