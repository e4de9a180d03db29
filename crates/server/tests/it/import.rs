//! Moving in and out (issue 10): WordPress exports (our own fixtures always, and every
//! file of the shared WXR corpus when it is present), Markdown folders, and the JSON
//! and Markdown exports read back into an empty site.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use broadsheet::import::{Summary, markdown, wordpress};
use broadsheet_domain::{
    ArticleId, ArticleQuery, Comment, CommentId, CommentKind, CommentQuery, CommentStatus,
    ContentKind, Role, SourceFormat, Status, Store, Visibility,
};
use broadsheet_store_sqlite::SqliteStore;

use crate::util::TestApp;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/wxr")
        .join(name)
}

/// The shared WXR corpus (`../shared/data/wxr` beside the repository), if present.
fn shared_corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("BROADSHEET_WXR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/wxr"));
    if dir.join("theme-unit-test.xml").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} has no theme-unit-test.xml, so the shared WXR corpus was not imported \
             (set BROADSHEET_WXR_DIR to test it); the repository's own fixtures still ran",
            dir.display()
        );
        None
    }
}

async fn import(app: &TestApp, path: &Path) -> Summary {
    wordpress::import(app.store.as_ref(), path)
        .await
        .unwrap_or_else(|e| panic!("{} imports: {e}", path.display()))
}

async fn all_comments(store: &dyn Store) -> Vec<Comment> {
    let mut all = Vec::new();
    for status in CommentStatus::ALL {
        let page = store
            .list_comments(&CommentQuery {
                status: Some(status),
                article: None,
                page: 1,
                per_page: 10_000,
            })
            .await
            .unwrap();
        all.extend(page.items);
    }
    all.sort_by_key(|c| c.id);
    all
}

/// Every article or page, in any state.
fn every(kind: ContentKind) -> ArticleQuery {
    ArticleQuery {
        kind,
        visibility: Visibility::Any,
        ..ArticleQuery::public(broadsheet_domain::clock::now(), 1, 100)
    }
}

async fn count(store: &dyn Store, kind: ContentKind) -> u64 {
    store.list_articles(&every(kind)).await.unwrap().total
}

