//! The newsroom's admin pages.

pub mod charts;
