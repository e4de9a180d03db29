//! Signing in to the admin: sessions, CSRF, the login limits, first-run setup, and the
//! walk over every admin route proving none of them works without a session and a
//! CSRF token.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet::admin::route_table;
use broadsheet::auth::session::{hash_token, new_token};
use broadsheet_domain::account::{MAX_FAILURES, SESSION_LIFETIME};
use broadsheet_domain::{AccountStore, Role, Session as StoredSession, Store, UserChanges, clock};
use chrono::TimeDelta;

use crate::util::{Part, Session, TEST_PASSWORD, TestApp, TestResponse, send};

async fn login(app: &TestApp, email: &str, password: &str) -> TestResponse {
    let body = serde_urlencoded::to_string([("email", email), ("password", password)]).unwrap();
    let request = Request::post("/admin/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(app.router(), request).await
}

#[tokio::test]
async fn signing_in_sets_a_strict_cookie_and_opens_the_admin() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let response = login(&app, &admin.email, TEST_PASSWORD).await;
    response.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some("/admin"));
    let cookie = response.header("set-cookie").unwrap();
    for attribute in [
        "broadsheet_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Secure",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(cookie.contains(&format!("Max-Age={}", SESSION_LIFETIME.num_seconds())));

    let session = app.sign_in(&admin).await;
    let home = session.get("/admin").await;
    home.assert_status(StatusCode::OK);
    assert!(home.texts("h1")[0].contains(&admin.display_name));
    assert_eq!(home.header("cache-control"), Some("no-store"));
    // The nav shows an admin everything this branch offers.
    assert_eq!(
        home.texts(".admin-nav a"),
        [
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
            "Jobs"
        ]
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_address_get_the_same_answer() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let wrong = login(&app, &admin.email, "not the password").await;
    let unknown = login(&app, "nobody@example.com", "not the password").await;
    for (response, email) in [
        (&wrong, admin.email.as_str()),
        (&unknown, "nobody@example.com"),
    ] {
        response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.header("set-cookie").is_none());
        assert_eq!(response.attrs("input[name=email]", "value"), [email]);
        assert!(response.attrs("input[name=password]", "value").is_empty());
    }
    assert_eq!(wrong.texts(".notice-error"), unknown.texts(".notice-error"));
    assert!(!wrong.body.contains("not the password"));
}

#[tokio::test]
async fn repeated_failures_lock_the_address_whether_or_not_it_has_an_account() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    for email in [admin.email.as_str(), "nobody@example.com"] {
        for _ in 1..MAX_FAILURES {
            login(&app, email, "wrong password!")
                .await
                .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        }
        let locked = login(&app, email, "wrong password!").await;
        locked.assert_status(StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
        assert!((800..=900).contains(&retry), "{retry}");
        assert!(locked.texts(".notice-error")[0].contains("Too many failed sign-ins"));
    }
    // Even the right password waits out the lock.
    login(&app, &admin.email, TEST_PASSWORD)
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_network_trying_too_often_is_slowed_down() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        // A new address each time, so the lockout is not what stops it.
        let response = login(&app, &format!("guess{i}@example.com"), "wrong password!").await;
        statuses.push(response.status);
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.header("retry-after").is_some());
            assert!(response.texts(".notice-error")[0].contains("your network"));
        }
    }
    assert_eq!(statuses[..10], [StatusCode::UNPROCESSABLE_ENTITY; 10]);
    assert_eq!(statuses[10..], [StatusCode::TOO_MANY_REQUESTS; 2]);
}

