//! The developer API: the route table walked (every token route refuses a missing,
//! revoked or under-scoped token; every route is in the OpenAPI document, which
//! `openapi-spec-validator` accepts), public content, JSON errors, ETags, CORS and
//! rate limits. Writes through tokens are in `api_manage`.

use std::process::Command;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet::api::route_table;
use broadsheet_domain::{ApiTokenStore, Role, Scope, Status, Store, User};
use serde_json::Value;

use crate::util::{TestApp, TestResponse, article, hours_ago, send};

/// A token for `user` with `scope`, made as the admin makes them.
pub async fn token(app: &TestApp, user: &User, scope: Scope) -> String {
    broadsheet::api::auth::create(app.state(), user.id, "test".into(), scope)
        .await
        .expect("a token")
        .0
}

/// Sends an API request with an optional token and JSON body.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> TestResponse {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    send(app.router(), request.body(body).unwrap()).await
}

pub fn json(response: &TestResponse) -> Value {
    serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", response.status, response.body))
}

#[track_caller]
pub fn assert_error(response: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    let body = json(response);
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

/// `path` with its `{…}` parameters filled in.
fn fill(path: &str, article: i64, comment: i64) -> String {
    let id = if path.contains("/comments/{id}") {
        comment
    } else {
        article
    };
    path.replace("{id}", &id.to_string())
        .replace("{key}", &article.to_string())
}

#[tokio::test]
async fn every_token_route_refuses_missing_revoked_and_underscoped_tokens() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let story = app.publish(&admin, "Walked", "Body.", &[]).await;
    let revoked = token(&app, &admin, Scope::Admin).await;
    let (stored, _) = {
        let hash = broadsheet::auth::session::hash_token(&revoked);
        app.store.api_token_user(&hash).await.unwrap()
    };
    app.store
        .revoke_api_token(stored.id, broadsheet_domain::clock::now())
        .await
        .unwrap();
    let mut walked = Vec::new();
    for route in route_table() {
        let Some(needed) = route.scope else { continue };
        walked.push((route.method.clone(), route.path));
        let path = fill(route.path, story.id.0, 1);
        let body = Some(serde_json::json!({}));
        let missing = call(&app, route.method.clone(), &path, None, body.clone()).await;
        assert_error(&missing, StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(missing.header("www-authenticate").is_some(), "{path}");
        let garbage = call(
            &app,
            route.method.clone(),
            &path,
            Some("bs_nope"),
            body.clone(),
        )
        .await;
        assert_error(&garbage, StatusCode::UNAUTHORIZED, "unauthorized");
        let gone = call(
            &app,
            route.method.clone(),
            &path,
            Some(&revoked),
            body.clone(),
        )
        .await;
        assert_error(&gone, StatusCode::UNAUTHORIZED, "unauthorized");
        // Every narrower scope is refused, even though the admin's role allows it.
        for scope in Scope::ALL.into_iter().filter(|s| *s < needed) {
            let narrow = token(&app, &admin, scope).await;
            let refused = call(
                &app,
                route.method.clone(),
                &path,
                Some(&narrow),
                body.clone(),
            )
            .await;
            assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
            assert!(
                json(&refused)["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(needed.as_str()),
                "{} {path}: {}",
                route.method,
                refused.body
            );
        }
    }
    assert!(walked.len() >= 12, "only {} token routes", walked.len());
    for expected in [
        (Method::GET, "/api/v1/manage/articles"),
        (Method::POST, "/api/v1/manage/comments/{id}/status"),
        (Method::GET, "/api/v1/manage/subscribers"),
    ] {
        assert!(walked.contains(&expected), "{expected:?} was not walked");
    }
    // Subscribing is a reader's action: no token.
    assert!(
        route_table()
            .iter()
            .any(|r| r.path == "/api/v1/subscriptions"
                && r.method == Method::POST
                && r.scope.is_none())
    );
    // The article is still there: nothing above wrote anything.
    assert_eq!(
        app.store.article_by_id(story.id).await.unwrap().title,
        "Walked"
    );
}

#[tokio::test]
async fn an_authors_token_cannot_touch_another_authors_article() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let grace = app.user("Grace Hopper").await;
    let hers = app.publish(&grace, "Grace's story", "Hers.", &[]).await;
    let mut draft = article(&grace, "Grace's draft", "Draft.", &[]);
    draft.status = Status::Draft;
    let draft = app.insert(draft).await;
    let ada_token = token(&app, &ada, Scope::Admin).await;
    for id in [hers.id.0, draft.id.0] {
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/manage/articles/{id}"), None),
            (
                Method::PATCH,
                format!("/api/v1/manage/articles/{id}"),
                Some(serde_json::json!({"title": "Mine now"})),
            ),
            (
                Method::DELETE,
                format!("/api/v1/manage/articles/{id}"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/manage/articles/{id}/publish"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/manage/articles/{id}/unpublish"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/manage/articles/{id}/schedule"),
                Some(serde_json::json!({"published_at": "2099-01-01T00:00:00Z"})),
            ),
        ] {
            let refused = call(&app, method.clone(), &path, Some(&ada_token), body).await;
            assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
        }
    }
    assert_eq!(
        app.store.article_by_id(hers.id).await.unwrap().title,
        "Grace's story"
    );
    // An author's token cannot moderate comments either (the role, not the scope).
    let moderate = call(
        &app,
        Method::GET,
        "/api/v1/manage/comments",
        Some(&ada_token),
        None,
    )
    .await;
    assert_error(&moderate, StatusCode::FORBIDDEN, "forbidden");
    // Her own listing shows only her own.
    let mine = call(
        &app,
        Method::GET,
        "/api/v1/manage/articles",
        Some(&ada_token),
        None,
    )
    .await;
    assert_eq!(json(&mine)["total"], 0, "{}", mine.body);
}

/// Whether python3 can import `module`; in CI it must.
pub fn python_has(module: &str, pip: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs python3 with {module} (pip install {pip}, as .ci/run does)"
        );
        eprintln!("skipped: python3 with {module} is not installed (pip install {pip})");
    }
    ok
}

