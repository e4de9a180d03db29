//! The moderation queue, the comment settings, a commenter's data, and the
//! notifications with their one-click stop links.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet::comments::notify;
use broadsheet::mail::Email;
use broadsheet_domain::{
    AccountStore, Article, Comment, CommentId, CommentStatus, CommentStore, NetworkHash,
    NewComment, Role, Store, User, clock,
};

use crate::admin_auth::{Probe, assert_role_matrix};
use crate::admin_users::outbox;
use crate::util::{BASE_URL, TestApp, TestResponse, send};

/// A comment stored as the comment form would store it.
async fn comment(
    app: &TestApp,
    article: &Article,
    parent: Option<&Comment>,
    (name, email): (&str, &str),
    status: CommentStatus,
) -> Comment {
    let now = clock::now();
    let body = format!("{name} says hello.\n\nSecond paragraph.");
    app.store
        .insert_comment(&NewComment {
            article_id: article.id,
            parent_id: parent.map(|p| p.id),
            status,
            author_name: name.to_owned(),
            author_email: email.to_owned(),
            author_url: None,
            body_html: broadsheet_domain::comment::render_comment(&body),
            body,
            reader: None,
            network: NetworkHash("net".into()),
            notify_replies: true,
            reason: None,
            day: now.date_naive(),
            created_at: now,
        })
        .await
        .unwrap()
}

/// A site with an article by an author and one pending comment on it.
async fn site() -> (TestApp, User, Article, Comment) {
    let app = TestApp::new().await;
    let author = app.user("Nellie Bly").await;
    let article = app.publish(&author, "Harbour bridge", "Text.", &[]).await;
    let pending = comment(
        &app,
        &article,
        None,
        ("Pat Reader", "pat.marker-1@example.net"),
        CommentStatus::Pending,
    )
    .await;
    (app, author, article, pending)
}

async fn status_of(app: &TestApp, id: CommentId) -> CommentStatus {
    app.store.comment_by_id(id).await.unwrap().status
}

/// Counts shown on the queue's tabs, by status.
fn tab_counts(page: &TestResponse) -> Vec<(String, String)> {
    let statuses = page.attrs("nav.tabs .count", "data-status");
    statuses
        .into_iter()
        .zip(page.texts("nav.tabs .count"))
        .collect()
}

#[tokio::test]
async fn each_role_moderates_exactly_as_the_matrix_says() {
    let (app, _, _, pending) = site().await;
    let id = pending.id;
    let status = format!("/admin/comments/{id}/status");
    let one = format!("/admin/comments/{id}");
    let edit = format!("/admin/comments/{id}/edit");
    let reply = format!("/admin/comments/{id}/reply");
    let ids = id.to_string();
    use broadsheet_domain::Action::{ManagePersonalData, ModerateComments};
    let probes = [
        Probe {
            method: Method::GET,
            path: "/admin/comments",
            fields: &[],
            action: ModerateComments,
        },
        Probe {
            method: Method::GET,
            path: &one,
            fields: &[],
            action: ModerateComments,
        },
        Probe {
            method: Method::POST,
            path: &status,
            fields: &[("status", "approved")],
            action: ModerateComments,
        },
        Probe {
            method: Method::POST,
            path: "/admin/comments/bulk",
            fields: &[("bulk", "pending"), ("ids", &ids)],
            action: ModerateComments,
        },
        Probe {
            method: Method::POST,
            path: &edit,
            fields: &[("body", "Edited.")],
            action: ModerateComments,
        },
        Probe {
            method: Method::POST,
            path: &reply,
            fields: &[("reply", "Thanks!")],
            action: ModerateComments,
        },
        Probe {
            method: Method::POST,
            path: "/admin/comments/commenter",
            fields: &[("email", "pat.marker-1@example.net")],
            action: ManagePersonalData,
        },
    ];
    assert_role_matrix(&app, &probes).await;
    // Editors and admins replied; contributors and authors changed nothing.
    let comments = app
        .store
        .comments_by_email("pat.marker-1@example.net")
        .await
        .unwrap();
    assert_eq!(comments[0].body, "Edited.");
    let replies = app
        .store
        .list_comments(&broadsheet_domain::CommentQuery {
            status: Some(CommentStatus::Approved),
            article: None,
            page: 1,
            per_page: 50,
        })
        .await
        .unwrap();
    let authors: Vec<&str> = replies
        .items
        .iter()
        .filter(|c| c.parent_id == Some(id))
        .map(|c| c.author_name.as_str())
        .collect();
    assert_eq!(authors.len(), 2, "{authors:?}");
    assert!(
        authors
            .iter()
            .all(|a| a.starts_with("Editor") || a.starts_with("Admin"))
    );
}

