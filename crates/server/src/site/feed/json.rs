//! JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>), the cover image as the
//! item's `image` and as an attachment.

use serde_json::{Value, json};

use super::Feed;
use crate::xml::rfc3339;

pub fn render(feed: &Feed) -> String {
    let items: Vec<Value> = feed
        .items
        .iter()
        .map(|item| {
            let mut value = json!({
                "id": item.id,
                "url": item.url,
                "title": item.title,
                "summary": item.summary,
                "content_html": item.content_html,
                "date_published": rfc3339(item.published),
                "date_modified": rfc3339(item.updated),
                "authors": [{"name": item.author_name, "url": item.author_url}],
                "tags": item.tags,
            });
            if let Some(image) = &item.image {
                value["image"] = json!(image.url);
                value["attachments"] = json!([{"url": image.url, "mime_type": image.mime_type}]);
            }
            value
        })
        .collect();
    let document = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.self_url,
        "description": feed.description,
        "language": feed.language,
        "items": items,
    });
    document.to_string()
}