#[tokio::test]
async fn the_openapi_document_is_valid_and_documents_every_route() {
    let app = TestApp::new().await;
    let response = app.get("/api/v1/openapi.json").await;
    response.assert_status(StatusCode::OK);
    let doc = json(&response);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut table = Vec::new();
    for route in route_table() {
        let method = route.method.as_str().to_ascii_lowercase();
        let operation = &paths
            .get(route.path)
            .unwrap_or_else(|| panic!("{} is not documented", route.path))[&method];
        assert!(
            operation.is_object(),
            "{method} {} is not documented",
            route.path
        );
        // Token routes say so, and which scope they need.
        match route.scope {
            Some(scope) => assert_eq!(
                operation["security"][0]["token"][0],
                scope.as_str(),
                "{method} {}",
                route.path
            ),
            None => assert!(operation.get("security").is_none(), "{}", route.path),
        }
        table.push((method, route.path.to_owned()));
    }
    // And nothing is documented that the router does not serve.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(
                table.contains(&(method.clone(), path.clone())),
                "{method} {path} is documented but not routed"
            );
        }
    }
    if !python_has("openapi_spec_validator", "openapi-spec-validator") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &response.body).unwrap();
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn public_content_lists_filters_and_finds_only_what_readers_see() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let grace = app.user("Grace Hopper").await;
    for n in 1..=5 {
        let mut input = article(
            &ada,
            &format!("Harbour story {n}"),
            "The harbour bridge.",
            &["City Hall"],
        );
        input.published_at = Some(hours_ago(10 - n));
        app.insert(input).await;
    }
    let other = app
        .publish(&grace, "Transport news", "Buses and trams.", &["Transport"])
        .await;
    let mut draft = article(&ada, "Secret draft", "Not yet.", &["City Hall"]);
    draft.status = Status::Draft;
    app.insert(draft).await;
    let mut future = article(&ada, "Tomorrow's story", "Later.", &[]);
    future.published_at = Some(hours_ago(-24));
    let future = app.insert(future).await;

    let all = json(&app.get("/api/v1/articles?per_page=2").await);
    assert_eq!(all["total"], 6);
    assert_eq!(all["pages"], 3);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_eq!(all["items"][0]["title"], "Transport news");
    assert!(!all.to_string().contains("Secret draft") && !all.to_string().contains("Tomorrow"));
    let page3 = json(&app.get("/api/v1/articles?per_page=2&page=3").await);
    assert_eq!(page3["items"][1]["title"], "Harbour story 1");

    let tagged = json(&app.get("/api/v1/articles?tag=city-hall").await);
    assert_eq!(tagged["total"], 5);
    let by_grace = json(&app.get("/api/v1/articles?author=grace-hopper").await);
    assert_eq!(by_grace["total"], 1);
    let nobody = json(&app.get("/api/v1/articles?author=nobody").await);
    assert_eq!(nobody["total"], 0);
    let searched = json(&app.get("/api/v1/articles?q=trams").await);
    assert_eq!(searched["total"], 1);
    assert_eq!(searched["items"][0]["id"], other.id.0);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let ranged = json(
        &app.get(&format!("/api/v1/articles?from=2000-01-01&to={today}"))
            .await,
    );
    assert_eq!(ranged["total"], 6, "{ranged}");
    let before = json(&app.get("/api/v1/articles?to=2000-01-01").await);
    assert_eq!(before["total"], 0);

    // One article by id or slug, with its body and engagement.
    let by_id = json(&app.get(&format!("/api/v1/articles/{}", other.id)).await);
    assert_eq!(by_id["slug"], "transport-news");
    assert!(
        by_id["body_html"]
            .as_str()
            .unwrap()
            .contains("Buses and trams")
    );
    assert_eq!(by_id["engagement"]["likes"], 0);
    assert_eq!(by_id["author"]["name"], "Grace Hopper");
    assert!(by_id.get("email").is_none() && !by_id.to_string().contains("@example.com"));
    let by_slug = json(&app.get("/api/v1/articles/transport-news").await);
    assert_eq!(by_slug["id"], other.id.0);
    for hidden in [
        format!("/api/v1/articles/{}", future.id),
        "/api/v1/articles/secret-draft".into(),
    ] {
        assert_error(&app.get(&hidden).await, StatusCode::NOT_FOUND, "not_found");
    }

    let tags = json(&app.get("/api/v1/tags").await);
    let slugs: Vec<&str> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["city-hall", "transport"]);
    let authors = json(&app.get("/api/v1/authors").await);
    assert_eq!(authors.as_array().unwrap().len(), 2);
    assert!(!authors.to_string().contains("@"), "{authors}");

    // Bad parameters are named.
    for (query, field) in [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=x", "page"),
        ("from=yesterday", "from"),
    ] {
        let bad = app.get(&format!("/api/v1/articles?{query}")).await;
        assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(json(&bad)["error"]["field"], field);
    }
}