#[tokio::test]
async fn a_wordpress_export_comes_in_whole_with_ids_threads_and_old_urls() {
    let app = TestApp::new().await;
    let summary = import(&app, &fixture("newsroom.xml")).await;
    let text = summary.to_string();
    assert_eq!(summary.imported("posts"), 4, "{text}");
    assert_eq!(summary.imported("pages"), 1, "{text}");
    assert_eq!(summary.imported("comments"), 4, "{text}");
    assert_eq!(summary.imported("pingbacks"), 1, "{text}");
    assert_eq!(summary.imported("trackbacks"), 1, "{text}");
    assert_eq!(summary.imported("authors"), 3, "{text}");
    assert!(summary.failed.is_empty(), "{text}");
    assert!(text.contains("a navigation menu item"), "{text}");
    assert!(text.contains("was private, kept as a draft"), "{text}");

    // WordPress ids are Broadsheet ids.
    let store = app.store.as_ref();
    let bridge = store.article_by_id(ArticleId(101)).await.unwrap();
    assert_eq!(bridge.title, "Harbour bridge opens");
    assert_eq!(bridge.status, Status::Published);
    assert_eq!(bridge.format, SourceFormat::Html);
    assert!(bridge.featured, "sticky becomes featured");
    assert_eq!(
        bridge.published_at.unwrap().to_rfc3339(),
        "2024-05-02T08:30:00+00:00"
    );
    assert_eq!(bridge.updated_at.to_rfc3339(), "2024-05-03T09:00:00+00:00");
    assert_eq!(bridge.excerpt, "The bridge is open.");
    assert_eq!(
        bridge.cover_image.as_deref(),
        Some("https://gazette.example/wp-content/uploads/2024/05/bridge.jpg")
    );
    let tags: Vec<&str> = bridge.tags.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(
        tags,
        ["transport", "ferries"],
        "categories and tags, not Uncategorized"
    );
    let html = &bridge.body_html;
    assert!(html.contains("<p>The bridge opened at dawn.<br>"), "{html}");
    assert!(
        html.contains("<figcaption>The new bridge at dawn</figcaption></figure>"),
        "{html}"
    );
    assert_eq!(
        html.matches("<img").count(),
        3,
        "caption + two gallery images: {html}"
    );
    assert!(
        html.contains("href=\"https://www.youtube.com/watch?v=harbour\""),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("onclick"),
        "{html}"
    );
    assert!(bridge.read_time.0 > 0);

    let draft = store.article_by_id(ArticleId(102)).await.unwrap();
    assert_eq!((draft.status, draft.published_at), (Status::Draft, None));
    assert_eq!(draft.slug, "ferry-timetable-draft");
    let private = store.article_by_id(ArticleId(103)).await.unwrap();
    assert_eq!(private.status, Status::Draft);
    let cafe = store.article_by_id(ArticleId(104)).await.unwrap();
    assert_eq!(cafe.slug, "cafe-zurich");
    assert!(cafe.body_html.contains("<p>Coffee is back.</p>"));
    assert!(!cafe.body_html.contains("<p><p>"), "{}", cafe.body_html);
    let about = store.article_by_id(ArticleId(2)).await.unwrap();
    assert_eq!(
        (about.kind, about.slug.as_str()),
        (ContentKind::Page, "about-us")
    );

    // Authors: contributors without a login until an admin activates them.
    let users = store.list_users().await.unwrap();
    let mara = users
        .iter()
        .find(|u| u.display_name == "Mara Quill")
        .unwrap();
    assert_eq!((mara.role, mara.active), (Role::Contributor, false));
    assert!(mara.password_hash.is_none());
    assert_eq!(bridge.author.id, mara.id);
    assert!(users.iter().any(|u| u.display_name == "Tomás Reyes"));
    assert_eq!(private.author.display_name, "ghostwriter");

    // Comments: ids, threads, statuses, kinds; emails private.
    let comments = all_comments(store).await;
    let by_id: BTreeMap<i64, &Comment> = comments.iter().map(|c| (c.id.0, c)).collect();
    assert_eq!(
        by_id.keys().copied().collect::<Vec<_>>(),
        [11, 12, 13, 14, 15, 16]
    );
    assert_eq!(
        by_id[&12].parent_id,
        Some(CommentId(11)),
        "the reply listed first"
    );
    assert_eq!(by_id[&11].body, "Finally!\n\nTook them long enough & more.");
    assert_eq!(by_id[&12].body, "I agree with Ole.");
    assert_eq!(by_id[&12].author_email, "pia@reader.example");
    assert_eq!(by_id[&13].status, CommentStatus::Pending);
    assert_eq!(by_id[&14].status, CommentStatus::Spam);
    assert_eq!(
        (by_id[&15].kind, by_id[&15].status),
        (CommentKind::Pingback, CommentStatus::Approved)
    );
    assert_eq!(
        (by_id[&16].kind, by_id[&16].status),
        (CommentKind::Trackback, CommentStatus::Trash)
    );
    assert_eq!(by_id[&11].kind, CommentKind::Comment);
    assert_eq!(store.counts(ArticleId(101)).await.unwrap().comments, 3);

    let page = app.get("/2024/05/02/harbour-bridge-opens/").await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("Took them long enough"));
    assert!(
        !page.body.to_lowercase().contains("reader.example"),
        "emails stay private"
    );
    assert!(!page.body.contains("Waiting for a moderator"));
    let pings = page.texts("li.pingback .comment-author");
    assert_eq!(pings, ["Pingback: Another Blog"]);

    // Old URLs answer 301 to the new ones.
    let moved = [
        ("/?p=101", "/2024/05/02/harbour-bridge-opens/"),
        (
            "/?p=101&utm_source=feed",
            "/2024/05/02/harbour-bridge-opens/",
        ),
        ("/?p=2", "/about-us/"),
        ("/?page_id=2", "/about-us/"),
        (
            "/harbour-bridge-opens/",
            "/2024/05/02/harbour-bridge-opens/",
        ),
        (
            "/2024/03/15/caf%C3%A9-z%C3%BCrich/",
            "/2024/03/15/cafe-zurich/",
        ),
        ("/category/city/transport/", "/tag/transport/"),
        ("/category/transport/", "/tag/transport/"),
        ("/?cat=3", "/tag/transport/"),
        ("/tag/ferries-2/", "/tag/ferries/"),
        (
            "/2024/05/02/harbour-bridge-opens/bridge/",
            "/2024/05/02/harbour-bridge-opens/",
        ),
        ("/?attachment_id=150", "/2024/05/02/harbour-bridge-opens/"),
        (
            "/?attachment_id=151",
            "https://gazette.example/wp-content/uploads/2024/05/crowd.png",
        ),
    ];
    for (old, new) in moved {
        app.get(old).await.assert_moved_to(new);
    }
    // A draft's old URL does not reveal it: like an unknown id, it is the home page.
    let draft = app.get("/?p=103").await;
    draft.assert_status(StatusCode::OK);
    assert_eq!(draft.location(), None);
    app.get("/2024/04/01/council-salaries/")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/?p=999").await.assert_status(StatusCode::OK);

    // Running the same import again changes nothing.
    let before = store.export_site().await.unwrap();
    let again = import(&app, &fixture("newsroom.xml")).await;
    assert!(again.imported.is_empty(), "{again}");
    assert!(again.failed.is_empty(), "{again}");
    assert!(again.to_string().contains("imported before"), "{again}");
    assert_eq!(store.export_site().await.unwrap(), before);
}

