//! Cross-site form posts are refused.
//!
//! The reader cookie is SameSite=Lax, which already keeps it off other sites' POSTs,
//! but a reader without a cookie would be given one by the forged request itself; so
//! POSTs say where they come from. Browsers send `Origin` on every POST (and
//! `Referer` on most): when present it must be this site, as configured (`base_url`)
//! or as addressed (`Host`, for a node reached under another name). A request with
//! neither comes from a non-browser client, which could forge any header anyway; it is
//! allowed and left to the rate limits.

use axum::http::{HeaderMap, Uri, header};

use crate::error::AppError;

/// Checks a POST's `Origin`, else its `Referer`, against the site.
pub fn check(headers: &HeaderMap, uri: &Uri, base_url: &str) -> Result<(), AppError> {
    if same_site(headers, uri, base_url) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "This form was sent from another site, so it was not accepted. \
             Please use the buttons on the article itself."
                .into(),
        ))
    }
}

/// Whether a request's `Origin`, else its `Referer`, is this site (as configured or as
/// addressed); true when it sends neither. The admin's forms use this too.
pub fn same_site(headers: &HeaderMap, uri: &Uri, base_url: &str) -> bool {
    let claimed = match (headers.get(header::ORIGIN), headers.get(header::REFERER)) {
        (Some(origin), _) => origin.to_str().ok().and_then(origin_of),
        (None, Some(referer)) => referer.to_str().ok().and_then(origin_of),
        (None, None) => return true,
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let allowed = |origin: &str| {
        origin_of(base_url).as_deref() == Some(origin)
            || host.is_some_and(|host| {
                ["http", "https"].iter().any(|scheme| {
                    origin_of(&format!("{scheme}://{host}")).as_deref() == Some(origin)
                })
            })
    };
    // `Origin: null` (sandboxed frames, some redirects) and anything unreadable
    // cannot show that the post came from this site.
    claimed.is_some_and(|origin| allowed(&origin))
}

/// The origin of a URL (`scheme://host[:port]`, lowercase, default port dropped), or
/// `None` for anything that is not an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    // Credentials in a URL are not part of its origin.
    let host_port = authority.rsplit('@').next()?.to_ascii_lowercase();
    if host_port.is_empty() {
        return None;
    }
    let host_port = host_port.strip_suffix(default_port).unwrap_or(&host_port);
    Some(format!("{scheme}://{host_port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://news.example.com";

    fn check_with(pairs: &[(&'static str, &str)]) -> bool {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        check(&headers, &Uri::from_static("/articles/1/engage"), BASE).is_ok()
    }

    #[test]
    fn same_site_posts_pass_and_cross_site_ones_do_not() {
        assert!(check_with(&[]), "no Origin, no Referer: not a browser");
        assert!(check_with(&[("origin", "https://news.example.com")]));
        assert!(check_with(&[("origin", "https://NEWS.example.com:443")]));
        assert!(check_with(&[(
            "referer",
            "https://news.example.com/2026/03/01/a/#x"
        )]));
        // Reached under another name: the Host it was addressed to.
        assert!(check_with(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ]));
        assert!(!check_with(&[("origin", "https://evil.example")]));
        assert!(!check_with(&[("origin", "null")]));
        assert!(!check_with(&[(
            "origin",
            "https://news.example.com.evil.example"
        )]));
        assert!(!check_with(&[(
            "referer",
            "https://evil.example/news.example.com"
        )]));
        assert!(!check_with(&[
            ("origin", "https://evil.example"),
            ("referer", "https://news.example.com/")
        ]));
        assert!(!check_with(&[
            ("origin", "http://news.example.com:8443"),
            ("host", "news.example.com")
        ]));
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://a.example/x?y").as_deref(),
            Some("https://a.example")
        );
        assert_eq!(
            origin_of("http://a.example:80").as_deref(),
            Some("http://a.example")
        );
        assert_eq!(
            origin_of("http://u:p@a.example:81/").as_deref(),
            Some("http://a.example:81")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("null"), None);
    }
}
