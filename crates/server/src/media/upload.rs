//! Reading an upload form (multipart, fields `alt` and `file`) with the size limit
//! enforced while the body streams in: a request stops being read at the first byte
//! past the limit, so an oversized upload never sits in memory whole.
//!
//! axum's own body limit on the upload route is set to the highest limit an operator
//! may configure (see [`route_body_limit`]); it is a backstop, and the configured
//! limit is the one counted here.

use axum::extract::DefaultBodyLimit;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;

use crate::config::MAX_UPLOAD_BYTES_CEILING;
use crate::error::AppError;

/// Bytes beyond the file itself that a form may carry: the multipart framing and the
/// small fields.
pub const FORM_OVERHEAD: u64 = 64 * 1024;

/// What an upload form said: the alt text, kept to re-show the form, and the file or
/// why it was refused.
pub struct UploadForm {
    pub alt: String,
    pub file: Result<UploadedFile, AppError>,
}

/// An uploaded file, as sent; nothing about it is trusted yet.
pub struct UploadedFile {
    /// The name the browser gave, for the stored file's name.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// axum's limit for the upload route: above any configurable upload.
pub fn route_body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(
        usize::try_from(MAX_UPLOAD_BYTES_CEILING + FORM_OVERHEAD).unwrap_or(usize::MAX),
    )
}

/// Reads the form. The file may be at most `max_bytes`; everything else together at
/// most [`FORM_OVERHEAD`].
pub async fn read_upload(mut multipart: Multipart, max_bytes: u64) -> UploadForm {
    let mut alt = String::new();
    let mut file = None;
    let mut other_bytes = 0u64;
    let outcome: Result<(), AppError> = async {
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(e, max_bytes))?
        {
            match field.name() {
                Some("file") => {
                    let name = field.file_name().unwrap_or_default().to_owned();
                    let bytes = read_field(&mut field, max_bytes, max_bytes).await?;
                    file = Some(UploadedFile { name, bytes });
                }
                Some("alt") => {
                    let limit = FORM_OVERHEAD - other_bytes;
                    let bytes = read_field(&mut field, limit, max_bytes).await?;
                    other_bytes += bytes.len() as u64;
                    alt = String::from_utf8_lossy(&bytes).into_owned();
                }
                // Anything else (a submit button's name) is read and dropped, within
                // the same allowance.
                _ => {
                    let limit = FORM_OVERHEAD - other_bytes;
                    other_bytes += read_field(&mut field, limit, max_bytes).await?.len() as u64;
                }
            }
        }
        Ok(())
    }
    .await;
    let file = match (outcome, file) {
        (Err(err), _) => Err(err),
        (Ok(()), Some(file)) if !file.bytes.is_empty() => Ok(file),
        (Ok(()), _) => Err(AppError::Validation(
            broadsheet_domain::ValidationErrors::single("file", "choose an image to upload"),
        )),
    };
    UploadForm { alt, file }
}

/// A field's bytes, refused with 413 past `limit`.
async fn read_field(
    field: &mut Field<'_>,
    limit: u64,
    max_bytes: u64,
) -> Result<Vec<u8>, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| multipart_error(e, max_bytes))?
    {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(too_large(max_bytes));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn multipart_error(err: MultipartError, max_bytes: u64) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max_bytes)
    } else {
        AppError::BadRequest(format!("The upload could not be read: {}", err.body_text()))
    }
}

pub fn too_large(max_bytes: u64) -> AppError {
    AppError::PayloadTooLarge(format!(
        "This file is larger than the upload limit of {}.",
        human_bytes(max_bytes)
    ))
}

/// `10 MiB`, `512 KiB`, `1.5 MiB`, `900 bytes`.
pub fn human_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    let (unit, name) = if bytes >= MIB {
        (MIB, "MiB")
    } else if bytes >= KIB {
        (KIB, "KiB")
    } else {
        return format!("{bytes} bytes");
    };
    let tenths = (bytes * 10 + unit / 2) / unit;
    if tenths.is_multiple_of(10) {
        format!("{} {name}", tenths / 10)
    } else {
        format!("{}.{} {name}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::FromRequest;
    use axum::http::Request;

    const BOUNDARY: &str = "XyZ123";

    fn form(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, file_name, bytes) in parts {
            body.extend(format!("--{BOUNDARY}\r\n").into_bytes());
            match file_name {
                Some(file_name) => body.extend(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; \
                         filename=\"{file_name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
                    )
                    .into_bytes(),
                ),
                None => body.extend(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").into_bytes(),
                ),
            }
            body.extend(*bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{BOUNDARY}--\r\n").into_bytes());
        body
    }

    async fn read(body: Vec<u8>, max_bytes: u64) -> UploadForm {
        let request = Request::post("/admin/media")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .unwrap();
        let multipart = Multipart::from_request(request, &()).await.unwrap();
        read_upload(multipart, max_bytes).await
    }

    #[tokio::test]
    async fn a_file_and_its_alt_text_are_read() {
        let body = form(&[
            ("alt", None, "A harbour".as_bytes()),
            ("file", Some("harbour.jpg"), &[1, 2, 3]),
            ("submit", None, b"Upload"),
        ]);
        let upload = read(body, 1024).await;
        assert_eq!(upload.alt, "A harbour");
        let file = upload.file.ok().unwrap();
        assert_eq!(file.name, "harbour.jpg");
        assert_eq!(file.bytes, [1, 2, 3]);
    }

    #[tokio::test]
    async fn an_oversized_file_is_413_naming_the_limit_and_the_alt_is_kept() {
        let big = vec![7u8; 3000];
        let body = form(&[("alt", None, b"Kept"), ("file", Some("big.jpg"), &big)]);
        let upload = read(body, 2048).await;
        assert_eq!(upload.alt, "Kept");
        let err = upload.file.err().unwrap();
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(err.to_string().contains("2 KiB"), "{err}");
        // Exactly at the limit is fine.
        let body = form(&[("file", Some("edge.jpg"), &big[..2048])]);
        assert!(read(body, 2048).await.file.is_ok());
    }

    #[tokio::test]
    async fn small_fields_cannot_carry_a_payload_past_the_limit() {
        let padding = vec![b'a'; FORM_OVERHEAD as usize + 1];
        let body = form(&[("junk", None, &padding), ("file", Some("a.jpg"), &[1])]);
        let err = read(body, 1024).await.file.err().unwrap();
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_missing_or_empty_file_is_a_field_error() {
        for body in [
            form(&[("alt", None, b"x")]),
            form(&[("file", Some(""), b"")]),
        ] {
            let err = read(body, 1024).await.file.err().unwrap();
            assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
    }

    #[test]
    fn sizes_read_like_a_person_would_say_them() {
        assert_eq!(human_bytes(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(human_bytes(2048), "2 KiB");
        assert_eq!(human_bytes(900), "900 bytes");
    }
}