#[tokio::test]
async fn the_queue_counts_each_status_and_bulk_actions_move_the_selected_comments() {
    let (app, _, article, first) = site().await;
    let second = comment(
        &app,
        &article,
        None,
        ("Sam", "sam@example.net"),
        CommentStatus::Pending,
    )
    .await;
    let third = comment(
        &app,
        &article,
        None,
        ("Kim", "kim@example.net"),
        CommentStatus::Pending,
    )
    .await;
    comment(
        &app,
        &article,
        None,
        ("Lee", "lee@example.net"),
        CommentStatus::Approved,
    )
    .await;
    let editor = app.user(Role::Editor).await;
    let session = app.sign_in(&editor).await;

    let queue = session.get("/admin/comments").await;
    queue.assert_status(StatusCode::OK);
    let expected = |p: &str, a: &str, s: &str, t: &str| {
        vec![
            ("pending".to_owned(), p.to_owned()),
            ("approved".to_owned(), a.to_owned()),
            ("spam".to_owned(), s.to_owned()),
            ("trash".to_owned(), t.to_owned()),
        ]
    };
    assert_eq!(tab_counts(&queue), expected("3", "1", "0", "0"));
    assert_eq!(queue.attrs("input[name=ids]", "value").len(), 3);
    // Moderators see the address: they moderate.
    assert!(queue.body.contains("pat.marker-1@example.net"));

    let back = "/admin/comments?status=pending";
    let (a, b) = (first.id.to_string(), second.id.to_string());
    let moved = session
        .post_form(
            "/admin/comments/bulk",
            &[
                ("bulk", "approved"),
                ("ids", &a),
                ("ids", &b),
                ("back", back),
            ],
        )
        .await;
    moved.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        moved.location(),
        Some("/admin/comments?status=pending&done=approved&n=2")
    );
    let queue = session.get(moved.location().unwrap()).await;
    assert!(
        queue
            .texts(".notice")
            .concat()
            .contains("2 comments approved.")
    );
    assert_eq!(tab_counts(&queue), expected("1", "3", "0", "0"));
    let counts = app.store.counts(article.id).await.unwrap();
    assert_eq!(counts.comments, 3, "approved comments count on the article");

    // A row's own button: spam, then not spam.
    let spam = session
        .post_form(
            &format!("/admin/comments/{}/status", third.id),
            &[("status", "spam"), ("back", back)],
        )
        .await;
    spam.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, third.id).await, CommentStatus::Spam);
    let spam_tab = session.get("/admin/comments?status=spam").await;
    assert_eq!(
        spam_tab.attrs("input[name=ids]", "value"),
        [third.id.to_string()]
    );

    // Nothing selected, a bad status, an unknown comment: named, nothing changes.
    let none = session
        .post_form("/admin/comments/bulk", &[("bulk", "approved")])
        .await;
    none.assert_status(StatusCode::BAD_REQUEST);
    assert!(
        none.body.contains("Select at least one comment"),
        "{}",
        none.body
    );
    let bad = session
        .post_form(
            &format!("/admin/comments/{}/status", third.id),
            &[("status", "deleted")],
        )
        .await;
    bad.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(status_of(&app, third.id).await, CommentStatus::Spam);
    session
        .post_form("/admin/comments/999999/status", &[("status", "approved")])
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // Every change is in the audit log, without the commenter's address.
    let admin = app.user(Role::Admin).await;
    let log = app.sign_in(&admin).await.get("/admin/audit").await;
    assert!(log.body.contains("comment.status"), "{}", log.body);
    assert!(!log.body.contains("@example.net"), "{}", log.body);
}

