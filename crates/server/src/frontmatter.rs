//! Markdown files with front matter, as `broadsheet article publish` reads them and as
//! Hugo, Zola and Jekyll write them: YAML between `---` lines or TOML between `+++`
//! lines, then the Markdown body.
//!
//! Both flavours are read into one JSON value first, so one set of field rules serves
//! both; TOML's native dates become RFC 3339 strings on the way.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use broadsheet_domain::{ContentKind, SourceFormat, Status, ValidationErrors};

/// What a front-matter file says, before the domain validates it.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkdownFile {
    pub title: String,
    pub slug: Option<String>,
    pub excerpt: Option<String>,
    pub tags: Vec<String>,
    /// A user's slug, email or display name.
    pub author: Option<String>,
    pub date: Option<DateTime<Utc>>,
    pub status: Status,
    pub kind: ContentKind,
    pub cover_image: Option<String>,
    pub featured: bool,
    /// `markdown` (the default) or `html`, as `export markdown` writes imported HTML.
    pub format: SourceFormat,
    /// Old paths that should lead here: Hugo's and Zola's `aliases`, Jekyll's
    /// `redirect_from`.
    pub aliases: Vec<String>,
    pub body: String,
}

/// The recognised keys, with the spellings the common static site generators use.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Fields {
    title: Option<String>,
    slug: Option<String>,
    #[serde(alias = "description", alias = "summary")]
    excerpt: Option<String>,
    tags: Option<OneOrMany>,
    categories: Option<OneOrMany>,
    taxonomies: Option<Taxonomies>,
    author: Option<String>,
    date: Option<String>,
    status: Option<String>,
    draft: Option<bool>,
    #[serde(alias = "type", alias = "layout")]
    kind: Option<String>,
    #[serde(alias = "cover", alias = "image")]
    cover_image: Option<String>,
    #[serde(alias = "sticky")]
    featured: Option<bool>,
    format: Option<String>,
    #[serde(alias = "redirect_from")]
    aliases: Option<OneOrMany>,
    /// Jekyll's `published: false` is a draft.
    published: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Taxonomies {
    tags: Option<OneOrMany>,
    categories: Option<OneOrMany>,
}

/// `tags: a, b` and `tags: [a, b]` both occur in the wild.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => s.split(',').map(|t| t.trim().to_owned()).collect(),
            OneOrMany::Many(v) => v,
        }
    }
}

/// Parses a front-matter file. `tz` is the site's time zone, for dates without one.
/// Every problem is reported by field; invalid UTF-8 is reported with its line.
pub fn parse(bytes: &[u8], tz: chrono_tz::Tz) -> Result<MarkdownFile, ValidationErrors> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ValidationErrors::single(
            "file",
            format!("is not valid UTF-8 (line {line}, byte {})", e.valid_up_to()),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (value, body) = split(text)?;
    let fields: Fields = serde_json::from_value(value)
        .map_err(|e| ValidationErrors::single("front matter", e.to_string()))?;

    let mut errors = ValidationErrors::default();
    let title = fields.title.unwrap_or_default();
    if title.trim().is_empty() {
        errors.add("title", "is required in the front matter");
    }
    let date = match fields.date.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => match parse_date(text, tz) {
            Some(date) => Some(date),
            None => {
                errors.add(
                    "date",
                    format!(
                        "\"{text}\" is not a date like 2026-03-01, 2026-03-01 09:30 or 2026-03-01T09:30:00+01:00"
                    ),
                );
                None
            }
        },
        _ => None,
    };
    let status = match (fields.status.as_deref(), fields.draft, fields.published) {
        (Some(s), _, _) => s.parse().unwrap_or_else(|problem: String| {
            errors.add("status", problem);
            Status::Draft
        }),
        (None, Some(true), _) | (None, _, Some(false)) => Status::Draft,
        (None, _, _) => Status::Published,
    };
    let format = match fields.format.as_deref() {
        Some(f) => f.trim().parse().unwrap_or_else(|problem: String| {
            errors.add("format", problem);
            SourceFormat::Markdown
        }),
        None => SourceFormat::Markdown,
    };
    let kind = match fields.kind.as_deref() {
        Some(k) => k.parse().unwrap_or_else(|problem: String| {
            errors.add("kind", problem);
            ContentKind::Article
        }),
        None => ContentKind::Article,
    };
    errors.into_result()?;

    let taxonomies = fields.taxonomies.unwrap_or_default();
    let tags = [
        fields.tags,
        fields.categories,
        taxonomies.tags,
        taxonomies.categories,
    ]
    .into_iter()
    .flatten()
    .flat_map(OneOrMany::into_vec)
    .collect();
    Ok(MarkdownFile {
        title,
        slug: fields.slug,
        excerpt: fields.excerpt,
        tags,
        author: fields.author,
        date,
        status,
        kind,
        cover_image: fields.cover_image,
        featured: fields.featured.unwrap_or(false),
        format,
        aliases: fields.aliases.map(OneOrMany::into_vec).unwrap_or_default(),
        body: body.to_owned(),
    })
}

