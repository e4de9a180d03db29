//! Text for XML documents: escaped, and without the characters XML 1.0 forbids (a
//! stray control character in a title must not make the whole feed unreadable).

use chrono::{DateTime, SecondsFormat, Utc};

/// `text` escaped for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// RFC 3339 in UTC with whole seconds, as Atom and JSON Feed want.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(
            escape("A & <b>\"it's\"</b>\u{1}\u{FFFF} 🗞"),
            "A &amp; &lt;b&gt;&quot;it&apos;s&quot;&lt;/b&gt; 🗞"
        );
    }
}
