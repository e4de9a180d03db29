//! The admin's users, settings and audit pages, and password resets by emailed link.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet::auth::session::hash_token;
use broadsheet::mail::Email;
use broadsheet_domain::{AccountStore, Action, JobState, JobStore, Role, Store, User, clock};
use chrono::TimeDelta;

use crate::admin_auth::{Probe, assert_role_matrix};
use crate::util::{TEST_PASSWORD, TestApp, TestResponse, send};

/// The emails queued so far, oldest first.
pub(crate) async fn outbox(app: &TestApp) -> Vec<Email> {
    let mut jobs = app
        .store
        .list_jobs(Some(JobState::Queued), 100)
        .await
        .unwrap();
    jobs.reverse();
    jobs.into_iter()
        .filter(|job| job.kind == "send_email")
        .map(|job| serde_json::from_value(job.payload).unwrap())
        .collect()
}

/// The token of the reset link in an email.
fn link_token(email: &Email) -> String {
    let start = email.text.find("/admin/reset/").expect("a reset link") + "/admin/reset/".len();
    email.text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

async fn post_public(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> TestResponse {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap();
    send(app.router(), request).await
}

async fn can_sign_in(app: &TestApp, email: &str, password: &str) -> bool {
    post_public(
        app,
        "/admin/login",
        &[("email", email), ("password", password)],
    )
    .await
    .status
        == StatusCode::SEE_OTHER
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_an_emailed_link_once() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let ada = app.user(Role::Editor).await;
    let old_session = app.sign_in(&ada).await;

    // Known or not, the answer is the same, and only a known address gets mail.
    let mut answers = Vec::new();
    for email in [ada.email.as_str(), "nobody@example.com"] {
        let response = post_public(&app, "/admin/forgot", &[("email", email)]).await;
        response.assert_status(StatusCode::OK);
        answers.push(response.texts(".notice-ok"));
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0][0].contains("If that address has an account"));
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ada.email);
    assert!(
        mails[0]
            .text
            .contains("https://news.example.com/admin/reset/")
    );
    let token = link_token(&mails[0]);
    let link = format!("/admin/reset/{token}");

    // Opening the link does not use it; a bad password is named and does not either.
    app.get(&link).await.assert_status(StatusCode::OK);
    let typo = post_public(
        &app,
        &link,
        &[
            ("password", "new password 1"),
            ("password_again", "new password 2"),
        ],
    )
    .await;
    typo.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(typo.texts("#f-password_again-error")[0].contains("does not match"));

    let new = "a brand new password";
    let done = post_public(&app, &link, &[("password", new), ("password_again", new)]).await;
    done.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/admin/login?reset=done"));
    let login = app.get("/admin/login?reset=done").await;
    assert!(login.texts(".notice-ok")[0].contains("password was changed"));

    // The old password and every old session are gone; the new password works.
    assert!(!can_sign_in(&app, &ada.email, TEST_PASSWORD).await);
    assert!(can_sign_in(&app, &ada.email, new).await);
    old_session
        .get("/admin")
        .await
        .assert_status(StatusCode::SEE_OTHER);

    // The link worked once.
    let again = post_public(&app, &link, &[("password", new), ("password_again", new)]).await;
    again.assert_status(StatusCode::GONE);
    assert!(again.texts(".notice-error")[0].contains("expired or was already used"));
}

#[tokio::test]
async fn reset_links_expire() {
    let app = TestApp::new().await;
    let ada = app.user(Role::Author).await;
    app.store
        .create_password_reset(
            &hash_token("stale-token"),
            ada.id,
            clock::now() - TimeDelta::seconds(1),
        )
        .await
        .unwrap();
    let new = "a brand new password";
    let response = post_public(
        &app,
        "/admin/reset/stale-token",
        &[("password", new), ("password_again", new)],
    )
    .await;
    response.assert_status(StatusCode::GONE);
    assert!(!can_sign_in(&app, &ada.email, new).await);
}

