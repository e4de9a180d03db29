//! Changing one site setting by name, for `broadsheet settings set KEY VALUE` and the
//! admin's settings form: the value is parsed for its key and the whole
//! settings are validated, so a bad value names its key and changes nothing.
//!
//! The comment rules are the `comments_*` keys; switches take `true`/`false` (or
//! `yes`/`no`, `on`/`off`), and the blocklist one entry per line or comma.

use broadsheet_domain::{FeedContent, SiteSettings, ValidationErrors};

/// The keys `set` understands, in the order `settings show` prints them.
pub const KEYS: &[&str] = &[
    "title",
    "description",
    "time_zone",
    "language",
    "words_per_minute",
    "cjk_chars_per_minute",
    "per_page",
    "feed_content",
    "comments_enabled",
    "comments_max_depth",
    "comments_max_length",
    "comments_per_page",
    "comments_hold_all",
    "comments_auto_approve_known",
    "comments_max_links",
    "comments_blocklist",
];

pub fn set(settings: &mut SiteSettings, key: &str, value: &str) -> Result<(), ValidationErrors> {
    let mut changed = settings.clone();
    let number = || {
        value.trim().parse::<u32>().map_err(|_| {
            ValidationErrors::single(key, format!("\"{value}\" is not a whole number"))
        })
    };
    let switch = || match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Ok(true),
        "false" | "no" | "off" => Ok(false),
        _ => Err(ValidationErrors::single(
            key,
            format!("\"{value}\" is not true or false"),
        )),
    };
    let comments = &mut changed.comments;
    match key {
        "title" => changed.title = value.trim().to_owned(),
        "description" => changed.description = value.trim().to_owned(),
        "time_zone" => changed.time_zone = value.trim().to_owned(),
        "language" => changed.language = value.trim().to_owned(),
        "words_per_minute" => changed.reading_speed.words_per_minute = number()?,
        "cjk_chars_per_minute" => changed.reading_speed.cjk_chars_per_minute = number()?,
        "per_page" => changed.per_page = number()?,
        "feed_content" => {
            changed.feed_content = FeedContent::parse(value).ok_or_else(|| {
                ValidationErrors::single(key, format!("\"{value}\" is not full or excerpt"))
            })?;
        }
        "comments_enabled" => comments.enabled = switch()?,
        "comments_max_depth" => comments.max_depth = number()?,
        "comments_max_length" => comments.max_length = number()?,
        "comments_per_page" => comments.per_page = number()?,
        "comments_hold_all" => comments.hold_all = switch()?,
        "comments_auto_approve_known" => comments.auto_approve_known = switch()?,
        "comments_max_links" => comments.max_links = number()?,
        "comments_blocklist" => comments.blocklist = blocklist(value),
        _ => {
            return Err(ValidationErrors::single(
                key,
                format!("is not a setting; known settings: {}", KEYS.join(", ")),
            ));
        }
    }
    changed.validate()?;
    *settings = changed;
    Ok(())
}

/// Blocklist entries, one per line or comma, trimmed; blank ones dropped.
fn blocklist(value: &str) -> Vec<String> {
    value
        .split(['\n', ','])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The blocklist as the settings form and `settings show` write it: one per line.
pub fn blocklist_text(settings: &SiteSettings) -> String {
    settings.comments.blocklist.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_known_keys_and_names_bad_ones() {
        let mut s = SiteSettings::default();
        set(&mut s, "title", " The Harbour Gazette ").unwrap();
        set(&mut s, "per_page", "20").unwrap();
        set(&mut s, "time_zone", "Europe/Berlin").unwrap();
        set(&mut s, "feed_content", " Excerpt ").unwrap();
        assert_eq!(s.feed_content, FeedContent::Excerpt);
        assert!(set(&mut s, "feed_content", "summary").is_err());
        assert_eq!((s.title.as_str(), s.per_page), ("The Harbour Gazette", 20));
        let before = s.clone();
        assert!(
            set(&mut s, "colour", "red")
                .unwrap_err()
                .for_field("colour")
                .is_some()
        );
        assert!(
            set(&mut s, "per_page", "lots")
                .unwrap_err()
                .for_field("per_page")
                .is_some()
        );
        assert!(
            set(&mut s, "time_zone", "Mars/Base")
                .unwrap_err()
                .for_field("time_zone")
                .is_some()
        );
        assert_eq!(s, before, "a refused value changes nothing");
    }

    #[test]
    fn sets_the_comment_rules() {
        let mut s = SiteSettings::default();
        set(&mut s, "comments_hold_all", "yes").unwrap();
        set(&mut s, "comments_enabled", "off").unwrap();
        set(&mut s, "comments_max_links", "4").unwrap();
        set(
            &mut s,
            "comments_blocklist",
            "casino, Cheap pills\n\n viagra ",
        )
        .unwrap();
        assert!(s.comments.hold_all && !s.comments.enabled);
        assert_eq!(s.comments.max_links, 4);
        assert_eq!(s.comments.blocklist, ["casino", "Cheap pills", "viagra"]);
        assert_eq!(blocklist_text(&s), "casino\nCheap pills\nviagra");
        let before = s.clone();
        let problem = set(&mut s, "comments_hold_all", "maybe").unwrap_err();
        assert!(
            problem
                .for_field("comments_hold_all")
                .unwrap()
                .contains("maybe")
        );
        assert!(
            set(&mut s, "comments_max_depth", "0")
                .unwrap_err()
                .for_field("comments_max_depth")
                .is_some()
        );
        assert_eq!(s, before);
    }
}
