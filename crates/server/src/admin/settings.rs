//! The site settings page (`Action::ManageSettings`): title, description, time zone,
//! language, reading speeds, articles per page, the reaction set and the comment
//! rules. The form is
//! checked as a whole by [`SiteSettings::validate`]; a bad value is shown again as
//! typed, with its problem next to it, and nothing is saved.

use std::collections::BTreeSet;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::engagement::{ReactionDef, validate_reactions};
use broadsheet_domain::{Action, SiteSettings, Target, ValidationErrors};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{AdminRoute, audit, field_errors, render_status};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/settings", show),
        AdminRoute::post("/admin/settings", save),
    ]
}

/// The form as typed: every field a string, so a bad value can be shown again as is.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SettingsForm {
    title: String,
    description: String,
    time_zone: String,
    language: String,
    words_per_minute: String,
    cjk_chars_per_minute: String,
    per_page: String,
    /// `full` or `excerpt`; a form without it keeps the current choice.
    feed_content: String,
    /// One reaction per line: `key | emoji | label`.
    reactions: String,
    /// Set by the page's comments section. A form without it (an older page, a
    /// script) leaves the comment rules as they are, rather than reading its absent
    /// checkboxes as "off".
    comments_section: String,
    /// Checkboxes: sent (as `true`) when ticked, absent otherwise.
    comments_enabled: String,
    comments_hold_all: String,
    comments_auto_approve_known: String,
    comments_max_depth: String,
    comments_max_length: String,
    comments_per_page: String,
    comments_max_links: String,
    /// One entry per line.
    comments_blocklist: String,
}

/// A ticked checkbox as the form sends it back.
fn ticked(on: bool) -> String {
    if on { "true".into() } else { String::new() }
}

impl SettingsForm {
    fn of(settings: &SiteSettings) -> SettingsForm {
        SettingsForm {
            title: settings.title.clone(),
            description: settings.description.clone(),
            time_zone: settings.time_zone.clone(),
            language: settings.language.clone(),
            words_per_minute: settings.reading_speed.words_per_minute.to_string(),
            cjk_chars_per_minute: settings.reading_speed.cjk_chars_per_minute.to_string(),
            per_page: settings.per_page.to_string(),
            feed_content: settings.feed_content.as_str().to_owned(),
            reactions: settings
                .reactions
                .iter()
                .map(|r| format!("{} | {} | {}", r.key, r.emoji, r.label))
                .collect::<Vec<_>>()
                .join("\n"),
            comments_section: "shown".into(),
            comments_enabled: ticked(settings.comments.enabled),
            comments_hold_all: ticked(settings.comments.hold_all),
            comments_auto_approve_known: ticked(settings.comments.auto_approve_known),
            comments_max_depth: settings.comments.max_depth.to_string(),
            comments_max_length: settings.comments.max_length.to_string(),
            comments_per_page: settings.comments.per_page.to_string(),
            comments_max_links: settings.comments.max_links.to_string(),
            comments_blocklist: crate::settings::blocklist_text(settings),
        }
    }

    /// The settings this form describes, starting from `current` (which keeps what
    /// the form does not show), or every problem with it. Each field is set the way
    /// `broadsheet settings set` sets it, so both name problems alike.
    fn apply(&self, current: &SiteSettings) -> Result<SiteSettings, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut settings = current.clone();
        // An unticked checkbox is not sent at all.
        let switch = |value: &str| {
            if value.is_empty() {
                "false".to_owned()
            } else {
                value.to_owned()
            }
        };
        let (enabled, hold_all, auto_approve_known) = (
            switch(&self.comments_enabled),
            switch(&self.comments_hold_all),
            switch(&self.comments_auto_approve_known),
        );
        let mut fields = vec![
            ("title", &self.title),
            ("description", &self.description),
            ("time_zone", &self.time_zone),
            ("language", &self.language),
            ("words_per_minute", &self.words_per_minute),
            ("cjk_chars_per_minute", &self.cjk_chars_per_minute),
            ("per_page", &self.per_page),
        ];
        let comment_fields = [
            ("comments_enabled", &enabled),
            ("comments_hold_all", &hold_all),
            ("comments_auto_approve_known", &auto_approve_known),
            ("comments_max_depth", &self.comments_max_depth),
            ("comments_max_length", &self.comments_max_length),
            ("comments_per_page", &self.comments_per_page),
            ("comments_max_links", &self.comments_max_links),
            ("comments_blocklist", &self.comments_blocklist),
        ];
        if !self.feed_content.is_empty() {
            fields.push(("feed_content", &self.feed_content));
        }
        if !self.comments_section.is_empty() {
            fields.extend(comment_fields);
        }
        for (key, value) in fields {
            // A refused value leaves `settings` as it was, so each problem is named
            // once, under its own field.
            if let Err(problems) = crate::settings::set(&mut settings, key, value) {
                errors.0.extend(problems.0);
            }
        }
        match parse_reactions(&self.reactions) {
            Ok(reactions) => match validate_reactions(&reactions) {
                Ok(()) => settings.reactions = reactions,
                Err(problem) => errors.add("reactions", problem),
            },
            Err(problem) => errors.add("reactions", problem),
        }
        errors.into_result()?;
        Ok(settings)
    }
}

