//! Readers' comments: screening new comments for spam ([`screen`]).

pub mod screen;
