//! Reader engagement: likes and dislikes, emoji reactions, star ratings and views, and
//! the arithmetic that shows them (SPEC.md sections 1 and 4).
//!
//! A reader is a random first-party id ([`ReaderId`]), never an account or an IP
//! address. Per-network limits use a [`NetworkHash`]: a keyed hash of the client
//! address and user agent under a salt that rotates daily, made by the server; the
//! domain and the stores only ever see the hash.
//!
//! Stores keep one row per reader and article and update the article's counters in
//! the same transaction ([`crate::Store::cast`]), so pages read counters and never
//! count rows. Percentages use largest-remainder rounding, so they sum to exactly 100
//! once there is a vote.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::article::ArticleId;

/// A reader's random id, as kept in their first-party cookie: 32 lowercase hex digits.
/// Deserialising checks the form too, so a hand-edited dump cannot smuggle in an id
/// that no cookie could carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReaderId(String);

impl TryFrom<String> for ReaderId {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        ReaderId::parse(&text)
            .ok_or_else(|| format!("\"{text}\" is not a reader id (32 hex digits)"))
    }
}

impl From<ReaderId> for String {
    fn from(id: ReaderId) -> String {
        id.0
    }
}

impl ReaderId {
    /// A reader id from 16 random bytes (the server draws them from the OS).
    pub fn from_bytes(bytes: [u8; 16]) -> ReaderId {
        ReaderId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Reads an id from a cookie; anything that is not 32 lowercase hex digits is no id.
    pub fn parse(text: &str) -> Option<ReaderId> {
        (text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| ReaderId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A keyed, daily-salted hash of a client's network address and user agent, made by
/// the server. Opaque here: it only groups readers for per-network limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NetworkHash(pub String);

/// A thumbs up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vote {
    Like,
    Dislike,
}

impl Vote {
    pub fn as_str(self) -> &'static str {
        match self {
            Vote::Like => "like",
            Vote::Dislike => "dislike",
        }
    }
}

impl std::str::FromStr for Vote {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "like" => Ok(Vote::Like),
            "dislike" => Ok(Vote::Dislike),
            _ => Err(format!("\"{s}\" is not like or dislike")),
        }
    }
}

/// One reaction a site offers: a stable key (stored with each reaction), the label
/// readers see and an emoji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionDef {
    pub key: String,
    pub label: String,
    pub emoji: String,
}

/// Most reactions a site may offer.
pub const MAX_REACTIONS: usize = 12;

/// The reference page's six: Happy, Sad, Excited, Sleepy, Angry, Surprise.
pub fn default_reactions() -> Vec<ReactionDef> {
    [
        ("happy", "Happy", "😀"),
        ("sad", "Sad", "😢"),
        ("excited", "Excited", "🤩"),
        ("sleepy", "Sleepy", "😴"),
        ("angry", "Angry", "😠"),
        ("surprise", "Surprise", "😮"),
    ]
    .into_iter()
    .map(|(key, label, emoji)| ReactionDef {
        key: key.into(),
        label: label.into(),
        emoji: emoji.into(),
    })
    .collect()
}

/// Checks a reaction set: 1 to [`MAX_REACTIONS`] entries, keys are unique slugs,
/// labels and emoji are present.
pub fn validate_reactions(set: &[ReactionDef]) -> Result<(), String> {
    if set.is_empty() || set.len() > MAX_REACTIONS {
        return Err(format!("offer between 1 and {MAX_REACTIONS} reactions"));
    }
    for (i, r) in set.iter().enumerate() {
        crate::slug::validate(&r.key).map_err(|e| format!("reaction key \"{}\" {e}", r.key))?;
        if set[..i].iter().any(|earlier| earlier.key == r.key) {
            return Err(format!("reaction key \"{}\" is used twice", r.key));
        }
        if r.label.trim().is_empty() || r.label.chars().count() > 40 {
            return Err(format!(
                "reaction \"{}\" needs a label of 1 to 40 characters",
                r.key
            ));
        }
        if r.emoji.trim().is_empty() || r.emoji.chars().count() > 8 {
            return Err(format!("reaction \"{}\" needs an emoji", r.key));
        }
    }
    Ok(())
}

/// What a reader does to an article. Votes and reactions toggle: casting the one the
/// reader already has removes it, casting another switches to it. A rating is set
/// (1 to 5) or cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "value")]
pub enum ReaderAction {
    Vote(Vote),
    React(String),
    Rate(u8),
    ClearRating,
}

/// One reader action on its way to a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cast {
    pub article: ArticleId,
    pub reader: ReaderId,
    pub network: NetworkHash,
    /// The calendar day in the site's time zone, for the per-network daily cap.
    pub day: NaiveDate,
    pub action: ReaderAction,
}

