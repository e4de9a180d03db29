//! The media library: images uploaded by the newsroom, kept IN THE DATABASE (the
//! re-encoded original and its resized variants) so that every node of a site serves
//! them without a shared disk.
//!
//! The server decodes, strips and resizes an upload (see `server/src/media/`); this
//! module holds what does not need pixels: the variant widths policy, safe file
//! names, alt text rules and the public URLs. Media URLs never change meaning: an id
//! is never reused (both stores hand out ids that only grow), and a stored image is
//! never rewritten, so `/media/...` responses may be cached for good.
//!
//! URLs: the original at `/media/{id}/{filename}`, a variant at
//! `/media/{id}/w{width}/{filename}`. Article bodies are rendered once at save, when the
//! renderer cannot know which variants an image has, so it lists [`VARIANT_WIDTHS`]
//! (see [`srcset`]); a request for a width without a variant is answered with the
//! nearest larger variant, or the original when there is none.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationErrors;
use crate::article::Paged;
use crate::store::StoreResult;
use crate::user::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MediaId(pub i64);

impl fmt::Display for MediaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The widths resized variants are made at: a phone, a tablet or a column at 2x, and
/// a wide screen at 2x. Only widths smaller than the original are made.
pub const VARIANT_WIDTHS: [u32; 3] = [480, 960, 1600];

/// The `sizes` of a body image: the article column is 40rem wide (the theme's
/// `--measure`), and a narrower screen shows the image at the screen's width.
pub const BODY_IMAGE_SIZES: &str = "(max-width: 40rem) 100vw, 40rem";

/// Longest alt text kept; a description, not an essay.
pub const MAX_ALT_CHARS: usize = 500;

/// The variant widths to make for an original `width` pixels wide.
pub fn variant_widths(width: u32) -> Vec<u32> {
    VARIANT_WIDTHS.into_iter().filter(|w| *w < width).collect()
}

/// The height of a variant `width` wide of a `original_width` x `original_height`
/// image, keeping the aspect ratio (rounded, at least 1).
pub fn scaled_height(original_width: u32, original_height: u32, width: u32) -> u32 {
    let scaled = (u64::from(original_height) * u64::from(width) * 2 + u64::from(original_width))
        / (2 * u64::from(original_width.max(1)));
    u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
}

/// The image formats the library accepts, detected from an upload's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub const ALL: [ImageKind; 3] = [ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp];

    /// The Content-Type the image is served with.
    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }

    /// The extension its file name gets, whatever the upload was called.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
        }
    }

    /// The accepted types for an error message: "JPEG, PNG or WebP".
    pub fn accepted() -> &'static str {
        "JPEG, PNG or WebP"
    }
}

/// A file name safe in a URL path and a Content-Disposition: the slug of the upload's
/// name without its extension (or `image` when nothing is left), then the extension of
/// the detected type, so a PNG uploaded as `photo.jpg` is named `photo.png`.
pub fn safe_filename(upload_name: &str, kind: ImageKind) -> String {
    // Browsers may send a full path (old IE, some mobile uploaders).
    let base = upload_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(upload_name);
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    let mut slug = crate::slug::slugify(stem);
    // File names stay short however long the upload's name; cut on a hyphen.
    const MAX_STEM: usize = 80;
    if slug.len() > MAX_STEM {
        let cut = slug[..MAX_STEM].rfind('-').unwrap_or(MAX_STEM);
        slug.truncate(cut);
    }
    if slug.is_empty() {
        slug.push_str("image");
    }
    format!("{slug}.{}", kind.extension())
}

/// Whether `name` could be a file name [`safe_filename`] made: what the media URL
/// parser accepts before asking the store.
pub fn is_safe_filename(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && ImageKind::ALL.iter().any(|k| k.extension() == ext)
}

/// Checks alt text: trimmed, single-line, at most [`MAX_ALT_CHARS`].
pub fn validate_alt(alt: &str) -> Result<String, ValidationErrors> {
    let alt = alt.split_whitespace().collect::<Vec<_>>().join(" ");
    if alt.chars().count() > MAX_ALT_CHARS {
        return Err(ValidationErrors::single(
            "alt",
            format!("must be at most {MAX_ALT_CHARS} characters"),
        ));
    }
    Ok(alt)
}

/// The URL of an original.
pub fn url(id: MediaId, filename: &str) -> String {
    format!("/media/{id}/{filename}")
}

/// The URL of the variant `width` pixels wide.
pub fn variant_url(id: MediaId, width: u32, filename: &str) -> String {
    format!("/media/{id}/w{width}/{filename}")
}

