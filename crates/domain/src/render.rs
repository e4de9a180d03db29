//! Turning what writers type into the HTML readers get, once, at save.
//!
//! Markdown goes through comrak (CommonMark plus tables, footnotes, strikethrough,
//! autolinks, smart punctuation and heading anchors); HTML from imports goes straight
//! to the sanitiser. Either way the result passes ammonia's allow-list, so no script,
//! event handler, `javascript:` URL or style reaches a page, whatever the source says.

use std::sync::LazyLock;

use crate::media;

/// The outcome of rendering one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Sanitised HTML, safe to place in a page as is.
    pub html: String,
    /// The text a reader reads (no markup), for reading time, excerpts and search.
    pub text: String,
    /// Images in the body, for reading time.
    pub images: u32,
}

/// Renders Markdown to sanitised HTML.
pub fn markdown(source: &str) -> Rendered {
    let mut options = comrak::Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.footnotes = true;
    options.extension.header_id_prefix = Some(String::new());
    options.parse.smart = true;
    // Raw HTML is passed through to the sanitiser, which decides what survives;
    // comrak's own "unsafe off" would drop harmless markup such as <figure>.
    options.render.r#unsafe = true;
    from_html(&comrak::markdown_to_html(source, &options))
}

/// Sanitises HTML (an imported body, or comrak's output), then makes the media
/// library's images responsive (see [`responsive_images`]).
pub fn from_html(untrusted: &str) -> Rendered {
    let html = responsive_images(&SANITISER.clean(untrusted).to_string());
    let text = text_of(&html);
    let images = html.matches("<img ").count() as u32;
    Rendered { html, text, images }
}

static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_tags([
        "section",
        "figure",
        "figcaption",
        "mark",
        "details",
        "summary",
    ])
    .add_tag_attributes("a", ["id", "class", "aria-label", "data-footnote-ref"])
    .add_tag_attributes("li", ["id"])
    .add_tag_attributes("sup", ["class"])
    .add_tag_attributes("section", ["class"])
    .add_tag_attributes("code", ["class"])
    .add_tag_attributes("img", ["loading", "width", "height"])
    .add_tag_attributes("th", ["align"])
    .add_tag_attributes("td", ["align"]);
    for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        b.add_tag_attributes(h, ["id"]);
    }
    b.link_rel(Some("noopener noreferrer"));
    b
});

/// Block-level elements whose edges separate words.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
    "details",
    "summary",
    "img",
];

/// The visible text of sanitised HTML, with entities decoded and whitespace collapsed.
///
/// The input is the sanitiser's own serialisation, so it is well formed: a small
/// scanner that honours quoted attribute values is enough, and no second HTML parser
/// is needed.
pub fn text_of(html: &str) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        raw.push_str(&rest[..start]);
        let tag = &rest[start + 1..];
        let end = tag_end(tag);
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if BLOCK_TAGS.contains(&name.as_str()) {
            raw.push(' ');
        }
        rest = tag.get(end + 1..).unwrap_or("");
    }
    raw.push_str(rest);
    let decoded = html_escape::decode_html_entities(&raw);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Index of the `>` closing a tag, skipping `>` inside quoted attribute values.
fn tag_end(tag: &str) -> usize {
    let mut quote: Option<char> = None;
    for (i, c) in tag.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return i,
            _ => {}
        }
    }
    tag.len()
}

/// Gives every `<img>` whose `src` is one of the media library's originals a `srcset`
/// of its variants, `sizes` for the article column, and `loading="lazy"` unless the
/// writer chose otherwise.
///
/// Runs after the sanitiser, whose allow-list has no `srcset` or `sizes`: nobody can
/// smuggle those in, and only our own `/media/` URLs get them. The body is rendered at
/// save, without knowing which variants an image has, so every width of
/// [`media::VARIANT_WIDTHS`] is listed and the server answers a missing one with the
/// next larger size. When the writer gave the image's `width` (the picker's HTML
/// snippet does), only narrower variants are listed, plus the original at that width,
/// so a browser never takes an image for wider than it is.
pub fn responsive_images(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start + 1..];
        let end = tag_end(tag);
        let inner = &tag[..end];
        let closed = end < tag.len();
        let added = match img_attributes(inner) {
            Some(attributes) if closed => responsive_attributes(&attributes),
            _ => String::new(),
        };
        out.push('<');
        if added.is_empty() {
            out.push_str(inner);
        } else {
            out.push_str(inner.trim_end_matches(|c: char| c == '/' || c.is_whitespace()));
            out.push_str(&added);
        }
        if closed {
            out.push('>');
        }
        rest = tag.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The attributes of an `img` tag's inside (`img src="..." alt="..."`), names