#[tokio::test]
async fn errors_are_json_everywhere_under_the_api() {
    let app = TestApp::new().await;
    assert_error(
        &app.get("/api/v1/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get("/api/v1/articles/0").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let wrong_method = call(&app, Method::PUT, "/api/v1/articles", None, None).await;
    assert_error(
        &wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    let comments = app.get("/api/v1/articles/1/comments?page=%zz").await;
    assert!(comments.status.is_client_error());
    json(&comments);
}

#[tokio::test]
async fn reads_carry_etags_and_answer_304() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let story = app.publish(&ada, "Tagged", "Body.", &[]).await;
    for path in [
        "/api/v1/articles",
        "/api/v1/tags",
        &format!("/api/v1/articles/{}", story.id),
    ] {
        let first = app.get(path).await;
        first.assert_status(StatusCode::OK);
        let etag = first.header("etag").expect("an ETag").to_owned();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, etag.parse().unwrap());
        let again = app.request(Method::GET, path, headers).await;
        again.assert_status(StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
    }
    let before = app
        .get("/api/v1/articles")
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    app.publish(&ada, "Another", "Body.", &[]).await;
    let after = app.get("/api/v1/articles").await;
    assert_ne!(
        after.header("etag").unwrap(),
        before,
        "a change changes the ETag"
    );
}

#[tokio::test]
async fn cors_opens_reads_to_the_configured_origins() {
    let open = TestApp::new().await;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(header::ORIGIN, "https://app.example.org".parse().unwrap());
    let read = open
        .request(Method::GET, "/api/v1/articles", headers.clone())
        .await;
    assert_eq!(read.header("access-control-allow-origin"), Some("*"));
    assert!(
        read.header("access-control-expose-headers")
            .unwrap()
            .contains("ETag")
    );
    let mut preflight = headers.clone();
    preflight.insert(
        header::ACCESS_CONTROL_REQUEST_METHOD,
        "GET".parse().unwrap(),
    );
    let answer = open
        .request(Method::OPTIONS, "/api/v1/articles", preflight)
        .await;
    answer.assert_status(StatusCode::NO_CONTENT);
    assert!(
        answer
            .header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    // The site's pages are not opened.
    assert_eq!(
        open.request(Method::GET, "/", headers.clone())
            .await
            .header("access-control-allow-origin"),
        None
    );

    let closed = TestApp::builder()
        .api(broadsheet::config::RawApi {
            cors_origins: Some(vec!["https://app.example.org".into()]),
            ..Default::default()
        })
        .build()
        .await;
    let read = closed
        .request(Method::GET, "/api/v1/articles", headers)
        .await;
    assert_eq!(
        read.header("access-control-allow-origin"),
        Some("https://app.example.org")
    );
    let mut stranger = axum::http::HeaderMap::new();
    stranger.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let read = closed
        .request(Method::GET, "/api/v1/articles", stranger)
        .await;
    assert_eq!(read.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn each_token_has_its_own_rate_limit() {
    let app = TestApp::builder()
        .api(broadsheet::config::RawApi {
            requests_per_minute_per_token: Some(2),
            requests_per_minute_per_address: Some(3),
            ..Default::default()
        })
        .build()
        .await;
    let ada = app.user("Ada Lovelace").await;
    let one = token(&app, &ada, Scope::Read).await;
    let two = token(&app, &ada, Scope::Read).await;
    for _ in 0..2 {
        call(
            &app,
            Method::GET,
            "/api/v1/manage/articles",
            Some(&one),
            None,
        )
        .await
        .assert_status(StatusCode::OK);
    }
    let limited = call(
        &app,
        Method::GET,
        "/api/v1/manage/articles",
        Some(&one),
        None,
    )
    .await;
    assert_error(&limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(limited.header("retry-after").is_some());
    call(
        &app,
        Method::GET,
        "/api/v1/manage/articles",
        Some(&two),
        None,
    )
    .await
    .assert_status(StatusCode::OK);
    // Without a token, the address's allowance.
    for _ in 0..3 {
        app.get("/api/v1/tags").await.assert_status(StatusCode::OK);
    }
    assert_error(
        &app.get("/api/v1/tags").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    // A made-up token does not dodge the address's limit; a real one has its own.
    let fake = call(&app, Method::GET, "/api/v1/tags", Some("bs_made_up"), None).await;
    assert_error(&fake, StatusCode::UNAUTHORIZED, "unauthorized");
    call(&app, Method::GET, "/api/v1/tags", Some(&two), None)
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn tokens_are_made_shown_once_and_revoked_in_the_admin() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let session = app.sign_in(&ada).await;
    let page = session
        .post_form(
            "/admin/tokens",
            &[("name", "Wire desk"), ("scope", "write")],
        )
        .await;
    page.assert_status(StatusCode::CREATED);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let shown = page.texts("#new-token").pop().expect("the token, once");
    assert!(shown.starts_with("bs_"), "{shown}");
    let tokens = app.store.list_api_tokens(Some(ada.id)).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].scope, Scope::Write);
    assert!(shown.starts_with(&tokens[0].prefix));
    // The database holds no usable token.
    let dump = std::fs::read(app.data_dir().join("site.sqlite3")).unwrap();
    assert!(!dump.windows(shown.len()).any(|w| w == shown.as_bytes()));
    let listed = session.get("/admin/tokens").await;
    assert!(!listed.body.contains(&shown), "shown once only");
    assert!(listed.body.contains("Wire desk"));

    call(
        &app,
        Method::GET,
        "/api/v1/manage/articles",
        Some(&shown),
        None,
    )
    .await
    .assert_status(StatusCode::OK);
    // Someone else cannot revoke it; she can.
    let grace = app.user("Grace Hopper").await;
    let other = app.sign_in(&grace).await;
    other
        .post_form(&format!("/admin/tokens/{}/revoke", tokens[0].id), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    session
        .post_form(&format!("/admin/tokens/{}/revoke", tokens[0].id), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let refused = call(
        &app,
        Method::GET,
        "/api/v1/manage/articles",
        Some(&shown),
        None,
    )
    .await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "unauthorized");

    let bad = session
        .post_form("/admin/tokens", &[("name", " "), ("scope", "owner")])
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("unknown scope"), "{}", bad.body);
}
