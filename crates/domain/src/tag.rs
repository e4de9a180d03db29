//! Tags, shown to readers as hashtags.

use serde::{Deserialize, Serialize};

/// A tag as stored: its display name and its slug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
    pub slug: String,
}

impl Tag {
    /// A tag for a name as a writer typed it; the slug is derived from the name.
    pub fn from_name(name: &str) -> Option<Tag> {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let slug = crate::slug::slugify(&name);
        (!slug.is_empty()).then_some(Tag { name, slug })
    }

    /// The tag as a hashtag, with spaces removed as on the reference page:
    /// "Pete Hegseth" shows as `#PeteHegseth`.
    pub fn hashtag(&self) -> String {
        let mut out = String::with_capacity(self.name.len() + 1);
        out.push('#');
        out.extend(self.name.chars().filter(|c| !c.is_whitespace()));
        out
    }

    pub fn url(&self) -> String {
        format!("/tag/{}/", self.slug)
    }
}

/// Turns the tag names of one article into tags: trimmed, empty ones dropped, and each
/// slug kept once (the first spelling wins), in the writer's order.
pub fn normalise(names: &[String]) -> Vec<Tag> {
    let mut tags: Vec<Tag> = Vec::new();
    for tag in names.iter().filter_map(|n| Tag::from_name(n)) {
        if !tags.iter().any(|t| t.slug == tag.slug) {
            tags.push(tag);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtag_removes_spaces_and_keeps_case() {
        let tag = Tag::from_name("Pete  Hegseth").unwrap();
        assert_eq!(tag.hashtag(), "#PeteHegseth");
        assert_eq!(tag.slug, "pete-hegseth");
        assert_eq!(tag.name, "Pete Hegseth");
        assert_eq!(tag.url(), "/tag/pete-hegseth/");
    }

    #[test]
    fn normalise_drops_empty_and_duplicate_tags() {
        let names = ["NATO", " nato ", "", "!!", "Ukraine"].map(String::from);
        let tags = normalise(&names);
        let slugs: Vec<_> = tags.iter().map(|t| t.slug.as_str()).collect();
        assert_eq!(slugs, ["nato", "ukraine"]);
        assert_eq!(tags[0].name, "NATO");
    }
}
