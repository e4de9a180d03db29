//! The articles admin: writing, saving and publishing by role, bad input, the live
//! preview, autosave, revisions, signed preview links, the list's filters and deleting.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use broadsheet::editorial::preview_link::PreviewLinks;
use broadsheet_domain::{
    AccountStore, Article, ArticleId, JobStore, RevisionStore, Role, Status, Store, User, clock,
};
use chrono::TimeDelta;

use crate::admin_auth::{Probe, assert_role_matrix};
use crate::util::{Session, TestApp, TestResponse, article, send};

/// The article id in a redirect to its editor (`/admin/articles/7?saved=1`).
fn saved_id(response: &TestResponse) -> ArticleId {
    response.assert_status(StatusCode::SEE_OTHER);
    let location = response.location().expect("a redirect");
    let id = location
        .strip_prefix("/admin/articles/")
        .and_then(|rest| rest.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not an editor address: {location}"));
    ArticleId(id)
}

/// The editor's fields for a draft, with `extra` fields added or replacing them.
fn fields<'a>(title: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![
        ("title", title),
        ("slug", ""),
        ("source", "Some **words** about it."),
        ("excerpt", ""),
        ("tags", "Europe, NATO"),
        ("cover_image", ""),
        ("kind", "article"),
        ("status", "draft"),
        ("date", ""),
        ("intent", "save"),
    ];
    for (key, value) in extra {
        all.retain(|(k, _)| k != key);
        all.push((key, value));
    }
    all
}

async fn post_json(session: &Session, path: &str, json: serde_json::Value) -> TestResponse {
    session
        .send(
            Request::post(path)
                .header("content-type", "application/json")
                .header("x-csrf-token", &session.csrf),
            Body::from(json.to_string()),
        )
        .await
}

async fn stored(app: &TestApp, id: ArticleId) -> Article {
    app.store.article_by_id(id).await.unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let entries = app.store.list_audit(1, 100).await.unwrap().items;
    entries.into_iter().map(|e| e.action).collect()
}

async fn signed_in(app: &TestApp, role: Role) -> (User, Session) {
    let user = app.user(role).await;
    let session = app.sign_in(&user).await;
    (user, session)
}

#[tokio::test]
async fn an_author_writes_saves_and_publishes_their_own_article() {
    let app = TestApp::new().await;
    let (author, session) = signed_in(&app, Role::Author).await;
    app.publish(&author, "Older", "Text.", &["Baltic"]).await;

    let new = session.get("/admin/articles/new").await;
    new.assert_status(StatusCode::OK);
    assert!(
        new.attrs("#tag-suggestions option", "value")
            .contains(&"Baltic".to_owned())
    );
    assert_eq!(new.attrs("select[name=status] option", "value").len(), 3);

    let created = session
        .post_form("/admin/articles", &fields("Summit week", &[]))
        .await;
    let id = saved_id(&created);
    let draft = stored(&app, id).await;
    assert_eq!(
        (draft.status, draft.slug.as_str()),
        (Status::Draft, "summit-week")
    );
    assert_eq!(draft.author.id, author.id);
    let names: Vec<_> = draft.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Europe", "NATO"]);

    let editor = session.get(&format!("/admin/articles/{id}?saved=1")).await;
    editor.assert_status(StatusCode::OK);
    assert_eq!(editor.texts(".notice-ok"), ["Saved."]);
    assert_eq!(editor.attrs("input[name=title]", "value"), ["Summit week"]);

    let published = session
        .post_form(
            &format!("/admin/articles/{id}"),
            &fields("Summit week", &[("status", "published")]),
        )
        .await;
    assert_eq!(saved_id(&published), id);
    let live = stored(&app, id).await;
    assert_eq!(live.status, Status::Published);
    app.get(&app.permalink(&live).await)
        .await
        .assert_status(StatusCode::OK);

    let revisions = app.store.list_revisions(id).await.unwrap();
    assert_eq!(revisions.len(), 2, "one per save");
    assert!(revisions.iter().all(|r| r.saved_by.id == author.id));
    assert_eq!(
        audit_actions(&app).await,
        ["article.publish", "article.create"]
    );
}

