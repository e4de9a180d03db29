//! Slugs: the URL-safe names of articles, pages, tags and authors.
//!
//! A slug is lowercase ASCII letters, digits and single hyphens. Titles in any script
//! are transliterated (`Café Zürich` becomes `cafe-zurich`), so a slug never needs
//! percent-encoding. Slugs that would shadow the site's own routes are refused.

/// Longest slug we accept; long enough for any headline, short enough for a URL.
pub const MAX_LEN: usize = 120;

/// First path segments the site itself uses; a page with one of these slugs would be
/// unreachable, so they are refused.
const RESERVED: &[&str] = &[
    "admin",
    "api",
    "assets",
    "author",
    "feed",
    "favicon.ico",
    "page",
    "robots.txt",
    "search",
    "sitemap.xml",
    "static",
    "tag",
    "wp-admin",
    "wp-json",
    "wp-content",
    "media",
];

/// Turns any text into a slug (transliterating non-ASCII), cut to [`MAX_LEN`] on a
/// word boundary. May return an empty string for text with no letters or digits.
pub fn slugify(text: &str) -> String {
    let mut slug = ::slug::slugify(text);
    if slug.len() > MAX_LEN {
        let cut = slug[..MAX_LEN].rfind('-').unwrap_or(MAX_LEN);
        slug.truncate(cut);
    }
    slug
}

/// Checks a slug that a writer gave explicitly; the message says what is wrong.
pub fn validate(slug: &str) -> Result<(), String> {
    if slug.is_empty() {
        return Err("must not be empty".into());
    }
    if slug.len() > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    if !slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may only contain lowercase letters a-z, digits and hyphens".into());
    }
    if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Err("must not start or end with a hyphen or contain two in a row".into());
    }
    if slug.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must contain a letter (numbers alone look like dates)".into());
    }
    if RESERVED.contains(&slug) {
        return Err(format!("\"{slug}\" is reserved for the site's own pages"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_transliterates_and_joins_with_hyphens() {
        assert_eq!(slugify("Café Zürich: 3 Things!"), "cafe-zurich-3-things");
        assert_eq!(slugify("  Pete   Hegseth "), "pete-hegseth");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn slugify_cuts_long_titles_on_a_word_boundary() {
        let long = "word ".repeat(60);
        let slug = slugify(&long);
        assert!(slug.len() <= MAX_LEN);
        assert!(slug.ends_with("word"));
        assert!(validate(&slug).is_ok());
    }

    #[test]
    fn validate_names_the_problem() {
        assert!(validate("good-slug-2").is_ok());
        assert!(validate("").unwrap_err().contains("empty"));
        assert!(validate("Bad Slug").unwrap_err().contains("lowercase"));
        assert!(validate("-x").unwrap_err().contains("hyphen"));
        assert!(validate("a--b").unwrap_err().contains("hyphen"));
        assert!(validate("2024").unwrap_err().contains("letter"));
        assert!(validate("admin").unwrap_err().contains("reserved"));
    }
}
