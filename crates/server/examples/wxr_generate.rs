//! Writes a WordPress export (WXR 1.2) of POSTS posts with COMMENTS comments spread
//! over them, for `bench/import.sh`:
//!
//!     cargo run --release --example wxr_generate -- OUT.xml [POSTS] [COMMENTS]
//!
//! Defaults: 10,000 posts, 100,000 comments. A third of the comments reply to an
//! earlier one on the same post; every twentieth is held, every fiftieth is a
//! pingback. Posts carry ~400 words of HTML with a [caption], two categories and a
//! tag, as a newsroom's exports do. The file is written as a stream.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| {
        eprintln!("usage: wxr_generate OUT.xml [POSTS] [COMMENTS]");
        std::process::exit(2);
    });
    let posts: u64 = args.next().map_or(10_000, |n| n.parse().expect("POSTS"));
    let comments: u64 = args
        .next()
        .map_or(100_000, |n| n.parse().expect("COMMENTS"));
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    write!(
        w,
        r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="https://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="https://wordpress.org/export/1.2/">
<channel>
<title>Generated Gazette</title>
<link>https://generated.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://generated.example</wp:base_site_url>
<wp:base_blog_url>https://generated.example</wp:base_blog_url>
"#
    )?;
    for a in 0..5 {
        writeln!(
            w,
            "<wp:author><wp:author_login><![CDATA[writer{a}]]></wp:author_login><wp:author_email><![CDATA[writer{a}@generated.example]]></wp:author_email><wp:author_display_name><![CDATA[Writer {a}]]></wp:author_display_name></wp:author>"
        )?;
    }
    for c in 0..20 {
        writeln!(
            w,
            "<wp:category><wp:term_id>{}</wp:term_id><wp:category_nicename>section-{c}</wp:category_nicename><wp:category_parent></wp:category_parent><wp:cat_name><![CDATA[Section {c}]]></wp:cat_name></wp:category>",
            c + 1
        )?;
    }
    let paragraph = "<p>The council met late on Tuesday to weigh the cost of the new harbour bridge, and the ferry operators asked for more time.</p>\n";
    let body: String = paragraph.repeat(18);
    let mut comment_id = 1_000_000u64;
    let mut given = 0u64;
    for p in 0..posts {
        let id = p + 10;
        let (y, m, d) = (2010 + p % 15, 1 + p % 12, 1 + p % 28);
        let share = comments / posts + u64::from(p < comments % posts);
        let mut item = String::with_capacity(body.len() + 2048 + share as usize * 700);
        write!(
            item,
            r#"<item>
<title>Generated story {p} &amp; more</title>
<link>https://generated.example/{y}/{m:02}/{d:02}/story-{p}/</link>
<dc:creator><![CDATA[writer{w}]]></dc:creator>
<content:encoded><![CDATA[[caption id="attachment_1" width="300"]<img src="https://generated.example/a.jpg" alt="" /> A caption[/caption]
{body}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{id}</wp:post_id>
<wp:post_date><![CDATA[{y}-{m:02}-{d:02} 10:00:00]]></wp:post_date>
<wp:post_date_gmt><![CDATA[{y}-{m:02}-{d:02} 09:00:00]]></wp:post_date_gmt>
<wp:post_name><![CDATA[story-{p}]]></wp:post_name>
<wp:status><![CDATA[publish]]></wp:status>
<wp:post_parent>0</wp:post_parent>
<wp:post_type><![CDATA[post]]></wp:post_type>
<wp:post_password><![CDATA[]]></wp:post_password>
<wp:is_sticky>0</wp:is_sticky>
<category domain="category" nicename="section-{c1}"><![CDATA[Section {c1}]]></category>
<category domain="category" nicename="section-{c2}"><![CDATA[Section {c2}]]></category>
<category domain="post_tag" nicename="tag-{t}"><![CDATA[Tag {t}]]></category>
"#,
            w = p % 5,
            c1 = p % 20,
            c2 = (p + 7) % 20,
            t = p % 200,
        )
        .expect("writing to a String");
        let first = comment_id;
        for k in 0..share {
            comment_id += 1;
            given += 1;
            let parent = if k % 3 == 2 {
                comment_id - 1 - (k % 2)
            } else {
                0
            };
            let parent = if parent > first { parent } else { 0 };
            let approved = if given.is_multiple_of(20) { "0" } else { "1" };
            let kind = if given.is_multiple_of(50) {
                "pingback"
            } else {
                "comment"
            };
            writeln!(
                item,
                r#"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id><wp:comment_author><![CDATA[Reader {r}]]></wp:comment_author><wp:comment_author_email><![CDATA[reader{r}@mail.example]]></wp:comment_author_email><wp:comment_author_url>https://reader{r}.example/</wp:comment_author_url><wp:comment_date><![CDATA[{y}-{m:02}-{d:02} 12:00:00]]></wp:comment_date><wp:comment_date_gmt><![CDATA[{y}-{m:02}-{d:02} 11:00:00]]></wp:comment_date_gmt><wp:comment_content><![CDATA[I read this with interest. The bridge will change how we <em>get to work</em>, comment {comment_id}.]]></wp:comment_content><wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved><wp:comment_type><![CDATA[{kind}]]></wp:comment_type><wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"#,
                r = comment_id % 5000,
            )
            .expect("writing to a String");
        }
        item.push_str("</item>\n");
        w.write_all(item.as_bytes())?;
    }
    w.write_all(b"</channel>\n</rss>\n")?;
    w.flush()?;
    eprintln!("wrote {out}: {posts} posts, {given} comments");
    Ok(())
}
