//! A streaming reader of WordPress eXtended RSS (WXR 1.0, 1.1 and 1.2): the file is
//! read as a stream of XML events (quick-xml), and only one top-level entry (an
//! author, a term, or an item with its comments) is held at a time, so memory stays
//! flat however large the export.
//!
//! Real exports are not always well-formed XML, and this reader is forgiving where
//! WordPress's own importer is:
//!
//! - Namespaces are resolved by scope, and a namespace counts by what it is, not how it
//!   is spelt: `http://` and `https://wordpress.org/export/1.x/` are both WordPress's.
//!   A prefix nobody declared (`wp:` in a hand-cut file) is taken at its word.
//!   Elements in a foreign namespace (a `wp:` prefix rebound to another URI) are not
//!   WordPress's and are ignored.
//! - CDATA that WordPress failed to escape (a post containing `]]>`) is read as
//!   WordPress writes it: everything between the first `<![CDATA[` and the last `]]>`.
//! - HTML entities outside CDATA (`&nbsp;`) are kept as written: the content is HTML.
//!
//! What XML cannot survive (a mismatched or missing end tag, a truncated file) is an
//! error naming the line.

use std::io::{BufRead, Read};

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// A line-numbered problem that stops the reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct WxrError {
    pub line: u64,
    pub message: String,
}

/// The site an export came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channel {
    pub title: String,
    pub link: String,
    pub base_site_url: String,
    pub base_blog_url: String,
    /// `None` when the file does not say (tolerated, with a warning).
    pub wxr_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
}

/// A category, tag or other term declared at the top of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Term {
    /// `category`, `post_tag`, or another taxonomy.
    pub taxonomy: String,
    pub id: Option<i64>,
    pub slug: String,
    pub name: String,
    /// The parent's slug, for nested categories.
    pub parent: String,
}

/// A term an item is filed under: `<category domain="post_tag" nicename="x">X</category>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemTerm {
    pub domain: String,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// Where the item starts in the file, for messages.
    pub line: u64,
    pub title: String,
    pub link: String,
    pub creator: String,
    pub content: String,
    pub excerpt: String,
    pub post_id: Option<i64>,
    pub post_date: String,
    pub post_date_gmt: String,
    pub post_modified: String,
    pub post_modified_gmt: String,
    pub post_name: String,
    pub status: String,
    pub post_parent: Option<i64>,
    pub menu_order: i64,
    pub post_type: String,
    pub post_password: String,
    pub is_sticky: bool,
    pub attachment_url: String,
    pub terms: Vec<ItemTerm>,
    pub meta: Vec<(String, String)>,
    pub comments: Vec<ItemComment>,
}

impl Item {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemComment {
    pub id: Option<i64>,
    pub author: String,
    pub author_email: String,
    pub author_url: String,
    pub date: String,
    pub date_gmt: String,
    pub content: String,
    /// `1`, `0`, `spam`, `trash`, `post-trashed`.
    pub approved: String,
    /// Empty or `comment`, `pingback`, `trackback`.
    pub kind: String,
    pub parent: Option<i64>,
}

/// One top-level entry of the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Author(Author),
    Term(Term),
    Item(Box<Item>),
}

/// The namespaces WXR uses, recognised by URI (or, undeclared, by usual prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// No namespace: RSS's own elements.
    Rss,
    Wp,
    Content,
    Excerpt,
    Dc,
    Other,
}

impl Ns {
    fn of_uri(uri: &[u8]) -> Ns {
        let uri = String::from_utf8_lossy(uri);
        let rest = uri
            .strip_prefix("https://")
            .or_else(|| uri.strip_prefix("http://"))
            .unwrap_or(&uri)
            .trim_end_matches('/');
        if let Some(version) = rest.strip_prefix("wordpress.org/export/") {
            return match version {
                "1.0" | "1.1" | "1.2" => Ns::Wp,
                "1.0/excerpt" | "1.1/excerpt" | "1.2/excerpt" => Ns::Excerpt,
                _ => Ns::Other,
            };
        }
        match rest {
            "purl.org/rss/1.0/modules/content" => Ns::Content,
            "purl.org/dc/elements/1.1" => Ns::Dc,
            _ => Ns::Other,
        }
    }

