//! WordPress post content into plain HTML, before the sanitiser sees it.
//!
//! WordPress stores content with shortcodes and without paragraphs (it adds `<p>` on
//! every view, `wpautop`). Broadsheet keeps rendered HTML, so the import does both
//! once: `[caption]` becomes a `<figure>` with a `<figcaption>`, `[gallery]` a
//! `<figure>` of linked images, `[embed]`, `[video]`, `[audio]` and a bare URL on its
//! own line (WordPress's auto-embed) a plain link, since the site makes no third-party
//! requests. Unknown shortcodes are left as text, as WordPress shows them when the
//! plugin is gone. Block editor content (`<!-- wp:... -->`) already has its
//! paragraphs and is not paragraphed again.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

/// An image or file attached to a post, as the gallery and featured images need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub caption: String,
    pub parent: Option<i64>,
    pub menu_order: i64,
}

impl Attachment {
    pub fn is_image(&self) -> bool {
        let path = self.url.split(['?', '#']).next().unwrap_or("");
        let lower = path.to_ascii_lowercase();
        [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg"]
            .iter()
            .any(|ext| lower.ends_with(ext))
    }
}

/// What content conversion may ask about attachments.
pub trait Attachments {
    fn by_id(&self, id: i64) -> Option<&Attachment>;
    /// The post's own attachments, in gallery order.
    fn of_post(&self, post: i64) -> Vec<&Attachment>;
}

/// Converts WordPress content of post `post` into HTML (still to be sanitised).
pub fn to_html(content: &str, post: Option<i64>, attachments: &dyn Attachments) -> String {
    let content = content.replace("\r\n", "\n").replace('\r', "\n");
    let expanded = expand(&content, post, attachments);
    if content.contains("<!-- wp:") {
        expanded
    } else {
        autop(&expanded)
    }
}

/// A parsed `[name attrs]`, with where it ends and (for enclosing ones) its content.
struct Shortcode<'a> {
    name: &'a str,
    attrs: Vec<(String, String)>,
    content: Option<&'a str>,
    /// Bytes from the opening `[` to the end of the whole shortcode.
    len: usize,
}

impl Shortcode<'_> {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first positional value (`[embed]URL[/embed]`'s URL lives in content;
    /// `[youtube URL]` in a positional attribute).
    fn positional(&self) -> Option<&str> {
        self.attr("")
    }
}

const KNOWN: &[&str] = &[
    "caption",
    "wp_caption",
    "gallery",
    "embed",
    "video",
    "audio",
    "youtube",
    "vimeo",
];

fn expand(content: &str, post: Option<i64>, attachments: &dyn Attachments) -> String {
    let mut out = String::with_capacity(content.len() + 64);
    let mut rest = content;
    while let Some(at) = rest.find('[') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        // `[[caption]]` is WordPress's way of writing a literal `[caption]`.
        if let Some(inner) = tail.strip_prefix("[[")
            && let Some(end) = inner.find("]]")
            && KNOWN.iter().any(|k| inner.starts_with(k))
        {
            out.push('[');
            out.push_str(&inner[..end]);
            out.push(']');
            rest = &inner[end + 2..];
            continue;
        }
        match parse(tail) {
            Some(code) => {
                out.push_str(&render(&code, post, attachments));
                rest = &tail[code.len..];
            }
            None => {
                out.push('[');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse(tail: &str) -> Option<Shortcode<'_>> {
    let body = &tail[1..];
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(body.len());
    let name = &body[..name_len];
    if !KNOWN.contains(&name) {
        return None;
    }
    let close = find_tag_end(body)?;
    let inside = body[name_len..close].trim_end_matches('/');
    let attrs = parse_attrs(inside);
    let open_len = 1 + close + 1;
    let closing = format!("[/{name}]");
    let after = &tail[open_len..];
    let self_closing = body[..close].ends_with('/');
    let (content, len) = match after.find(&closing) {
        Some(end) if !self_closing => (Some(&after[..end]), open_len + end + closing.len()),
        _ => (None, open_len),
    };
    Some(Shortcode {
        name,
        attrs,
        content,
        len,
    })
}

/// The `]` closing a shortcode's opening tag, skipping quoted attribute values (a
/// caption may contain `]` inside quotes).
fn find_tag_end(body: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ']') => return Some(i),
            (None, '[') if i > 0 => return None,
            _ => {}
        }
    }
    None
}

