//! No script reaches a page through an article body.
//!
//! Every vector of the Cure53 HTML5 Security Cheatsheet (shared/data/xss, when the
//! checkout has it; a small fixture of our own otherwise) is rendered through the
//! Markdown path a writer uses, and the result is parsed with a real HTML parser and
//! checked for anything executable: script elements, event handler attributes,
//! script URLs in any URL-bearing attribute, and elements that embed other documents,
//! styles or forms. Then all vectors together are published as one article and the
//! whole page is checked the same way.

use std::path::PathBuf;

use axum::http::StatusCode;
use broadsheet_domain::read_time::ReadingSpeed;
use broadsheet_domain::{ArticleInput, ContentKind, SourceFormat, Status, UserId};

use crate::util::{TestApp, article};

/// Elements that run script, load other documents or change the page around them.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "form",
    "input", "button", "textarea", "select", "style", "base", "meta", "link", "template", "portal",
    "noscript",
];

/// Attributes whose value is fetched or navigated to.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "poster",
    "background",
    "data",
    "codebase",
    "cite",
    "longdesc",
    "srcset",
    "xlink:href",
    "dynsrc",
    "lowsrc",
    "ping",
    "manifest",
];

/// A vector with the number it has in its source.
pub struct Vector {
    pub id: String,
    pub source: String,
}

fn shared_vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/xss/cure53-H5SC__vectors.txt")
}

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/xss-vectors.txt")
}

/// The vectors file is a list of `<div id="N">VECTOR//["'`-->]]>]</div>` blocks.
pub fn parse_vectors(text: &str) -> Vec<Vector> {
    const TERMINATOR: &str = "//[\"'`-->]]>]</div>";
    text.split("<div id=\"")
        .skip(1)
        .filter_map(|block| {
            let (id, rest) = block.split_once("\">")?;
            let source = rest.split(TERMINATOR).next().unwrap_or(rest);
            Some(Vector {
                id: id.to_owned(),
                source: source.to_owned(),
            })
        })
        .collect()
}

