//! `GET /wp-json/`: the index clients bootstrap from, with the `routes` they read
//! their methods and parameters off (`wpapi`'s `discover` builds its handlers from
//! it).

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::{WpResult, api_base, href};
use crate::app::AppState;

/// The query parameters of each collection, as WordPress lists them.
fn args(names: &[(&str, &str, &str)]) -> Value {
    let mut args = Map::new();
    for (name, kind, description) in names {
        args.insert(
            (*name).to_owned(),
            json!({"description": description, "type": kind, "required": false}),
        );
    }
    Value::Object(args)
}

const PAGING: &[(&str, &str, &str)] = &[
    (
        "context",
        "string",
        "Scope under which the request is made.",
    ),
    ("page", "integer", "Current page of the collection."),
    (
        "per_page",
        "integer",
        "Maximum number of items to be returned in result set.",
    ),
    (
        "search",
        "string",
        "Limit results to those matching a string.",
    ),
];

const POSTS: &[(&str, &str, &str)] = &[
    (
        "after",
        "string",
        "Limit response to posts published after a given date.",
    ),
    (
        "before",
        "string",
        "Limit response to posts published before a given date.",
    ),
    (
        "author",
        "array",
        "Limit result set to posts assigned to specific authors.",
    ),
    (
        "exclude",
        "array",
        "Ensure result set excludes specific IDs.",
    ),
    ("include", "array", "Limit result set to specific IDs."),
    (
        "offset",
        "integer",
        "Offset the result set by a specific number of items.",
    ),
    (
        "order",
        "string",
        "Order sort attribute ascending or descending.",
    ),
    ("orderby", "string", "Sort collection by post attribute."),
    (
        "slug",
        "array",
        "Limit result set to posts with one or more specific slugs.",
    ),
    (
        "status",
        "array",
        "Limit result set to posts assigned one or more statuses.",
    ),
];

const POST_TERMS: &[(&str, &str, &str)] = &[
    (
        "categories",
        "array",
        "Limit result set to items with specific terms assigned in the categories taxonomy.",
    ),
    (
        "categories_exclude",
        "array",
        "Limit result set to items except those with specific terms assigned in the categories taxonomy.",
    ),
    (
        "tags",
        "array",
        "Limit result set to items with specific terms assigned in the tags taxonomy.",
    ),
    (
        "tags_exclude",
        "array",
        "Limit result set to items except those with specific terms assigned in the tags taxonomy.",
    ),
];

const TERMS: &[(&str, &str, &str)] = &[
    (
        "exclude",
        "array",
        "Ensure result set excludes specific IDs.",
    ),
    ("include", "array", "Limit result set to specific IDs."),
    (
        "order",
        "string",
        "Order sort attribute ascending or descending.",
    ),
    ("orderby", "string", "Sort collection by term attribute."),
    (
        "post",
        "integer",
        "Limit result set to terms assigned to a specific post.",
    ),
    (
        "slug",
        "array",
        "Limit result set to terms with one or more specific slugs.",
    ),
];

const COMMENTS: &[(&str, &str, &str)] = &[
    (
        "order",
        "string",
        "Order sort attribute ascending or descending.",
    ),
    (
        "parent",
        "array",
        "Limit result set to comments of specific parent IDs.",
    ),
    (
        "post",
        "array",
        "Limit result set to comments assigned to specific post IDs.",
    ),
];

const NEW_COMMENT: &[(&str, &str, &str)] = &[
    (
        "author_email",
        "string",
        "Email address for the comment author.",
    ),
    (
        "author_name",
        "string",
        "Display name for the comment author.",
    ),
    ("author_url", "string", "URL for the comment author."),
    ("content", "object", "The content for the comment."),
    ("parent", "integer", "The ID for the parent of the comment."),
    ("post", "integer", "The ID of the associated post object."),
];

fn route(
    api: &str,
    path: &str,
    methods: &[&str],
    get_args: Value,
    post_args: Option<Value>,
) -> Value {
    let mut endpoints = vec![json!({"methods": ["GET"], "args": get_args})];
    if let Some(post_args) = post_args {
        endpoints.push(json!({"methods": ["POST"], "args": post_args}));
    }
    let mut entry = json!({
        "namespace": "wp/v2",
        "methods": methods,
        "endpoints": endpoints,
    });
    if !path.contains('(') {
        entry["_links"] = json!({ "self": href(format!("{api}{path}")) });
    }
    entry
}

/// The index.
pub async fn index(State(state): State<AppState>) -> WpResult {
    let chrome = state.chrome().await?;
    let settings = &chrome.settings;
    let api = api_base(&state);
    let merged = |lists: &[&[(&str, &str, &str)]]| {
        let all: Vec<(&str, &str, &str)> = lists.iter().flat_map(|l| l.iter().copied()).collect();
        args(&all)
    };
    let single = args(&[
        (
            "context",
            "string",
            "Scope under which the request is made.",
        ),
        ("id", "integer", "Unique identifier for the object."),
    ]);
    let mut routes = Map::new();
    routes.insert(
        "/".into(),
        json!({"namespace": "", "methods": ["GET"], "endpoints": [{"methods": ["GET"], "args": {}}], "_links": {"self": href(format!("{api}/"))}}),
    );
    routes.insert(
        "/wp/v2".into(),
        json!({"namespace": "wp/v2", "methods": ["GET"], "endpoints": [{"methods": ["GET"], "args": {}}], "_links": {"self": href(format!("{api}/wp/v2"))}}),
    );
    for (base, list_args) in [
        ("posts", merged(&[PAGING, POSTS, POST_TERMS])),
        ("pages", merged(&[PAGING, POSTS])),
        ("tags", merged(&[PAGING, TERMS])),
        ("categories", merged(&[PAGING, TERMS])),
        (
            "users",
            merged(&[
                PAGING,
                &[
                    ("include", "array", "Limit result set to specific IDs."),
                    (
                        "slug",
                        "array",
                        "Limit result set to users with one or more specific slugs.",
                    ),
                ],
            ]),
        ),
        ("media", merged(&[PAGING])),
    ] {
        routes.insert(
            format!("/wp/v2/{base}"),
            route(&api, &format!("/wp/v2/{base}"), &["GET"], list_args, None),
        );
        routes.insert(
            format!("/wp/v2/{base}/(?P<id>[\\d]+)"),
            route(&api, "(", &["GET"], single.clone(), None),
        );
    }
    routes.insert(
        "/wp/v2/comments".into(),
        route(
            &api,
            "/wp/v2/comments",
            &["GET", "POST"],
            merged(&[PAGING, COMMENTS]),
            Some(args(NEW_COMMENT)),
        ),
    );
    routes.insert(
        "/wp/v2/comments/(?P<id>[\\d]+)".into(),
        route(&api, "(", &["GET"], single, None),
    );
    Ok(Json(json!({
        "name": settings.title,
        "description": settings.description,
        "url": state.config.base_url,
        "home": state.config.base_url,
        "gmt_offset": 0,
        "timezone_string": settings.tz().name(),
        "namespaces": ["wp/v2"],
        "authentication": {},
        "routes": routes,
        "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
    }))
    .into_response())
}
