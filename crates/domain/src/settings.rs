//! Site settings: what editors change (title, time zone, reading speed), kept in the
//! database rather than the operator's config file, so every node sees the same.

use serde::{Deserialize, Serialize};

use crate::ValidationErrors;
use crate::comment::CommentSettings;
use crate::engagement::{ReactionDef, default_reactions, validate_reactions};
use crate::read_time::ReadingSpeed;

/// The site's own settings. Missing fields take their defaults, so settings saved by an
/// older version still load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteSettings {
    pub title: String,
    pub description: String,
    /// An IANA time zone name; dates in permalinks and on pages use it.
    pub time_zone: String,
    /// A BCP 47 language tag for `<html lang>`.
    pub language: String,
    pub reading_speed: ReadingSpeed,
    /// Articles per page on home, tag and author pages.
    pub per_page: u32,
    /// The emoji reactions readers may give, in display order.
    pub reactions: Vec<ReactionDef>,
    /// Who may comment and how comments are moderated.
    pub comments: CommentSettings,
    /// What feed items carry: the whole article or only its excerpt.
    pub feed_content: FeedContent,
}

/// What the site's feeds put in each item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedContent {
    /// The article's HTML body (readers can read in their feed reader).
    #[default]
    Full,
    /// Only the excerpt, so readers come to the site.
    Excerpt,
}

impl FeedContent {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedContent::Full => "full",
            FeedContent::Excerpt => "excerpt",
        }
    }

    /// Parses `full` or `excerpt` (any case, surrounding space ignored).
    pub fn parse(value: &str) -> Option<FeedContent> {
        match value.trim().to_ascii_lowercase().as_str() {
            "full" => Some(FeedContent::Full),
            "excerpt" => Some(FeedContent::Excerpt),
            _ => None,
        }
    }
}

impl Default for SiteSettings {
    fn default() -> Self {
        SiteSettings {
            title: "Broadsheet".into(),
            description: "News, written in Markdown and read by people.".into(),
            time_zone: "UTC".into(),
            language: "en".into(),
            reading_speed: ReadingSpeed::default(),
            per_page: 10,
            reactions: default_reactions(),
            comments: CommentSettings::default(),
            feed_content: FeedContent::Full,
        }
    }
}

impl SiteSettings {
    /// The time zone, falling back to UTC for a name that no longer parses.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// Checks every field, naming each problem.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.title.trim().is_empty() || self.title.chars().count() > 200 {
            errors.add("title", "must be 1 to 200 characters");
        }
        if self.description.chars().count() > 500 {
            errors.add("description", "must be at most 500 characters");
        }
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            errors.add(
                "time_zone",
                format!(
                    "\"{}\" is not an IANA time zone such as Europe/Berlin",
                    self.time_zone
                ),
            );
        }
        let lang_ok = !self.language.is_empty()
            && self.language.len() <= 35
            && self
                .language
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !lang_ok {
            errors.add("language", "must be a language tag such as en or de-CH");
        }
        if !(50..=1000).contains(&self.reading_speed.words_per_minute) {
            errors.add("words_per_minute", "must be between 50 and 1000");
        }
        if !(100..=2000).contains(&self.reading_speed.cjk_chars_per_minute) {
            errors.add("cjk_chars_per_minute", "must be between 100 and 2000");
        }
        if !(1..=100).contains(&self.per_page) {
            errors.add("per_page", "must be between 1 and 100");
        }
        if let Err(problem) = validate_reactions(&self.reactions) {
            errors.add("reactions", problem);
        }
        self.comments.validate_into(&mut errors);
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_old_documents_load() {
        assert!(SiteSettings::default().validate().is_ok());
        let old: SiteSettings = serde_json::from_str(r#"{"title":"Old"}"#).unwrap();
        assert_eq!(old.title, "Old");
        assert_eq!(old.per_page, 10);
        assert_eq!(old.feed_content, FeedContent::Full);
    }

    #[test]
    fn bad_settings_name_their_fields() {
        let bad = SiteSettings {
            time_zone: "Mars/Olympus".into(),
            per_page: 0,
            ..SiteSettings::default()
        };
        let errors = bad.validate().unwrap_err();
        assert!(
            errors
                .for_field("time_zone")
                .unwrap()
                .contains("Mars/Olympus")
        );
        assert!(errors.for_field("per_page").is_some());
    }
}
