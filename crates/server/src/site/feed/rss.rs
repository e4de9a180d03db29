//! RSS 2.0, with `atom:link rel=self` and the full body in `content:encoded`.

use std::fmt::Write;

use super::Feed;
use crate::xml::escape;

pub fn render(feed: &Feed) -> String {
    let mut out = String::with_capacity(4096 + feed.items.len() * 4096);
    out.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" ",
        "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" ",
        "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n"
    ));
    let _ = writeln!(
        out,
        "<title>{}</title>\n<link>{}</link>\n<description>{}</description>\n\
         <language>{}</language>\n<lastBuildDate>{}</lastBuildDate>\n\
         <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n\
         <generator>Broadsheet</generator>",
        escape(&feed.title),
        escape(&feed.home_url),
        escape(&feed.description),
        escape(&feed.language),
        feed.updated.to_rfc2822(),
        escape(&feed.self_url),
    );
    for item in &feed.items {
        let _ = writeln!(
            out,
            "<item>\n<title>{}</title>\n<link>{}</link>\n\
             <guid isPermaLink=\"false\">{}</guid>\n<pubDate>{}</pubDate>\n\
             <dc:creator>{}</dc:creator>\n<description>{}</description>\n\
             <content:encoded>{}</content:encoded>",
            escape(&item.title),
            escape(&item.url),
            escape(&item.id),
            item.published.to_rfc2822(),
            escape(&item.author_name),
            escape(&item.summary),
            escape(&item.content_html),
        );
        for tag in &item.tags {
            let _ = writeln!(out, "<category>{}</category>", escape(tag));
        }
        if let Some(image) = &item.image {
            // The size is unknown for a URL a writer typed; RSS's advisory board
            // recommends 0 then.
            let _ = writeln!(
                out,
                "<enclosure url=\"{}\" length=\"0\" type=\"{}\"/>",
                escape(&image.url),
                image.mime_type
            );
        }
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}
