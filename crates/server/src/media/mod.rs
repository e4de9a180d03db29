//! The media library on the server: processing uploads ([`process`]), reading upload
//! forms within the size limit ([`upload`]) and serving images ([`routes`]). The
//! admin's library pages are in `crate::admin::media`; what does not need pixels or
//! HTTP (variant widths, file names, URLs) is in `broadsheet_domain::media`.

pub mod process;
pub mod routes;
pub mod upload;

use broadsheet_domain::media::{safe_filename, validate_alt};
use broadsheet_domain::{Media, MediaId, NewMedia, User, clock};
use serde::Serialize;

use crate::app::AppState;
use crate::error::AppError;
use upload::UploadedFile;

/// Checks, processes and stores an upload by `who`. Alt text is checked first, so a
/// mistake there costs no image processing.
pub async fn save_upload(
    state: &AppState,
    who: &User,
    file: UploadedFile,
    alt: &str,
) -> Result<Media, AppError> {
    let alt = validate_alt(alt)?;
    let processed = process::process_blocking(file.bytes).await?;
    let new = NewMedia {
        filename: safe_filename(&file.name, processed.kind),
        alt,
        content_type: processed.kind.mime().to_owned(),
        width: processed.width,
        height: processed.height,
        bytes: processed.bytes,
        variants: processed.variants,
        uploaded_by: who.id,
        created_at: clock::now(),
    };
    Ok(state.store.insert_media(&new).await?)
}

/// An image as the admin shows it and the editor's picker reads it (`media.json`).
#[derive(Debug, Clone, Serialize)]
pub struct MediaView {
    pub id: MediaId,
    pub url: String,
    pub srcset: String,
    pub sizes: &'static str,
    pub thumbnail: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// `10 MiB`-style, for people.
    pub size_text: String,
    /// What to paste into an article to show the image.
    pub markdown: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&Media> for MediaView {
    fn from(media: &Media) -> MediaView {
        MediaView {
            id: media.id,
            url: media.url(),
            srcset: media.srcset(),
            sizes: broadsheet_domain::media::BODY_IMAGE_SIZES,
            thumbnail: media.thumbnail_url(),
            width: media.width,
            height: media.height,
            alt: media.alt.clone(),
            filename: media.filename.clone(),
            content_type: media.content_type.clone(),
            size: media.size,
            size_text: upload::human_bytes(media.size),
            markdown: media.markdown(),
            created_at: media.created_at,
        }
    }
}