/// What became of one cast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CastOutcome {
    Applied,
    /// The article does not exist (or was removed).
    UnknownArticle,
    /// This reader is new to the article and their network already added the day's
    /// allowance of new readers to it.
    NetworkCapReached,
}

/// One page view on its way to a store: counted once per viewer, article and day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ViewHit {
    pub article: ArticleId,
    /// The reader id, or the network hash for a viewer without a reader cookie.
    pub viewer: String,
    pub day: NaiveDate,
}

/// An article's counters, as a store keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub views: u64,
    pub likes: u64,
    pub dislikes: u64,
    /// By reaction key; keys without reactions may be absent.
    pub reactions: BTreeMap<String, u64>,
    /// `ratings[0]` is the number of 1-star ratings, `ratings[4]` of 5-star ones.
    pub ratings: [u64; 5],
    pub comments: u64,
}

/// What one reader chose on one article, so buttons can show `aria-pressed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderChoices {
    pub vote: Option<Vote>,
    pub reaction: Option<String>,
    pub rating: Option<u8>,
}

/// Whole percentages for `counts` by the largest-remainder method: they sum to exactly
/// 100 when any count is positive, and are all 0 when none is. Ties in the remainder go
/// to the earlier entry, so the result is deterministic.
pub fn largest_remainder(counts: &[u64]) -> Vec<u32> {
    let total: u128 = counts.iter().map(|&c| u128::from(c)).sum();
    if total == 0 {
        return vec![0; counts.len()];
    }
    let mut percents: Vec<u32> = Vec::with_capacity(counts.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(counts.len());
    for (i, &c) in counts.iter().enumerate() {
        let scaled = u128::from(c) * 100;
        percents.push((scaled / total) as u32);
        remainders.push((scaled % total, i));
    }
    let missing = 100 - percents.iter().sum::<u32>();
    // Largest remainder first; among equals, the earlier entry.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take(missing as usize) {
        percents[i] += 1;
    }
    percents
}

/// One reaction as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReactionShare {
    pub key: String,
    pub label: String,
    pub emoji: String,
    pub count: u64,
    pub percent: u32,
}

/// One star level of the rating distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StarShare {
    pub stars: u8,
    pub count: u64,
    pub percent: u32,
}

/// The rating as a page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatingSummary {
    /// The mean to one decimal, once anyone rated.
    pub average: Option<f64>,
    pub count: u64,
    /// From 5 stars down to 1, as the reference page lists them.
    pub stars: Vec<StarShare>,
}

/// Everything the engagement widgets show, for templates and the JSON API alike.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngagementView {
    pub article_id: ArticleId,
    pub views: u64,
    pub likes: u64,
    pub dislikes: u64,
    pub comments: u64,
    pub reactions: Vec<ReactionShare>,
    pub rating: RatingSummary,
}

impl EngagementView {
    /// Shapes counters for display with the site's reaction set (see
    /// [`reaction_shares`]).
    pub fn new(article_id: ArticleId, counts: &Counts, set: &[ReactionDef]) -> EngagementView {
        let by_star_desc: Vec<u64> = counts.ratings.iter().rev().copied().collect();
        let stars = by_star_desc
            .iter()
            .zip(largest_remainder(&by_star_desc))
            .enumerate()
            .map(|(i, (&count, percent))| StarShare {
                stars: 5 - i as u8,
                count,
                percent,
            })
            .collect();
        EngagementView {
            article_id,
            views: counts.views,
            likes: counts.likes,
            dislikes: counts.dislikes,
            comments: counts.comments,
            reactions: reaction_shares(&counts.reactions, set),
            rating: RatingSummary {
                average: counts.rating_average(),
                count: counts.rating_count(),
                stars,
            },
        }
    }
}

/// Reaction counts by key shaped for display with the site's reaction set, in the
/// set's order: reactions that were removed from the set are not shown and do not
/// count toward percentages.
pub fn reaction_shares(counts: &BTreeMap<String, u64>, set: &[ReactionDef]) -> Vec<ReactionShare> {
    let reaction_counts: Vec<u64> = set
        .iter()
        .map(|r| counts.get(&r.key).copied().unwrap_or(0))
        .collect();
    set.iter()
        .zip(&reaction_counts)
        .zip(largest_remainder(&reaction_counts))
        .map(|((r, &count), percent)| ReactionShare {
            key: r.key.clone(),
            label: r.label.clone(),
            emoji: r.emoji.clone(),
            count,
            percent,
        })
        .collect()
}

