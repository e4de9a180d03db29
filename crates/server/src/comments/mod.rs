//! Readers' comments over HTTP (issue 6): the "Leave a Reply" form and the threads on
//! the article page, the endpoint the form posts to, local avatars, the spam screen
//! and the notifications. The domain owns the field rules and the rendering of
//! comment text ([`broadsheet_domain::comment`]); the stores own the counters.
//!
//! - [`form`]: the form's fields, its re-show with problems, the remember-me cookie
//!   and the article page's comments section.
//! - [`thread`]: comments as nested threads for the page and the API.
//! - [`avatar`]: identicons from a keyed hash of the email, inline.
//! - [`routes`]: `POST /articles/{id}/comments` and the JSON listing.
//! - [`screen`]: the spam verdict asked before a comment is stored.
//! - [`notify`]: the emails sent once it is, and their one-click stop.

pub mod avatar;
pub mod form;
pub mod notify;
pub mod routes;
pub mod screen;
pub mod thread;

pub use routes::routes;