#[tokio::test]
async fn next_is_followed_only_inside_the_admin() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let slash = app.get("/admin/").await;
    slash.assert_status(StatusCode::PERMANENT_REDIRECT);
    assert_eq!(slash.location(), Some("/admin"));
    let to = app.get("/admin/audit?page=2").await;
    to.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        to.location(),
        Some("/admin/login?next=%2Fadmin%2Faudit%3Fpage%3D2")
    );
    for (next, expected) in [
        ("/admin/audit?page=2", "/admin/audit?page=2"),
        ("https://evil.example/", "/admin"),
        ("//evil.example/admin", "/admin"),
    ] {
        let body = serde_urlencoded::to_string([
            ("email", admin.email.as_str()),
            ("password", TEST_PASSWORD),
            ("next", next),
        ])
        .unwrap();
        let request = Request::post("/admin/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let response = send(app.router(), request).await;
        assert_eq!(response.location(), Some(expected), "{next}");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;
    let out = session.post_form("/admin/logout", &[]).await;
    out.assert_status(StatusCode::SEE_OTHER);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = session.get("/admin").await;
    after.assert_status(StatusCode::SEE_OTHER);
    assert!(after.location().unwrap().starts_with("/admin/login"));
}

#[tokio::test]
async fn a_session_works_on_another_node_of_the_same_database() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;
    let elsewhere = session.on(app.second_node().await);
    elsewhere
        .get("/admin/audit")
        .await
        .assert_status(StatusCode::OK);
    // Signing out there ends it here too.
    elsewhere
        .post_form("/admin/logout", &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    session
        .get("/admin")
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn expired_sessions_are_refused_and_used_ones_slide() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let long_ago = clock::now() - SESSION_LIFETIME - TimeDelta::minutes(1);
    let token = new_token().unwrap();
    let mut old = StoredSession::start(hash_token(&token), admin.id, "t".into(), long_ago);
    app.store.create_session(&old).await.unwrap();
    let cookie = format!("broadsheet_session={token}");
    let request = Request::get("/admin").header(header::COOKIE, &cookie);
    let response = send(app.router(), request.body(Body::empty()).unwrap()).await;
    response.assert_status(StatusCode::SEE_OTHER);

    // A session last used two minutes ago is still good, and its use is recorded:
    // the expiry moves and the cookie is sent again.
    let token = new_token().unwrap();
    old = StoredSession::start(
        hash_token(&token),
        admin.id,
        "t".into(),
        clock::now() - TimeDelta::minutes(2),
    );
    app.store.create_session(&old).await.unwrap();
    let cookie = format!("broadsheet_session={token}");
    let request = Request::get("/admin").header(header::COOKIE, &cookie);
    let response = send(app.router(), request.body(Body::empty()).unwrap()).await;
    response.assert_status(StatusCode::OK);
    assert!(response.header("set-cookie").unwrap().contains(&token));
    let (stored, _) = app
        .store
        .session_user(&hash_token(&token), clock::now())
        .await
        .unwrap();
    assert!(stored.expires_at > old.expires_at);
}

#[tokio::test]
async fn deactivated_users_cannot_sign_in_and_lose_their_sessions() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let session = app.sign_in(&editor).await;
    app.store
        .update_user(
            editor.id,
            &UserChanges {
                active: Some(false),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    session
        .get("/admin")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let refused = login(&app, &editor.email, TEST_PASSWORD).await;
    refused.assert_status(StatusCode::FORBIDDEN);
    assert!(refused.header("set-cookie").is_none());
    assert!(refused.texts(".notice-error")[0].contains("deactivated"));
}

#[tokio::test]
async fn setup_creates_the_first_admin_only_while_there_is_none() {
    let app = TestApp::new().await;
    // An author from the CLI is not an admin: setup is still open.
    app.user("Ada Lovelace").await;
    for path in ["/admin", "/admin/login"] {
        let response = app.get(path).await;
        response.assert_status(StatusCode::SEE_OTHER);
        let next = response.location().unwrap().to_owned();
        if path == "/admin" {
            // The home page asks for a login, which asks for setup.
            assert!(next.starts_with("/admin/login"));
        } else {
            assert_eq!(next, "/admin/setup");
        }
    }
    let form = app.get("/admin/setup").await;
    form.assert_status(StatusCode::OK);
    assert_eq!(form.texts("h1"), ["Welcome to Broadsheet"]);
    // The form's extra attributes arrive as attributes, not as escaped text.
    assert_eq!(form.attrs("#f-email", "autocomplete"), ["email"]);
    assert_eq!(form.attrs("#f-password", "autocomplete"), ["new-password"]);

    let post = |fields: Vec<(&'static str, &'static str)>| {
        let body = serde_urlencoded::to_string(&fields).unwrap();
        Request::post("/admin/setup")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let bad = send(
        app.router(),
        post(vec![
            ("name", "Grace Hopper"),
            ("email", "not an email"),
            ("password", "short"),
            ("password_again", "short"),
        ]),
    )
    .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.attrs("input[name=name]", "value"), ["Grace Hopper"]);
    assert_eq!(bad.attrs("input[name=email]", "value"), ["not an email"]);
    assert_eq!(bad.texts("#f-email-error").len(), 1);
    assert!(bad.texts("#f-password-error")[0].contains("10 characters"));

    let mismatch = send(
        app.router(),
        post(vec![
            ("name", "Grace Hopper"),
            ("email", "grace@example.com"),
            ("password", "a long enough password"),
            ("password_again", "another long password"),
        ]),
    )
    .await;
    mismatch.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.texts("#f-password_again-error")[0].contains("does not match"));

    let fields = vec![
        ("name", "Grace Hopper"),
        ("email", "grace@example.com"),
        ("password", "a long enough password"),
        ("password_again", "a long enough password"),
    ];
    let done = send(app.router(), post(fields.clone())).await;
    done.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/admin"));
    let cookie = done
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let home = send(
        app.router(),
        Request::get("/admin")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    home.assert_status(StatusCode::OK);
    let grace = app.store.user_by_email("grace@example.com").await.unwrap();
    assert_eq!(grace.role, Role::Admin);

    // Now setup is closed: the page and the form both send people to the login.
    for response in [
        app.get("/admin/setup").await,
        send(app.router(), post(fields)).await,
    ] {
        response.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(response.location(), Some("/admin/login"));
    }
    assert_eq!(app.store.list_users().await.unwrap().len(), 2);
}

#[tokio::test]
async fn sign_in_forms_from_other_sites_are_refused() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let body =
        serde_urlencoded::to_string([("email", admin.email.as_str()), ("password", TEST_PASSWORD)])
            .unwrap();
    let request = Request::post("/admin/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(body))
        .unwrap();
    let response = send(app.router(), request).await;
    response.assert_status(StatusCode::FORBIDDEN);
    assert!(response.header("set-cookie").is_none());
}

/// The path of a route with `1` for each parameter.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every admin route: without a session, reads go to the login page and writes are
/// refused; with a session but without the right CSRF token, writes are refused.
#[tokio::test]
async fn every_admin_route_needs_a_session_and_every_write_a_csrf_token() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;
    let table = route_table();
    assert!(
        table.iter().any(|r| r.method == Method::POST),
        "the walk covers writes"
    );
    for route in table {
        let path = concrete(route.path);
        let anonymous = send(
            app.router(),
            Request::builder()
                .method(route.method.clone())
                .uri(&path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        if route.method == Method::GET {
            anonymous.assert_status(StatusCode::SEE_OTHER);
            assert!(
                anonymous
                    .location()
                    .unwrap()
                    .starts_with("/admin/login?next="),
                "{path}"
            );
            continue;
        }
        anonymous.assert_status(StatusCode::UNAUTHORIZED);
        assert!(
            anonymous.texts("main h1")[0].contains("Please sign in"),
            "{path}"
        );

        let without = session.post_form_raw(&path, &[("x", "1")]).await;
        assert_eq!(
            without.status,
            StatusCode::FORBIDDEN,
            "{} {path}",
            route.method
        );
        let wrong = session
            .post_form_raw(&path, &[("csrf", "not-the-token")])
            .await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "{} {path}",
            route.method
        );
        let wrong_header = session
            .send(
                Request::builder()
                    .method(route.method.clone())
                    .uri(&path)
                    .header("x-csrf-token", "not-the-token"),
                Body::empty(),
            )
            .await;
        assert_eq!(wrong_header.status, StatusCode::FORBIDDEN, "{path}");
        // Scripts that ask for JSON get the error as JSON.
        let script = session
            .send(
                Request::builder()
                    .method(route.method.clone())
                    .uri(&path)
                    .header(header::ACCEPT, "application/json")
                    .header("x-csrf-token", "not-the-token"),
                Body::empty(),
            )
            .await;
        assert_eq!(script.status, StatusCode::FORBIDDEN, "{path}");
        assert!(script.body.contains(r#""code":"forbidden""#), "{path}");
        let mut forged = session.on(app.router());
        forged.csrf = "not-the-token".into();
        let multipart = forged
            .post_multipart(
                &path,
                &[
                    Part::text("x", "1"),
                    Part::file("file", "x.png", "image/png", vec![0x89, b'P']),
                ],
            )
            .await;
        assert_eq!(multipart.status, StatusCode::FORBIDDEN, "{path}");
        // The right token from another site is refused too.
        let cross_site = session
            .send(
                Request::builder()
                    .method(route.method.clone())
                    .uri(&path)
                    .header("x-csrf-token", &session.csrf)
                    .header(header::ORIGIN, "https://evil.example"),
                Body::empty(),
            )
            .await;
        assert_eq!(cross_site.status, StatusCode::FORBIDDEN, "{path}");
    }
    // The session survived all that: refusals end nothing.
    session.get("/admin").await.assert_status(StatusCode::OK);
}

/// One request for the role matrix: a page or form that needs `action` on the site.
pub struct Probe<'a> {
    pub method: Method,
    pub path: &'a str,
    pub fields: &'a [(&'a str, &'a str)],
    pub action: broadsheet_domain::Action,
}

/// Signs in one user of each role and checks each probe's answer against the matrix:
/// 403 when `permits` says no, 200 or 303 when it says yes.
pub async fn assert_role_matrix(app: &TestApp, probes: &[Probe<'_>]) {
    for role in Role::ALL {
        let user = app.user(role).await;
        let session: Session = app.sign_in(&user).await;
        for Probe {
            method,
            path,
            fields,
            action,
        } in probes
        {
            let response = if *method == Method::GET {
                session.get(path).await
            } else {
                session.post_form(path, fields).await
            };
            let allowed =
                broadsheet_domain::permits(role, *action, broadsheet_domain::Target::Site);
            if allowed {
                assert!(
                    response.status == StatusCode::OK || response.status == StatusCode::SEE_OTHER,
                    "{role} {method} {path}: {}",
                    response.status
                );
            } else {
                assert_eq!(
                    response.status,
                    StatusCode::FORBIDDEN,
                    "{role} {method} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn each_role_sees_the_audit_log_exactly_as_the_matrix_says() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let probe = Probe {
        method: Method::GET,
        path: "/admin/audit",
        fields: &[],
        action: broadsheet_domain::Action::Operate,
    };
    assert_role_matrix(&app, &[probe]).await;
}