#[tokio::test]
async fn editing_keeps_bad_input_and_replying_approves_the_parent_and_tells_its_author() {
    let (app, _, _, pending) = site().await;
    // Two levels: the pending comment and one reply under it. (Set before any page
    // loads the settings into the node's cache.)
    app.store
        .save_settings(&broadsheet_domain::SiteSettings {
            comments: broadsheet_domain::CommentSettings {
                max_depth: 2,
                ..Default::default()
            },
            ..app.store.settings().await.unwrap()
        })
        .await
        .unwrap();
    let editor = app.user(Role::Editor).await;
    let session = app.sign_in(&editor).await;
    let page = format!("/admin/comments/{}", pending.id);

    let empty = session
        .post_form(&format!("{page}/edit"), &[("body", "   ")])
        .await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        empty.texts("#f-body-error"),
        ["Comment is empty: type some text."]
    );
    let long = "x".repeat(10_001);
    let too_long = session
        .post_form(&format!("{page}/edit"), &[("body", &long)])
        .await;
    too_long.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_long.texts("#f-body")[0].len(),
        10_001,
        "the text is kept"
    );

    let saved = session
        .post_form(
            &format!("{page}/edit"),
            &[("body", "Fixed <b>typo</b>, see https://example.org")],
        )
        .await;
    saved.assert_status(StatusCode::SEE_OTHER);
    let edited = app.store.comment_by_id(pending.id).await.unwrap();
    assert_eq!(edited.body, "Fixed <b>typo</b>, see https://example.org");
    assert!(
        edited.body_html.contains("&lt;b&gt;typo"),
        "{}",
        edited.body_html
    );
    assert!(edited.body_html.contains("rel=\"nofollow ugc noopener\""));

    let empty = session
        .post_form(&format!("{page}/reply"), &[("reply", "")])
        .await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.texts("#f-reply-error")[0].starts_with("Reply is empty"));

    let replied = session
        .post_form(&format!("{page}/reply"), &[("reply", "Thank you, Pat.")])
        .await;
    replied.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, pending.id).await, CommentStatus::Approved);
    let reply_page = session.get(replied.location().unwrap()).await;
    assert!(
        reply_page
            .texts(".notice")
            .concat()
            .contains("Your reply was published.")
    );
    assert!(
        reply_page.body.contains("In reply to Pat Reader"),
        "{}",
        reply_page.body
    );

    let mails: Vec<Email> = outbox(&app)
        .await
        .into_iter()
        .filter(|m| m.to == "pat.marker-1@example.net")
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0]
            .subject
            .starts_with(&format!("{} replied", editor.display_name))
    );
    assert!(
        mails[0].text.contains("> Thank you, Pat."),
        "{}",
        mails[0].text
    );
    assert!(!mails[0].text.contains(&editor.email), "{}", mails[0].text);

    // The reply is at the deepest level: it takes no replies.
    let deepest = replied
        .location()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let refused = session
        .post_form(&format!("{deepest}/reply"), &[("reply", "Deeper")])
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.texts("#f-reply-error")[0].contains("2 levels"));
    assert_eq!(refused.texts("#f-reply"), ["Deeper"]);
}

/// The token of the stop link in an email's text.
fn stop_token(email: &Email) -> String {
    let link = email
        .list_unsubscribe
        .clone()
        .expect("a List-Unsubscribe link");
    assert!(email.text.contains(&link), "the text carries the link too");
    let prefix = format!("{BASE_URL}/comments/stop?token=");
    link.strip_prefix(&prefix).expect("a stop link").to_owned()
}

async fn post_stop(app: &TestApp, query: &str, body: &str) -> TestResponse {
    post_stop_as(app, query, "application/x-www-form-urlencoded", body).await
}

