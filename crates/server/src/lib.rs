//! The `broadsheet` binary's library: command line, configuration, the HTTP site, the
//! admin and its theme, the job worker and email. `main.rs` only parses arguments and
//! calls in here, so integration tests can build the same router and stores the binary
//! uses.

pub mod admin;
pub mod announce;
pub mod api;
pub mod app;
pub mod auth;
pub mod backend;
pub mod cache;
pub mod cli;
pub mod comments;
pub mod config;
pub mod cookies;
pub mod db_copy;
pub mod editorial;
pub mod engagement;
pub mod error;
pub mod export;
pub mod frontmatter;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod media;
pub mod newsletter;
pub mod password;
pub mod publish;
pub mod push;
pub mod search;
pub mod serve;
pub mod settings;
pub mod signing;
pub mod site;
pub mod theme;
pub mod webhooks;
pub mod welcome;
pub mod xml;

pub use app::{AppState, build_router};
