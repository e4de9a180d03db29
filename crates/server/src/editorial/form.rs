//! The editor's form: its fields as typed (so a refused form is shown again exactly as
//! it was sent), filled from an article, and read into an
//! [`ArticleInput`] with every problem named by field.

use broadsheet_domain::{
    Article, ArticleInput, ContentKind, SourceFormat, Status, UserId, ValidationErrors,
};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// How the date field shows a date: an `<input type="datetime-local">` value.
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// The editor's fields, from the HTML form or admin.js's JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditorForm {
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub source: String,
    /// `markdown` or `html`; blank means Markdown.
    pub format: String,
    /// Comma-separated tag names.
    pub tags: String,
    pub cover_image: String,
    /// `article` or `page`.
    pub kind: String,
    /// `draft`, `published` or `scheduled`.
    pub status: String,
    /// `YYYY-MM-DDTHH:MM` in the site's time zone; blank for none.
    pub date: String,
    /// A checkbox: present when ticked.
    pub featured: Option<String>,
    /// Which button sent the form: `preview` shows the preview without saving.
    pub intent: String,
}

impl EditorForm {
    /// The form for a new article.
    pub fn blank() -> EditorForm {
        EditorForm {
            kind: ContentKind::Article.as_str().into(),
            status: Status::Draft.as_str().into(),
            format: SourceFormat::Markdown.as_str().into(),
            ..EditorForm::default()
        }
    }

    /// The form showing `article` as it is stored, its date in the site's time zone.
    pub fn of(article: &Article, tz: Tz) -> EditorForm {
        EditorForm {
            title: article.title.clone(),
            slug: article.slug.clone(),
            excerpt: article.excerpt.clone(),
            source: article.source.clone(),
            format: article.format.as_str().into(),
            tags: article
                .tags
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            cover_image: article.cover_image.clone().unwrap_or_default(),
            kind: article.kind.as_str().into(),
            status: article.status.as_str().into(),
            date: article
                .published_at
                .map(|at| show_date(at, tz))
                .unwrap_or_default(),
            featured: article.featured.then(|| "on".to_owned()),
            intent: String::new(),
        }
    }

    pub fn wants_preview(&self) -> bool {
        self.intent == "preview"
    }

    /// The input for an article by `author`, with the problems found in the fields
    /// the domain does not check itself (kind, status, format, date, cover image).
    /// Fields in error take a harmless value so the domain can still report the
    /// problems of the others, and the form shows them all at once.
    ///
    /// `current_date` is the article's stored date: the form shows dates to the
    /// minute, so an unchanged date field keeps the stored instant exactly.
    pub fn to_input(
        &self,
        author: UserId,
        tz: Tz,
        current_date: Option<DateTime<Utc>>,
    ) -> (ArticleInput, ValidationErrors) {
        let mut errors = ValidationErrors::default();
        let kind = choice(&mut errors, "kind", &self.kind, ContentKind::Article);
        let status = choice(&mut errors, "status", &self.status, Status::Draft);
        let format = choice(&mut errors, "format", &self.format, SourceFormat::Markdown);
        let published_at = match read_date(&self.date, tz, current_date) {
            Ok(at) => at,
            Err(problem) => {
                errors.add("date", problem);
                current_date
            }
        };
        let cover_image = self.cover_image.trim();
        if !cover_image.is_empty()
            && !["/", "https://", "http://"]
                .iter()
                .any(|start| cover_image.starts_with(start))
        {
            errors.add(
                "cover_image",
                "must be a web address (https://…) or a path on this site (/media/…)",
            );
        }
        let input = ArticleInput {
            kind,
            title: self.title.clone(),
            slug: Some(self.slug.clone()),
            excerpt: Some(self.excerpt.clone()),
            source: self.source.clone(),
            format,
            tags: self.tags.split(',').map(str::to_owned).collect(),
            author_id: author,
            status,
            published_at,
            cover_image: Some(cover_image.to_owned()),
            featured: self.featured.is_some(),
        };
        (input, errors)
    }
}

/// One of a set of values; blank is `default`, and so is a bad value, once reported.
fn choice<T: FromStr<Err = String>>(
    errors: &mut ValidationErrors,
    field: &str,
    text: &str,
    default: T,
) -> T {
    if text.trim().is_empty() {
        return default;
    }
    text.parse().unwrap_or_else(|problem| {
        errors.add(field, problem);
        default
    })
}

/// A date as the date field shows it, in the site's time zone.
pub fn show_date(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format(DATE_FORMAT).to_string()
}

