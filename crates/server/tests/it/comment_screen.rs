//! The comment spam screen (`comments::screen`), signal by signal, against a real
//! store: what each signal decides, that the site's moderation rules hold what they
//! should, and that Akismet's documented test values give their documented results;
//! then through the real comment POST: the form's honeypot and token, spam kept with
//! its reason, held comments shown to their author only, and the rate limit.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::http::StatusCode;
use broadsheet::AppState;
use broadsheet::comments::screen::{Submission, Verdict, form_token, screen};
use broadsheet::error::AppError;
use broadsheet_domain::comment::{CommentSettings, CommentStatus, CommentStore, NewComment};
use broadsheet_domain::{
    Article, Comment, CommentId, NetworkHash, Role, SiteSettings, User, clock,
};
use chrono::{DateTime, TimeDelta, Utc};
use scraper::Selector;

use crate::comments::Commenter;
use crate::util::{TestApp, TestResponse};

const BODY: &str = "A careful piece; the council's budget vote was closer than I thought.";

/// A site with `rules`, one published article and a node's state.
async fn site(rules: CommentSettings) -> (TestApp, AppState, Article) {
    let app = TestApp::builder()
        .settings(SiteSettings {
            comments: rules,
            ..SiteSettings::default()
        })
        .build()
        .await;
    let author = app.user("Ada Writer").await;
    let article = app.publish(&author, "Budget", "The vote.", &[]).await;
    let state = app.node_state().await;
    (app, state, article)
}