/// `a="x" b='y' c=z positional` into pairs; positional values get the key "".
fn parse_attrs(text: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let key_len = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let (key, after) = rest.split_at(key_len);
        let after = after.trim_start();
        if let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let (v, remaining) = match value.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let inner = &value[1..];
                    match inner.find(q) {
                        Some(end) => (&inner[..end], &inner[end + 1..]),
                        None => (inner, ""),
                    }
                }
                _ => {
                    let end = value.find(char::is_whitespace).unwrap_or(value.len());
                    (&value[..end], &value[end..])
                }
            };
            attrs.push((key.to_ascii_lowercase(), decode(v)));
            rest = remaining.trim_start();
        } else {
            let value = key.trim_matches(['"', '\'']);
            attrs.push((String::new(), decode(value)));
            rest = after;
        }
    }
    attrs
}

fn decode(value: &str) -> String {
    html_escape::decode_html_entities(value).into_owned()
}

fn render(code: &Shortcode<'_>, post: Option<i64>, attachments: &dyn Attachments) -> String {
    match code.name {
        "caption" | "wp_caption" => caption(code),
        "gallery" => gallery(code, post, attachments),
        _ => {
            let url = code
                .attr("src")
                .or(code.attr("url"))
                .or(code.positional())
                .or(code.content.map(str::trim))
                .unwrap_or("");
            link_paragraph(url)
        }
    }
}

/// `[caption]<a><img></a> The caption[/caption]`, or the caption in an attribute.
fn caption(code: &Shortcode<'_>) -> String {
    let content = code.content.unwrap_or("").trim();
    // The media is everything up to the last tag's end; what follows is the caption.
    let (media, caption_text) = match content.rfind('>') {
        Some(end) => (&content[..=end], content[end + 1..].trim()),
        None => ("", content),
    };
    let caption_text = code.attr("caption").unwrap_or(caption_text);
    if caption_text.is_empty() {
        return format!("<figure>{media}</figure>");
    }
    format!("<figure>{media}<figcaption>{caption_text}</figcaption></figure>")
}

/// `[gallery ids="1,2"]`, or the post's own images without ids.
fn gallery(code: &Shortcode<'_>, post: Option<i64>, attachments: &dyn Attachments) -> String {
    let ids = code.attr("ids").or(code.attr("include"));
    let images: Vec<&Attachment> = match ids {
        Some(ids) => ids
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .filter_map(|id| attachments.by_id(id))
            .collect(),
        None => {
            let parent = code.attr("id").and_then(|id| id.parse().ok()).or(post);
            parent.map(|p| attachments.of_post(p)).unwrap_or_default()
        }
    };
    let images: Vec<&Attachment> = images.into_iter().filter(|a| a.is_image()).collect();
    if images.is_empty() {
        return String::new();
    }
    let mut html = String::from("<figure>");
    for image in images {
        html.push_str(&format!(
            "<a href=\"{url}\"><img src=\"{url}\" alt=\"{alt}\"></a>",
            url = attr(&image.url),
            alt = attr(&image.title)
        ));
    }
    html.push_str("</figure>");
    html
}

fn link_paragraph(url: &str) -> String {
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return String::new();
    }
    format!("\n\n<p><a href=\"{}\">{}</a></p>\n\n", attr(url), text(url))
}

/// Tags that already are blocks: a paragraph starting with one is not wrapped in `<p>`.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "!--",
    "iframe",
    "object",
    "script",
    "style",
];

fn starts_with_block(chunk: &str) -> bool {
    let Some(tag) = chunk.strip_prefix('<') else {
        return false;
    };
    let tag = tag.trim_start_matches('/');
    let name_len = tag
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '!' || c == '-'))
        .unwrap_or(tag.len());
    let name = tag[..name_len].to_ascii_lowercase();
    BLOCKS
        .iter()
        .any(|b| name == *b || (*b == "!--" && name.starts_with("!--")))
}

