//! Text and dates for hand-written XML (feeds, sitemaps, SVG charts): text built with
//! `format!` is only safe once every interpolated value went through [`escape`].

use chrono::{DateTime, SecondsFormat, Utc};

/// Escapes text for XML content and attribute values (both quote kinds included, so
/// either attribute quoting is safe), and drops the characters XML 1.0 forbids: a
/// stray control character in a title must not make a whole feed unreadable.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// RFC 3339 in UTC with whole seconds, as Atom, JSON Feed and sitemaps want.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"a & <b> "c" 'd' é"#),
            "a &amp; &lt;b&gt; &quot;c&quot; &#39;d&#39; é"
        );
    }

    #[test]
    fn drops_forbidden_characters() {
        assert_eq!(escape("A\u{1}\u{FFFF} 🗞\tB"), "A 🗞\tB");
    }
}
