//! The store conformance suite: every test tells one story through the
//! [`broadsheet_domain::Store`] trait and runs it against every backend (see
//! [`backends`]), so SQLite and PostgreSQL are held to the same observable behaviour.

mod accounts;
mod api_tokens;
mod articles;
mod backends;
mod changes;
mod comments;
mod dump;
mod engagement;
mod fixtures;
mod imports;
mod jobs;
mod listing;
mod media;
mod push;
mod revisions;
mod search;
mod settings;
mod slugs;
mod stats;
mod subscriptions;
mod users;
mod webhooks;
