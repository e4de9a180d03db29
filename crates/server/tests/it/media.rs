//! The media library end to end: images stored through the same processing the admin
//! upload uses, served at their public URLs with long cache headers, and embedded in
//! articles with a `srcset`.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet::media::process::process;
use broadsheet_domain::media::safe_filename;
use broadsheet_domain::{Media, MediaStore, NewMedia, User, clock};
use http_body_util::BodyExt;
use image::{DynamicImage, Rgb, RgbImage};
use tower::ServiceExt;

use crate::util::TestApp;

/// A JPEG as a camera would hand it over, `width` x `height`.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 128]));
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    out
}

/// Stores an upload the way the admin does: processed, then inserted.
async fn stored(app: &TestApp, by: &User, name: &str, bytes: &[u8]) -> Media {
    let processed = process(bytes).expect("a valid image");
    let new = NewMedia {
        filename: safe_filename(name, processed.kind),
        alt: "A test pattern".into(),
        content_type: processed.kind.mime().into(),
        width: processed.width,
        height: processed.height,
        bytes: processed.bytes,
        variants: processed.variants,
        uploaded_by: by.id,
        created_at: clock::now(),
    };
    app.store.insert_media(&new).await.expect("insert media")
}

pub struct Raw {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

/// A response with its body as bytes (images are not text).
pub async fn raw(app: &TestApp, method: Method, path: &str, etag: Option<&str>) -> Raw {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(etag) = etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    let response = app
        .router()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Raw {
        status,
        headers,
        bytes: bytes.to_vec(),
    }
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).expect("an image");
    (image.width(), image.height())
}

#[tokio::test]
async fn images_and_variants_are_served_with_long_cache_headers() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let media = stored(&app, &ada, "Harbour at Dawn.JPG", &jpeg(1000, 500)).await;
    assert_eq!(
        media.url(),
        format!("/media/{}/harbour-at-dawn.jpg", media.id)
    );
    assert_eq!(media.variants, vec![480, 960]);

    let original = raw(&app, Method::GET, &media.url(), None).await;
    assert_eq!(original.status, StatusCode::OK);
    assert_eq!(original.headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(
        original.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(original.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(dimensions(&original.bytes), (1000, 500));

    // A width with a variant, one between variants, and one past the original.
    for (asked, served) in [(480, 480), (700, 960), (960, 960), (1600, 1000)] {
        let path = format!("/media/{}/w{asked}/harbour-at-dawn.jpg", media.id);
        let response = raw(&app, Method::GET, &path, None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(dimensions(&response.bytes).0, served, "{path}");
        assert_eq!(
            response.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }

    // Revalidation: the ETag gets a 304 without a body.
    let etag = original.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = raw(&app, Method::GET, &media.url(), Some(&etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.bytes.is_empty());
    let head = raw(&app, Method::HEAD, &media.url(), None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.bytes.is_empty());

    for missing in [
        format!("/media/{}/another-name.jpg", media.id),
        format!("/media/{}/harbour-at-dawn.png", media.id),
        format!("/media/{}/w0/harbour-at-dawn.jpg", media.id),
        format!("/media/{}/x480/harbour-at-dawn.jpg", media.id),
        format!("/media/{}/harbour-at-dawn.jpg", media.id.0 + 1),
        "/media/abc/harbour-at-dawn.jpg".to_owned(),
    ] {
        let response = raw(&app, Method::GET, &missing, None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{missing}");
    }

    app.store.delete_media(media.id).await.unwrap();
    let gone = raw(&app, Method::GET, &media.url(), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_article_embedding_an_image_offers_every_size() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let media = stored(&app, &ada, "pier.jpg", &jpeg(1000, 500)).await;
    let article = app
        .publish(
            &ada,
            "The pier",
            &format!("Before.\n\n{}\n\nAfter.", media.markdown()),
            &[],
        )
        .await;
    let page = app.get(&app.permalink(&article).await).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    let selector = scraper::Selector::parse(".article-body img").unwrap();
    let img = html
        .select(&selector)
        .next()
        .expect("the image is in the body");
    assert_eq!(img.value().attr("src"), Some(media.url().as_str()));
    assert_eq!(img.value().attr("alt"), Some("A test pattern"));
    assert_eq!(img.value().attr("loading"), Some("lazy"));
    assert!(img.value().attr("sizes").is_some());
    let srcset = img.value().attr("srcset").expect("a srcset");
    let candidates: Vec<(&str, &str)> = srcset
        .split(", ")
        .map(|c| c.split_once(' ').unwrap())
        .collect();
    assert_eq!(
        candidates.iter().map(|(_, w)| *w).collect::<Vec<_>>(),
        ["480w", "960w", "1600w"]
    );
    // Every URL the page offers answers with an image.
    for (url, _) in candidates {
        let response = raw(&app, Method::GET, url, None).await;
        assert_eq!(response.status, StatusCode::OK, "{url}");
        assert_eq!(
            response.headers[header::CONTENT_TYPE],
            "image/jpeg",
            "{url}"
        );
    }
}