impl Counts {
    /// How many readers rated.
    pub fn rating_count(&self) -> u64 {
        self.ratings.iter().sum()
    }

    /// The mean rating to one decimal, once anyone rated.
    pub fn rating_average(&self) -> Option<f64> {
        let count = self.rating_count();
        let sum: u64 = self
            .ratings
            .iter()
            .enumerate()
            .map(|(i, &c)| (i as u64 + 1) * c)
            .sum();
        (count > 0).then(|| (sum as f64 / count as f64 * 10.0).round() / 10.0)
    }
}

/// Refuses a batch that rates outside 1 to 5 stars, before anything is written. The
/// server checks what readers send, so such a cast is a bug in the caller: failing the
/// call says so, where counting it would invent a star.
pub fn check_ratings(casts: &[Cast]) -> Result<(), StoreError> {
    match casts.iter().find_map(|cast| match cast.action {
        ReaderAction::Rate(stars) if !(1..=5).contains(&stars) => Some(stars),
        _ => None,
    }) {
        Some(stars) => Err(StoreError::Backend(format!(
            "a rating of {stars} stars (1 to 5 expected)"
        ))),
        None => Ok(()),
    }
}

impl ReaderChoices {
    /// What `action` makes of these choices: casting the vote or reaction the reader
    /// has takes it back, casting another switches to it; a rating is set or cleared.
    pub fn after(&self, action: &ReaderAction) -> ReaderChoices {
        let choices = self;
        let mut next = choices.clone();
        match action {
            ReaderAction::Vote(vote) => next.vote = (choices.vote != Some(*vote)).then_some(*vote),
            ReaderAction::React(key) => {
                next.reaction = (choices.reaction.as_ref() != Some(key)).then(|| key.clone());
            }
            ReaderAction::Rate(stars) => next.rating = Some(*stars),
            ReaderAction::ClearRating => next.rating = None,
        }
        next
    }
}

/// How far a batch of casts (or views) moves an article's counters; stores add it to
/// their counters in one statement per article.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CounterDelta {
    pub views: i64,
    pub likes: i64,
    pub dislikes: i64,
    /// `ratings[0]` counts 1-star ratings.
    pub ratings: [i64; 5],
    pub reactions: BTreeMap<String, i64>,
}

impl CounterDelta {
    /// Moves the counters from a reader's `before` choices to their `after` ones.
    pub fn record(&mut self, before: &ReaderChoices, after: &ReaderChoices) {
        if before.vote != after.vote {
            for (vote, by) in [(before.vote, -1), (after.vote, 1)] {
                match vote {
                    Some(Vote::Like) => self.likes += by,
                    Some(Vote::Dislike) => self.dislikes += by,
                    None => {}
                }
            }
        }
        if before.reaction != after.reaction {
            for (key, by) in [(&before.reaction, -1), (&after.reaction, 1)] {
                if let Some(key) = key {
                    *self.reactions.entry(key.clone()).or_default() += by;
                }
            }
        }
        if before.rating != after.rating {
            for (stars, by) in [(before.rating, -1), (after.rating, 1)] {
                if let Some(stars) = stars {
                    // 1 to 5: `check_ratings` runs before any cast is applied.
                    self.ratings[usize::from(stars) - 1] += by;
                }
            }
        }
    }