async fn post_stop_as(app: &TestApp, query: &str, content_type: &str, body: &str) -> TestResponse {
    let request = Request::post(format!("/comments/stop{query}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .unwrap();
    send(app.router(), request).await
}

#[tokio::test]
async fn a_held_comment_emails_its_author_and_the_moderators_until_they_stop_it() {
    let (app, author, article, pending) = site().await;
    let editor = app.user(Role::Editor).await;
    let admin = app.user(Role::Admin).await;
    app.user(Role::Contributor).await;
    let outsider = app.user(Role::Author).await;

    notify::added(app.store.as_ref(), BASE_URL, &pending)
        .await
        .unwrap();
    // Queued under a key: telling twice sends once.
    notify::added(app.store.as_ref(), BASE_URL, &pending)
        .await
        .unwrap();
    let mails = outbox(&app).await;
    let mut to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    to.sort();
    let mut expected = vec![
        author.email.as_str(),
        editor.email.as_str(),
        admin.email.as_str(),
    ];
    expected.sort();
    assert_eq!(to, expected, "not the contributor, not another author");
    assert!(!to.contains(&outsider.email.as_str()));
    for mail in &mails {
        assert!(mail.subject.contains("Harbour bridge"), "{}", mail.subject);
        let moderator = mail.to != author.email;
        assert_eq!(
            mail.text.contains("pat.marker-1@example.net"),
            moderator,
            "{}",
            mail.text
        );
        assert_eq!(
            mail.text.contains("/admin/comments/"),
            moderator,
            "{}",
            mail.text
        );
    }

    // The editor opens the link: a page with a button, nothing stopped yet.
    let mail = mails.iter().find(|m| m.to == editor.email).unwrap();
    let token = stop_token(mail);
    let page = app.get(&format!("/comments/stop?token={token}")).await;
    page.assert_status(StatusCode::OK);
    assert_eq!(
        page.attrs("form[action='/comments/stop'] input[name=token]", "value"),
        [token.as_str()]
    );
    assert!(app.store.comment_notices_off().await.unwrap().is_empty());
    // The button posts the token in the form.
    let stopped = post_stop(&app, "", &format!("token={token}")).await;
    stopped.assert_status(StatusCode::OK);
    // Stopping again (a second click, a mail program retrying) is fine.
    post_stop(
        &app,
        &format!("?token={token}"),
        "List-Unsubscribe=One-Click",
    )
    .await
    .assert_status(StatusCode::OK);
    assert!(
        stopped.body.contains("you will get no more emails"),
        "{}",
        stopped.body
    );
    assert_eq!(app.store.comment_notices_off().await.unwrap(), [editor.id]);

    let another = comment(
        &app,
        &article,
        None,
        ("Sam", "sam@example.net"),
        CommentStatus::Pending,
    )
    .await;
    notify::added(app.store.as_ref(), BASE_URL, &another)
        .await
        .unwrap();
    let to_editor = outbox(&app)
        .await
        .into_iter()
        .filter(|m| m.to == editor.email)
        .count();
    assert_eq!(to_editor, 1, "no new email after stopping");

    // A changed or foreign token is refused.
    let forged = format!("m{}{}", admin.id.0, &token[token.find('.').unwrap()..]);
    post_stop(&app, "", &format!("token={forged}"))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.get("/comments/stop?token=nonsense")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.get("/comments/stop")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.store.comment_notices_off().await.unwrap(), [editor.id]);
}

#[tokio::test]
async fn an_approved_reply_tells_the_commenter_who_opted_in_without_the_repliers_address() {
    let (app, _, article, _) = site().await;
    let parent = comment(
        &app,
        &article,
        None,
        ("Alice", "alice.marker-2@example.net"),
        CommentStatus::Approved,
    )
    .await;
    let reply = comment(
        &app,
        &article,
        Some(&parent),
        ("Bob", "bob.marker-3@example.net"),
        CommentStatus::Pending,
    )
    .await;
    let editor = app.user(Role::Editor).await;
    let session = app.sign_in(&editor).await;
    session
        .post_form(
            &format!("/admin/comments/{}/status", reply.id),
            &[("status", "approved")],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);

    let to_alice: Vec<Email> = outbox(&app)
        .await
        .into_iter()
        .filter(|m| m.to == "alice.marker-2@example.net")
        .collect();
    assert_eq!(to_alice.len(), 1);
    let mail = &to_alice[0];
    assert!(
        mail.subject.starts_with("Bob replied to your comment"),
        "{}",
        mail.subject
    );
    let permalink = app.permalink(&article).await;
    assert!(
        mail.text
            .contains(&format!("{BASE_URL}{permalink}#comment-{}", reply.id)),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("bob.marker-3"), "{}", mail.text);
    assert!(!mail.subject.contains("bob.marker-3"));

    // Unapproving and approving again sends nothing new.
    for status in ["pending", "approved"] {
        session
            .post_form(
                &format!("/admin/comments/{}/status", reply.id),
                &[("status", status)],
            )
            .await;
    }
    let count = |mails: Vec<Email>| {
        mails
            .iter()
            .filter(|m| m.to == "alice.marker-2@example.net")
            .count()
    };
    assert_eq!(count(outbox(&app).await), 1);

    // The mail program's one-click POST (RFC 8058): the token in the link, the fixed
    // body; it stops the replies to every comment from that address.
    let token = stop_token(mail);
    let stopped = post_stop(
        &app,
        &format!("?token={token}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    stopped.assert_status(StatusCode::OK);
    assert!(
        !app.store
            .comment_by_id(parent.id)
            .await
            .unwrap()
            .notify_replies
    );
    let again = comment(
        &app,
        &article,
        Some(&parent),
        ("Carol", "carol@example.net"),
        CommentStatus::Approved,
    )
    .await;
    notify::approved(app.store.as_ref(), BASE_URL, &again)
        .await
        .unwrap();
    assert_eq!(count(outbox(&app).await), 1, "no email after stopping");
}

#[tokio::test]
async fn an_admin_exports_and_erases_a_commenters_data() {
    let (app, _, article, pending) = site().await;
    comment(
        &app,
        &article,
        Some(&pending),
        ("Pat R.", "pat.marker-1@example.net"),
        CommentStatus::Approved,
    )
    .await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;

    let bad = session
        .post_form("/admin/comments/commenter", &[("email", "not an address")])
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.texts("#f-email-error")[0].contains("not an email address"));
    assert_eq!(bad.attrs("#f-email", "value"), ["not an address"]);

    let found = session
        .post_form(
            "/admin/comments/commenter",
            &[("email", " Pat.Marker-1@example.net ")],
        )
        .await;
    found.assert_status(StatusCode::OK);
    assert!(
        found.texts(".lede")[0].starts_with("2 comments from"),
        "{:?}",
        found.texts(".lede")
    );

    let export = session
        .post_form(
            "/admin/comments/commenter/export",
            &[("email", "pat.marker-1@example.net")],
        )
        .await;
    export.assert_status(StatusCode::OK);
    assert!(
        export
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let json: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    assert_eq!(json["email"], "pat.marker-1@example.net");
    assert_eq!(json["comments"].as_array().unwrap().len(), 2);
    assert_eq!(json["comments"][0]["author_name"], "Pat Reader");

    let unconfirmed = session
        .post_form(
            "/admin/comments/commenter/erase",
            &[("email", "pat.marker-1@example.net")],
        )
        .await;
    unconfirmed.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.texts("#f-confirm-error")[0].contains("Tick the box"));
    assert_eq!(
        app.store
            .comments_by_email("pat.marker-1@example.net")
            .await
            .unwrap()
            .len(),
        2
    );

    let erased = session
        .post_form(
            "/admin/comments/commenter/erase",
            &[("email", "pat.marker-1@example.net"), ("confirm", "yes")],
        )
        .await;
    erased.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(erased.location(), Some("/admin/comments?done=erased&n=2"));
    assert!(
        app.store
            .comments_by_email("pat.marker-1@example.net")
            .await
            .unwrap()
            .is_empty()
    );
    let kept = app.store.comment_by_id(pending.id).await.unwrap();
    assert_eq!(kept.author_name, broadsheet_domain::comment::ERASED_NAME);

    let log = session.get("/admin/audit").await;
    assert!(log.body.contains("commenter.erase") && log.body.contains("2 comments"));
    assert!(!log.body.contains("pat.marker-1"), "{}", log.body);
}

#[tokio::test]
async fn the_settings_page_sets_the_comment_rules_and_names_a_bad_one() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;
    let page = session.get("/admin/settings").await;
    page.assert_status(StatusCode::OK);
    assert_eq!(
        page.attrs("input[name=comments_enabled]", "checked").len(),
        1
    );
    assert_eq!(
        page.attrs("input[name=comments_hold_all]", "checked").len(),
        0
    );

    let mut fields: Vec<(&str, &str)> = vec![
        ("title", "The Gazette"),
        ("description", ""),
        ("time_zone", "UTC"),
        ("language", "en"),
        ("words_per_minute", "200"),
        ("cjk_chars_per_minute", "500"),
        ("per_page", "10"),
        ("reactions", "happy | 😀 | Happy"),
        ("comments_section", "shown"),
        ("comments_hold_all", "true"),
        ("comments_max_depth", "3"),
        ("comments_max_length", "5000"),
        ("comments_per_page", "20"),
        ("comments_max_links", "101"),
        ("comments_blocklist", "casino\r\nfree money"),
    ];
    let bad = session.post_form("/admin/settings", &fields).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !bad.texts("#f-comments_max_links-error").is_empty(),
        "{}",
        bad.body
    );
    assert_eq!(bad.texts("#f-comments_blocklist"), ["casino free money"]);

    fields.retain(|(k, _)| *k != "comments_max_links");
    fields.push(("comments_max_links", "3"));
    session
        .post_form("/admin/settings", &fields)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let comments = app.store.settings().await.unwrap().comments;
    assert!(!comments.enabled, "an unticked box turns the rule off");
    assert!(comments.hold_all && !comments.auto_approve_known);
    assert_eq!(
        (comments.max_depth, comments.max_length, comments.max_links),
        (3, 5000, 3)
    );
    assert_eq!(comments.blocklist, ["casino", "free money"]);
    let page = session.get("/admin/settings").await;
    assert_eq!(
        page.attrs("input[name=comments_hold_all]", "checked").len(),
        1
    );
}
