// Drives the real WordPress REST client, wpapi, against a running Broadsheet:
// discovery from the home page, paginated posts, a post by slug, tag and category
// filters, search, comments, posting a comment, and _embed.
//
// Usage: node check.js HOME_URL EXPECTATIONS_JSON
// Prints what it saw and exits non-zero on the first broken expectation.
'use strict';

const assert = require('assert');
const WPAPI = require('wpapi');

async function main() {
  const [home, expectations] = process.argv.slice(2);
  const want = JSON.parse(expectations);
  const wp = await WPAPI.discover(home);

  // Pagination: the first page, then the next one through the Link header.
  const first = await wp.posts().perPage(2);
  assert.strictEqual(first.length, 2);
  assert.strictEqual(first._paging.total, want.total);
  assert.strictEqual(first._paging.totalPages, Math.ceil(want.total / 2));
  assert.deepStrictEqual(first.map((p) => p.title.rendered), want.first_titles);
  const second = await first._paging.next;
  assert.strictEqual(second.length, 2);
  assert.notStrictEqual(second[0].id, first[0].id);
  const last = await wp.posts().perPage(2).page(first._paging.totalPages);
  assert.ok(last.length >= 1);

  // One post by slug.
  const bySlug = await wp.posts().slug(want.slug);
  assert.strictEqual(bySlug.length, 1);
  assert.strictEqual(bySlug[0].title.rendered, want.slug_title);
  assert.ok(bySlug[0].content.rendered.includes(want.slug_text));
  assert.ok(bySlug[0]._links.self[0].href.endsWith(`/wp/v2/posts/${bySlug[0].id}`));
  const byId = await wp.posts().id(bySlug[0].id);
  assert.strictEqual(byId.slug, want.slug);

  // Filtering by tag and by category.
  const tags = await wp.tags().slug(want.tag);
  assert.strictEqual(tags.length, 1);
  const tagged = await wp.posts().tags(tags[0].id).perPage(100);
  assert.strictEqual(tagged.length, want.tagged);
  assert.ok(tagged.every((p) => p.tags.includes(tags[0].id)));
  const categories = await wp.categories().slug(want.category);
  assert.strictEqual(categories.length, 1);
  const inCategory = await wp.posts().categories([categories[0].id]).perPage(100);
  assert.strictEqual(inCategory.length, want.in_category);

  // Search.
  const found = await wp.posts().search(want.search);
  assert.deepStrictEqual(found.map((p) => p.slug), want.search_slugs);

  // Reading an article's comments.
  const comments = await wp.comments().forPost(want.commented_post);
  assert.deepStrictEqual(comments.map((c) => c.author_name), want.commenters);
  assert.ok(comments.every((c) => c.post === want.commented_post && !('author_email' in c)));

  // Posting one: held for moderation or approved, per the site's rules.
  const posted = await wp.comments().create({
    post: want.commented_post,
    author_name: 'Wpapi Reader',
    author_email: 'wpapi.reader@example.net',
    content: 'Posted through the WordPress REST API client.',
  });
  assert.ok(posted.id > 0);
  assert.ok(['hold', 'approved'].includes(posted.status), posted.status);

  // _embed: the author and the terms come along.
  const embedded = await wp.posts().slug(want.slug).embed();
  assert.strictEqual(embedded[0]._embedded.author[0].slug, want.author);
  const embeddedTags = embedded[0]._embedded['wp:term'][1];
  assert.deepStrictEqual(embeddedTags.map((t) => t.id), bySlug[0].tags);

  // Pages, users and a missing post's error.
  const pages = await wp.pages();
  assert.deepStrictEqual(pages.map((p) => p.slug), want.pages);
  const users = await wp.users();
  assert.ok(users.some((u) => u.slug === want.author));
  await assert.rejects(wp.posts().id(999999).get(), (err) => err.code === 'rest_post_invalid_id');

  console.log(JSON.stringify({ ok: true, posted_status: posted.status, posted_id: posted.id }));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