    /// Whether no counter moved (reactions that cancel out within the call included).
    pub fn is_zero(&self) -> bool {
        self.views == 0
            && self.likes == 0
            && self.dislikes == 0
            && self.ratings == [0; 5]
            && self.reactions.values().all(|&by| by == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_ids_are_32_hex_digits() {
        let id = ReaderId::from_bytes([0xab; 16]);
        assert_eq!(id.as_str(), "ab".repeat(16));
        assert_eq!(ReaderId::parse(id.as_str()), Some(id.clone()));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ReaderId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ReaderId>("\"../x\"").is_err());
        for bad in [
            "",
            "xyz",
            &"AB".repeat(16),
            &"a".repeat(33),
            "../../etc/passwd",
        ] {
            assert_eq!(ReaderId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn percentages_sum_to_100_where_naive_rounding_gives_102() {
        // Six reactions with one vote each: naive rounding shows 17 % six times (102).
        let p = largest_remainder(&[1, 1, 1, 1, 1, 1]);
        assert_eq!(p.iter().sum::<u32>(), 100);
        assert_eq!(p, [17, 17, 17, 17, 16, 16]);
        assert_eq!(largest_remainder(&[2, 1]), [67, 33]);
        assert_eq!(largest_remainder(&[0, 0, 0]), [0, 0, 0]);
        assert_eq!(largest_remainder(&[5, 0]), [100, 0]);
        assert_eq!(largest_remainder(&[]), Vec::<u32>::new());
    }

    #[test]
    fn percentages_sum_to_100_for_any_counts() {
        // A deterministic pseudo-random sweep (xorshift) over many shapes and sizes.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 12 + 1) as usize;
            let scale = [3, 100, 10_000, u64::MAX / 16][(next() % 4) as usize];
            let counts: Vec<u64> = (0..len).map(|_| next() % scale).collect();
            let p = largest_remainder(&counts);
            let total: u64 = counts.iter().fold(0u64, |a, &c| a.saturating_add(c));
            if total == 0 {
                assert!(p.iter().all(|&v| v == 0));
            } else {
                assert_eq!(p.iter().sum::<u32>(), 100, "{counts:?} -> {p:?}");
                // No entry is more than one point from its exact share.
                for (c, v) in counts.iter().zip(&p) {
                    let exact = *c as f64 * 100.0 / counts.iter().map(|&c| c as f64).sum::<f64>();
                    assert!(
                        (f64::from(*v) - exact).abs() < 1.0 + 1e-9,
                        "{counts:?} -> {p:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn engagement_view_shapes_reactions_and_ratings() {
        let mut counts = Counts {
            likes: 3,
            ratings: [1, 0, 0, 1, 2], // one 1-star, one 4-star, two 5-star
            ..Counts::default()
        };
        counts.reactions.insert("happy".into(), 2);
        counts.reactions.insert("sad".into(), 1);
        counts.reactions.insert("retired".into(), 50);
        let view = EngagementView::new(ArticleId(7), &counts, &default_reactions());
        assert_eq!(view.reactions.len(), 6);
        assert_eq!(view.reactions[0].percent, 67);
        assert_eq!(view.reactions[1].percent, 33);
        assert_eq!(view.reactions.iter().map(|r| r.percent).sum::<u32>(), 100);
        assert_eq!(view.rating.count, 4);
        assert_eq!(view.rating.average, Some(3.8)); // 15 / 4 = 3.75
        assert_eq!(view.rating.stars[0].stars, 5);
        assert_eq!(view.rating.stars[0].percent, 50);
        assert_eq!(
            view.rating.stars.iter().map(|s| s.percent).sum::<u32>(),
            100
        );

        let empty = EngagementView::new(ArticleId(7), &Counts::default(), &default_reactions());
        assert!(empty.reactions.iter().all(|r| r.percent == 0));
        assert_eq!(empty.rating.average, None);
    }

    #[test]
    fn reaction_sets_are_checked() {
        assert!(validate_reactions(&default_reactions()).is_ok());
        assert!(validate_reactions(&[]).is_err());
        let mut twice = default_reactions();
        twice[1].key = "happy".into();
        assert!(validate_reactions(&twice).unwrap_err().contains("twice"));
        let mut bad = default_reactions();
        bad[0].key = "Not OK".into();
        assert!(validate_reactions(&bad).is_err());
    }

    #[test]
    fn actions_toggle_switch_and_move_counters() {
        let none = ReaderChoices::default();
        let liked = none.after(&ReaderAction::Vote(Vote::Like));
        assert_eq!(liked.vote, Some(Vote::Like));
        assert_eq!(liked.after(&ReaderAction::Vote(Vote::Like)).vote, None);
        let disliked = liked.after(&ReaderAction::Vote(Vote::Dislike));
        let happy = disliked.after(&ReaderAction::React("happy".into()));
        let sad = happy.after(&ReaderAction::React("sad".into()));
        let rated = sad.after(&ReaderAction::Rate(4));
        let mut delta = CounterDelta::default();
        delta.record(&none, &liked);
        delta.record(&liked, &disliked);
        delta.record(&disliked, &happy);
        delta.record(&happy, &sad);
        delta.record(&sad, &rated);
        assert_eq!((delta.likes, delta.dislikes), (0, 1));
        assert_eq!(delta.reactions["happy"], 0);
        assert_eq!(delta.reactions["sad"], 1);
        assert_eq!(delta.ratings, [0, 0, 0, 1, 0]);
        assert!(!delta.is_zero());
        delta.record(&rated, &rated.after(&ReaderAction::ClearRating));
        assert_eq!(delta.ratings, [0; 5]);
        assert!(check_ratings(&[]).is_ok());
    }

    #[test]
    fn actions_have_a_json_form() {
        let json = serde_json::to_string(&ReaderAction::React("happy".into())).unwrap();
        assert_eq!(json, r#"{"action":"react","value":"happy"}"#);
        let back: ReaderAction = serde_json::from_str(r#"{"action":"rate","value":4}"#).unwrap();
        assert_eq!(back, ReaderAction::Rate(4));
    }
}