/// Reads the date field; blank is no date.
fn read_date(
    text: &str,
    tz: Tz,
    current: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Some(current) = current
        && show_date(current, tz) == text
    {
        return Ok(Some(current));
    }
    let local = NaiveDateTime::parse_from_str(text, DATE_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| format!("\"{text}\" is not a date and time like 2026-03-01T09:30"))?;
    // In the hour a clock change repeats, the earlier instant.
    tz.from_local_datetime(&local)
        .earliest()
        .map(|at| Some(at.with_timezone(&Utc)))
        .ok_or_else(|| format!("{text} does not exist in {tz} (the clocks skip it)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use broadsheet_domain::read_time::ReadingSpeed;

    fn form() -> EditorForm {
        EditorForm {
            title: "Budget".into(),
            source: "Words.".into(),
            tags: "NATO, Europe ,".into(),
            status: "scheduled".into(),
            date: "2026-03-29T02:30".into(),
            ..EditorForm::blank()
        }
    }

    #[test]
    fn reads_fields_in_the_site_time_zone() {
        let mut form = form();
        form.date = "2026-07-01T09:30".into();
        form.featured = Some("on".into());
        let (input, errors) = form.to_input(UserId(3), chrono_tz::Europe::Berlin, None);
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(
            input.published_at,
            Some(Utc.with_ymd_and_hms(2026, 7, 1, 7, 30, 0).unwrap())
        );
        assert_eq!(input.status, Status::Scheduled);
        assert!(input.featured);
        let write = input
            .prepare(
                ReadingSpeed::default(),
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            )
            .unwrap();
        let names: Vec<_> = write.tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["NATO", "Europe"]);
        assert_eq!(write.slug, "budget", "a blank slug comes from the title");
    }

    #[test]
    fn an_unchanged_date_keeps_the_stored_instant() {
        let stored = Utc.with_ymd_and_hms(2026, 7, 1, 7, 30, 42).unwrap();
        let mut form = form();
        form.date = show_date(stored, chrono_tz::Europe::Berlin);
        assert_eq!(form.date, "2026-07-01T09:30");
        let (input, _) = form.to_input(UserId(3), chrono_tz::Europe::Berlin, Some(stored));
        assert_eq!(input.published_at, Some(stored));
    }

    #[test]
    fn names_every_bad_field() {
        let bad = EditorForm {
            kind: "essay".into(),
            status: "live".into(),
            format: "rtf".into(),
            cover_image: "javascript:alert(1)".into(),
            ..form()
        };
        // 02:30 on the last Sunday of March does not exist in Berlin.
        let (input, errors) = bad.to_input(UserId(3), chrono_tz::Europe::Berlin, None);
        for field in ["kind", "status", "format", "date", "cover_image"] {
            assert!(errors.for_field(field).is_some(), "{field}: {errors}");
        }
        assert_eq!(
            input.status,
            Status::Draft,
            "a bad status is no publication"
        );

        let mut unreadable = form();
        unreadable.date = "tomorrow".into();
        let (_, errors) = unreadable.to_input(UserId(3), chrono_tz::UTC, None);
        assert!(errors.for_field("date").unwrap().contains("tomorrow"));
    }

    #[test]
    fn an_article_fills_the_form_it_came_from() {
        let mut form = form();
        form.date = "2026-07-01T09:30".into();
        form.status = "published".into();
        let (input, _) = form.to_input(UserId(3), chrono_tz::UTC, None);
        let write = input
            .prepare(
                ReadingSpeed::default(),
                Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).unwrap(),
            )
            .unwrap();
        let article = Article {
            id: broadsheet_domain::ArticleId(1),
            kind: write.kind,
            slug: write.slug.clone(),
            title: write.title.clone(),
            excerpt: write.excerpt.clone(),
            source: write.source.clone(),
            format: write.format,
            body_html: write.body_html.clone(),
            body_text: write.body_text.clone(),
            tags: write.tags.clone(),
            author: broadsheet_domain::AuthorRef {
                id: UserId(3),
                slug: "a".into(),
                display_name: "A".into(),
            },
            status: write.status,
            published_at: write.published_at,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            read_time: write.read_time,
            word_count: write.word_count,
            cover_image: None,
            featured: false,
        };
        let again = EditorForm::of(&article, chrono_tz::UTC);
        assert_eq!(again.title, "Budget");
        assert_eq!(again.slug, "budget");
        assert_eq!(again.tags, "NATO, Europe");
        assert_eq!(again.date, "2026-07-01T09:30");
        assert_eq!(again.status, "published");
        assert_eq!(again.featured, None);
    }
}