/// lowercased and values decoded; `None` when the tag is not an `img`.
fn img_attributes(inner: &str) -> Option<Vec<(String, String)>> {
    let after_name = inner
        .strip_prefix("img")
        .or_else(|| inner.strip_prefix("IMG"))?;
    if !after_name.is_empty() && !after_name.starts_with(|c: char| c.is_whitespace() || c == '/') {
        return None;
    }
    let mut attributes = Vec::new();
    let mut rest = after_name;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return Some(attributes);
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let value = if let Some(after_eq) = rest.strip_prefix('=') {
            let after_eq = after_eq.trim_start();
            let (raw, remaining) = match after_eq.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after_eq[1..];
                    let close = body.find(q).unwrap_or(body.len());
                    (&body[..close], body.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let stop = after_eq.find(char::is_whitespace).unwrap_or(after_eq.len());
                    (&after_eq[..stop], &after_eq[stop..])
                }
            };
            rest = remaining;
            html_escape::decode_html_entities(raw).into_owned()
        } else {
            String::new()
        };
        attributes.push((name, value));
    }
}

/// What [`responsive_images`] appends to one `img`, or nothing when its `src` is not
/// a media original or it already has a `srcset`.
fn responsive_attributes(attributes: &[(String, String)]) -> String {
    let get = |name: &str| {
        attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(path) = get("src").and_then(media::MediaPath::parse) else {
        return String::new();
    };
    if path.width.is_some() || get("srcset").is_some() {
        return String::new();
    }
    let known_width = get("width").and_then(|w| w.trim().parse::<u32>().ok());
    let widths: Vec<u32> = match known_width {
        Some(width) => media::variant_widths(width),
        None => media::VARIANT_WIDTHS.to_vec(),
    };
    let mut added = String::new();
    if !widths.is_empty() {
        let srcset = media::srcset(path.id, path.filename, &widths, known_width);
        // Media paths are digits, slug characters and slashes: nothing to escape.
        added.push_str(&format!(
            " srcset=\"{srcset}\" sizes=\"{}\"",
            media::BODY_IMAGE_SIZES
        ));
    }
    if get("loading").is_none() {
        added.push_str(" loading=\"lazy\"");
    }
    added
}

/// The text of the body's opening paragraphs: the `<p>` elements before the first
/// heading (or all of them when there is none). An excerpt made from this reads like
/// the article's lead, instead of running a section heading into the sentence after it.
pub fn lead_text(html: &str) -> String {
    let before_heading = HEADINGS
        .iter()
        .filter_map(|h| html.find(h))
        .min()
        .map_or(html, |end| &html[..end]);
    let paragraphs: Vec<String> = before_heading
        .split("<p>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</p>").map(|(inner, _)| text_of(inner)))
        .filter(|text| !text.is_empty())
        .collect();
    if paragraphs.is_empty() && before_heading.len() < html.len() {
        return lead_text(&html[before_heading.len() + 4..]);
    }
    paragraphs.join(" ")
}

const HEADINGS: &[&str] = &["<h1", "<h2", "<h3", "<h4", "<h5", "<h6"];

