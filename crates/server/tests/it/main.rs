//! The server's integration tests: one binary, each test with its own site on a fresh
//! SQLite file (see `util::TestApp`), all driven in-process except `socket`.

mod admin_articles;
mod admin_auth;
mod admin_comments;
mod admin_dashboard;
mod admin_users;
mod api;
mod api_manage;
mod assets;
mod browser;
mod cli;
mod comment_screen;
mod comments;
mod engagement;
mod errors;
mod feeds;
mod import;
mod jobs;
mod media;
mod media_admin;
mod metadata;
mod multinode;
mod newsletter;
mod pages;
mod process;
mod push;
mod redirects;
mod schemathesis;
mod search;
mod sitemaps;
mod smtp_sink;
mod socket;
mod util;
mod webhooks;
mod wordpress;
mod xss;
