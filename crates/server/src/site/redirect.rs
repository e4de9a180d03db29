//! Permanent redirects, and the trailing-slash rule.

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// A 301 to a site path. (axum's `Redirect::permanent` is a 308, which old clients and
/// some crawlers treat differently; WordPress and everyone migrating from it use 301.)
pub fn moved(location: &str) -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location)],
    )
        .into_response()
}

/// The slash form of a path that lacks its trailing slash, keeping the query.
///
/// `None` when the path already ends in a slash, when its last segment looks like a
/// file (`robots.txt`, `wp-login.php`: those are missing, not misspelt), or when it
/// contains a backslash. Runs of slashes are collapsed, so `//evil.example` can never
/// become a protocol-relative `Location` that leaves the site.
pub fn with_trailing_slash(uri: &Uri) -> Option<String> {
    let path = uri.path();
    if path.ends_with('/') || path.contains('\\') {
        return None;
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = segments.last()?;
    if last.contains('.') {
        return None;
    }
    let mut target = String::with_capacity(path.len() + 2);
    for segment in &segments {
        target.push('/');
        target.push_str(segment);
    }
    target.push('/');
    if let Some(query) = uri.query() {
        target.push('?');
        target.push_str(query);
    }
    Some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slash(uri: &str) -> Option<String> {
        with_trailing_slash(&uri.parse().unwrap())
    }

    #[test]
    fn adds_the_slash_and_keeps_the_query() {
        assert_eq!(slash("/about").as_deref(), Some("/about/"));
        assert_eq!(
            slash("/2026/03/01/hello?utm=x").as_deref(),
            Some("/2026/03/01/hello/?utm=x")
        );
    }

    #[test]
    fn leaves_files_and_slashed_paths_alone() {
        assert_eq!(slash("/about/"), None);
        assert_eq!(slash("/"), None);
        assert_eq!(slash("/robots.txt"), None);
        assert_eq!(slash("/wp-login.php"), None);
    }

    #[test]
    fn never_redirects_off_site() {
        assert_eq!(slash("//evil.example"), None);
        assert_eq!(slash("//evil").as_deref(), Some("/evil/"));
        assert_eq!(slash("///a//b").as_deref(), Some("/a/b/"));
    }
}