/// Each form comes from its own network unless a test says otherwise, so the
/// per-network limit only meets the test that is about it.
fn a_network() -> NetworkHash {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NetworkHash(format!("network-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// What a reader's browser sends, ten seconds after the form was rendered.
struct Form {
    name: String,
    email: String,
    url: String,
    body: String,
    honeypot: String,
    token: String,
    network: NetworkHash,
    user_agent: String,
    now: DateTime<Utc>,
}

impl Form {
    async fn new(state: &AppState) -> Form {
        let now = clock::now();
        Form {
            name: "Grace Reader".into(),
            email: "grace@example.net".into(),
            url: String::new(),
            body: BODY.into(),
            honeypot: String::new(),
            token: form_token(state, now - TimeDelta::seconds(10))
                .await
                .unwrap(),
            network: a_network(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64)".into(),
            now,
        }
    }

    async fn screen(
        &self,
        state: &AppState,
        article: &Article,
        signed_in: Option<&User>,
    ) -> Result<Verdict, AppError> {
        screen(
            state,
            &Submission {
                article,
                name: &self.name,
                email: &self.email,
                url: &self.url,
                body: &self.body,
                honeypot: &self.honeypot,
                form_token: &self.token,
                network: &self.network,
                user_agent: &self.user_agent,
                signed_in,
                now: self.now,
            },
        )
        .await
    }
}

fn held(verdict: Result<Verdict, AppError>, why: &str) {
    match verdict {
        Ok(Verdict::Hold(reason)) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected held for {why:?}, got {other:?}"),
    }
}

fn spam(verdict: Result<Verdict, AppError>, why: &str) {
    match verdict {
        Ok(Verdict::Spam(reason)) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected spam for {why:?}, got {other:?}"),
    }
}

fn refused_on_comment(verdict: Result<Verdict, AppError>, why: &str) {
    match verdict {
        Err(AppError::Validation(errors)) => {
            let messages = errors.for_field("comment");
            assert!(messages.iter().any(|m| m.contains(why)), "{messages:?}");
        }
        other => panic!("expected a 422 on the comment for {why:?}, got {other:?}"),
    }
}

async fn store_comment(app: &TestApp, article: &Article, form: &Form, status: CommentStatus) {
    let now = clock::now();
    app.store
        .insert_comment(&NewComment {
            article_id: article.id,
            parent_id: None,
            status,
            author_name: form.name.clone(),
            author_email: form.email.clone(),
            author_url: None,
            body: form.body.clone(),
            body_html: format!("<p>{}</p>", form.body),
            reader: None,
            network: form.network.clone(),
            notify_replies: false,
            reason: None,
            day: now.date_naive(),
            created_at: now,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_ordinary_comment_is_approved_and_each_bot_signal_is_caught() {
    let (_app, state, article) = site(CommentSettings::default()).await;
    let form = Form::new(&state).await;
    assert_eq!(
        form.screen(&state, &article, None).await.unwrap(),
        Verdict::Approve
    );

    let mut bot = Form::new(&state).await;
    bot.honeypot = "http://spam.example".into();
    spam(bot.screen(&state, &article, None).await, "website_confirm");

    let mut quick = Form::new(&state).await;
    quick.token = form_token(&state, quick.now - TimeDelta::seconds(1))
        .await
        .unwrap();
    refused_on_comment(quick.screen(&state, &article, None).await, "That was quick");

    for token in ["", "123.abc", "garbage"] {
        let mut tokenless = Form::new(&state).await;
        tokenless.token = token.into();
        held(tokenless.screen(&state, &article, None).await, "form token");
    }

    let mut anonymous = Form::new(&state).await;
    anonymous.user_agent = String::new();
    held(anonymous.screen(&state, &article, None).await, "User-Agent");

    let mut pitch = Form::new(&state).await;
    pitch.body = "CHECK OUT MY CHANNEL!!! please subscribe, free money".into();
    held(pitch.screen(&state, &article, None).await, "spam filter");
}

#[tokio::test]
async fn a_form_rendered_on_one_node_may_be_sent_to_another() {
    let (app, state, article) = site(CommentSettings::default()).await;
    let other = app.node_state().await;
    let form = Form::new(&other).await;
    assert_eq!(
        form.screen(&state, &article, None).await.unwrap(),
        Verdict::Approve
    );
}

#[tokio::test]
async fn one_network_may_send_only_so_many_comments_a_minute() {
    let (_app, state, article) = site(CommentSettings::default()).await;
    let network = a_network();
    let mut sent = 0;
    let refused = loop {
        let mut form = Form::new(&state).await;
        form.network = network.clone();
        form.body = format!("{BODY} ({sent})");
        match form.screen(&state, &article, None).await {
            Ok(_) => sent += 1,
            Err(e) => break e,
        }
        assert!(sent < 100, "never limited");
    };
    assert!(sent >= 3, "a few comments pass first: {sent}");
    assert!(
        matches!(refused, AppError::TooManyRequests { retry_after_secs, .. } if retry_after_secs >= 1),
        "{refused:?}"
    );
    let neighbour = Form::new(&state).await;
    assert_eq!(
        neighbour.screen(&state, &article, None).await.unwrap(),
        Verdict::Approve
    );
}

#[tokio::test]
async fn the_same_text_twice_is_refused() {
    let (app, state, article) = site(CommentSettings::default()).await;
    let form = Form::new(&state).await;
    store_comment(&app, &article, &form, CommentStatus::Pending).await;
    refused_on_comment(
        form.screen(&state, &article, None).await,
        "already posted this comment",
    );
    let mut shouted = Form::new(&state).await;
    shouted.email = "GRACE@example.net".into();
    refused_on_comment(
        shouted.screen(&state, &article, None).await,
        "already posted this comment",
    );
    let mut new_text = Form::new(&state).await;
    new_text.body = "And the turnout was higher than last year.".into();
    assert_eq!(
        new_text.screen(&state, &article, None).await.unwrap(),
        Verdict::Approve
    );
}

#[tokio::test]
async fn blocklist_words_and_many_links_hold_a_comment() {
    let rules = CommentSettings {
        blocklist: vec!["Casino".into(), "cheap pills".into()],
        max_links: 2,
        ..CommentSettings::default()
    };
    let (_app, state, article) = site(rules).await;
    for (field, text) in [
        ("body", "Try the casino tonight."),
        ("body", "Cheap  pills? no: CHEAP PILLS here"),
        ("name", "Casino Royale"),
        ("email", "me@casino.example"),
        ("url", "https://casino.example/"),
    ] {
        let mut form = Form::new(&state).await;
        match field {
            "body" => form.body = text.into(),
            "name" => form.name = text.into(),
            "email" => form.email = text.into(),
            _ => form.url = text.into(),
        }
        held(
            form.screen(&state, &article, None).await,
            "blocklisted word",
        );
    }
    let mut occasional = Form::new(&state).await;
    occasional.body = "An occasional comment about the vote, no gambling.".into();
    assert_eq!(
        occasional.screen(&state, &article, None).await.unwrap(),
        Verdict::Approve
    );

    let mut one_link = Form::new(&state).await;
    one_link.body = format!("{BODY} The minutes: https://council.example/minutes");
    assert_eq!(
        one_link.screen(&state, &article, None).await.unwrap(),
        Verdict::Approve
    );
    let mut two_links = Form::new(&state).await;
    two_links.body =
        format!("{BODY} The minutes: https://council.example/minutes and www.council.example/vote");
    held(two_links.screen(&state, &article, None).await, "2 links");
}

#[tokio::test]
async fn zero_max_links_switches_the_link_rule_off() {
    let (_app, state, article) = site(CommentSettings {
        max_links: 0,
        ..CommentSettings::default()
    })
    .await;
    let mut form = Form::new(&state).await;
    form.body = format!("{BODY} https://a.example/1 https://a.example/2 https://a.example/3");
    assert_eq!(
        form.screen(&state, &article, None).await.unwrap(),
        Verdict::Approve
    );
}

#[tokio::test]
async fn hold_all_holds_newcomers_and_approves_known_commenters_when_asked() {
    let (app, state, article) = site(CommentSettings {
        hold_all: true,
        auto_approve_known: true,
        ..CommentSettings::default()
    })
    .await;
    let newcomer = Form::new(&state).await;
    held(
        newcomer.screen(&state, &article, None).await,
        "every comment",
    );

    let mut earlier = Form::new(&state).await;
    earlier.body = "My first comment, approved by a moderator.".into();
    store_comment(&app, &article, &earlier, CommentStatus::Approved).await;
    let known = Form::new(&state).await;
    assert_eq!(
        known.screen(&state, &article, None).await.unwrap(),
        Verdict::Approve
    );

    let (app, state, article) = site(CommentSettings {
        hold_all: true,
        auto_approve_known: false,
        ..CommentSettings::default()
    })
    .await;
    store_comment(&app, &article, &earlier, CommentStatus::Approved).await;
    let known = Form::new(&state).await;
    held(known.screen(&state, &article, None).await, "every comment");
}

#[tokio::test]
async fn newsroom_users_are_approved() {
    let (app, state, article) = site(CommentSettings {
        hold_all: true,
        auto_approve_known: false,
        ..CommentSettings::default()
    })
    .await;
    let editor = app.user(Role::Editor).await;
    let mut form = Form::new(&state).await;
    form.token = String::new();
    form.body = format!("{BODY} https://a.example/1 https://a.example/2");
    assert_eq!(
        form.screen(&state, &article, Some(&editor)).await.unwrap(),
        Verdict::Approve
    );
}

/// Akismet's documented test values (`../shared/data/spam/akismet-test-values.json`,
/// or the fixture copy of it): "always_spam" fields and "always_ham" roles.
#[tokio::test]
async fn akismet_test_values_give_their_documented_results() {
    // The shared copy when it is there, else the repository's own.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/spam/akismet-test-values.json");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/akismet-test-values.json");
    let path = if shared.is_file() { shared } else { fixture };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let values: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (app, state, article) = site(CommentSettings::default()).await;
    let always_spam = values["always_spam"].as_array().unwrap();
    assert!(!always_spam.is_empty());
    for trigger in always_spam {
        let mut form = Form::new(&state).await;
        for (key, value) in trigger.as_object().unwrap() {
            let value = value.as_str().unwrap().to_owned();
            match key.as_str() {
                "comment_author" => form.name = value,
                "comment_author_email" => form.email = value,
                other => panic!("an Akismet spam trigger this test does not know: {other}"),
            }
        }
        spam(form.screen(&state, &article, None).await, "Akismet");
    }
    for trigger in values["always_ham"].as_array().unwrap() {
        assert_eq!(trigger["user_role"], "administrator");
        let admin = app.user(Role::Admin).await;
        let mut form = Form::new(&state).await;
        form.body = "CHECK OUT MY CHANNEL!!! please subscribe, free money".into();
        assert_eq!(
            form.screen(&state, &article, Some(&admin)).await.unwrap(),
            Verdict::Approve
        );
    }
}

// --- through the real comment POST ---

/// A site with one article, and its permalink.
async fn posting_site(rules: CommentSettings) -> (TestApp, Article, String) {
    let (app, _state, article) = site(rules).await;
    let permalink = app.permalink(&article).await;
    (app, article, permalink)
}

fn reader_fields(body: &str) -> Vec<(&str, &str)> {
    vec![
        ("comment", body),
        ("author", "Grace Reader"),
        ("email", "grace@example.net"),
    ]
}

/// The stored comment a 303 points at (`...#comment-N`).
async fn stored(app: &TestApp, response: &TestResponse) -> Comment {
    response.assert_status(StatusCode::SEE_OTHER);
    let location = response.location().expect("a Location");
    let id = location
        .rsplit_once("#comment-")
        .expect("a comment anchor")
        .1;
    app.store
        .comment_by_id(CommentId(id.parse().unwrap()))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_form_carries_a_hidden_honeypot_and_a_token_that_refuses_a_hasty_post() {
    let (app, article, permalink) = posting_site(CommentSettings::default()).await;
    let mut reader = Commenter::new(&app, "hasty");
    let page = reader.get(&permalink).await;
    let html = page.html();
    let honeypot = Selector::parse("#commentform input[name=website_confirm]").unwrap();
    let honeypot = html.select(&honeypot).next().expect("the honeypot field");
    assert_eq!(honeypot.value().attr("value"), Some(""));
    assert_eq!(honeypot.value().attr("tabindex"), Some("-1"));
    assert_eq!(
        page.texts("label[for=website_confirm]"),
        ["Leave this empty"]
    );
    let token = Selector::parse("#commentform input[type=hidden][name=form_token]").unwrap();
    let token = html
        .select(&token)
        .next()
        .and_then(|t| t.value().attr("value"))
        .expect("the form token")
        .to_owned();

    // Sent the moment the page arrived: refused, shown again with the text kept.
    let mut fields = reader_fields("A first thought on the vote.");
    fields.push(("form_token", &token));
    let hasty = reader.post(&article, &fields).await;
    hasty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        hasty.texts("#comment-error"),
        [
            "That was quick! Please take a few seconds to read over your comment, then send it again."
        ]
    );
    assert_eq!(
        hasty.texts("#commentform textarea#comment"),
        ["A first thought on the vote."]
    );
    let counts = app.store.comment_status_counts().await.unwrap();
    assert_eq!(counts.pending + counts.approved + counts.spam, 0);
}

#[tokio::test]
async fn bots_are_kept_as_spam_with_the_reason_and_shown_to_nobody() {
    let (app, article, permalink) = posting_site(CommentSettings::default()).await;
    let mut bot = Commenter::new(&app, "bot");
    let mut fields = reader_fields("Nice post, see my site.");
    fields.push(("website_confirm", "http://spam.example/"));
    let trapped = stored(&app, &bot.post(&article, &fields).await).await;
    assert_eq!(trapped.status, CommentStatus::Spam);
    assert!(trapped.reason.unwrap().contains("website_confirm"));

    let mut tester = Commenter::new(&app, "akismet");
    let fields = vec![
        ("comment", "Testing the filter."),
        ("author", "viagra-test-123"),
        ("email", "tester@example.net"),
    ];
    let akismet = stored(&app, &tester.post(&article, &fields).await).await;
    assert_eq!(akismet.status, CommentStatus::Spam);
    assert!(akismet.reason.unwrap().contains("Akismet"));

    for viewer in [&mut bot, &mut Commenter::new(&app, "someone")] {
        let page = viewer.get(&permalink).await;
        assert!(page.texts(&format!("#comment-{}", trapped.id)).is_empty());
        assert!(page.texts(&format!("#comment-{}", akismet.id)).is_empty());
        assert_eq!(page.texts("[data-slot=comment-count]"), ["0 comments"]);
    }
}

#[tokio::test]
async fn what_the_filter_and_the_rules_catch_waits_for_a_moderator() {
    let (app, article, permalink) = posting_site(CommentSettings {
        blocklist: vec!["casino".into()],
        ..CommentSettings::default()
    })
    .await;
    for (agent, body, why) in [
        (
            "pitch",
            "CHECK OUT MY CHANNEL!!! please subscribe, free money",
            "spam filter",
        ),
        (
            "gambler",
            "The new casino will not fix the budget.",
            "blocklisted word",
        ),
        (
            "linker",
            "Minutes: https://council.example/minutes and https://council.example/vote",
            "2 links",
        ),
    ] {
        let mut reader = Commenter::new(&app, agent);
        let comment = stored(&app, &reader.post(&article, &reader_fields(body)).await).await;
        assert_eq!(
            comment.status,
            CommentStatus::Pending,
            "{body}: {comment:?}"
        );
        assert!(
            comment.reason.as_deref().unwrap().contains(why),
            "{body}: {comment:?}"
        );
        let mine = reader.get(&permalink).await;
        assert_eq!(
            mine.texts(&format!(
                "#comment-{} .comment-awaiting-moderation",
                comment.id
            )),
            ["Your comment is awaiting moderation."]
        );
    }
    let mut fine = Commenter::new(&app, "fine");
    let comment = stored(
        &app,
        &fine
            .post(
                &article,
                &reader_fields("The turnout was higher than last year."),
            )
            .await,
    )
    .await;
    assert_eq!(comment.status, CommentStatus::Approved);
    assert_eq!(comment.reason, None);
}

#[tokio::test]
async fn a_flood_from_one_network_is_told_to_wait() {
    let (app, article, _) = posting_site(CommentSettings::default()).await;
    let mut flood = Commenter::new(&app, "flood");
    let mut answers = Vec::new();
    for n in 0..10 {
        let body = format!("Comment number {n} on the harbour vote.");
        answers.push(flood.post(&article, &reader_fields(&body)).await);
    }
    let limited = answers
        .iter()
        .find(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .expect("the flood is limited");
    assert!(limited.header("retry-after").is_some());
    assert!(answers[0].status == StatusCode::SEE_OTHER);
}
