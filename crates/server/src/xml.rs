//! Escaping for hand-written XML (SVG charts, sitemaps): text built with `format!`
//! is only safe once every interpolated value went through [`escape`].

/// Escapes text for XML content and attribute values (both quote kinds included, so
/// either attribute quoting is safe).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
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
}