/// WordPress's `wpautop`, simplified: blank lines separate paragraphs, single newlines
/// inside a paragraph are line breaks, and `<pre>` blocks are left exactly as written.
pub fn autop(html: &str) -> String {
    // Pull <pre> blocks out first: their blank lines are not paragraph breaks.
    let mut pres = Vec::new();
    let mut body = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = find_ci(rest, "<pre") {
        let Some(end) = find_ci(&rest[start..], "</pre>") else {
            break;
        };
        let end = start + end + "</pre>".len();
        body.push_str(&rest[..start]);
        body.push_str(&format!("\n\n\u{1}PRE{}\u{1}\n\n", pres.len()));
        pres.push(&rest[start..end]);
        rest = &rest[end..];
    }
    body.push_str(rest);

    let mut out = String::with_capacity(body.len() + body.len() / 8);
    for chunk in body.split("\n\n").map(str::trim).filter(|c| !c.is_empty()) {
        if let Some(index) = chunk
            .strip_prefix("\u{1}PRE")
            .and_then(|r| r.strip_suffix('\u{1}'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            out.push_str(pres[index]);
        } else if starts_with_block(chunk) {
            out.push_str(chunk);
        } else if is_bare_url(chunk) {
            // WordPress's auto-embed: a URL alone on its line.
            out.push_str(link_paragraph(chunk).trim());
        } else {
            out.push_str("<p>");
            out.push_str(
                &chunk
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("<br>\n"),
            );
            out.push_str("</p>");
        }
        out.push('\n');
    }
    out
}

fn is_bare_url(chunk: &str) -> bool {
    (chunk.starts_with("http://") || chunk.starts_with("https://"))
        && !chunk.contains(char::is_whitespace)
        && !chunk.contains(['<', '>', '"'])
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Two(Vec<Attachment>);

    impl Attachments for Two {
        fn by_id(&self, id: i64) -> Option<&Attachment> {
            self.0.iter().find(|a| a.id == id)
        }
        fn of_post(&self, post: i64) -> Vec<&Attachment> {
            self.0.iter().filter(|a| a.parent == Some(post)).collect()
        }
    }

    fn two() -> Two {
        let image = |id, url: &str| Attachment {
            id,
            url: url.into(),
            title: format!("Image {id}"),
            caption: String::new(),
            parent: Some(5),
            menu_order: 0,
        };
        Two(vec![
            image(1, "https://x.example/a.jpg"),
            image(2, "https://x.example/b.png"),
        ])
    }

    #[test]
    fn captions_become_figures() {
        let html = to_html(
            "[caption id=\"attachment_1\" align=\"alignnone\" width=\"300\"]<a href=\"/a.jpg\"><img src=\"/a.jpg\" /></a> A [bright] day[/caption]",
            None,
            &two(),
        );
        assert_eq!(
            html.trim(),
            "<figure><a href=\"/a.jpg\"><img src=\"/a.jpg\" /></a><figcaption>A [bright] day</figcaption></figure>"
        );
        let html = to_html(
            "[caption caption=\"Said so\"]<img src=\"/b.jpg\">[/caption]",
            None,
            &two(),
        );
        assert!(html.contains("<figcaption>Said so</figcaption>"), "{html}");
    }

    #[test]
    fn galleries_list_their_images() {
        let by_ids = to_html("[gallery ids=\"2,1\"]", None, &two());
        assert!(
            by_ids.find("b.png").unwrap() < by_ids.find("a.jpg").unwrap(),
            "{by_ids}"
        );
        let own = to_html("[gallery columns=\"2\"]", Some(5), &two());
        assert_eq!(own.matches("<img").count(), 2, "{own}");
        assert_eq!(to_html("[gallery]", Some(99), &two()).trim(), "");
    }

    #[test]
    fn embeds_become_links_and_unknown_codes_stay() {
        let html = to_html(
            "Look:\n\n[embed]https://www.youtube.com/watch?v=x[/embed]\n\n[contact-form]",
            None,
            &two(),
        );
        assert!(
            html.contains("<p><a href=\"https://www.youtube.com/watch?v=x\">"),
            "{html}"
        );
        assert!(html.contains("<p>[contact-form]</p>"), "{html}");
        assert!(to_html("[[caption]]", None, &two()).contains("[caption]"));
        let bare = to_html("Intro\n\nhttps://twitter.com/x/status/1\n", None, &two());
        assert!(
            bare.contains("<p><a href=\"https://twitter.com/x/status/1\">"),
            "{bare}"
        );
        let video = to_html("[video src=\"https://v.example/a.mp4\"]", None, &two());
        assert!(
            video.contains("href=\"https://v.example/a.mp4\""),
            "{video}"
        );
    }

    #[test]
    fn paragraphs_are_added_except_around_blocks_and_pre() {
        let html = autop("One\nline two\n\n<h2>Head</h2>\n\n<pre>a\n\nb</pre>\n\nEnd");
        assert_eq!(
            html,
            "<p>One<br>\nline two</p>\n<h2>Head</h2>\n<pre>a\n\nb</pre>\n<p>End</p>\n"
        );
        let blocks = to_html(
            "<!-- wp:paragraph -->\n<p>x</p>\n<!-- /wp:paragraph -->\n\ny",
            None,
            &two(),
        );
        assert!(!blocks.contains("<p>y</p>"), "{blocks}");
    }
}