pub fn load_vectors() -> (Vec<Vector>, PathBuf) {
    let shared = shared_vectors_path();
    let path = if shared.is_file() {
        shared
    } else {
        fixture_path()
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let vectors = parse_vectors(&text);
    assert!(
        vectors.len() >= 20,
        "only {} vectors in {}",
        vectors.len(),
        path.display()
    );
    (vectors, path)
}

/// Whether a URL would run script when followed or loaded.
fn is_script_url(value: &str) -> bool {
    // Browsers ignore ASCII whitespace and control characters inside a scheme
    // ("java\tscript:") and match it case-insensitively.
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    [
        "javascript:",
        "vbscript:",
        "livescript:",
        "data:text/html",
        "data:image/svg",
        "data:application",
    ]
    .iter()
    .any(|scheme| squeezed.starts_with(scheme) || squeezed.contains(&format!(",{scheme}")))
}

/// Everything executable in an element and its descendants, described for a message.
pub fn executable_parts(root: scraper::ElementRef<'_>) -> Vec<String> {
    let mut found = Vec::new();
    for node in root.descendants() {
        let Some(element) = node.value().as_element() else {
            continue;
        };
        let name = element.name().to_ascii_lowercase();
        if FORBIDDEN_ELEMENTS.contains(&name.as_str()) {
            found.push(format!("<{name}> element"));
        }
        for (attr, value) in element.attrs() {
            let attr = attr.to_ascii_lowercase();
            if attr.starts_with("on") {
                found.push(format!("{attr}= on <{name}>"));
            }
            if attr == "style" {
                found.push(format!("style= on <{name}>"));
            }
            if (URL_ATTRIBUTES.contains(&attr.as_str()) || attr.ends_with(":href"))
                && is_script_url(value)
            {
                found.push(format!("{attr}=\"{value}\" on <{name}>"));
            }
        }
    }
    found
}

fn render_markdown(source: &str) -> String {
    ArticleInput {
        kind: ContentKind::Article,
        title: "Vector".into(),
        slug: None,
        excerpt: None,
        source: source.to_owned(),
        format: SourceFormat::Markdown,
        tags: Vec::new(),
        author_id: UserId(1),
        status: Status::Draft,
        published_at: None,
        cover_image: None,
        featured: false,
    }
    .prepare(ReadingSpeed::default(), broadsheet_domain::clock::now())
    .expect("any body is valid input")
    .body_html
}

#[test]
fn the_checker_catches_what_it_must() {
    // A test that cannot fail is a defect: the checker must see each kind of problem.
    let bad = scraper::Html::parse_fragment(
        "<script>x</script><a href=' JaVa&#x09;Script:alert(1)'>a</a><img src=x onerror=y>\
         <iframe></iframe><form action='javascript:x'></form><svg></svg>\
         <a href='data:text/html,<b>'>d</a><p style='x'>s</p>",
    );
    let found = executable_parts(bad.root_element());
    for expected in [
        "<script>", "href=", "onerror=", "<iframe>", "<form>", "<svg>", "style=",
    ] {
        assert!(
            found.iter().any(|f| f.contains(expected)),
            "{expected} not caught in {found:?}"
        );
    }
    let good = scraper::Html::parse_fragment(
        "<p><a href='https://example.org/javascript:x'>ok</a><img src='/a.png' alt=''></p>",
    );
    assert!(executable_parts(good.root_element()).is_empty());
}

#[test]
fn every_cheatsheet_vector_is_defused_by_the_markdown_path() {
    let (vectors, path) = load_vectors();
    assert_defused(&vectors, &path);
}

#[test]
fn our_own_fixture_is_defused_too() {
    // Run even when the shared file is present, so the fallback stays a real check.
    let path = fixture_path();
    let vectors = parse_vectors(&std::fs::read_to_string(&path).unwrap());
    assert!(vectors.len() >= 30, "{}", vectors.len());
    assert!(vectors.iter().all(|v| !v.source.contains("-->]]>]")));
    assert_defused(&vectors, &path);
}

fn assert_defused(vectors: &[Vector], path: &std::path::Path) {
    let mut failures = Vec::new();
    for vector in vectors {
        let html = render_markdown(&vector.source);
        let parts = executable_parts(scraper::Html::parse_fragment(&html).root_element());
        let lower = html.to_ascii_lowercase();
        // Belt and braces: in sanitised output a `<` in text is always `&lt;`, so these
        // can only be tags, whatever the parser above made of them. (Scheme names are
        // not searched this way: "javascript:" in plain text is harmless, and vector
        // 131 is exactly that.)
        let raw: Vec<&str> = ["<script", "<iframe", "<svg", "<math", "<object", "<embed"]
            .into_iter()
            .filter(|needle| lower.contains(needle))
            .collect();
        if !parts.is_empty() || !raw.is_empty() {
            failures.push(format!(
                "vector {}: {parts:?} {raw:?}\n  in:  {}\n  out: {html}",
                vector.id, vector.source
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors from {} left something executable:\n{}",
        failures.len(),
        vectors.len(),
        path.display(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn an_article_made_of_every_vector_renders_a_page_without_script() {
    let (vectors, _) = load_vectors();
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let body: String = vectors
        .iter()
        .map(|v| format!("{}\n\n", v.source))
        .collect();
    let a = app
        .insert(article(
            &ada,
            "<svg onload=alert(1)> Vectors",
            &body,
            &["<script>"],
        ))
        .await;
    let page = app.get(&app.permalink(&a).await).await;
    page.assert_status(StatusCode::OK);
    let html = page.html();
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let body = html.select(&select("body")).next().unwrap();
    // The theme's own widgets (the engagement forms, their buttons and bars) are
    // interactive by design: the page may have exactly what the same page made of
    // harmless text has, and nothing more.
    let plain = app
        .insert(article(&ada, "Plain words", "Just text.", &["Plain"]))
        .await;
    let plain_page = app.get(&app.permalink(&plain).await).await;
    let plain_html = plain_page.html();
    let theme_parts = executable_parts(plain_html.select(&select("body")).next().unwrap());
    let parts = executable_parts(body);
    assert_eq!(parts, theme_parts);
    // The head holds only the theme's own elements: nothing of the body escaped there.
    let head = html.select(&select("head")).next().unwrap();
    for element in head.descendants().filter_map(scraper::ElementRef::wrap) {
        let e = element.value();
        let allowed = match e.name() {
            "head" | "title" => true,
            "meta" => {
                let name = e.attr("name").or(e.attr("property"));
                let image = matches!(name, Some("og:image" | "twitter:image"));
                e.attr("charset").is_some()
                    || matches!(
                        name,
                        Some(
                            "viewport"
                                | "description"
                                | "color-scheme"
                                | "og:site_name"
                                | "og:type"
                                | "og:title"
                                | "og:description"
                                | "og:url"
                                | "og:locale"
                                | "twitter:card"
                                | "twitter:title"
                                | "twitter:description"
                                | "article:published_time"
                        )
                    )
                    // Link previews fetch the image: it must be a web URL.
                    || (image && e.attr("content").is_some_and(|c| !is_script_url(c)))
            }
            "link" => {
                matches!(
                    e.attr("rel"),
                    Some("canonical" | "stylesheet" | "icon" | "alternate")
                ) && e.attr("href").is_some_and(|h| !is_script_url(h))
            }
            // The theme's script file, and JSON-LD data that cannot close its element.
            "script" => {
                let text = element.inner_html();
                (e.attr("src").is_some_and(|src| src.starts_with("/assets/"))
                    && text.trim().is_empty())
                    || (e.attr("type") == Some("application/ld+json") && !text.contains('<'))
            }
            _ => false,
        };
        assert!(allowed, "unexpected in <head>: {}", element.html());
    }
}