/// A plain-text excerpt of at most `max_chars` characters, cut on a word boundary.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max_chars / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches(|c: char| !c.is_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_extensions_render() {
        let r = markdown(
            "## Big news\n\n\"Quoted\" -- ~~old~~ new www.example.com\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1].\n\n[^1]: The note.\n",
        );
        assert!(r.html.contains(r#"<h2 id="big-news">"#), "{}", r.html);
        assert!(r.html.contains("href=\"#big-news\""), "{}", r.html);
        assert!(r.html.contains("“Quoted” –"), "{}", r.html);
        assert!(r.html.contains("<del>old</del>"));
        assert!(
            r.html.contains("<a href=\"http://www.example.com\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("footnote-ref"), "{}", r.html);
        assert!(r.html.contains(r##"<li id="fn-1">"##), "{}", r.html);
    }

    #[test]
    fn script_handlers_and_javascript_urls_are_removed() {
        let r = markdown(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3)) <a href=\"JaVaScRiPt:alert(4)\">y</a> <b style=\"x\" onclick=\"alert(5)\">z</b>",
        );
        let lower = r.html.to_lowercase();
        for bad in ["<script", "onerror", "javascript:", "onclick", "style="] {
            assert!(!lower.contains(bad), "{bad} survived in {}", r.html);
        }
        assert_eq!(r.images, 1);
    }

    #[test]
    fn text_is_the_readable_words_only() {
        let r = markdown(
            "# Title\n\nOne *two* three &amp; four.\n\n- five\n- six\n\n```\nlet seven = 7;\n```\n",
        );
        assert_eq!(
            r.text,
            "Title One two three & four. five six let seven = 7;"
        );
        assert_eq!(text_of("<p title=\"a>b\">x</p><p>y</p>"), "x y");
    }

    #[test]
    fn lead_text_stops_at_the_first_heading() {
        let r = markdown("First *para*.\n\nSecond.\n\n## Section\n\nLater text.\n");
        assert_eq!(lead_text(&r.html), "First para. Second.");
        let r = markdown("## Starts with a heading\n\nThe lead.\n\n## Next\n\nMore.\n");
        assert_eq!(lead_text(&r.html), "The lead.");
        assert_eq!(lead_text(&markdown("- only\n- a list\n").html), "");
    }

    #[test]
    fn excerpt_cuts_on_words() {
        assert_eq!(excerpt("short text", 50), "short text");
        assert_eq!(excerpt("one two three four five", 12), "one two…");
    }

    #[test]
    fn images_are_counted_in_html_bodies() {
        let r = from_html("<p>a<img src=\"/a.png\" alt=\"\"> b <img src=\"/b.png\"></p>");
        assert_eq!(r.images, 2);
        assert_eq!(r.text, "a b");
    }

    const FULL_SRCSET: &str = "/media/7/w480/cat.jpg 480w, /media/7/w960/cat.jpg 960w, \
                               /media/7/w1600/cat.jpg 1600w";

    #[test]
    fn media_images_get_a_srcset_sizes_and_lazy_loading() {
        let r = markdown("![A cat](/media/7/cat.jpg)");
        assert_eq!(
            r.html,
            format!(
                "<p><img src=\"/media/7/cat.jpg\" alt=\"A cat\" srcset=\"{FULL_SRCSET}\" \
                 sizes=\"{}\" loading=\"lazy\"></p>\n",
                media::BODY_IMAGE_SIZES
            )
        );
        assert_eq!(r.images, 1);
        assert_eq!(r.text, "");
    }

    #[test]
    fn a_known_width_limits_the_srcset_to_what_exists() {
        let r = from_html(r#"<img src="/media/7/cat.jpg" width="1000" height="500" alt="">"#);
        assert!(
            r.html.contains(
                "srcset=\"/media/7/w480/cat.jpg 480w, /media/7/w960/cat.jpg 960w, \
                 /media/7/cat.jpg 1000w\""
            ),
            "{}",
            r.html
        );
        // Too small for any variant: lazy loading only.
        let r = from_html(r#"<img src="/media/7/cat.jpg" width="300">"#);
        assert_eq!(
            r.html,
            "<img src=\"/media/7/cat.jpg\" width=\"300\" loading=\"lazy\">"
        );
    }

    #[test]
    fn readers_cannot_inject_srcset_and_other_images_are_left_alone() {
        let r = from_html(
            r#"<img src="/media/7/cat.jpg" srcset="https://evil.example/x.jpg 1w" sizes="1px" loading="eager">"#,
        );
        assert!(!r.html.contains("evil"), "{}", r.html);
        assert!(r.html.contains(FULL_SRCSET), "{}", r.html);
        assert!(
            r.html.contains("loading=\"eager\""),
            "the writer's choice stays"
        );
        assert!(!r.html.contains("lazy"), "{}", r.html);
        for other in [
            "<img src=\"https://elsewhere.example/media/7/cat.jpg\">",
            "<img src=\"/media/7/w960/cat.jpg\">",
            "<img src=\"/media/7/cat.gif\">",
            "<img src=\"/media/7/../../admin.jpg\">",
            "<img src=\"/mediax/7/cat.jpg\">",
            "<img alt=\"no source\">",
        ] {
            let r = from_html(other);
            assert!(!r.html.contains("srcset"), "{other} became {}", r.html);
        }
    }

    #[test]
    fn odd_markup_around_media_images_is_handled() {
        let r = from_html(
            r#"<a title="<img src=/media/1/a.jpg>" href="/x">x</a><IMG SRC='/media/2/b.png' ALT='a > b'/>"#,
        );
        assert_eq!(r.html.matches("srcset").count(), 1, "{}", r.html);
        assert!(r.html.contains("/media/2/w480/b.png 480w"), "{}", r.html);
        assert!(
            r.html.contains(r#"title="&lt;img src=/media/1/a.jpg&gt;""#),
            "{}",
            r.html
        );
        // The sanitiser escapes `<` in attribute values; the scanner must not rely on it.
        let quoted = r#"<a title="x><img src=/media/1/a.jpg>">x</a>"#;
        assert_eq!(responsive_images(quoted), quoted);
        assert!(r.html.contains("alt=\"a &gt; b\""), "{}", r.html);
        // Entities in the source are decoded before matching.
        let r = from_html("<img src=\"/media/3/c&#46;jpg\">");
        assert!(r.html.contains("/media/3/w480/c.jpg"), "{}", r.html);
        // Straight calls with malformed input neither panic nor invent a tag end.
        assert_eq!(
            responsive_images("<img src=\"/media/1/a.jpg\""),
            "<img src=\"/media/1/a.jpg\""
        );
        assert_eq!(responsive_images("a < b"), "a < b");
        assert_eq!(
            responsive_images("<imgx src=\"/media/1/a.jpg\">"),
            "<imgx src=\"/media/1/a.jpg\">"
        );
        assert!(responsive_images("<img src=/media/1/a.jpg />").contains("srcset"));
        // As in a browser, an unquoted value runs up to the space: this src ends in `/`.
        assert!(!responsive_images("<img src=/media/1/a.jpg/>").contains("srcset"));
    }
}
