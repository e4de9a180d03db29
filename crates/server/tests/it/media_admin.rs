//! The admin's media library: uploads by role, refusals (413, 415, 422) with the form
//! kept or as JSON, alt text, deletion, and media.json for the picker.

use axum::http::{Method, StatusCode};
use broadsheet::config::RawMedia;
use broadsheet_domain::{MediaStore, Role};

use crate::media::{jpeg, raw};
use crate::util::{Part, Session, TestApp, TestResponse};

/// A signed-in upload of `bytes` as `name`, with alt text, as the no-JS form sends it.
async fn upload(session: &Session, name: &str, bytes: Vec<u8>, alt: &str) -> TestResponse {
    session
        .post_multipart(
            "/admin/media",
            &[
                Part::text("alt", alt),
                Part::file("file", name, "image/jpeg", bytes),
            ],
        )
        .await
}

#[tokio::test]
async fn an_author_uploads_an_image_that_is_then_served_and_listed() {
    let app = TestApp::new().await;
    let author = app.user(Role::Author).await;
    let session = app.sign_in(&author).await;

    let form = session.get("/admin/media").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        form.body
    );

    let response = upload(
        &session,
        "Harbour at Dawn.jpg",
        jpeg(1000, 500),
        "The harbour",
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let location = response.location().unwrap().to_owned();
    assert!(location.starts_with("/admin/media?uploaded="), "{location}");

    let listed = app.store.list_media(10, 0).await.unwrap().items;
    assert_eq!(listed.len(), 1);
    let media = &listed[0];
    assert_eq!(media.filename, "harbour-at-dawn.jpg");
    assert_eq!(media.alt, "The harbour");
    assert_eq!(media.uploaded_by, author.id);
    assert_eq!(media.variants, vec![480, 960]);

    let page = session.get(&location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Uploaded harbour-at-dawn.jpg"),
        "{}",
        page.body
    );
    assert!(page.body.contains("1000 × 500 px"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("![The harbour]({})", media.url())),
        "the Markdown snippet: {}",
        page.body
    );
    let image = raw(&app, Method::GET, &media.url(), None).await;
    assert_eq!(image.status, StatusCode::OK);
    assert!(!image.bytes.windows(4).any(|w| w == b"Exif"));

    // The editor's picker.
    let json = session.get("/admin/media.json").await;
    assert_eq!(json.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(json["total"], 1);
    let item = &json["items"][0];
    assert_eq!(item["id"], media.id.0);
    assert_eq!(item["url"], media.url());
    assert_eq!(item["srcset"], media.srcset());
    assert_eq!(item["width"], 1000);
    assert_eq!(item["height"], 500);
    assert_eq!(item["alt"], "The harbour");
    assert_eq!(item["filename"], "harbour-at-dawn.jpg");
}

#[tokio::test]
async fn wrong_types_and_damaged_files_are_refused_with_the_form_kept() {
    let app = TestApp::new().await;
    let session = app.sign_in(&app.user(Role::Author).await).await;

    let text = upload(
        &session,
        "notes.jpg",
        b"Just some notes.".to_vec(),
        "Kept alt",
    )
    .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(text.body.contains("JPEG, PNG or WebP"), "{}", text.body);
    assert!(
        text.body.contains("value=\"Kept alt\""),
        "alt kept: {}",
        text.body
    );
    assert!(text.body.contains("aria-invalid=\"true\""), "{}", text.body);

    let mut damaged = jpeg(300, 300);
    damaged.truncate(60);
    let broken = upload(&session, "broken.jpg", damaged, "").await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(broken.body.contains("could not be read"), "{}", broken.body);

    let nothing = session
        .post_multipart("/admin/media", &[Part::text("alt", "No file")])
        .await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A script asking for JSON gets the error as JSON.
    let json = session
        .post_multipart_accepting(
            "/admin/media",
            "application/json",
            &[Part::file(
                "file",
                "notes.png",
                "image/png",
                b"not a png".to_vec(),
            )],
        )
        .await;
    assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let json: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(json["error"]["code"], "unsupported_media_type");
    assert_eq!(app.store.list_media(10, 0).await.unwrap().total, 0);
}

#[tokio::test]
async fn uploads_over_the_limit_are_413_naming_it() {
    let app = TestApp::builder()
        .media(RawMedia {
            max_upload_bytes: Some(4096),
        })
        .build()
        .await;
    let session = app.sign_in(&app.user(Role::Author).await).await;
    let big = jpeg(1200, 900);
    assert!(big.len() > 4096);
    let response = upload(&session, "big.jpg", big.clone(), "Too big").await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.body.contains("4 KiB"), "{}", response.body);
    assert!(
        response.body.contains("value=\"Too big\""),
        "{}",
        response.body
    );
    let json = session
        .post_multipart_accepting(
            "/admin/media",
            "application/json",
            &[Part::file("file", "big.jpg", "image/jpeg", big)],
        )
        .await;
    assert_eq!(json.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(json.body.contains("payload_too_large"), "{}", json.body);
    assert_eq!(app.store.list_media(10, 0).await.unwrap().total, 0);
}

#[tokio::test]
async fn roles_decide_who_uploads_and_who_deletes() {
    let app = TestApp::new().await;
    let author = app.user(Role::Author).await;
    let contributor = app.sign_in(&app.user(Role::Contributor).await).await;
    let author_session = app.sign_in(&author).await;
    let editor = app.sign_in(&app.user(Role::Editor).await).await;

    // Contributors may browse and embed, not upload.
    let page = contributor.get("/admin/media").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("multipart/form-data"), "no upload form");
    let refused = upload(&contributor, "a.jpg", jpeg(600, 300), "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.list_media(10, 0).await.unwrap().total, 0);

    let response = upload(&author_session, "a.jpg", jpeg(600, 300), "").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let media = app.store.list_media(10, 0).await.unwrap().items.remove(0);
    let delete = format!("/admin/media/{}/delete", media.id);
    assert_eq!(
        author_session.post_form(&delete, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        contributor.post_form(&delete, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    // Authors may describe an image better.
    let alt = format!("/admin/media/{}/alt", media.id);
    let changed = author_session.post_form(&alt, &[("alt", "A field")]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.media_by_id(media.id).await.unwrap().alt,
        "A field"
    );
    let too_long = "x".repeat(501);
    let refused = author_session.post_form(&alt, &[("alt", &too_long)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("at most 500 characters"),
        "{}",
        refused.body
    );

    let deleted = editor.post_form(&delete, &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        raw(&app, Method::GET, &media.url(), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        editor.post_form(&delete, &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn without_a_session_the_library_is_closed() {
    let app = TestApp::new().await;
    let page = app.get("/admin/media").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().unwrap().starts_with("/admin/login"));
    let json = app.get("/admin/media.json").await;
    assert_eq!(json.status, StatusCode::SEE_OTHER);
    let post = app
        .request(Method::POST, "/admin/media", axum::http::HeaderMap::new())
        .await;
    assert_eq!(post.status, StatusCode::UNAUTHORIZED);
}