#[tokio::test]
async fn a_contributor_saves_drafts_but_cannot_publish() {
    let app = TestApp::new().await;
    let (_, session) = signed_in(&app, Role::Contributor).await;

    let new = session.get("/admin/articles/new").await;
    assert!(
        new.attrs("select[name=status]", "name").is_empty(),
        "no status choice"
    );
    assert_eq!(new.texts("button[value=save]"), ["Submit for review"]);

    let refused = session
        .post_form(
            "/admin/articles",
            &fields("Scoop", &[("status", "published")]),
        )
        .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Submit for review"),
        "{}",
        refused.body
    );
    let scheduled = session
        .post_form(
            "/admin/articles",
            &fields(
                "Scoop",
                &[("status", "scheduled"), ("date", "2099-01-01T10:00")],
            ),
        )
        .await;
    scheduled.assert_status(StatusCode::FORBIDDEN);

    let id = saved_id(
        &session
            .post_form("/admin/articles", &fields("Scoop", &[]))
            .await,
    );
    assert_eq!(stored(&app, id).await.status, Status::Draft);
    let again = session
        .post_form(
            &format!("/admin/articles/{id}"),
            &fields("Scoop, revised", &[]),
        )
        .await;
    saved_id(&again);
    session
        .post_form(
            &format!("/admin/articles/{id}"),
            &fields("Scoop", &[("status", "published")]),
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let after = stored(&app, id).await;
    assert_eq!(
        (after.status, after.title.as_str()),
        (Status::Draft, "Scoop, revised")
    );
}

#[tokio::test]
async fn editors_edit_everyones_articles_and_authors_only_their_own() {
    let app = TestApp::new().await;
    let (author, _) = signed_in(&app, Role::Author).await;
    let (_, other_author) = signed_in(&app, Role::Author).await;
    let (editor, editor_session) = signed_in(&app, Role::Editor).await;
    let theirs = app.publish(&author, "Their story", "Text.", &[]).await;
    let path = format!("/admin/articles/{}", theirs.id);

    other_author
        .get(&path)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    other_author
        .post_form(&path, &fields("Hijacked", &[("status", "published")]))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(stored(&app, theirs.id).await.title, "Their story");

    editor_session
        .get(&path)
        .await
        .assert_status(StatusCode::OK);
    let date = broadsheet::editorial::form::show_date(theirs.published_at.unwrap(), chrono_tz::UTC);
    let saved = editor_session
        .post_form(
            &path,
            &fields(
                "Their story, edited",
                &[("status", "published"), ("date", &date)],
            ),
        )
        .await;
    saved_id(&saved);
    let edited = stored(&app, theirs.id).await;
    assert_eq!(edited.title, "Their story, edited");
    assert_eq!(edited.author.id, author.id, "the author stays the author");
    assert_eq!(
        edited.published_at, theirs.published_at,
        "an unchanged date field keeps the exact date"
    );
    let latest = &app.store.list_revisions(theirs.id).await.unwrap()[0];
    assert_eq!(latest.saved_by.id, editor.id);
}