/// A `srcset` of variants at `widths`, and of the original at `original_width` when it
/// is known.
pub fn srcset(id: MediaId, filename: &str, widths: &[u32], original_width: Option<u32>) -> String {
    let mut candidates: Vec<String> = widths
        .iter()
        .map(|w| format!("{} {w}w", variant_url(id, *w, filename)))
        .collect();
    if let Some(width) = original_width {
        candidates.push(format!("{} {width}w", url(id, filename)));
    }
    candidates.join(", ")
}

/// A media path as the site serves it: `/media/{id}/{filename}` or
/// `/media/{id}/w{width}/{filename}`. `None` for anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaPath<'a> {
    pub id: MediaId,
    pub width: Option<u32>,
    pub filename: &'a str,
}

impl<'a> MediaPath<'a> {
    pub fn parse(path: &'a str) -> Option<MediaPath<'a>> {
        let rest = path.strip_prefix("/media/")?;
        let mut parts = rest.split('/');
        let id = parse_id(parts.next()?)?;
        let (width, filename) = match (parts.next()?, parts.next(), parts.next()) {
            (filename, None, None) => (None, filename),
            (variant, Some(filename), None) => (Some(parse_width(variant)?), filename),
            _ => return None,
        };
        is_safe_filename(filename).then_some(MediaPath {
            id: MediaId(id),
            width,
            filename,
        })
    }
}

/// A positive decimal id without sign or leading zeros, so one image has one URL.
pub fn parse_id(text: &str) -> Option<i64> {
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|id| *id > 0)
}

/// The width of a variant segment (`w480`), positive, without leading zeros.
pub fn parse_width(segment: &str) -> Option<u32> {
    let digits = segment.strip_prefix('w')?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|w| *w > 0)
}

/// A resized copy of an upload, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVariant {
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An upload, decoded, stripped of its metadata and re-encoded, with its variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMedia {
    /// A [`safe_filename`].
    pub filename: String,
    /// Checked by [`validate_alt`].
    pub alt: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
    /// Narrower copies, one per width of [`variant_widths`].
    pub variants: Vec<NewVariant>,
    pub uploaded_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// An image in the library, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Media {
    pub id: MediaId,
    pub filename: String,
    pub alt: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    /// Bytes of the stored original.
    pub size: u64,
    /// Widths of the stored variants, narrowest first.
    pub variants: Vec<u32>,
    pub uploaded_by: UserId,
    pub created_at: DateTime<Utc>,
}

impl Media {
    pub fn url(&self) -> String {
        url(self.id, &self.filename)
    }

    pub fn variant_url(&self, width: u32) -> String {
        variant_url(self.id, width, &self.filename)
    }

    /// Every stored size: the variants and the original.
    pub fn srcset(&self) -> String {
        srcset(self.id, &self.filename, &self.variants, Some(self.width))
    }

    /// The Markdown that embeds this image in an article.
    pub fn markdown(&self) -> String {
        let alt: String = self
            .alt
            .chars()
            .map(|c| if matches!(c, '[' | ']') { ' ' } else { c })
            .collect();
        format!("![{alt}]({})", self.url())
    }

    /// The smallest stored variant's URL, or the original's: a thumbnail for lists.
    pub fn thumbnail_url(&self) -> String {
        self.variants
            .first()
            .map_or_else(|| self.url(), |w| self.variant_url(*w))
    }
}

/// The bytes of one stored image, as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaBytes {
    pub filename: String,
    pub content_type: String,
    /// The width of what was found: the variant's, or the original's.
    pub width: u32,
    pub bytes: Vec<u8>,
}

