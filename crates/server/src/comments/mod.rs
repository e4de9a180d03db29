//! Readers' comments on the server side: notifications of new and approved comments
//! ([`notify`]).

pub mod notify;
