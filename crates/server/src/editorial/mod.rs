//! The newsroom's article tools that do not depend on who is signed in: the editor's
//! form and how it becomes an [`ArticleInput`](broadsheet_domain::ArticleInput)
//! ([`form`]), signed preview links ([`preview_link`]) and revision diffs ([`diff`]).
//! The admin's article pages (`crate::admin::articles`) and the public `/preview/`
//! route build on these.

pub mod diff;
pub mod form;
pub mod preview_link;
