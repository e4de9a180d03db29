//! Turning an upload into what the library stores: the type is detected from the
//! bytes (never from the file name or the browser's Content-Type), the image is
//! decoded within limits that refuse decompression bombs, turned upright by its EXIF
//! orientation, and re-encoded. Re-encoding writes pixels only, so EXIF (with any GPS
//! position), XMP and comments are gone from everything stored. Variants are resized
//! from the upright image, each from the next wider one, which is faster than resizing
//! the original each time and looks the same.
//!
//! This is CPU work that takes from milliseconds to seconds: [`process_blocking`] runs
//! it off the async workers, a few at a time.

use std::io::Cursor;
use std::sync::LazyLock;

use broadsheet_domain::NewVariant;
use broadsheet_domain::media::{ImageKind, scaled_height, variant_widths};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::error::{ImageError, LimitErrorKind};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Widest and tallest image decoded: larger than any camera's, small enough that a
/// crafted header cannot make us allocate gigabytes.
pub const MAX_DIMENSION: u32 = 12_000;

/// Most memory one decoded image may take (the pixels, before resizing): a 48
/// megapixel photo in RGB fits, a bomb does not.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// JPEG quality of re-encoded originals and variants: indistinguishable from the
/// upload for photos, at a fraction of a camera's file size.
const JPEG_QUALITY: u8 = 85;

/// Images processed at once on this node. Each may hold a few hundred MB while it is
/// decoded and resized; more at once would trade memory for no speed on small servers.
static WORKERS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

/// An upload made ready for the store.
#[derive(Debug)]
pub struct Processed {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
    /// The re-encoded original, without metadata.
    pub bytes: Vec<u8>,
    pub variants: Vec<NewVariant>,
}

/// [`process`] on a blocking thread, at most a few at once.
pub async fn process_blocking(bytes: Vec<u8>) -> Result<Processed, AppError> {
    let _permit = WORKERS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || process(&bytes))
        .await
        .map_err(AppError::internal)?
}

/// Detects, decodes, strips and re-encodes an upload and makes its variants.
///
/// 415 for anything but JPEG, PNG or WebP; 413 for an image over the pixel limits;
/// 422 (on the `file` field) for a file that claims a type but does not decode.
pub fn process(bytes: &[u8]) -> Result<Processed, AppError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(AppError::internal)?;
    let kind = match reader.format() {
        Some(ImageFormat::Jpeg) => ImageKind::Jpeg,
        Some(ImageFormat::Png) => ImageKind::Png,
        Some(ImageFormat::WebP) => ImageKind::Webp,
        _ => {
            return Err(AppError::UnsupportedMediaType(format!(
                "This file is not an image we take: upload a {} image.",
                ImageKind::accepted()
            )));
        }
    };
    let mut reader = reader;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let unreadable = |err: ImageError| decode_error(err, kind);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    // The decoder only checked the header; refuse before the pixels are allocated.
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        let (width, height) = decoder.dimensions();
        return Err(too_many_pixels(width, height));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);

    let (width, height) = (image.width(), image.height());
    let encoded = encode(&image, kind)?;
    let mut variants = Vec::new();
    let mut source = image;
    // Widest first, each resized from the one before.
    for variant_width in variant_widths(width).into_iter().rev() {
        let variant_height = scaled_height(width, height, variant_width);
        source = source.resize_exact(variant_width, variant_height, FilterType::CatmullRom);
        variants.push(NewVariant {
            width: variant_width,
            height: variant_height,
            content_type: kind.mime().to_owned(),
            bytes: encode(&source, kind)?,
        });
    }
    variants.reverse();
    Ok(Processed {
        kind,
        width,
        height,
        bytes: encoded,
        variants,
    })
}

fn too_many_pixels(width: u32, height: u32) -> AppError {
    AppError::PayloadTooLarge(format!(
        "This image is too large to process: {width} x {height} pixels. Images may be at \
         most {MAX_DIMENSION} x {MAX_DIMENSION} pixels and {} MiB once decoded.",
        MAX_DECODED_BYTES / (1024 * 1024)
    ))
}