#[tokio::test]
async fn taken_ids_get_new_ones_and_are_still_mapped() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    // Articles 1 and 2 exist before the import: the WordPress page 2 needs another id.
    app.publish(&ada, "First", "One.", &[]).await;
    app.publish(&ada, "Second", "Two.", &[]).await;
    let summary = import(&app, &fixture("newsroom.xml")).await;
    assert!(
        summary
            .to_string()
            .contains("its id was taken; it is article"),
        "{summary}"
    );
    app.get("/?page_id=2").await.assert_moved_to("/about-us/");
    assert_eq!(
        app.store.article_by_id(ArticleId(2)).await.unwrap().title,
        "Second"
    );
    let again = import(&app, &fixture("newsroom.xml")).await;
    assert!(again.imported.is_empty(), "{again}");
}

#[tokio::test]
async fn wxr_1_0_with_http_namespaces_undeclared_prefixes_and_nested_cdata() {
    let app = TestApp::new().await;
    let summary = import(&app, &fixture("legacy-1.0.xml")).await;
    assert_eq!(summary.imported("posts"), 1, "{summary}");
    let hello = app.store.article_by_id(ArticleId(1)).await.unwrap();
    assert_eq!(hello.title, "Hello world!");
    assert!(
        hello
            .source
            .contains("Nested <![CDATA[ markup ]]> survives :)"),
        "{}",
        hello.source
    );
    assert!(
        hello.tags.is_empty(),
        "Uncategorized is no tag: {:?}",
        hello.tags
    );
    assert_eq!(
        hello.author.display_name, "admin",
        "dc: undeclared still names the author"
    );
}

#[tokio::test]
async fn a_broken_export_names_the_line_and_writes_nothing() {
    let app = TestApp::new().await;
    let err = wordpress::import(app.store.as_ref(), &fixture("truncated.xml"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("truncated.xml"), "{err}");
    assert!(err.contains("line 8"), "{err}");
    assert!(err.contains("<item> opened at line 5"), "{err}");
    assert_eq!(count(app.store.as_ref(), ContentKind::Article).await, 0);
    assert!(app.store.list_users().await.unwrap().is_empty());

    let missing = wordpress::import(app.store.as_ref(), &fixture("no-such-file.xml"))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("cannot read"), "{missing}");
}

/// A fresh SQLite store in `dir`.
async fn fresh_store(dir: &Path) -> SqliteStore {
    let store = SqliteStore::open(&dir.join("site.sqlite3")).await.unwrap();
    store.migrate().await.unwrap();
    store
}

