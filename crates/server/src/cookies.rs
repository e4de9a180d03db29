//! Reading our own cookies from a request. Browsers may send several `Cookie` headers
//! (HTTP/2 splits them), each a `;`-separated list of `name=value` pairs.

use axum::http::{HeaderMap, header};

/// The value of the cookie called `name`, trimmed, if the request has one.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; theme=dark".parse().unwrap());
        headers.append(header::COOKIE, "b= 2 ".parse().unwrap());
        assert_eq!(value(&headers, "theme"), Some("dark"));
        assert_eq!(value(&headers, "b"), Some("2"));
        assert_eq!(value(&headers, "c"), None);
        assert_eq!(value(&headers, "the"), None);
    }
}