#[tokio::test]
async fn bad_input_is_shown_again_with_every_problem_and_all_input_kept() {
    let app = TestApp::new().await;
    let (author, session) = signed_in(&app, Role::Author).await;
    app.publish(&author, "Taken", "Text.", &[]).await;

    let bad = session
        .post_form(
            "/admin/articles",
            &fields(
                " ",
                &[
                    ("slug", "Not A Slug"),
                    ("source", "Body <kept> & all"),
                    ("tags", "Kept, Tags"),
                    ("status", "scheduled"),
                    ("cover_image", "javascript:alert(1)"),
                ],
            ),
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["title", "slug", "date", "cover_image"] {
        assert_eq!(
            bad.texts(&format!("#f-{field}-error")).len(),
            1,
            "{field}: {}",
            bad.body
        );
    }
    assert_eq!(bad.attrs("input[name=slug]", "value"), ["Not A Slug"]);
    assert_eq!(bad.attrs("input[name=tags]", "value"), ["Kept, Tags"]);
    assert_eq!(bad.texts("textarea[name=source]"), ["Body <kept> & all"]);
    assert_eq!(
        bad.attrs("select[name=status] option[selected]", "value"),
        ["scheduled"]
    );
    assert!(bad.texts(".notice-error")[0].contains("4 fields"));
    assert_eq!(
        app.store.list_tags().await.unwrap().len(),
        0,
        "nothing saved"
    );

    let clash = session
        .post_form("/admin/articles", &fields("Another", &[("slug", "taken")]))
        .await;
    clash.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(clash.texts("#f-slug-error")[0].contains("already used"));
    assert_eq!(clash.attrs("input[name=title]", "value"), ["Another"]);
}

#[tokio::test]
async fn the_preview_is_the_sites_sanitised_rendering() {
    let app = TestApp::new().await;
    let (_, session) = signed_in(&app, Role::Contributor).await;
    let source = "Some **bold** words.\n\n<script>alert(1)</script><img src=x onerror=alert(2)>";

    let json = post_json(
        &session,
        "/admin/preview",
        serde_json::json!({ "source": source, "format": "markdown" }),
    )
    .await;
    json.assert_status(StatusCode::OK);
    assert!(json.body.contains("<strong>bold</strong>"), "{}", json.body);
    assert!(!json.body.contains("<script"), "{}", json.body);
    assert!(!json.body.contains("onerror"), "{}", json.body);
    assert!(json.header("x-read-time").unwrap().ends_with(" s"));

    let form = session
        .post_form("/admin/preview", &[("source", source)])
        .await;
    form.assert_status(StatusCode::OK);
    assert_eq!(form.body, json.body, "a form gets the same fragment");

    // Without JavaScript: the Preview button shows the editor with the preview, and
    // saves nothing.
    let shown = session
        .post_form(
            "/admin/articles",
            &fields("Not yet", &[("source", source), ("intent", "preview")]),
        )
        .await;
    shown.assert_status(StatusCode::OK);
    assert_eq!(shown.texts("[data-preview] strong"), ["bold"]);
    assert!(!shown.body.contains("<script>alert"), "{}", shown.body);
    assert_eq!(shown.attrs("input[name=title]", "value"), ["Not yet"]);
    assert!(
        app.store.list_tags().await.unwrap().is_empty(),
        "nothing saved"
    );
}

#[tokio::test]
async fn autosaves_keep_one_revision_and_only_touch_drafts() {
    let app = TestApp::new().await;
    let (author, session) = signed_in(&app, Role::Author).await;
    let form = |body: &str| {
        serde_json::json!({
            "title": "Typing", "slug": "", "source": body, "excerpt": "", "tags": "",
            "cover_image": "", "kind": "article", "status": "published", "date": "",
        })
    };

    // The first autosave of a new article creates it, as a draft.
    let first = post_json(&session, "/admin/articles/autosave", form("a")).await;
    first.assert_status(StatusCode::OK);
    let reply: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    let id = ArticleId(reply["id"].as_i64().unwrap());
    assert_eq!(reply["edit_url"], format!("/admin/articles/{id}"));
    assert_eq!(reply["saved_at"].as_str().unwrap().len(), 5, "HH:MM");
    assert_eq!(stored(&app, id).await.status, Status::Draft);

    for body in ["ab", "abc", "abcd"] {
        post_json(
            &session,
            &format!("/admin/articles/{id}/autosave"),
            form(body),
        )
        .await
        .assert_status(StatusCode::OK);
    }
    let article = stored(&app, id).await;
    assert_eq!(
        (article.source.as_str(), article.status),
        ("abcd", Status::Draft)
    );
    let kept: Vec<_> = app
        .store
        .list_revisions(id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.source, r.autosave))
        .collect();
    assert_eq!(kept, [("abcd".to_owned(), true), ("a".to_owned(), false)]);
    assert_eq!(audit_actions(&app).await, ["article.create"]);

    let live = app.publish(&author, "Live", "Text.", &[]).await;
    let refused = post_json(
        &session,
        &format!("/admin/articles/{}/autosave", live.id),
        form("changed"),
    )
    .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored(&app, live.id).await.source, "Text.");
}