/// Splits the front matter from the body and parses it into JSON.
fn split(text: &str) -> Result<(serde_json::Value, &str), ValidationErrors> {
    let missing = || {
        ValidationErrors::single(
            "front matter",
            "is missing: start the file with a --- (YAML) or +++ (TOML) block holding at least a title",
        )
    };
    let first_line_end = text.find('\n').unwrap_or(text.len());
    let delimiter = text[..first_line_end].trim_end();
    if delimiter != "---" && delimiter != "+++" {
        return Err(missing());
    }
    let rest = &text[(first_line_end + 1).min(text.len())..];
    let mut offset = 0;
    let mut close = None;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == delimiter {
            close = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((matter_end, body_start)) = close else {
        return Err(ValidationErrors::single(
            "front matter",
            format!("is not closed: no line with {delimiter} after the opening one"),
        ));
    };
    let matter = &rest[..matter_end];
    let body = rest[body_start..].trim_start_matches(['\r', '\n']);
    let value = if delimiter == "+++" {
        let table: toml::Table = toml::from_str(matter)
            .map_err(|e| ValidationErrors::single("front matter", format!("invalid TOML: {e}")))?;
        toml_to_json(toml::Value::Table(table))
    } else if matter.trim().is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        serde_norway::from_str(matter)
            .map_err(|e| ValidationErrors::single("front matter", format!("invalid YAML: {e}")))?
    };
    if !value.is_object() {
        return Err(ValidationErrors::single(
            "front matter",
            "must be a set of key: value lines",
        ));
    }
    Ok((value, body))
}

fn toml_to_json(value: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => J::from(f),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            J::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// Accepts RFC 3339, a local date-time (with or without seconds, `T` or space) or a
/// bare date; local ones are in the site's time zone.
fn parse_date(text: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    if let Ok(at) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z") {
        return Some(at.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> MarkdownFile {
        parse(text.as_bytes(), chrono_tz::UTC).unwrap()
    }

    fn err(text: &[u8]) -> ValidationErrors {
        parse(text, chrono_tz::UTC).unwrap_err()
    }

    #[test]
    fn yaml_front_matter() {
        let f = ok(
            "---\ntitle: \"Hello: world\"\ntags: [NATO, Pete Hegseth]\ndate: 2026-03-01 09:30\nauthor: ada\n---\n\nBody *here*.\n",
        );
        assert_eq!(f.title, "Hello: world");
        assert_eq!(f.tags, ["NATO", "Pete Hegseth"]);
        assert_eq!(f.date.unwrap().to_rfc3339(), "2026-03-01T09:30:00+00:00");
        assert_eq!(f.author.as_deref(), Some("ada"));
        assert_eq!(f.status, Status::Published);
        assert_eq!(f.body, "Body *here*.\n");
    }

    #[test]
    fn toml_front_matter_as_zola_writes_it() {
        let f = ok(
            "+++\ntitle = \"Zola post\"\ndate = 2026-03-01T10:00:00Z\ndraft = true\n[taxonomies]\ntags = [\"rust\"]\ncategories = [\"tech\"]\n+++\nBody\n",
        );
        assert_eq!(f.title, "Zola post");
        assert_eq!(f.status, Status::Draft);
        assert_eq!(f.tags, ["rust", "tech"]);
        assert_eq!(f.date.unwrap().to_rfc3339(), "2026-03-01T10:00:00+00:00");
    }

    #[test]
    fn comma_separated_tags_pages_and_time_zones() {
        let f = parse(
            b"---\ntitle: About\ntype: page\ntags: a, b\ndate: 2026-07-01\n---\nx",
            chrono_tz::Europe::Berlin,
        )
        .unwrap();
        assert_eq!(f.kind, ContentKind::Page);
        assert_eq!(f.tags, ["a", "b"]);
        assert_eq!(f.date.unwrap().to_rfc3339(), "2026-06-30T22:00:00+00:00");
    }

    #[test]
    fn jekyll_drafts_html_bodies_and_aliases() {
        let f = ok(
            "---\ntitle: J\npublished: false\nformat: html\nredirect_from: [/old/, /older/]\n---\n<p>x</p>",
        );
        assert_eq!(f.status, Status::Draft);
        assert_eq!(f.format, SourceFormat::Html);
        assert_eq!(f.aliases, ["/old/", "/older/"]);
        let f = ok("+++\ntitle = \"Z\"\naliases = [\"/z/\"]\n+++\n");
        assert_eq!(f.aliases, ["/z/"]);
        assert!(
            err(b"---\ntitle: T\nformat: rtf\n---\n")
                .for_field("format")
                .is_some()
        );
    }

    #[test]
    fn problems_are_named() {
        assert!(err(b"---\nslug: x\n---\nbody").for_field("title").is_some());
        let e = err(b"---\ntitle: T\ndate: yesterday\nstatus: live\n---\n");
        assert!(e.for_field("date").unwrap().contains("yesterday"));
        assert!(e.for_field("status").unwrap().contains("live"));
        assert!(
            err(b"no front matter")
                .for_field("front matter")
                .unwrap()
                .contains("missing")
        );
        assert!(
            err(b"---\ntitle: T\n")
                .for_field("front matter")
                .unwrap()
                .contains("not closed")
        );
        assert!(
            err(b"---\ntitle: [unclosed\n---\n")
                .for_field("front matter")
                .unwrap()
                .contains("YAML")
        );
        let e = err(b"---\ntitle: T\n---\nok\n\xff\xfe");
        assert!(e.for_field("file").unwrap().contains("line 5"), "{e}");
    }
}