/// The media library's storage. Each backend implements it in one place; the
/// conformance suite tests it on both. Media writes publish no change notice: nothing
/// any node caches depends on the library, and its URLs never change meaning.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores an image with its variants, in one transaction. `NotFound` when the
    /// uploader does not exist.
    async fn insert_media(&self, media: &NewMedia) -> StoreResult<Media>;

    async fn media_by_id(&self, id: MediaId) -> StoreResult<Media>;

    /// A page of the library, newest first (then by id, descending), with the total.
    async fn list_media(&self, limit: u32, offset: u64) -> StoreResult<Paged<Media>>;

    /// The original (`width: None`), or the narrowest variant at least `width` wide,
    /// or the original when no variant is that wide. `NotFound` for an unknown id.
    async fn media_bytes(&self, id: MediaId, width: Option<u32>) -> StoreResult<MediaBytes>;

    /// Replaces an image's alt text (checked by [`validate_alt`]).
    async fn update_media_alt(&self, id: MediaId, alt: &str) -> StoreResult<Media>;

    /// Deletes an image and its variants. `NotFound` for an unknown id.
    async fn delete_media(&self, id: MediaId) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_only_narrower_than_the_original() {
        assert_eq!(variant_widths(4000), vec![480, 960, 1600]);
        assert_eq!(variant_widths(1600), vec![480, 960]);
        assert_eq!(variant_widths(961), vec![480, 960]);
        assert_eq!(variant_widths(480), Vec::<u32>::new());
        assert_eq!(scaled_height(4000, 3000, 480), 360);
        assert_eq!(scaled_height(1000, 333, 480), 160);
        assert_eq!(scaled_height(10000, 1, 480), 1);
    }

    #[test]
    fn file_names_are_slugs_with_the_detected_extension() {
        assert_eq!(
            safe_filename("Café Zürich 2026.JPG", ImageKind::Jpeg),
            "cafe-zurich-2026.jpg"
        );
        assert_eq!(safe_filename("photo.jpg", ImageKind::Png), "photo.png");
        assert_eq!(
            safe_filename("C:\\Users\\ada\\shot.webp", ImageKind::Webp),
            "shot.webp"
        );
        assert_eq!(
            safe_filename("../../etc/passwd", ImageKind::Png),
            "passwd.png"
        );
        assert_eq!(safe_filename("", ImageKind::Jpeg), "image.jpg");
        assert_eq!(safe_filename("???.png", ImageKind::Png), "image.png");
        assert_eq!(safe_filename(".hidden", ImageKind::Png), "hidden.png");
        let long = safe_filename(&"word ".repeat(100), ImageKind::Png);
        assert!(long.len() <= 84 && long.ends_with("word.png"), "{long}");
        for name in ["cafe-zurich-2026.jpg", "image.png", "shot.webp"] {
            assert!(is_safe_filename(name), "{name}");
        }
        for name in [
            "a.gif", "A.png", "a b.png", ".png", "png", "a/b.png", "a.png?x",
        ] {
            assert!(!is_safe_filename(name), "{name}");
        }
    }

    #[test]
    fn alt_text_is_one_trimmed_line_of_bounded_length() {
        assert_eq!(
            validate_alt("  A  cat\non a mat ").unwrap(),
            "A cat on a mat"
        );
        assert_eq!(validate_alt("").unwrap(), "");
        let errors = validate_alt(&"x".repeat(MAX_ALT_CHARS + 1)).unwrap_err();
        assert!(errors.for_field("alt").is_some());
    }

    #[test]
    fn media_paths_parse_strictly() {
        assert_eq!(
            MediaPath::parse("/media/12/cat.jpg"),
            Some(MediaPath {
                id: MediaId(12),
                width: None,
                filename: "cat.jpg"
            })
        );
        assert_eq!(
            MediaPath::parse("/media/12/w960/cat.jpg").map(|p| p.width),
            Some(Some(960))
        );
        for bad in [
            "/media/0/cat.jpg",
            "/media/012/cat.jpg",
            "/media/-1/cat.jpg",
            "/media/x/cat.jpg",
            "/media/12/w0/cat.jpg",
            "/media/12/w/cat.jpg",
            "/media/12/960/cat.jpg",
            "/media/12/w960/cat.jpg/x",
            "/media/12/cat.gif",
            "/media/12/",
            "/media/99999999999999999999/cat.jpg",
            "/elsewhere/12/cat.jpg",
        ] {
            assert_eq!(MediaPath::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls_srcset_and_markdown() {
        let media = Media {
            id: MediaId(7),
            filename: "cat.jpg".into(),
            alt: "A [cat]".into(),
            content_type: "image/jpeg".into(),
            width: 1200,
            height: 800,
            size: 1000,
            variants: vec![480, 960],
            uploaded_by: UserId(1),
            created_at: Utc::now(),
        };
        assert_eq!(media.url(), "/media/7/cat.jpg");
        assert_eq!(media.variant_url(480), "/media/7/w480/cat.jpg");
        assert_eq!(media.thumbnail_url(), "/media/7/w480/cat.jpg");
        assert_eq!(
            media.srcset(),
            "/media/7/w480/cat.jpg 480w, /media/7/w960/cat.jpg 960w, /media/7/cat.jpg 1200w"
        );
        assert_eq!(media.markdown(), "![A  cat ](/media/7/cat.jpg)");
        let small = Media {
            variants: Vec::new(),
            ..media
        };
        assert_eq!(small.thumbnail_url(), "/media/7/cat.jpg");
    }
}
