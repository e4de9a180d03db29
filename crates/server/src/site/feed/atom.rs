//! Atom 1.0 (RFC 4287), the cover image as an `enclosure` link.

use std::fmt::Write;

use super::Feed;
use crate::xml::{escape, rfc3339};

pub fn render(feed: &Feed) -> String {
    let mut out = String::with_capacity(4096 + feed.items.len() * 4096);
    let _ = writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n\
         <id>{}</id>\n<title>{}</title>\n<subtitle>{}</subtitle>\n<updated>{}</updated>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n\
         <generator>Broadsheet</generator>",
        escape(&feed.language),
        escape(&feed.self_url),
        escape(&feed.title),
        escape(&feed.description),
        rfc3339(feed.updated),
        escape(&feed.home_url),
        escape(&feed.self_url),
    );
    for item in &feed.items {
        let _ = writeln!(
            out,
            "<entry>\n<id>{}</id>\n<title type=\"text\">{}</title>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
             <published>{}</published>\n<updated>{}</updated>\n\
             <author><name>{}</name><uri>{}</uri></author>\n\
             <summary type=\"text\">{}</summary>\n<content type=\"html\">{}</content>",
            escape(&item.id),
            escape(&item.title),
            escape(&item.url),
            rfc3339(item.published),
            rfc3339(item.updated),
            escape(&item.author_name),
            escape(&item.author_url),
            escape(&item.summary),
            escape(&item.content_html),
        );
        for tag in &item.tags {
            let _ = writeln!(out, "<category term=\"{}\"/>", escape(tag));
        }
        if let Some(image) = &item.image {
            let _ = writeln!(
                out,
                "<link rel=\"enclosure\" type=\"{}\" href=\"{}\"/>",
                image.mime_type,
                escape(&image.url)
            );
        }
        out.push_str("</entry>\n");
    }
    out.push_str("</feed>\n");
    out
}