fn decode_error(err: ImageError, kind: ImageKind) -> AppError {
    match err {
        ImageError::Limits(limit) => match limit.kind() {
            LimitErrorKind::DimensionError | LimitErrorKind::InsufficientMemory => {
                AppError::PayloadTooLarge(format!(
                    "This image is too large to process. Images may be at most \
                     {MAX_DIMENSION} x {MAX_DIMENSION} pixels and {} MiB once decoded.",
                    MAX_DECODED_BYTES / (1024 * 1024)
                ))
            }
            _ => AppError::internal(limit),
        },
        // A broken or truncated file (reading from memory fails only at its end), or
        // a feature the decoder lacks: the writer's file is at fault, and they can do
        // something about it.
        other => {
            tracing::debug!(error = %other, "an upload did not decode");
            AppError::Validation(broadsheet_domain::ValidationErrors::single(
                "file",
                format!(
                    "could not be read as a {} image; the file may be damaged",
                    kind.extension().to_uppercase()
                ),
            ))
        }
    }
}

/// Encodes pixels alone: none of the encoders is given metadata to write.
fn encode(image: &DynamicImage, kind: ImageKind) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    let written = match kind {
        ImageKind::Jpeg => {
            let pixels = match image.color() {
                ColorType::L8 => image.clone(),
                _ => DynamicImage::ImageRgb8(image.to_rgb8()),
            };
            pixels.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))
        }
        ImageKind::Png => image.write_with_encoder(PngEncoder::new(&mut out)),
        // The WebP encoder is lossless and takes 8-bit RGB(A) only.
        ImageKind::Webp => {
            let pixels = if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8())
            };
            pixels.write_with_encoder(WebPEncoder::new_lossless(&mut out))
        }
    };
    written.map_err(AppError::internal)?;
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use axum::http::StatusCode;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    /// A JPEG `width` x `height`, left half red and right half blue.
    pub(crate) fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                Rgb([220, 20, 20])
            } else {
                Rgb([20, 20, 220])
            }
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
            .unwrap();
        out
    }

    pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbaImage::from_fn(width, height, |x, y| Rgba([x as u8, y as u8, 90, 128]));
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(image)
            .write_with_encoder(PngEncoder::new(&mut out))
            .unwrap();
        out
    }

    /// An EXIF block (big-endian TIFF) with an orientation and a GPS position.
    fn exif(orientation: u16) -> Vec<u8> {
        let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
        // IFD0: two entries, then the next-IFD offset.
        tiff.extend([0, 2]);
        tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1]);
        tiff.extend(orientation.to_be_bytes());
        tiff.extend([0, 0]);
        let gps_offset: u32 = 8 + 2 + 2 * 12 + 4;
        tiff.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1]);
        tiff.extend(gps_offset.to_be_bytes());
        tiff.extend([0, 0, 0, 0]);
        // The GPS IFD: latitude 51 deg N as a reference and a rational triple.
        let rationals_offset: u32 = gps_offset + 2 + 2 * 12 + 4;
        tiff.extend([0, 2]);
        tiff.extend([0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
        tiff.extend([0x00, 0x02, 0, 5, 0, 0, 0, 3]);
        tiff.extend(rationals_offset.to_be_bytes());
        tiff.extend([0, 0, 0, 0]);
        for (num, den) in [(51u32, 1u32), (30, 1), (2649, 100)] {
            tiff.extend(num.to_be_bytes());
            tiff.extend(den.to_be_bytes());
        }
        let mut block = b"Exif\0\0".to_vec();
        block.extend(tiff);
        block
    }

    /// `jpeg` with an APP1 EXIF segment written in by hand, after the SOI marker.
    fn jpeg_with_exif(width: u32, height: u32, orientation: u16) -> Vec<u8> {
        let plain = jpeg(width, height);
        let block = exif(orientation);
        let mut out = plain[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(u16::try_from(block.len() + 2).unwrap().to_be_bytes());
        out.extend(block);
        out.extend(&plain[2..]);
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A PNG whose valid header claims `width` x `height` RGBA pixels, followed by an
    /// image data chunk of no pixels: a few dozen bytes that would decode to gigabytes.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut header = width.to_be_bytes().to_vec();
        header.extend(height.to_be_bytes());
        header.extend([8, 6, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [
            (b"IHDR", header.as_slice()),
            // An empty zlib stream.
            (b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01".as_slice()),
            (b"IEND", b"".as_slice()),
        ] {
            out.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
            let mut chunk = kind.to_vec();
            chunk.extend(data);
            out.extend(&chunk);
            out.extend(crc32(&chunk).to_be_bytes());
        }
        out
    }

    #[test]
    fn exif_and_gps_are_stripped_and_the_orientation_applied() {
        let upload = jpeg_with_exif(400, 200, 6);
        assert!(contains(&upload, b"Exif") && contains(&upload, b"MM\0\x2a"));
        let processed = process(&upload).unwrap();
        assert_eq!(processed.kind, ImageKind::Jpeg);
        // Orientation 6 is "rotate 90 clockwise": stored upright, 200 wide.
        assert_eq!((processed.width, processed.height), (200, 400));
        for stored in
            std::iter::once(&processed.bytes).chain(processed.variants.iter().map(|v| &v.bytes))
        {
            assert!(!contains(stored, b"Exif"), "EXIF survived");
            assert!(!contains(stored, b"MM\0\x2a"), "a TIFF block survived");
        }
        // After the rotation, the red half is on top.
        let upright = image::load_from_memory(&processed.bytes).unwrap().to_rgb8();
        let top = upright.get_pixel(100, 20);
        let bottom = upright.get_pixel(100, 380);
        assert!(top[0] > 150 && top[2] < 100, "top is red: {top:?}");
        assert!(
            bottom[2] > 150 && bottom[0] < 100,
            "bottom is blue: {bottom:?}"
        );
    }

    #[test]
    fn variants_are_made_below_the_original_width() {
        let processed = process(&jpeg(1000, 500)).unwrap();
        let sizes: Vec<(u32, u32)> = processed
            .variants
            .iter()
            .map(|v| (v.width, v.height))
            .collect();
        assert_eq!(sizes, [(480, 240), (960, 480)]);
        for variant in &processed.variants {
            let decoded = image::load_from_memory(&variant.bytes).unwrap();
            assert_eq!(
                (decoded.width(), decoded.height()),
                (variant.width, variant.height)
            );
            assert_eq!(variant.content_type, "image/jpeg");
        }
    }

    #[test]
    fn a_png_stays_a_png_with_its_transparency() {
        let processed = process(&png(600, 300)).unwrap();
        assert_eq!(processed.kind, ImageKind::Png);
        assert_eq!((processed.width, processed.height), (600, 300));
        assert_eq!(processed.variants.len(), 1);
        let decoded = image::load_from_memory(&processed.bytes).unwrap();
        assert!(decoded.color().has_alpha());
        assert_eq!(
            decoded.to_rgba8().get_pixel(10, 20),
            &Rgba([10, 20, 90, 128])
        );
    }

    #[test]
    fn a_webp_is_taken_too() {
        let mut webp = Vec::new();
        DynamicImage::ImageRgb8(RgbImage::from_pixel(500, 100, Rgb([1, 2, 3])))
            .write_with_encoder(WebPEncoder::new_lossless(&mut webp))
            .unwrap();
        let processed = process(&webp).unwrap();
        assert_eq!(processed.kind, ImageKind::Webp);
        assert_eq!(processed.variants[0].content_type, "image/webp");
    }

    #[test]
    fn text_and_other_formats_are_415_whatever_they_are_called() {
        for bytes in [
            b"This is a text file named photo.jpg".to_vec(),
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            Vec::new(),
        ] {
            let err = process(&bytes).unwrap_err();
            assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert!(err.to_string().contains("JPEG, PNG or WebP"), "{err}");
        }
    }

    #[test]
    fn huge_dimensions_are_refused_before_decoding() {
        for (width, height) in [(100_000, 100_000), (12_001, 10), (11_000, 11_000)] {
            let err = process(&png_header(width, height)).unwrap_err();
            assert_eq!(
                err.status(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "{width}x{height}: {err}"
            );
            assert!(err.to_string().contains("12000 x 12000"), "{err}");
        }
    }

    #[test]
    fn a_damaged_image_is_a_field_error() {
        let mut truncated = jpeg(300, 300);
        truncated.truncate(40);
        let err = process(&truncated).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let AppError::Validation(errors) = err else {
            unreachable!()
        };
        assert!(errors.for_field("file").unwrap().contains("JPG"));
        let err = process(&png_header(10, 10)).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    }
}
