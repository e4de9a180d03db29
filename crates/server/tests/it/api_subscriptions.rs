//! The newsletter through the API: subscribing takes the site's form's rules (double
//! opt-in, the same answer whatever the address's state, one confirmation email an
//! hour per address, 422 naming the field), and listing subscribers needs an admin
//! token of a user allowed to see people's addresses, and shows no more than the
//! admin's CSV export.

use axum::http::{Method, StatusCode};
use broadsheet_domain::{
    JobStore, Role, Scope, SubscribeRequest, SubscriberStatus, SubscriptionStore, clock,
};
use serde_json::{Value, json};

use crate::api::{assert_error, call, json, token};
use crate::newsletter::post_form;
use crate::util::TestApp;

/// The confirmation emails queued so far, by recipient.
async fn emails(app: &TestApp) -> Vec<String> {
    app.store
        .list_jobs(None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "send_email")
        .map(|j| j.payload.to_string())
        .collect()
}

async fn subscribe(app: &TestApp, body: Value) -> crate::util::TestResponse {
    call(app, Method::POST, "/api/v1/subscriptions", None, Some(body)).await
}

#[tokio::test]
async fn subscribing_through_the_api_follows_the_forms_rules() {
    let app = TestApp::new().await;
    let writer = app.user("Ada Lovelace").await;
    app.publish(&writer, "Tagged", "Words.", &["Harbour"]).await;

    let first = subscribe(
        &app,
        json!({"email": " Ann@Example.org ", "tags": ["harbour", "harbour"]}),
    )
    .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let answer = json(&first);
    assert_eq!(answer["email"], "ann@example.org");
    assert_eq!(answer["tags"], json!(["harbour"]));
    let subscribers = app.store.list_subscribers(None, None, 10).await.unwrap();
    assert_eq!(subscribers.len(), 1);
    assert_eq!(subscribers[0].status, SubscriberStatus::Pending);
    assert_eq!(subscribers[0].tags, ["harbour"]);
    let sent = emails(&app).await;
    assert_eq!(sent.len(), 1, "one confirmation email: {sent:?}");
    assert!(sent[0].contains("ann@example.org"), "{}", sent[0]);
    assert!(sent[0].contains("/newsletter/confirm?"), "{}", sent[0]);

    // Again, by the API and by the form: the same answer, no second email.
    let again = subscribe(
        &app,
        json!({"email": "ann@example.org", "tags": ["harbour"]}),
    )
    .await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body, first.body);
    let form = post_form(
        &app,
        "/newsletter/subscribe",
        &[("email", "ann@example.org")],
    )
    .await;
    form.assert_status(StatusCode::OK);
    assert_eq!(emails(&app).await.len(), 1, "at most one an hour");
    // Confirmed: still the very same answer, nothing sent.
    let ann = subscribers[0].id;
    app.store
        .confirm_subscriber(ann, clock::now())
        .await
        .unwrap();
    let confirmed = subscribe(
        &app,
        json!({"email": "ann@example.org", "tags": ["harbour"]}),
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::ACCEPTED);
    assert_eq!(confirmed.body, first.body, "no hint that Ann is subscribed");
    assert_eq!(emails(&app).await.len(), 1);

    // Bad input: 422 naming the field, nothing stored or sent.
    for (body, field) in [
        (json!({"email": "ann at example"}), "email"),
        (json!({"tags": ["harbour"]}), "email"),
        (
            json!({"email": "zed@example.org", "tags": ["no-such-tag"]}),
            "tags",
        ),
    ] {
        let refused = subscribe(&app, body.clone()).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(json(&refused)["error"]["field"], field, "{body}");
    }
    let unknown_field = subscribe(&app, json!({"email": "zed@example.org", "x": 1})).await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.store.subscriber_counts().await.unwrap().total(), 1);
    assert_eq!(emails(&app).await.len(), 1);
}

#[tokio::test]
async fn admins_list_subscribers_with_a_token_and_authors_may_not() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let mut ids = Vec::new();
    for (email, tags) in [
        ("ann@example.org", vec![]),
        ("bob@example.org", vec!["harbour".to_owned()]),
        ("cat@example.org", vec![]),
    ] {
        let request = SubscribeRequest::check(email, &tags).unwrap();
        let sub = app
            .store
            .add_subscriber(&request, clock::now())
            .await
            .unwrap();
        ids.push(sub.id);
    }
    app.store
        .confirm_subscriber(ids[0], clock::now())
        .await
        .unwrap();

    let admin_token = token(&app, &admin, Scope::Admin).await;
    let all = call(
        &app,
        Method::GET,
        "/api/v1/manage/subscribers",
        Some(&admin_token),
        None,
    )
    .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let all = json(&all);
    assert_eq!(all["total"], 3);
    let emails: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["ann@example.org", "bob@example.org", "cat@example.org"]
    );
    // Exactly the CSV export's columns.
    let mut keys: Vec<&String> = all["items"][1].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "confirmed_at",
            "created_at",
            "email",
            "failures",
            "id",
            "status",
            "tags"
        ]
    );
    assert_eq!(all["items"][1]["tags"], json!(["harbour"]));
    assert_eq!(all["items"][0]["status"], "confirmed");

    let pending = json(
        &call(
            &app,
            Method::GET,
            "/api/v1/manage/subscribers?status=pending&per_page=1&page=2",
            Some(&admin_token),
            None,
        )
        .await,
    );
    assert_eq!(pending["total"], 2);
    assert_eq!(pending["pages"], 2);
    assert_eq!(pending["items"][0]["email"], "cat@example.org");
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    let beyond = json(
        &call(
            &app,
            Method::GET,
            "/api/v1/manage/subscribers?page=9",
            Some(&admin_token),
            None,
        )
        .await,
    );
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["total"], 3);
    let bad = call(
        &app,
        Method::GET,
        "/api/v1/manage/subscribers?status=lost",
        Some(&admin_token),
        None,
    )
    .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(json(&bad)["error"]["field"], "status");

    // An author's write token, and an admin token of an editor (whose role may not
    // see subscribers, as in the admin): refused.
    let author_token = token(&app, &author, Scope::Write).await;
    let editor_token = token(&app, &editor, Scope::Admin).await;
    for refused_token in [&author_token, &editor_token] {
        let refused = call(
            &app,
            Method::GET,
            "/api/v1/manage/subscribers",
            Some(refused_token),
            None,
        )
        .await;
        assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
        assert!(!refused.body.contains("@example.org"), "{}", refused.body);
    }
}
