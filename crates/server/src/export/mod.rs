//! The way out (issue 10): `broadsheet export json FILE` writes the whole site in one
//! documented, versioned file (docs/EXPORT.md) that `broadsheet import json` restores
//! into an empty site; `broadsheet export markdown DIR` writes every article and page
//! as a Markdown file with front matter that `broadsheet import markdown` reads back.

pub mod json;
pub mod markdown;