#[tokio::test]
async fn the_theme_unit_test_data_imports_with_its_counts_threads_and_statuses() {
    let Some(corpus) = shared_corpus() else {
        return;
    };
    let app = TestApp::new().await;
    let summary = import(&app, &corpus.join("theme-unit-test.xml")).await;
    let store = app.store.as_ref();
    assert!(summary.failed.is_empty(), "{summary}");
    assert_eq!(summary.imported("posts"), 58, "{summary}");
    assert_eq!(summary.imported("pages"), 21, "{summary}");
    assert_eq!(count(store, ContentKind::Article).await, 58);
    assert_eq!(count(store, ContentKind::Page).await, 21);
    let comments = all_comments(store).await;
    assert_eq!(comments.len(), 33);
    let kinds = |k| comments.iter().filter(|c| c.kind == k).count();
    assert_eq!(kinds(CommentKind::Pingback), 2);
    assert_eq!(kinds(CommentKind::Trackback), 2);
    assert_eq!(
        comments.iter().filter(|c| c.parent_id.is_some()).count(),
        10
    );
    let pending = comments
        .iter()
        .filter(|c| c.status == CommentStatus::Pending)
        .count();
    assert_eq!(pending, 3, "unapproved ones stay held");
    // Every reply sits on its parent's article.
    for reply in comments.iter().filter(|c| c.parent_id.is_some()) {
        let parent = comments
            .iter()
            .find(|c| Some(c.id) == reply.parent_id)
            .unwrap();
        assert_eq!(parent.article_id, reply.article_id);
    }
    let scheduled = store
        .list_articles(&ArticleQuery {
            status: Some(Status::Draft),
            ..every(ContentKind::Article)
        })
        .await
        .unwrap()
        .total;
    assert_eq!(scheduled, 2, "the draft, and the password-protected post");
    assert!(
        summary.to_string().contains("was password-protected"),
        "{summary}"
    );

    // Each post's old /?p= and dated URL reach it; every category page its tag.
    let published = store
        .list_articles(&ArticleQuery::public(
            broadsheet_domain::clock::now(),
            1,
            100,
        ))
        .await
        .unwrap();
    // 56 published, less the password-protected one; the "future" post is scheduled.
    assert_eq!(published.total, 55);
    for article in &published.items {
        let permalink = article.permalink(chrono_tz::UTC);
        app.get(&format!("/?p={}", article.id))
            .await
            .assert_moved_to(&permalink);
    }
    app.get("/category/parent-category/child-category-01/")
        .await
        .assert_moved_to("/tag/child-category-01/");
    assert!(
        published.items.iter().any(|a| a.featured),
        "a sticky post is featured"
    );

    let before = store.export_site().await.unwrap();
    let again = import(&app, &corpus.join("theme-unit-test.xml")).await;
    assert!(again.imported.is_empty(), "{again}");
    assert_eq!(store.export_site().await.unwrap(), before);
}

#[tokio::test]
async fn every_file_of_the_shared_corpus_imports_or_names_its_broken_line() {
    let Some(corpus) = shared_corpus() else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .chain(std::fs::read_dir(corpus.join("importer-fixtures")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(files.len() > 30, "{files:?}");
    // Broken on purpose, and where.
    let broken: BTreeMap<&str, &str> = [
        ("phpunit_data_malformed.xml", "line 90"),
        ("phpunit_data_malformed-simple.xml", "cut short"),
        ("phpunit_data_invalid-version-tag.xml", "\"abc\""),
    ]
    .into();
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = fresh_store(dir.path()).await;
        let result = wordpress::import(&store, file).await;
        match broken.get(name) {
            Some(expected) => {
                let err = result.expect_err(name).to_string();
                assert!(err.contains(expected), "{name}: {err}");
                assert!(err.contains("line "), "{name}: {err}");
                assert_eq!(count(&store, ContentKind::Article).await, 0, "{name}");
            }
            None => {
                let summary = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                let posts = summary.imported("posts") + summary.imported("pages");
                assert_eq!(
                    count(&store, ContentKind::Article).await
                        + count(&store, ContentKind::Page).await,
                    posts,
                    "{name}: {summary}"
                );
            }
        }
    }

    // Spot checks of what the fixtures are about.
    let check = |name: &'static str| {
        let path = corpus.join("importer-fixtures").join(name);
        async move {
            let dir = tempfile::tempdir().unwrap();
            let store = fresh_store(dir.path()).await;
            let summary = wordpress::import(&store, &path).await.unwrap();
            (dir, store, summary)
        }
    };
    let (_d, store, _) = check("phpunit_data_crazy-cdata.xml").await;
    let post = store.article_by_id(ArticleId(1)).await.unwrap();
    assert_eq!(
        post.source,
        "<p>Content with nested <![CDATA[ tags ]]> :)</p>\n"
    );
    let (_d, store, summary) = check("phpunit_data_namespace-edge-cases.xml").await;
    assert!(
        summary.to_string().contains("no wp:post_type"),
        "the hijacked namespace is not WordPress's: {summary}"
    );
    assert_eq!(
        store.article_by_id(ArticleId(2)).await.unwrap().title,
        "No Prefix",
        "a default namespace counts"
    );
    let (_d, _store, summary) = check("phpunit_data_missing-version-tag.xml").await;
    assert!(
        summary.to_string().contains("no wp:wxr_version"),
        "{summary}"
    );

    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(dir.path()).await;
    let summary = wordpress::import(&store, &corpus.join("block-test-data.xml"))
        .await
        .unwrap();
    assert_eq!(summary.imported("posts"), 61, "{summary}");
    assert_eq!(summary.imported("pages"), 1, "{summary}");
    assert_eq!(summary.imported("comments"), 2, "{summary}");
}