#[tokio::test]
async fn admins_add_users_with_a_temporary_password_or_an_emailed_link() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;

    let temporary = session
        .post_form(
            "/admin/users",
            &[
                ("name", "Bob Woodward"),
                ("email", "bob@example.com"),
                ("role", "author"),
                ("access", "password"),
                ("password", "temporary password"),
            ],
        )
        .await;
    temporary.assert_status(StatusCode::SEE_OTHER);
    assert!(can_sign_in(&app, "bob@example.com", "temporary password").await);
    let bob = app.store.user_by_email("bob@example.com").await.unwrap();
    assert_eq!(bob.role, Role::Author);

    let invited = session
        .post_form(
            "/admin/users",
            &[
                ("name", "Carl Bernstein"),
                ("email", "carl@example.com"),
                ("role", "contributor"),
                ("access", "link"),
            ],
        )
        .await;
    invited.assert_status(StatusCode::SEE_OTHER);
    let list = session.get(invited.location().unwrap()).await;
    assert!(list.texts(".notice-ok")[0].contains("emailed a link"));
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "carl@example.com");
    assert!(mails[0].subject.contains("invited"));
    let link = format!("/admin/reset/{}", link_token(&mails[0]));
    let first = "carl's own password";
    post_public(
        &app,
        &link,
        &[("password", first), ("password_again", first)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert!(can_sign_in(&app, "carl@example.com", first).await);

    let names = list.texts(".users tbody td:first-child a");
    assert!(names.contains(&"Bob Woodward".to_owned()), "{names:?}");

    let audit = session.get("/admin/audit").await;
    let actions = audit.texts(".audit tbody td:nth-child(3)");
    assert_eq!(
        actions[..3],
        ["user.password_reset", "user.add", "user.add"]
    );
}

#[tokio::test]
async fn a_bad_new_user_is_shown_again_with_each_problem_named() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;
    let bad = session
        .post_form(
            "/admin/users",
            &[
                ("name", ""),
                ("email", "carl at example"),
                ("role", "boss"),
                ("access", "password"),
                ("password", "short"),
            ],
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.attrs("#f-email", "value"), ["carl at example"]);
    for field in ["name", "email", "role", "password"] {
        assert_eq!(bad.texts(&format!("#f-{field}-error")).len(), 1, "{field}");
    }
    assert!(
        bad.attrs("#f-password", "value").is_empty(),
        "passwords are not echoed"
    );

    let taken = session
        .post_form(
            "/admin/users",
            &[
                ("name", "Someone Else"),
                ("email", &admin.email),
                ("role", "author"),
                ("access", "link"),
            ],
        )
        .await;
    taken.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.texts("#f-email-error")[0].contains("already used"));
    assert_eq!(app.store.list_users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn roles_change_and_deactivation_signs_out_but_the_last_admin_stays() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let session = app.sign_in(&admin).await;
    let editor_session = app.sign_in(&editor).await;

    let path = format!("/admin/users/{}/role", editor.id.0);
    session
        .post_form(&path, &[("role", "author")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.user_by_id(editor.id).await.unwrap().role,
        Role::Author
    );
    session
        .post_form(&path, &[("role", "boss")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    let path = format!("/admin/users/{}/active", editor.id.0);
    session
        .post_form(&path, &[("active", "false")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    editor_session
        .get("/admin")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(!can_sign_in(&app, &editor.email, TEST_PASSWORD).await);
    session
        .post_form(&path, &[("active", "true")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(can_sign_in(&app, &editor.email, TEST_PASSWORD).await);

    // The only admin cannot demote or deactivate themselves.
    for (path, field) in [
        (
            format!("/admin/users/{}/role", admin.id.0),
            ("role", "editor"),
        ),
        (
            format!("/admin/users/{}/active", admin.id.0),
            ("active", "false"),
        ),
    ] {
        let refused = session.post_form(&path, &[field]).await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.texts(".notice-error")[0].contains("last active admin"));
    }
    let still: User = app.store.user_by_id(admin.id).await.unwrap();
    assert!(still.active && still.role == Role::Admin);

    session
        .post_form("/admin/users/9999/role", &[("role", "author")])
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let audit = session.get("/admin/audit").await;
    let details = audit.texts(".audit tbody td:nth-child(5)");
    assert!(
        details.iter().any(|d| d.contains("editor → author")),
        "{details:?}"
    );
    let actions = audit.texts(".audit tbody td:nth-child(3)");
    assert_eq!(actions, ["user.reactivate", "user.deactivate", "user.role"]);
}

#[tokio::test]
async fn settings_are_saved_or_shown_again_with_their_problems() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;
    let form = session.get("/admin/settings").await;
    form.assert_status(StatusCode::OK);
    assert_eq!(form.attrs("#f-title", "value"), ["Broadsheet"]);

    let fields = |title: &'static str, wpm: &'static str, tz: &'static str| {
        vec![
            ("title", title),
            ("description", "Harbour news."),
            ("time_zone", tz),
            ("language", "en-GB"),
            ("words_per_minute", wpm),
            ("cjk_chars_per_minute", "500"),
            ("per_page", "12"),
            ("reactions", "happy | 😀 | Happy\nsad | 😢 | Sad\n"),
        ]
    };
    let bad = session
        .post_form("/admin/settings", &fields("", "quick", "Mars/Olympus"))
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.attrs("#f-words_per_minute", "value"), ["quick"]);
    assert_eq!(bad.attrs("#f-time_zone", "value"), ["Mars/Olympus"]);
    for field in ["title", "words_per_minute", "time_zone"] {
        assert_eq!(bad.texts(&format!("#f-{field}-error")).len(), 1, "{field}");
    }
    assert_eq!(app.store.settings().await.unwrap().title, "Broadsheet");

    let good = session
        .post_form(
            "/admin/settings",
            &fields("The Harbour Gazette", "230", "Europe/Berlin"),
        )
        .await;
    good.assert_status(StatusCode::SEE_OTHER);
    let saved = app.store.settings().await.unwrap();
    assert_eq!(saved.title, "The Harbour Gazette");
    assert_eq!(saved.time_zone, "Europe/Berlin");
    assert_eq!(saved.reading_speed.words_per_minute, 230);
    assert_eq!(saved.per_page, 12);
    assert_eq!(saved.reactions.len(), 2);
    let audit = session.get("/admin/audit").await;
    assert!(audit.texts(".audit tbody td:nth-child(5)")[0].contains("title"));
}

#[tokio::test]
async fn each_role_gets_exactly_what_the_matrix_allows_on_users_settings_and_audit() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let target = app.user(Role::Contributor).await;
    let role_path = format!("/admin/users/{}/role", target.id.0);
    let settings = [
        ("title", "Still Broadsheet"),
        ("description", ""),
        ("time_zone", "UTC"),
        ("language", "en"),
        ("words_per_minute", "200"),
        ("cjk_chars_per_minute", "500"),
        ("per_page", "10"),
        ("reactions", "happy | 😀 | Happy"),
    ];
    let probes = [
        Probe {
            method: Method::GET,
            path: "/admin/users",
            fields: &[],
            action: Action::ManageUsers,
        },
        Probe {
            method: Method::POST,
            path: &role_path,
            fields: &[("role", "author")],
            action: Action::ManageUsers,
        },
        Probe {
            method: Method::GET,
            path: "/admin/settings",
            fields: &[],
            action: Action::ManageSettings,
        },
        Probe {
            method: Method::POST,
            path: "/admin/settings",
            fields: &settings,
            action: Action::ManageSettings,
        },
        Probe {
            method: Method::GET,
            path: "/admin/audit",
            fields: &[],
            action: Action::Operate,
        },
    ];
    assert_role_matrix(&app, &probes).await;
    // Refused requests changed nothing: only the admin's changes are in the log.
    let log = app.store.list_audit(1, 50).await.unwrap();
    assert_eq!(log.total, 2, "one role change and one settings save");
}

#[tokio::test]
async fn the_nav_shows_each_role_only_what_it_may_open() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    for (role, expected) in [
        (
            Role::Contributor,
            vec!["Home", "Articles", "Media", "API tokens"],
        ),
        (
            Role::Editor,
            vec!["Home", "Articles", "Comments", "Media", "API tokens"],
        ),
        (
            Role::Admin,
            vec![
                "Home",
                "Articles",
                "Comments",
                "Media",
                "API tokens",
                "Users",
                "Subscribers",
                "Webhooks",
                "Settings",
                "Audit log",
                "Jobs",
            ],
        ),
    ] {
        let user = app.user(role).await;
        let page = app.sign_in(&user).await.get("/admin").await;
        assert_eq!(page.texts(".admin-nav a"), expected, "{role}");
        let abilities = page.texts(".abilities li");
        assert_eq!(
            abilities.contains(&"publish your own articles".to_owned()),
            role != Role::Contributor
        );
    }
}
