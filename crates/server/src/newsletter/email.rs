//! What newsletter emails say: the confirmation of a subscription, and an article.
//! Each has a plain-text part and an HTML part (everything in it escaped here), and
//! an article's carries its one-click unsubscribe link in the text and in the RFC 8058
//! headers.

use broadsheet_domain::{Article, SiteSettings};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::mail::Email;

/// The email that asks a new subscriber to confirm.
pub fn confirmation(settings: &SiteSettings, to: &str, link: &str) -> Email {
    let site = &settings.title;
    let plain = format!(
        "Hello,\n\nSomeone, probably you, asked to receive new articles from {site} by \
         email at this address.\n\nTo confirm, open this link within three days:\n{link}\n\n\
         If it was not you, ignore this email: without confirmation nothing will be sent.\n"
    );
    let html = format!(
        "<!doctype html><html><body>\
         <p>Hello,</p>\
         <p>Someone, probably you, asked to receive new articles from {site_h} by email at \
         this address.</p>\
         <p><a href=\"{link_a}\">Confirm your subscription</a> (the link works for three \
         days).</p>\
         <p>If it was not you, ignore this email: without confirmation nothing will be \
         sent.</p></body></html>",
        site_h = text(site),
        link_a = attr(link),
    );
    Email {
        to: to.to_owned(),
        subject: format!("Confirm your subscription to {site}"),
        text: plain,
        html: Some(html),
        list_unsubscribe: None,
    }
}

/// An article, as one subscriber receives it.
pub fn article(
    settings: &SiteSettings,
    article: &Article,
    url: &str,
    to: &str,
    unsubscribe: &str,
) -> Email {
    let site = &settings.title;
    let title = &article.title;
    let excerpt = &article.excerpt;
    let plain = format!(
        "{title}\n\n{excerpt}\n\nRead it: {url}\n\n--\nYou get this email because you \
         subscribed to {site}. To unsubscribe, open: {unsubscribe}\n"
    );
    let html = format!(
        "<!doctype html><html><body>\
         <h1><a href=\"{url_a}\">{title_h}</a></h1>\
         <p>{excerpt_h}</p>\
         <p><a href=\"{url_a}\">Read the article</a></p>\
         <hr><p><small>You get this email because you subscribed to {site_h}. \
         <a href=\"{unsub_a}\">Unsubscribe</a></small></p></body></html>",
        url_a = attr(url),
        title_h = text(title),
        excerpt_h = text(excerpt),
        site_h = text(site),
        unsub_a = attr(unsubscribe),
    );
    Email {
        to: to.to_owned(),
        subject: title.clone(),
        text: plain,
        html: Some(html),
        list_unsubscribe: Some(unsubscribe.to_owned()),
    }
}