/// The pages readers see, for comparing two sites.
async fn public_paths(store: &dyn Store) -> Vec<String> {
    let dump = store.export_site().await.unwrap();
    let now = broadsheet_domain::clock::now();
    let tz = dump.settings.tz();
    let mut paths = vec![
        "/".to_owned(),
        "/feed.xml".to_owned(),
        "/sitemap.xml".to_owned(),
    ];
    for article in dump.articles.iter().filter(|a| a.is_public(now)) {
        paths.push(article.permalink(tz));
        paths.push(article.author.url());
        paths.extend(article.tags.iter().map(|t| t.url()));
    }
    paths.sort();
    paths.dedup();
    paths
}

/// A page with what differs between two databases by design (the comment form's
/// token, signed with a per-database key and the time of rendering) taken out.
fn comparable(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    for line in body.lines() {
        if line.contains("name=\"form_token\"") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn a_json_export_restores_into_an_empty_site_with_identical_pages() {
    let source = TestApp::new().await;
    import(&source, &fixture("newsroom.xml")).await;
    if let Some(corpus) = shared_corpus() {
        import(&source, &corpus.join("theme-unit-test.xml")).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.json");
    let written = broadsheet::export::json::export(source.store.as_ref(), &file)
        .await
        .unwrap();
    assert!(written.articles >= 4, "{written}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["format"], "broadsheet-site");
    assert_eq!(json["format_version"], 3);
    assert!(
        json["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["password_hash"].is_null()),
        "no password hashes leave the site"
    );

    let target = TestApp::builder().restore(file.clone()).build().await;
    let paths = public_paths(source.store.as_ref()).await;
    assert_eq!(paths, public_paths(target.store.as_ref()).await);
    assert!(paths.len() > 8, "{paths:?}");
    for path in &paths {
        let (a, b) = (source.get(path).await, target.get(path).await);
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(b.status, a.status, "{path}");
        let (a, b) = (comparable(&a.body), comparable(&b.body));
        let differ = a.lines().zip(b.lines()).find(|(x, y)| x != y);
        assert!(a == b, "{path} differs: {differ:?}");
    }
    // Old URLs came along.
    target
        .get("/?p=101")
        .await
        .assert_moved_to("/2024/05/02/harbour-bridge-opens/");

    // Only into an empty site.
    let err = broadsheet::import::json::import(target.store.as_ref(), &file)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not empty"), "{err}");
    std::fs::write(dir.path().join("other.json"), r#"{"format":"other"}"#).unwrap();
    let err = broadsheet::import::json::read(&dir.path().join("other.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not \"broadsheet-site\""), "{err}");
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn a_folder_of_hugo_zola_and_jekyll_files_imports_and_reimports_as_a_no_op() {
    let app = TestApp::new().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "content/posts/ferry-times/index.md",
        "---\ntitle: Ferry times change\ndate: 2026-02-01T08:00:00+01:00\ntags: [Ferries]\ndraft: false\n---\nNew *times*.\n",
    );
    write(
        d,
        "_posts/2026-03-01-harbour-news.md",
        "---\ntitle: Harbour news\ncategories: [City, Harbour]\nredirect_from: /old/harbour/\n---\nNews.\n",
    );
    write(
        d,
        "zola/quay.md",
        "+++\ntitle = \"The quay\"\ndate = 2026-01-10\n[taxonomies]\ntags = [\"Harbour\"]\n+++\nStones.\n",
    );
    write(d, "_drafts/idea.md", "---\ntitle: An idea\n---\nLater.\n");
    write(d, "content/_index.md", "---\ntitle: Posts\n---\n");
    write(d, "notes/broken.md", "No front matter here.\n");
    write(d, "notes/readme.txt", "not Markdown");

    let summary = markdown::import(app.store.as_ref(), d, None).await.unwrap();
    assert_eq!(summary.imported("articles"), 4, "{summary}");
    assert_eq!(summary.skipped.len(), 1, "{summary}");
    assert_eq!(summary.failed.len(), 1, "{summary}");
    assert!(summary.failed[0].item.contains("broken.md"), "{summary}");
    assert!(
        summary.failed[0].reason.contains("front matter"),
        "{summary}"
    );

    let find = |slug: &'static str| {
        let store = app.store.clone();
        async move {
            match store.find_by_slug(slug).await.unwrap() {
                broadsheet_domain::SlugLookup::Current(a) => a,
                other => panic!("{slug}: {other:?}"),
            }
        }
    };
    let ferry = find("ferry-times").await;
    assert_eq!(ferry.title, "Ferry times change");
    assert_eq!(
        ferry.published_at.unwrap().to_rfc3339(),
        "2026-02-01T07:00:00+00:00"
    );
    let news = find("harbour-news").await;
    assert_eq!(
        news.published_at.unwrap().to_rfc3339(),
        "2026-03-01T00:00:00+00:00"
    );
    assert_eq!(
        news.tags
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["City", "Harbour"]
    );
    app.get("/old/harbour/")
        .await
        .assert_moved_to("/2026/03/01/harbour-news/");
    assert_eq!(find("quay").await.tags[0].name, "Harbour");
    assert_eq!(find("idea").await.status, Status::Draft);

    let again = markdown::import(app.store.as_ref(), d, None).await.unwrap();
    assert!(again.imported.is_empty(), "{again}");
    assert_eq!(
        again
            .skipped
            .iter()
            .filter(|n| n.reason.contains("unchanged"))
            .count(),
        4,
        "{again}"
    );
}

#[tokio::test]
async fn a_markdown_export_reads_back_into_an_empty_site() {
    let source = TestApp::new().await;
    import(&source, &fixture("newsroom.xml")).await;
    let ada = source.user("Ada Lovelace").await;
    source
        .publish(&ada, "Written here", "Some **Markdown**.", &["Local"])
        .await;
    let dir = tempfile::tempdir().unwrap();
    let n = broadsheet::export::markdown::export(source.store.as_ref(), dir.path())
        .await
        .unwrap();
    assert_eq!(n, 6);
    let bridge = std::fs::read_to_string(dir.path().join("posts/harbour-bridge-opens.md")).unwrap();
    assert!(
        bridge.starts_with("---\ntitle: Harbour bridge opens\n"),
        "{bridge}"
    );
    assert!(bridge.contains("format: html"), "{bridge}");

    let target = TestApp::new().await;
    // The authors the files name.
    for user in source.store.list_users().await.unwrap() {
        target
            .store
            .create_user(&broadsheet_domain::NewUser {
                slug: user.slug.clone(),
                display_name: user.display_name.clone(),
                email: user.email.clone(),
                role: user.role,
                bio: String::new(),
                password_hash: None,
            })
            .await
            .unwrap();
    }
    let summary = markdown::import(target.store.as_ref(), dir.path(), None)
        .await
        .unwrap();
    assert!(summary.failed.is_empty(), "{summary}");
    let shape = |store: std::sync::Arc<SqliteStore>| async move {
        let mut all: Vec<_> = store
            .export_site()
            .await
            .unwrap()
            .articles
            .into_iter()
            .map(|a| {
                (
                    a.slug,
                    a.title,
                    a.kind,
                    a.status,
                    a.source,
                    a.format,
                    a.body_html,
                    a.tags,
                    a.published_at,
                    a.author.slug,
                )
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    };
    assert_eq!(
        shape(target.store.clone()).await,
        shape(source.store.clone()).await
    );
}

#[tokio::test]
async fn the_cli_imports_exports_and_restores_and_names_a_broken_line() {
    use crate::process::{Site, stderr};
    let dir = tempfile::tempdir().unwrap();
    let site = Site::sqlite(&dir.path().join("old"));
    let path = |p: &Path| p.to_str().unwrap().to_owned();

    let out = site.run(&["import", "wordpress", &path(&fixture("newsroom.xml"))]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.starts_with("imported: "), "{printed}");
    for part in [
        "3 authors",
        "4 comments",
        "1 pages",
        "4 posts",
        "1 pingbacks",
    ] {
        assert!(printed.contains(part), "{part} in {printed}");
    }
    assert!(
        printed.contains("was private, kept as a draft"),
        "{printed}"
    );
    assert!(printed.contains("skipped: 1\n"), "{printed}");

    let out = site.run(&["import", "wordpress", &path(&fixture("truncated.xml"))]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("truncated.xml: line 8: the file ends inside <item>"),
        "{err}"
    );

    let export = dir.path().join("site.json");
    let out = site.run(&["export", "json", &path(&export)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let posts = dir.path().join("posts");
    let out = site.run(&["export", "markdown", &path(&posts)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(posts.join("pages/about-us.md").is_file());

    let new = Site::sqlite(&dir.path().join("new"));
    let out = new.run(&["import", "json", &path(&export)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("restored "));
    let out = new.run(&["import", "json", &path(&export)]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the site is not empty"),
        "{}",
        stderr(&out)
    );
}

/// The WordPress ids of the published posts of a WXR file that are not password
/// protected (those arrive as drafts), read straight from its text.
fn published_post_ids(wxr: &str) -> Vec<i64> {
    wxr.split("<item>")
        .skip(1)
        .filter(|item| {
            tag_text(item, "wp:post_type") == "post"
                && tag_text(item, "wp:status") == "publish"
                && tag_text(item, "wp:post_password").is_empty()
        })
        .map(|item| tag_text(item, "wp:post_id").parse().unwrap())
        .collect()
}

/// The text of an item's first `<name>` element, without a CDATA wrapper.
fn tag_text<'a>(item: &'a str, name: &str) -> &'a str {
    let Some((_, rest)) = item.split_once(&format!("<{name}>")) else {
        return "";
    };
    let text = rest
        .split_once(&format!("</{name}>"))
        .map_or("", |(t, _)| t);
    text.strip_prefix("<![CDATA[")
        .and_then(|t| t.strip_suffix("]]>"))
        .unwrap_or(text)
}

/// The WordPress REST API answers an imported post under its WordPress id, with its
/// comments under theirs, as existing WordPress clients expect after a move.
async fn assert_wordpress_ids_answer(app: &TestApp, wxr: &Path) -> usize {
    let text = std::fs::read_to_string(wxr).unwrap();
    let ids = published_post_ids(&text);
    for id in &ids {
        let response = app.get(&format!("/wp-json/wp/v2/posts/{id}")).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "post {id}: {}",
            response.body
        );
        let post: serde_json::Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(post["id"], *id, "{}", response.body);
        let article = app.store.article_by_id(ArticleId(*id)).await.unwrap();
        assert_eq!(post["slug"], article.slug.as_str());
    }
    ids.len()
}

#[tokio::test]
async fn the_wordpress_rest_api_answers_imported_posts_under_their_wordpress_ids() {
    let app = TestApp::new().await;
    let wxr = fixture("newsroom.xml");
    import(&app, &wxr).await;
    assert!(assert_wordpress_ids_answer(&app, &wxr).await >= 2);
    // The draft stays out of the API, and the comments keep their ids and threads.
    let draft = app.get("/wp-json/wp/v2/posts/102").await;
    assert_ne!(draft.status, StatusCode::OK);
    let comments: serde_json::Value = serde_json::from_str(
        &app.get("/wp-json/wp/v2/comments?post=101&per_page=100")
            .await
            .body,
    )
    .unwrap();
    let store_comments: Vec<Comment> = all_comments(app.store.as_ref())
        .await
        .into_iter()
        .filter(|c| c.article_id == ArticleId(101) && c.status == CommentStatus::Approved)
        .collect();
    let mut api_ids: Vec<i64> = comments
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    api_ids.sort();
    let store_ids: Vec<i64> = store_comments.iter().map(|c| c.id.0).collect();
    assert!(!api_ids.is_empty());
    assert!(
        store_ids.iter().all(|id| (11..=16).contains(id)),
        "{store_ids:?}"
    );
    assert_eq!(api_ids, store_ids);
}

#[tokio::test]
async fn the_theme_unit_test_posts_answer_the_wordpress_rest_api_under_their_ids() {
    let Some(corpus) = shared_corpus() else {
        return;
    };
    let app = TestApp::new().await;
    let wxr = corpus.join("theme-unit-test.xml");
    import(&app, &wxr).await;
    assert_eq!(assert_wordpress_ids_answer(&app, &wxr).await, 55);
}
