//! `broadsheet import json FILE`: restores a JSON export (see
//! [`crate::export::json`]) into an empty site, ids, slugs, old URLs, comments and
//! counters included, through the store's `import_site` (one transaction: all or
//! nothing).

use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, bail};

use broadsheet_domain::dump::FORMAT_VERSION;
use broadsheet_domain::{Store, StoreError};

use crate::export::json::{ExportFile, FORMAT};

/// Reads and checks an export file.
pub fn read(path: &Path) -> anyhow::Result<ExportFile> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_reader(BufReader::new(file))
        .with_context(|| format!("{} is not JSON", path.display()))?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => bail!(
            "{}: format is \"{other}\", not \"{FORMAT}\"",
            path.display()
        ),
        None => bail!(
            "{}: no \"format\": this is not a Broadsheet export",
            path.display()
        ),
    }
    let version = value
        .get("format_version")
        .and_then(|v| v.as_u64())
        .with_context(|| format!("{}: no format_version", path.display()))?;
    if version > u64::from(FORMAT_VERSION) {
        bail!(
            "{}: format_version {version} is newer than this Broadsheet reads ({FORMAT_VERSION}); upgrade Broadsheet",
            path.display()
        );
    }
    serde_json::from_value(value).with_context(|| format!("{}: not a valid export", path.display()))
}

/// Restores the export into the store, which must be empty.
pub async fn import(store: &dyn Store, path: &Path) -> anyhow::Result<crate::db_copy::Summary> {
    let file = read(path)?;
    let key = match file.signing_key.as_deref() {
        Some(hex) => Some(
            key_of(hex)
                .with_context(|| format!("{}: signing_key is not 64 hex digits", path.display()))?,
        ),
        None => None,
    };
    store.import_site(&file.site).await.map_err(|e| match e {
        StoreError::Conflict { field: "site" } => anyhow::anyhow!(
            "the site is not empty: restore an export into a new, empty database (a new --data-dir or --database-url)"
        ),
        other => other.into(),
    })?;
    if let Some(key) = key {
        store.replace_signing_key(key).await?;
    }
    Ok(crate::db_copy::Summary::of(&file.site))
}

fn key_of(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut key = [0; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}
