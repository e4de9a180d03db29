//! The newsroom through API tokens: writing articles in Markdown and HTML through the
//! admin's one write path (revisions, audit log, publish rules), publishing,
//! scheduling and unpublishing, lost updates refused with If-Match, deleting,
//! uploading media and moderating comments.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet_domain::{
    AccountStore, ArticleId, CommentQuery, CommentStatus, CommentStore, NewComment, RevisionStore,
    Role, Scope, Status, Store,
};
use serde_json::json as j;

use crate::api::{assert_error, call, json, token};
use crate::util::{TestApp, send};

#[tokio::test]
async fn an_author_writes_publishes_and_deletes_through_a_token() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let write = token(&app, &ada, Scope::Write).await;
    let made = call(
        &app,
        Method::POST,
        "/api/v1/manage/articles",
        Some(&write),
        Some(j!({"title": "Wire copy", "body": "The *first* line.", "tags": ["Wire"]})),
    )
    .await;
    made.assert_status(StatusCode::CREATED);
    let body = json(&made);
    let id = body["id"].as_i64().unwrap();
    assert_eq!(
        made.location(),
        Some(format!("/api/v1/manage/articles/{id}").as_str())
    );
    assert_eq!(body["status"], "draft");
    assert_eq!(body["format"], "markdown");
    assert!(
        body["body_html"]
            .as_str()
            .unwrap()
            .contains("<em>first</em>")
    );
    assert_eq!(body["author"]["slug"], "ada-lovelace");
    // A draft is not public.
    assert_error(
        &app.get(&format!("/api/v1/articles/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The revision and the audit line the admin's saves keep.
    let revisions = app.store.list_revisions(ArticleId(id)).await.unwrap();
    assert_eq!(revisions.len(), 1);

    // Read with its ETag; an update with a stale one is refused.
    let read = call(
        &app,
        Method::GET,
        &format!("/api/v1/manage/articles/{id}"),
        Some(&write),
        None,
    )
    .await;
    read.assert_status(StatusCode::OK);
    let etag = read.header("etag").unwrap().to_owned();
    let patch = |if_match: &str, body: serde_json::Value| {
        Request::patch(format!("/api/v1/manage/articles/{id}"))
            .header(header::AUTHORIZATION, format!("Bearer {write}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::IF_MATCH, if_match)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let saved = send(
        app.router(),
        patch(&etag, j!({"title": "Wire copy, updated"})),
    )
    .await;
    saved.assert_status(StatusCode::OK);
    assert_eq!(json(&saved)["title"], "Wire copy, updated");
    assert_eq!(
        json(&saved)["tags"][0]["name"],
        "Wire",
        "absent fields are kept"
    );
    assert_ne!(saved.header("etag").unwrap(), etag);
    let lost = send(
        app.router(),
        patch(&etag, j!({"title": "Overwrites the update"})),
    )
    .await;
    assert_error(
        &lost,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    );
    assert_eq!(
        app.store.article_by_id(ArticleId(id)).await.unwrap().title,
        "Wire copy, updated"
    );

    // Publish: public at once.
    let published = call(
        &app,
        Method::POST,
        &format!("/api/v1/manage/articles/{id}/publish"),
        Some(&write),
        None,
    )
    .await;
    published.assert_status(StatusCode::OK);
    assert_eq!(json(&published)["status"], "published");
    let public = json(&app.get(&format!("/api/v1/articles/{id}")).await);
    assert_eq!(public["title"], "Wire copy, updated");

    // Schedule needs a future time, and then it is not public.
    let past = call(
        &app,
        Method::POST,
        &format!("/api/v1/manage/articles/{id}/schedule"),
        Some(&write),
        Some(j!({"published_at": "2001-01-01T00:00:00Z"})),
    )
    .await;
    assert_error(&past, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let scheduled = call(
        &app,
        Method::POST,
        &format!("/api/v1/manage/articles/{id}/schedule"),
        Some(&write),
        Some(j!({"published_at": "2099-01-01T09:00:00Z"})),
    )
    .await;
    scheduled.assert_status(StatusCode::OK);
    assert_eq!(json(&scheduled)["status"], "scheduled");
    assert_eq!(json(&scheduled)["published_at"], "2099-01-01T09:00:00Z");
    assert_eq!(
        app.get(&format!("/api/v1/articles/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let unpublished = call(
        &app,
        Method::POST,
        &format!("/api/v1/manage/articles/{id}/unpublish"),
        Some(&write),
        None,
    )
    .await;
    assert_eq!(json(&unpublished)["status"], "draft");

    let audit = app.store.list_audit(1, 50).await.unwrap();
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "article.create",
        "article.update",
        "article.publish",
        "article.schedule",
        "article.unpublish",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }

    let deleted = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/manage/articles/{id}"),
        Some(&write),
        None,
    )
    .await;
    deleted.assert_status(StatusCode::NO_CONTENT);
    assert!(app.store.article_by_id(ArticleId(id)).await.is_err());
}

#[tokio::test]
async fn html_bodies_are_sanitised_and_bad_input_is_named() {
    let app = TestApp::new().await;
    let editor = app.user(Role::Editor).await;
    let write = token(&app, &editor, Scope::Write).await;
    let made = call(
        &app,
        Method::POST,
        "/api/v1/manage/articles",
        Some(&write),
        Some(j!({
            "title": "From the CMS",
            "body": "<p>Hello <b>world</b><script>alert(1)</script></p>",
            "format": "html",
            "status": "published"
        })),
    )
    .await;
    made.assert_status(StatusCode::CREATED);
    let body = json(&made);
    assert_eq!(body["format"], "html");
    assert_eq!(body["status"], "published");
    let html = body["body_html"].as_str().unwrap();
    assert!(
        html.contains("<b>world</b>") && !html.contains("script"),
        "{html}"
    );

    for (payload, field) in [
        (j!({"body": "No title"}), "title"),
        (j!({"title": "T", "body": "B", "format": "docx"}), "format"),
        (j!({"title": "T", "body": "B", "status": "live"}), "status"),
        (
            j!({"title": "T", "body": "B", "published_at": "tomorrow"}),
            "published_at",
        ),
        (
            j!({"title": "T", "body": "B", "slug": "Not a slug!"}),
            "slug",
        ),
        (j!({"title": "T", "body": "B", "colour": "red"}), "body"),
        (j!({"title": 7, "body": "B"}), "body"),
    ] {
        let refused = call(
            &app,
            Method::POST,
            "/api/v1/manage/articles",
            Some(&write),
            Some(payload.clone()),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(
            json(&refused)["error"]["field"],
            field,
            "{payload}: {}",
            refused.body
        );
    }
    let taken = call(
        &app,
        Method::POST,
        "/api/v1/manage/articles",
        Some(&write),
        Some(j!({"title": "From the CMS", "body": "Again"})),
    )
    .await;
    assert_error(
        &taken,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(json(&taken)["error"]["field"], "slug");

    let not_json = send(
        app.router(),
        Request::post("/api/v1/manage/articles")
            .header(header::AUTHORIZATION, format!("Bearer {write}"))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("title=x"))
            .unwrap(),
    )
    .await;
    assert_error(
        &not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let broken = send(
        app.router(),
        Request::post("/api/v1/manage/articles")
            .header(header::AUTHORIZATION, format!("Bearer {write}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{\"title\": "))
            .unwrap(),
    )
    .await;
    assert_error(&broken, StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn a_contributors_token_writes_drafts_but_cannot_publish() {
    let app = TestApp::new().await;
    let writer = app.user(Role::Contributor).await;
    let write = token(&app, &writer, Scope::Admin).await;
    let refused = call(
        &app,
        Method::POST,
        "/api/v1/manage/articles",
        Some(&write),
        Some(j!({"title": "Straight out", "body": "B", "status": "published"})),
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
    let draft = call(
        &app,
        Method::POST,
        "/api/v1/manage/articles",
        Some(&write),
        Some(j!({"title": "For review", "body": "B"})),
    )
    .await;
    draft.assert_status(StatusCode::CREATED);
    let id = json(&draft)["id"].as_i64().unwrap();
    let publish = call(
        &app,
        Method::POST,
        &format!("/api/v1/manage/articles/{id}/publish"),
        Some(&write),
        None,
    )
    .await;
    assert_error(&publish, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        app.store.article_by_id(ArticleId(id)).await.unwrap().status,
        Status::Draft
    );
    let upload = call(
        &app,
        Method::POST,
        "/api/v1/manage/media",
        Some(&write),
        None,
    )
    .await;
    assert_error(&upload, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn media_uploads_and_comment_moderation_go_through_the_admins_paths() {
    let app = TestApp::new().await;
    let editor = app.user(Role::Editor).await;
    let admin_token = token(&app, &editor, Scope::Admin).await;
    let boundary = "api-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nA harbour\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"harbour.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
    body.extend_from_slice(&crate::media::jpeg(40, 30));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let uploaded = send(
        app.router(),
        Request::post("/api/v1/manage/media")
            .header(header::AUTHORIZATION, format!("Bearer {admin_token}"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    uploaded.assert_status(StatusCode::CREATED);
    let media = json(&uploaded);
    assert_eq!(
        (media["width"].as_u64(), media["alt"].as_str()),
        (Some(40), Some("A harbour"))
    );
    let image = app
        .get(
            media["url"]
                .as_str()
                .unwrap()
                .trim_start_matches(crate::util::BASE_URL),
        )
        .await;
    image.assert_status(StatusCode::OK);
    let not_image = send(
        app.router(),
        Request::post("/api/v1/manage/media")
            .header(header::AUTHORIZATION, format!("Bearer {admin_token}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n\r\nnot an image\r\n--{boundary}--\r\n")))
            .unwrap(),
    )
    .await;
    assert_error(
        &not_image,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    let story = app.publish(&editor, "Commented", "Body.", &[]).await;
    let held = app
        .store
        .insert_comment(&NewComment {
            article_id: story.id,
            parent_id: None,
            status: CommentStatus::Pending,
            author_name: "Reader".into(),
            author_email: "reader@example.net".into(),
            author_url: None,
            body: "Nice piece.".into(),
            body_html: "<p>Nice piece.</p>".into(),
            reader: None,
            network: broadsheet_domain::NetworkHash("net".into()),
            notify_replies: false,
            reason: Some("held for a test".into()),
            day: chrono::Utc::now().date_naive(),
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let queue = call(
        &app,
        Method::GET,
        "/api/v1/manage/comments",
        Some(&admin_token),
        None,
    )
    .await;
    queue.assert_status(StatusCode::OK);
    assert_eq!(json(&queue)["items"][0]["id"], held.id.0);
    assert_eq!(json(&queue)["items"][0]["reason"], "held for a test");
    let approved = call(
        &app,
        Method::POST,
        &format!("/api/v1/manage/comments/{}/status", held.id),
        Some(&admin_token),
        Some(j!({"status": "approved"})),
    )
    .await;
    approved.assert_status(StatusCode::OK);
    assert_eq!(json(&approved)["status"], "approved");
    let pending = app
        .store
        .list_comments(&CommentQuery {
            status: Some(CommentStatus::Pending),
            article: None,
            page: 1,
            per_page: 10,
        })
        .await
        .unwrap();
    assert_eq!(pending.total, 0);
    let bad = call(
        &app,
        Method::POST,
        &format!("/api/v1/manage/comments/{}/status", held.id),
        Some(&admin_token),
        Some(j!({"status": "burn"})),
    )
    .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let missing = call(
        &app,
        Method::POST,
        "/api/v1/manage/comments/999/status",
        Some(&admin_token),
        Some(j!({"status": "approved"})),
    )
    .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
}