    fn of_prefix(prefix: &[u8]) -> Ns {
        match prefix {
            b"wp" => Ns::Wp,
            b"content" => Ns::Content,
            b"excerpt" => Ns::Excerpt,
            b"dc" => Ns::Dc,
            _ => Ns::Other,
        }
    }
}

/// An element as collected: its namespace, local name, attributes, text and children.
#[derive(Debug, Default)]
struct Node {
    ns: Option<Ns>,
    local: String,
    attrs: Vec<(String, String)>,
    text: Text,
    children: Vec<Node>,
    line: u64,
}

impl Node {
    fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == Some(ns) && self.local == local
    }

    /// The text of the first child `ns:local`, trimmed; empty when absent.
    fn child_text(&self, ns: Ns, local: &str) -> String {
        self.children
            .iter()
            .find(|c| c.is(ns, local))
            .map(|c| c.text.value().trim().to_owned())
            .unwrap_or_default()
    }

    /// The text of the first child, untrimmed (post content keeps its layout).
    fn child_body(&self, ns: Ns, local: &str) -> String {
        self.children
            .iter()
            .find(|c| c.is(ns, local))
            .map(|c| c.text.value())
            .unwrap_or_default()
    }

    fn child_id(&self, ns: Ns, local: &str) -> Option<i64> {
        self.child_text(ns, local)
            .parse()
            .ok()
            .filter(|id: &i64| *id > 0)
    }

    fn attr(&self, name: &str) -> String {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// An element's text: what XML says it is, and the raw form for the CDATA rescue.
#[derive(Debug, Default)]
struct Text {
    text: String,
    raw: String,
    after_cdata: bool,
    /// A `]]>` outside CDATA after a CDATA section: WordPress wrote unescaped CDATA.
    odd: bool,
}

impl Text {
    fn push_text(&mut self, s: &str) {
        if self.after_cdata && s.contains("]]>") {
            self.odd = true;
        }
        self.text.push_str(s);
        self.raw.push_str(s);
    }

    fn push_cdata(&mut self, s: &str) {
        self.text.push_str(s);
        self.raw.push_str("<![CDATA[");
        self.raw.push_str(s);
        self.raw.push_str("]]>");
        self.after_cdata = true;
    }

    fn push_ref(&mut self, name: &str, resolved: Option<&str>) {
        match resolved {
            Some(s) => self.text.push_str(s),
            // An HTML entity in HTML content: keep it for the HTML parser.
            None => {
                self.text.push('&');
                self.text.push_str(name);
                self.text.push(';');
            }
        }
        self.raw.push('&');
        self.raw.push_str(name);
        self.raw.push(';');
    }

    fn value(&self) -> String {
        if !self.odd {
            return self.text.clone();
        }
        let raw = self.raw.trim();
        let raw = raw.strip_prefix("<![CDATA[").unwrap_or(raw);
        raw.strip_suffix("]]>").unwrap_or(raw).to_owned()
    }
}

/// Counts the lines of what the XML parser has consumed.
struct Lines<R> {
    inner: R,
    newlines: u64,
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += count_newlines(&buf[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Lines<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if amt > 0
            && let Ok(buf) = self.inner.fill_buf()
        {
            self.newlines += count_newlines(&buf[..amt.min(buf.len())]);
        }
        self.inner.consume(amt);
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Where the reader is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Before the root element.
    Prolog,
    /// Inside `<rss>`, outside `<channel>`.
    Rss,
    /// Inside `<channel>`.
    Channel,
    /// After `</channel>` or `</rss>`.
    Done,
}

/// Reads a WXR file entry by entry (see the module docs).
pub struct WxrReader<R: BufRead> {
    reader: NsReader<Lines<R>>,
    buf: Vec<u8>,
    place: Place,
    /// Elements open inside an entry being collected (the entry first).
    stack: Vec<Node>,
    /// Depth of elements being skipped (inside `<rss>` but not `<channel>`).
    skipping: u32,
    channel: Channel,
    saw_channel: bool,
    failed: bool,
}

impl<R: BufRead> WxrReader<R> {
    pub fn new(source: R) -> WxrReader<R> {
        let mut reader = NsReader::from_reader(Lines {
            inner: source,
            newlines: 0,
        });
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = true;
        WxrReader {
            reader,
            buf: Vec::with_capacity(64 * 1024),
            place: Place::Prolog,
            stack: Vec::new(),
            skipping: 0,
            channel: Channel::default(),
            saw_channel: false,
            failed: false,
        }
    }

    /// What the channel said so far (its fields precede the entries in every export).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The line the reader has reached.
    pub fn line(&self) -> u64 {
        self.reader.get_ref().newlines + 1
    }

    fn error(&mut self, message: impl Into<String>) -> WxrError {
        self.failed = true;
        WxrError {
            line: self.line(),
            message: message.into(),
        }
    }

    /// The next entry; `Ok(None)` at the end of a well-formed file.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, WxrError> {
        if self.failed {
            return Ok(None);
        }
        loop {
            self.buf.clear();
            let line = self.line();
            let (resolved, event) = match self.reader.read_resolved_event_into(&mut self.buf) {
                Ok((resolved, event)) => (ns_of(resolved), event.into_owned()),
                Err(e) => {
                    let message = format!("the XML is malformed: {e}");
                    return Err(self.error(message));
                }
            };
            match event {
                Event::Start(start) => {
                    let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                    match self.place {
                        Place::Prolog => {
                            if local != "rss" {
                                return Err(self.error(format!(
                                    "this is not a WordPress export (WXR): the document is <{local}>, not <rss>"
                                )));
                            }
                            self.place = Place::Rss;
                        }
                        Place::Rss if self.skipping == 0 && local == "channel" => {
                            self.place = Place::Channel;
                            self.saw_channel = true;
                        }
                        Place::Rss | Place::Done => self.skipping += 1,
                        Place::Channel => {
                            let mut attrs = Vec::new();
                            for attr in start.attributes().flatten() {
                                let key = String::from_utf8_lossy(attr.key.local_name().as_ref())
                                    .into_owned();
                                let value = attr
                                    .unescape_value()
                                    .map(|v| v.into_owned())
                                    .unwrap_or_else(|_| {
                                        String::from_utf8_lossy(&attr.value).into_owned()
                                    });
                                attrs.push((key, value));
                            }
                            self.stack.push(Node {
                                ns: resolved,
                                local,
                                attrs,
                                line,
                                ..Node::default()
                            });
                        }
                    }
                }
                Event::End(_) => {
                    if self.skipping > 0 {
                        self.skipping -= 1;
                        continue;
                    }
                    match self.place {
                        Place::Channel => match self.stack.pop() {
                            Some(node) => match self.stack.last_mut() {
                                Some(parent) => parent.children.push(node),
                                None => {
                                    if let Some(entry) = self.top_level(node)? {
                                        return Ok(Some(entry));
                                    }
                                }
                            },
                            None => self.place = Place::Rss,
                        },
                        Place::Rss => self.place = Place::Done,
                        Place::Prolog | Place::Done => {}
                    }
                }
                Event::Text(text) => {
                    if let Some(node) = self.stack.last_mut() {
                        node.text.push_text(&String::from_utf8_lossy(&text));
                    }
                }
                Event::CData(data) => {
                    if let Some(node) = self.stack.last_mut() {
                        node.text.push_cdata(&String::from_utf8_lossy(&data));
                    }
                }
                Event::GeneralRef(reference) => {
                    if let Some(node) = self.stack.last_mut() {
                        let name = String::from_utf8_lossy(&reference).into_owned();
                        let resolved = match reference.resolve_char_ref() {
                            Ok(Some(c)) => Some(c.to_string()),
                            _ => quick_xml::escape::resolve_predefined_entity(&name)
                                .map(str::to_owned),
                        };
                        node.text.push_ref(&name, resolved.as_deref());
                    }
                }
                Event::Eof => {
                    if let Some(open) = self.stack.first() {
                        let (name, at) = (open.local.clone(), open.line);
                        return Err(self.error(format!(
                            "the file ends inside <{name}> opened at line {at}: it is cut short"
                        )));
                    }
                    if !self.saw_channel {
                        return Err(self.error(
                            "this is not a WordPress export (WXR): there is no <rss><channel>",
                        ));
                    }
                    if self.place == Place::Channel {
                        return Err(self.error("the file ends before </channel>: it is cut short"));
                    }
                    return Ok(None);
                }
                Event::Empty(_)
                | Event::Comment(_)
                | Event::Decl(_)
                | Event::PI(_)
                | Event::DocType(_) => {}
            }
        }
    }

    /// Turns a finished child of `<channel>` into an entry, or keeps a channel field.
    fn top_level(&mut self, node: Node) -> Result<Option<Entry>, WxrError> {
        let text = || node.text.value().trim().to_owned();
        match (node.ns, node.local.as_str()) {
            (Some(Ns::Rss), "title") => self.channel.title = text(),
            (Some(Ns::Rss), "link") => self.channel.link = text(),
            (Some(Ns::Wp), "base_site_url") => self.channel.base_site_url = text(),
            (Some(Ns::Wp), "base_blog_url") => self.channel.base_blog_url = text(),
            (Some(Ns::Wp), "wxr_version") => {
                let version = text();
                if !matches!(version.as_str(), "1.0" | "1.1" | "1.2") {
                    return Err(WxrError {
                        line: node.line,
                        message: format!(
                            "wp:wxr_version is \"{version}\"; this importer reads WXR 1.0, 1.1 and 1.2"
                        ),
                    });
                }
                self.channel.wxr_version = Some(version);
            }
            (Some(Ns::Wp), "author") => return Ok(Some(Entry::Author(author(&node)))),
            (Some(Ns::Wp), "category" | "tag" | "term") => {
                return Ok(Some(Entry::Term(term(&node))));
            }
            (Some(Ns::Rss), "item") => return Ok(Some(Entry::Item(Box::new(item(node))))),
            _ => {}
        }
        Ok(None)
    }
}

impl<R: BufRead> Iterator for WxrReader<R> {
    type Item = Result<Entry, WxrError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

fn ns_of(resolved: ResolveResult<'_>) -> Option<Ns> {
    Some(match resolved {
        ResolveResult::Unbound => Ns::Rss,
        ResolveResult::Bound(ns) => {
            // `xmlns=""` is no namespace at all.
            if ns.as_ref().is_empty() {
                Ns::Rss
            } else {
                Ns::of_uri(ns.as_ref())
            }
        }
        ResolveResult::Unknown(prefix) => Ns::of_prefix(&prefix),
    })
}

fn author(node: &Node) -> Author {
    Author {
        login: node.child_text(Ns::Wp, "author_login"),
        email: node.child_text(Ns::Wp, "author_email"),
        display_name: node.child_text(Ns::Wp, "author_display_name"),
        first_name: node.child_text(Ns::Wp, "author_first_name"),
        last_name: node.child_text(Ns::Wp, "author_last_name"),
    }
}

fn term(node: &Node) -> Term {
    let pick = |a: &str, b: &str| {
        let first = node.child_text(Ns::Wp, a);
        if first.is_empty() {
            node.child_text(Ns::Wp, b)
        } else {
            first
        }
    };
    let taxonomy = match node.local.as_str() {
        "category" => "category".to_owned(),
        "tag" => "post_tag".to_owned(),
        _ => node.child_text(Ns::Wp, "term_taxonomy"),
    };
    Term {
        taxonomy,
        id: node.child_id(Ns::Wp, "term_id"),
        slug: match node.local.as_str() {
            "category" => pick("category_nicename", "term_slug"),
            "tag" => pick("tag_slug", "term_slug"),
            _ => node.child_text(Ns::Wp, "term_slug"),
        },
        name: match node.local.as_str() {
            "category" => pick("cat_name", "term_name"),
            "tag" => pick("tag_name", "term_name"),
            _ => node.child_text(Ns::Wp, "term_name"),
        },
        parent: pick("category_parent", "term_parent"),
    }
}

fn item(node: Node) -> Item {
    let mut item = Item {
        line: node.line,
        title: node.child_text(Ns::Rss, "title"),
        link: node.child_text(Ns::Rss, "link"),
        creator: node.child_text(Ns::Dc, "creator"),
        content: node.child_body(Ns::Content, "encoded"),
        excerpt: node.child_body(Ns::Excerpt, "encoded"),
        post_id: node.child_id(Ns::Wp, "post_id"),
        post_date: node.child_text(Ns::Wp, "post_date"),
        post_date_gmt: node.child_text(Ns::Wp, "post_date_gmt"),
        post_modified: node.child_text(Ns::Wp, "post_modified"),
        post_modified_gmt: node.child_text(Ns::Wp, "post_modified_gmt"),
        post_name: node.child_text(Ns::Wp, "post_name"),
        status: node.child_text(Ns::Wp, "status"),
        post_parent: node.child_id(Ns::Wp, "post_parent"),
        menu_order: node.child_text(Ns::Wp, "menu_order").parse().unwrap_or(0),
        post_type: node.child_text(Ns::Wp, "post_type"),
        post_password: node.child_text(Ns::Wp, "post_password"),
        is_sticky: node.child_text(Ns::Wp, "is_sticky") == "1",
        attachment_url: node.child_text(Ns::Wp, "attachment_url"),
        ..Item::default()
    };
    for child in &node.children {
        if child.is(Ns::Rss, "category") {
            item.terms.push(ItemTerm {
                domain: child.attr("domain"),
                slug: child.attr("nicename"),
                name: child.text.value().trim().to_owned(),
            });
        } else if child.is(Ns::Wp, "postmeta") {
            item.meta.push((
                child.child_text(Ns::Wp, "meta_key"),
                child.child_body(Ns::Wp, "meta_value"),
            ));
        } else if child.is(Ns::Wp, "comment") {
            item.comments.push(ItemComment {
                id: child.child_id(Ns::Wp, "comment_id"),
                author: child.child_text(Ns::Wp, "comment_author"),
                author_email: child.child_text(Ns::Wp, "comment_author_email"),
                author_url: child.child_text(Ns::Wp, "comment_author_url"),
                date: child.child_text(Ns::Wp, "comment_date"),
                date_gmt: child.child_text(Ns::Wp, "comment_date_gmt"),
                content: child.child_body(Ns::Wp, "comment_content"),
                approved: child.child_text(Ns::Wp, "comment_approved"),
                kind: child.child_text(Ns::Wp, "comment_type"),
                parent: child.child_id(Ns::Wp, "comment_parent"),
            });
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<(Channel, Vec<Entry>), WxrError> {
        let mut reader = WxrReader::new(xml.as_bytes());
        let mut entries = Vec::new();
        while let Some(entry) = reader.next_entry()? {
            entries.push(entry);
        }
        Ok((reader.channel().clone(), entries))
    }

    fn items(xml: &str) -> Vec<Item> {
        read(xml)
            .unwrap()
            .1
            .into_iter()
            .filter_map(|e| match e {
                Entry::Item(item) => Some(*item),
                _ => None,
            })
            .collect()
    }

    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wp="https://wordpress.org/export/1.2/" xmlns:excerpt="https://wordpress.org/export/1.2/excerpt/">
<channel><title>T</title><wp:wxr_version>1.2</wp:wxr_version>
"#;

    fn doc(body: &str) -> String {
        format!("{HEAD}{body}\n</channel></rss>\n")
    }

    #[test]
    fn reads_items_terms_and_comments() {
        let xml = doc(
            r#"<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename>news</wp:category_nicename><wp:cat_name><![CDATA[News]]></wp:cat_name></wp:category>
<item><title>A &amp; B</title><wp:post_id>7</wp:post_id><content:encoded><![CDATA[<p>Hi</p>]]></content:encoded>
<excerpt:encoded><![CDATA[Short]]></excerpt:encoded>
<category domain="post_tag" nicename="x-y"><![CDATA[X Y]]></category>
<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>9</wp:meta_value></wp:postmeta>
<wp:comment><wp:comment_id>4</wp:comment_id><wp:comment_content><![CDATA[Nice]]></wp:comment_content><wp:comment_parent>0</wp:comment_parent><wp:comment_type>pingback</wp:comment_type></wp:comment>
</item>"#,
        );
        let (channel, entries) = read(&xml).unwrap();
        assert_eq!(channel.title, "T");
        assert_eq!(channel.wxr_version.as_deref(), Some("1.2"));
        assert!(
            matches!(&entries[0], Entry::Term(t) if t.slug == "news" && t.name == "News" && t.taxonomy == "category")
        );
        let Entry::Item(item) = &entries[1] else {
            panic!("an item")
        };
        assert_eq!(item.title, "A & B");
        assert_eq!(item.post_id, Some(7));
        assert_eq!(item.content, "<p>Hi</p>");
        assert_eq!(item.excerpt, "Short");
        assert_eq!(item.terms[0].slug, "x-y");
        assert_eq!(item.meta("_thumbnail_id"), Some("9"));
        assert_eq!(item.comments[0].kind, "pingback");
        assert_eq!(item.comments[0].parent, None);
    }

    #[test]
    fn both_namespace_spellings_and_undeclared_prefixes() {
        let http = r#"<rss xmlns:wp="http://wordpress.org/export/1.1/"><channel><item><wp:post_id>1</wp:post_id></item></channel></rss>"#;
        assert_eq!(items(http)[0].post_id, Some(1));
        let undeclared = r#"<rss><channel><item><wp:post_id>2</wp:post_id></item></channel></rss>"#;
        assert_eq!(items(undeclared)[0].post_id, Some(2));
        let hijacked = r#"<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item xmlns:wp="http://evil.example/"><wp:post_id>3</wp:post_id></item></channel></rss>"#;
        assert_eq!(items(hijacked)[0].post_id, None);
    }

    #[test]
    fn unescaped_cdata_is_rescued_and_entities_kept() {
        let xml = doc(
            "<item><content:encoded><![CDATA[Nested <![CDATA[ x ]]> :)]]></content:encoded><title>a&nbsp;b &#233;</title></item>
<item><content:encoded><![CDATA[one]]><![CDATA[two]]></content:encoded></item>",
        );
        let items = items(&xml);
        assert_eq!(items[0].content, "Nested <![CDATA[ x ]]> :)");
        assert_eq!(items[0].title, "a&nbsp;b é");
        assert_eq!(items[1].content, "onetwo");
    }

    #[test]
    fn broken_files_name_the_line() {
        let cut = format!("{HEAD}<item>\n<title>x</title>\n");
        let e = read(&cut).unwrap_err();
        assert!(e.message.contains("cut short"), "{e}");
        assert!(e.message.contains("<item> opened at line 4"), "{e}");
        let mismatch = format!("{HEAD}<item>\n<title>x</item>\n</channel></rss>");
        let e = read(&mismatch).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("malformed"), "{e}");
        let e = read("<html></html>").unwrap_err();
        assert!(e.message.contains("not a WordPress export"), "{e}");
        let e = read(&doc("").replace("1.2</wp:wxr", "abc</wp:wxr")).unwrap_err();
        assert!(e.message.contains("\"abc\""), "{e}");
    }
}