/// Reads `key | emoji | label` lines; blank lines are skipped.
fn parse_reactions(text: &str) -> Result<Vec<ReactionDef>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            match parts[..] {
                [key, emoji, label] => Ok(ReactionDef {
                    key: key.to_owned(),
                    emoji: emoji.to_owned(),
                    label: label.to_owned(),
                }),
                _ => Err(format!(
                    "line {} should read key | emoji | label, like happy | 😀 | Happy",
                    i + 1
                )),
            }
        })
        .collect()
}

/// The names of the settings that differ, for the audit log.
fn changed(before: &SiteSettings, after: &SiteSettings) -> String {
    let mut names = BTreeSet::new();
    let mut differs = |name: &'static str, same: bool| {
        if !same {
            names.insert(name);
        }
    };
    differs("title", before.title == after.title);
    differs("description", before.description == after.description);
    differs("time_zone", before.time_zone == after.time_zone);
    differs("language", before.language == after.language);
    differs("reading_speed", before.reading_speed == after.reading_speed);
    differs("per_page", before.per_page == after.per_page);
    differs("feed_content", before.feed_content == after.feed_content);
    differs("reactions", before.reactions == after.reactions);
    differs("comments", before.comments == after.comments);
    if names.is_empty() {
        "nothing changed".to_owned()
    } else {
        names.into_iter().collect::<Vec<_>>().join(", ")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Saved {
    saved: String,
}

/// GET /admin/settings
async fn show(
    State(state): State<AppState>,
    who: SignedIn,
    Query(saved): Query<Saved>,
) -> Result<Response, AppError> {
    who.require(Action::ManageSettings, Target::Site)?;
    let settings = state.store.settings().await?;
    page(
        &state,
        &who,
        StatusCode::OK,
        &SettingsForm::of(&settings),
        &ValidationErrors::default(),
        saved.saved == "1",
    )
}

/// POST /admin/settings
async fn save(
    State(state): State<AppState>,
    who: SignedIn,
    Form(input): Form<SettingsForm>,
) -> Result<Response, AppError> {
    who.require(Action::ManageSettings, Target::Site)?;
    let before = state.store.settings().await?;
    let after = match input.apply(&before) {
        Ok(after) => after,
        Err(errors) => {
            return page(
                &state,
                &who,
                StatusCode::UNPROCESSABLE_ENTITY,
                &input,
                &errors,
                false,
            );
        }
    };
    state.store.save_settings(&after).await?;
    audit::record(
        &state,
        &who.user,
        "settings.update",
        "settings",
        &changed(&before, &after),
    )
    .await?;
    Ok(Redirect::to("/admin/settings?saved=1").into_response())
}

fn page(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    form: &SettingsForm,
    errors: &ValidationErrors,
    saved: bool,
) -> Result<Response, AppError> {
    let time_zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    render_status(
        state,
        who,
        status,
        "admin/settings.html",
        context! {
            section => "settings",
            form,
            errors => field_errors(errors),
            saved,
            time_zones,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_round_trips_the_settings() {
        let settings = SiteSettings::default();
        let form = SettingsForm::of(&settings);
        assert_eq!(form.apply(&settings).unwrap(), settings);
    }

    #[test]
    fn every_bad_field_is_named_once() {
        let form = SettingsForm {
            words_per_minute: "fast".into(),
            time_zone: "Mars/Olympus".into(),
            reactions: "happy | 😀".into(),
            comments_max_links: "none".into(),
            ..SettingsForm::of(&SiteSettings::default())
        };
        let errors = form.apply(&SiteSettings::default()).unwrap_err();
        assert!(
            errors
                .for_field("words_per_minute")
                .unwrap()
                .contains("fast")
        );
        assert!(errors.for_field("time_zone").is_some());
        assert!(errors.for_field("reactions").unwrap().contains("line 1"));
        assert!(
            errors
                .for_field("comments_max_links")
                .unwrap()
                .contains("none")
        );
        assert_eq!(errors.0.len(), 4, "{errors}");
    }

    #[test]
    fn unticked_boxes_turn_comment_rules_off() {
        let settings = SiteSettings::default();
        let form = SettingsForm {
            comments_enabled: String::new(),
            comments_auto_approve_known: String::new(),
            comments_hold_all: "true".into(),
            comments_blocklist: "casino\r\n\r\npills".into(),
            ..SettingsForm::of(&settings)
        };
        let after = form.apply(&settings).unwrap();
        assert!(!after.comments.enabled && !after.comments.auto_approve_known);
        assert!(after.comments.hold_all);
        assert_eq!(after.comments.blocklist, ["casino", "pills"]);
        assert_eq!(changed(&settings, &after), "comments");

        let without_section = SettingsForm {
            comments_section: String::new(),
            ..form
        };
        assert_eq!(without_section.apply(&settings).unwrap(), settings);
    }

    #[test]
    fn changes_are_named() {
        let before = SiteSettings::default();
        let after = SiteSettings {
            title: "New".into(),
            per_page: 20,
            ..before.clone()
        };
        assert_eq!(changed(&before, &after), "per_page, title");
        assert_eq!(changed(&before, &before), "nothing changed");
    }
}