#[tokio::test]
async fn a_revision_shows_its_diff_and_can_be_restored() {
    let app = TestApp::new().await;
    let (_, session) = signed_in(&app, Role::Author).await;
    let id = saved_id(
        &session
            .post_form(
                "/admin/articles",
                &fields("First title", &[("source", "one\ntwo\nthree")]),
            )
            .await,
    );
    saved_id(
        &session
            .post_form(
                &format!("/admin/articles/{id}"),
                &fields(
                    "Second title",
                    &[("source", "one\n2\nthree"), ("tags", "Europe")],
                ),
            )
            .await,
    );

    let list = session
        .get(&format!("/admin/articles/{id}/revisions"))
        .await;
    list.assert_status(StatusCode::OK);
    let links = list.attrs("table.revisions a", "href");
    assert_eq!(links.len(), 2);
    let oldest = links.last().unwrap().clone();

    let shown = session.get(&oldest).await;
    shown.assert_status(StatusCode::OK);
    assert_eq!(shown.texts(".diff-removed"), ["- two"]);
    assert_eq!(shown.texts(".diff-added"), ["+ 2"]);
    let fields_changed = shown.texts(".changed-fields th[scope=row]");
    // The slug and the excerpt were blank, so made from the title and the text.
    assert_eq!(fields_changed, ["Title", "Slug", "Excerpt", "Tags"]);
    assert_eq!(shown.texts(".changed-fields del")[0], "First title");

    let restore = shown.attrs("form[action$=restore]", "action");
    let restored = session.post_form(&restore[0], &[]).await;
    assert_eq!(saved_id(&restored), id);
    let article = stored(&app, id).await;
    assert_eq!(article.title, "First title");
    assert_eq!(article.source, "one\ntwo\nthree");
    assert_eq!(article.slug, "first-title");
    let names: Vec<_> = article.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Europe", "NATO"]);
    assert_eq!(app.store.list_revisions(id).await.unwrap().len(), 3);
    assert_eq!(audit_actions(&app).await[0], "article.restore");

    // A revision of another article is not found under this one.
    let other = saved_id(
        &session
            .post_form("/admin/articles", &fields("Other", &[]))
            .await,
    );
    let foreign = app.store.list_revisions(other).await.unwrap()[0].id;
    session
        .get(&format!("/admin/articles/{id}/revisions/{foreign}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_signed_link_previews_an_unpublished_article_until_it_expires() {
    let app = TestApp::new().await;
    let (_, session) = signed_in(&app, Role::Contributor).await;
    let id = saved_id(
        &session
            .post_form("/admin/articles", &fields("Embargoed", &[]))
            .await,
    );
    let page = session
        .get(&format!("/admin/articles/{id}/preview-link"))
        .await;
    page.assert_status(StatusCode::OK);
    let url = page
        .attrs("input.copy-link", "value")
        .pop()
        .expect("a link");
    let path = &url[url.find("/preview/").expect("a preview path")..];

    let anyone = app.get(path).await;
    anyone.assert_status(StatusCode::OK);
    assert_eq!(anyone.texts("h1.article-title"), ["Embargoed"]);
    assert_eq!(anyone.attrs("meta[name=robots]", "content"), ["noindex"]);
    // It has no public address yet, and claims none anywhere in its head.
    assert!(anyone.attrs("link[rel=canonical]", "href").is_empty());
    assert!(
        anyone
            .attrs(r#"meta[property="og:url"]"#, "content")
            .is_empty()
    );
    assert!(
        anyone
            .texts(r#"script[type="application/ld+json"]"#)
            .is_empty()
    );
    assert_eq!(anyone.header("cache-control"), Some("no-store"));
    app.get(&app.permalink(&stored(&app, id).await).await)
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let other = saved_id(
        &session
            .post_form("/admin/articles", &fields("Other", &[]))
            .await,
    );
    let sig_at = path.find("&sig=").unwrap();
    let mut flipped = path.to_owned();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    let later_expiry = {
        let expires: i64 = path["/preview/".len()..sig_at]
            .split_once("?expires=")
            .unwrap()
            .1
            .parse()
            .unwrap();
        path.replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires + 86_400),
        )
    };
    for tampered in [
        flipped,
        later_expiry,
        path.replace(&format!("/preview/{id}?"), &format!("/preview/{other}?")),
        format!("/preview/{id}"),
        path[..sig_at].to_owned(),
    ] {
        app.get(&tampered)
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }

    let links = PreviewLinks::load(app.store.as_ref()).await.unwrap();
    let (old, _) = links.link(id, clock::now() - TimeDelta::days(8));
    let expired = app.get(&old).await;
    expired.assert_status(StatusCode::FORBIDDEN);
    assert!(expired.body.contains("expired"));
}

#[tokio::test]
async fn the_list_filters_by_status_author_and_tag_and_searches_titles() {
    let app = TestApp::new().await;
    let (ada, ada_session) = signed_in(&app, Role::Author).await;
    let (grace, _) = signed_in(&app, Role::Author).await;
    let (_, editor) = signed_in(&app, Role::Editor).await;
    app.publish(&ada, "Budget passes", "Text.", &["Europe"])
        .await;
    app.publish(&grace, "Election night", "Text.", &["Africa"])
        .await;
    let mut draft = article(&grace, "The budget, explained", "Text.", &["Europe"]);
    draft.status = Status::Draft;
    draft.published_at = None;
    app.insert(draft).await;

    let titles = |response: TestResponse| response.texts("table.articles tbody td:first-child");
    assert_eq!(
        titles(editor.get("/admin/articles").await),
        ["Election night", "Budget passes", "The budget, explained"]
    );
    assert_eq!(
        titles(editor.get("/admin/articles?status=draft").await),
        ["The budget, explained"]
    );
    assert_eq!(
        titles(editor.get("/admin/articles?q=BUDGET").await),
        ["Budget passes", "The budget, explained"]
    );
    assert_eq!(
        titles(
            editor
                .get(&format!("/admin/articles?author={}", grace.id.0))
                .await
        ),
        ["Election night", "The budget, explained"]
    );
    assert_eq!(
        titles(
            editor
                .get("/admin/articles?tag=europe&status=published")
                .await
        ),
        ["Budget passes"]
    );
    // Nonsense filters are no filters, not errors.
    assert_eq!(
        titles(
            editor
                .get("/admin/articles?status=live&author=x&page=-3")
                .await
        )
        .len(),
        3
    );

    // An author sees their own articles only, whatever the query asks.
    let own = ada_session
        .get(&format!("/admin/articles?author={}", grace.id.0))
        .await;
    assert_eq!(titles(own), ["Budget passes"]);
}

#[tokio::test]
async fn deleting_needs_the_right_and_a_confirmation() {
    let app = TestApp::new().await;
    let (author, session) = signed_in(&app, Role::Author).await;
    let (_, contributor) = signed_in(&app, Role::Contributor).await;
    let doomed = app.publish(&author, "Doomed", "Text.", &[]).await;
    let path = format!("/admin/articles/{}/delete", doomed.id);

    contributor
        .post_form(&path, &[("confirm", "yes")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    session
        .post_form(&path, &[])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = session.post_form(&path, &[("confirm", "yes")]).await;
    deleted.assert_status(StatusCode::SEE_OTHER);
    assert!(app.store.article_by_id(doomed.id).await.is_err());
    assert_eq!(audit_actions(&app).await, ["article.delete"]);
    session
        .get(&format!("/admin/articles/{}", doomed.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_role_may_open_the_list_and_start_an_article() {
    let app = TestApp::new().await;
    let probes = [
        Probe {
            method: Method::GET,
            path: "/admin/articles",
            fields: &[],
            action: broadsheet_domain::Action::CreateArticle,
        },
        Probe {
            method: Method::GET,
            path: "/admin/articles/new",
            fields: &[],
            action: broadsheet_domain::Action::CreateArticle,
        },
    ];
    assert_role_matrix(&app, &probes).await;
    // The preview page is public; a made-up id with a made-up signature is refused
    // before anything is looked up.
    let response = send(
        app.router(),
        Request::get("/preview/999?expires=1&sig=00")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    response.assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn scheduling_from_the_editor_queues_the_publish_job_for_the_site_time() {
    let settings = broadsheet_domain::SiteSettings {
        time_zone: "Europe/Berlin".into(),
        ..Default::default()
    };
    let app = TestApp::builder().settings(settings).build().await;
    let (_, session) = signed_in(&app, Role::Author).await;
    let id = saved_id(
        &session
            .post_form(
                "/admin/articles",
                &fields(
                    "Tomorrow's news",
                    &[("status", "scheduled"), ("date", "2099-03-01T09:30")],
                ),
            )
            .await,
    );
    let article = stored(&app, id).await;
    assert_eq!(article.status, Status::Scheduled);
    // 09:30 in Berlin in winter is 08:30 UTC.
    let due = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2099, 3, 1, 8, 30, 0).unwrap();
    assert_eq!(article.published_at, Some(due));
    let editor = session.get(&format!("/admin/articles/{id}")).await;
    assert_eq!(
        editor.attrs("input[name=date]", "value"),
        ["2099-03-01T09:30"]
    );
    let jobs = app
        .store
        .list_jobs(Some(broadsheet_domain::JobState::Queued), 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, "publish_article");
    assert_eq!(jobs[0].run_at, due);
    assert_eq!(audit_actions(&app).await, ["article.create"]);
}

#[tokio::test]
async fn the_list_pages_keep_their_filters() {
    let app = TestApp::new().await;
    let (author, session) = signed_in(&app, Role::Author).await;
    for n in 0..25 {
        let mut draft = article(&author, &format!("Draft {n:02}"), "Text.", &[]);
        draft.status = Status::Draft;
        draft.published_at = None;
        app.insert(draft).await;
    }
    app.publish(&author, "Live one", "Text.", &[]).await;

    let first = session.get("/admin/articles?status=draft&q=draft").await;
    assert_eq!(first.texts("table.articles tbody tr").len(), 20);
    assert!(first.texts(".lede")[0].starts_with("25 articles"));
    let next = first.attrs("a[rel=next]", "href");
    assert_eq!(
        next,
        ["/admin/articles?status=draft&q=draft&page=2"],
        "the next page keeps the filters"
    );
    let second = session.get(&next[0]).await;
    assert_eq!(second.texts("table.articles tbody tr").len(), 5);
    assert!(second.attrs("a[rel=next]", "href").is_empty());
    assert_eq!(second.attrs("a[rel=prev]", "href").len(), 1);
}
