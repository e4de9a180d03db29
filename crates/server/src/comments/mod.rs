//! Readers' comments on the server side: spam screening of new comments ([`screen`])
//! and notifications of new and approved comments ([`notify`]).

pub mod notify;
pub mod screen;
