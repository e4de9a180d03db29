//! GET /admin, the newsroom's home, and GET /admin/dashboard. Editors and admins
//! (`Action::ViewDashboard`) see the last 30 days: totals, views, reactions and
//! comments per day as SVG charts ([`super::charts`]), the most viewed articles, the
//! site-wide reaction mix and, for those who may read it, the latest lines of the
//! audit log. Everyone else gets the welcome page with their own drafts.
//!
//! The numbers come from the store's per-day counters (see
//! [`broadsheet_domain::stats`]): each view of the page reads the period's rows (one
//! per article and active day) twice, which is a few milliseconds for a thousand
//! articles. The page is for the newsroom, not readers, so it is not cached.

use axum::extract::State;
use axum::response::Response;
use broadsheet_domain::stats::{DayActivity, total};
use broadsheet_domain::{
    Action, Activity, ArticleQuery, ContentKind, SiteSettings, Status, Target, TopArticle,
    Visibility, clock,
};
use chrono::{NaiveDate, TimeDelta};
use minijinja::context;
use serde::Serialize;

use super::AdminRoute;
use super::charts::{self, Share, Unit};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

/// Days the dashboard covers, today included.
const DAYS: i64 = 30;
/// Rows of the top articles table.
const TOP_ARTICLES: u32 = 10;
/// Lines of the audit log shown.
const AUDIT_LINES: u32 = 8;
/// Drafts listed on the welcome page.
const DRAFTS: usize = 10;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin", home),
        AdminRoute::get("/admin/dashboard", dashboard),
    ]
}

/// GET /admin: the dashboard for those who may see it, the welcome page with their
/// own drafts for everyone else.
async fn home(State(state): State<AppState>, who: SignedIn) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    if who.may(Action::ViewDashboard) {
        return page(&state, &who).await;
    }
    let drafts = own_drafts(&state, &who).await?;
    super::home_page(
        &state,
        &who,
        "admin/home.html",
        context! { drafts => drafts },
    )
}

/// GET /admin/dashboard: the dashboard at an address of its own, refused (403) to
/// those who may not see it.
async fn dashboard(State(state): State<AppState>, who: SignedIn) -> Result<Response, AppError> {
    who.require(Action::ViewDashboard, Target::Site)?;
    page(&state, &who).await
}

/// The dashboard page, for a user already allowed to see it.
async fn page(state: &AppState, who: &SignedIn) -> Result<Response, AppError> {
    let settings = &who.site.settings;
    let now = clock::now();
    let to = crate::engagement::today(settings, now);
    let from = to - TimeDelta::days(DAYS - 1);
    let store = state.store.as_ref();
    let days = store.daily_activity(from, to).await?;
    let top = store.top_articles(from, TOP_ARTICLES).await?;
    let mix = store.reaction_mix(&settings.reactions).await?;
    let audit = if who.may(Action::Operate) {
        let log = store.list_audit(1, AUDIT_LINES).await?;
        Some(super::audit::entry_views(&log.items, settings.tz()))
    } else {
        None
    };
    let shares: Vec<Share> = mix
        .iter()
        .map(|r| Share {
            label: format!("{} {}", r.emoji, r.label),
            count: r.count,
            percent: r.percent,
        })
        .collect();
    super::home_page(
        state,
        who,
        "admin/dashboard.html",
        context! {
            from => from.format("%-d %B %Y").to_string(),
            to => to.format("%-d %B %Y").to_string(),
            totals => total(&days),
            charts => daily_charts(&days),
            mix => charts::share_bars("reaction-mix", "Reaction mix, all time", REACTIONS, &shares),
            top => top_rows(&top, settings),
            audit => audit,
        },
    )
}

const VIEWS: Unit = Unit {
    one: "view",
    many: "views",
};
const REACTIONS: Unit = Unit {
    one: "reaction",
    many: "reactions",
};
const COMMENTS: Unit = Unit {
    one: "comment",
    many: "comments",
};

#[derive(Serialize)]
struct ChartView {
    id: &'static str,
    heading: &'static str,
    svg: String,
}

/// One daily chart: its id, heading, unit and the column of the days it draws.
struct Series {
    id: &'static str,
    heading: &'static str,
    unit: Unit,
    value: fn(&Activity) -> u64,
}

const SERIES: [Series; 3] = [
    Series {
        id: "views",
        heading: "Views per day",
        unit: VIEWS,
        value: |a| a.views,
    },
    Series {
        id: "reactions",
        heading: "Reactions per day",
        unit: REACTIONS,
        value: |a| a.reactions,
    },
    Series {
        id: "comments",
        heading: "Comments per day",
        unit: COMMENTS,
        value: |a| a.comments,
    },
];

/// The three daily charts.
fn daily_charts(days: &[DayActivity]) -> Vec<ChartView> {
    SERIES
        .iter()
        .map(|series| {
            let points: Vec<(NaiveDate, u64)> = days
                .iter()
                .map(|d| (d.day, (series.value)(&d.activity)))
                .collect();
            ChartView {
                id: series.id,
                heading: series.heading,
                svg: charts::daily_bars(
                    &format!("chart-{}", series.id),
                    series.heading,
                    series.unit,
                    &points,
                ),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct TopRow {
    title: String,
    /// The public page while the article is live, else its editor.
    url: String,
    edit_url: String,
    live: bool,
    period_views: u64,
    views: u64,
    likes: u64,
    dislikes: u64,
    reactions: u64,
    rating: Option<f64>,
    ratings: u64,
}

fn top_rows(top: &[TopArticle], settings: &SiteSettings) -> Vec<TopRow> {
    let now = clock::now();
    top.iter()
        .map(|t| {
            let live = t.is_public(now);
            let edit_url = format!("/admin/articles/{}", t.id.0);
            TopRow {
                title: t.title.clone(),
                url: if live {
                    t.permalink(settings.tz())
                } else {
                    edit_url.clone()
                },
                edit_url,
                live,
                period_views: t.period_views,
                views: t.counts.views,
                likes: t.counts.likes,
                dislikes: t.counts.dislikes,
                reactions: t.counts.reactions.values().sum(),
                rating: t.counts.rating_average(),
                ratings: t.counts.rating_count(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct DraftLine {
    title: String,
    url: String,
    updated: String,
}

/// The user's own drafts, most recently written first.
async fn own_drafts(state: &AppState, who: &SignedIn) -> Result<Vec<DraftLine>, AppError> {
    let tz = who.site.settings.tz();
    let mut drafts = Vec::new();
    for kind in [ContentKind::Article, ContentKind::Page] {
        let mine = state
            .store
            .list_articles(&ArticleQuery {
                kind,
                visibility: Visibility::Any,
                tag: None,
                author: Some(who.user.id),
                status: Some(Status::Draft),
                title_search: None,
                published_from: None,
                published_before: None,
                page: 1,
                per_page: 100,
            })
            .await?;
        drafts.extend(mine.items);
    }
    drafts.sort_by_key(|a| std::cmp::Reverse(a.updated_at));
    Ok(drafts
        .into_iter()
        .take(DRAFTS)
        .map(|a| DraftLine {
            url: format!("/admin/articles/{}", a.id.0),
            updated: super::audit::local_minute(a.updated_at, tz),
            title: a.title,
        })
        .collect())
}
