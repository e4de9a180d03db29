//! The media library (see the `0005_media` migration): images and their variants as
//! `bytea`. Listings and metadata reads never select `bytes`, so they stay cheap however
//! large the images.

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    Media, MediaBytes, MediaId, MediaStore, NewMedia, Paged, StoreError, UserId,
};
use chrono::{DateTime, Utc};

use crate::PgStore;
use crate::rows::db_error;

/// The columns of [`MediaRow`]; `m` is `media`.
macro_rules! select_media {
    () => {
        "SELECT m.id, m.filename, m.alt, m.content_type, m.width, m.height, m.size, \
         m.uploaded_by, m.created_at, \
         ARRAY(SELECT v.width FROM media_variants v WHERE v.media_id = m.id \
               ORDER BY v.width) AS variants \
         FROM media m"
    };
}

fn to_u32(value: i32) -> StoreResult<u32> {
    u32::try_from(value).map_err(StoreError::backend)
}

fn to_i32(value: u32) -> StoreResult<i32> {
    i32::try_from(value).map_err(StoreError::backend)
}

#[derive(sqlx::FromRow)]
struct MediaRow {
    id: i64,
    filename: String,
    alt: String,
    content_type: String,
    width: i32,
    height: i32,
    size: i64,
    uploaded_by: i64,
    created_at: DateTime<Utc>,
    variants: Vec<i32>,
}

impl TryFrom<MediaRow> for Media {
    type Error = StoreError;

    fn try_from(row: MediaRow) -> StoreResult<Media> {
        Ok(Media {
            id: MediaId(row.id),
            filename: row.filename,
            alt: row.alt,
            content_type: row.content_type,
            width: to_u32(row.width)?,
            height: to_u32(row.height)?,
            size: u64::try_from(row.size).map_err(StoreError::backend)?,
            variants: row
                .variants
                .into_iter()
                .map(to_u32)
                .collect::<StoreResult<_>>()?,
            uploaded_by: UserId(row.uploaded_by),
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct BytesRow {
    filename: String,
    content_type: String,
    width: i32,
    bytes: Vec<u8>,
}

impl TryFrom<BytesRow> for MediaBytes {
    type Error = StoreError;

    fn try_from(row: BytesRow) -> StoreResult<MediaBytes> {
        Ok(MediaBytes {
            filename: row.filename,
            content_type: row.content_type,
            width: to_u32(row.width)?,
            bytes: row.bytes,
        })
    }
}

async fn media_row(conn: &mut sqlx::PgConnection, id: i64) -> StoreResult<Media> {
    let row: MediaRow = sqlx::query_as(concat!(select_media!(), " WHERE m.id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(db_error)?;
    row.try_into()
}

#[async_trait]
impl MediaStore for PgStore {
    async fn insert_media(&self, media: &NewMedia) -> StoreResult<Media> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO media (filename, alt, content_type, width, height, size, \
             uploaded_by, created_at, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING id",
        )
        .bind(&media.filename)
        .bind(&media.alt)
        .bind(&media.content_type)
        .bind(to_i32(media.width)?)
        .bind(to_i32(media.height)?)
        .bind(i64::try_from(media.bytes.len()).map_err(StoreError::backend)?)
        .bind(media.uploaded_by.0)
        .bind(media.created_at)
        .bind(&media.bytes)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        for variant in &media.variants {
            sqlx::query(
                "INSERT INTO media_variants (media_id, width, height, content_type, bytes) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(to_i32(variant.width)?)
            .bind(to_i32(variant.height)?)
            .bind(&variant.content_type)
            .bind(&variant.bytes)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        let created = media_row(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn media_by_id(&self, id: MediaId) -> StoreResult<Media> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        media_row(&mut conn, id.0).await
    }

    async fn list_media(&self, limit: u32, offset: u64) -> StoreResult<Paged<Media>> {
        let limit = limit.max(1);
        let offset_value = i64::try_from(offset).map_err(StoreError::backend)?;
        // One snapshot, so the total and the page agree.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(db_error)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM media")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let rows: Vec<MediaRow> = sqlx::query_as(concat!(
            select_media!(),
            " ORDER BY m.created_at DESC, m.id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(i64::from(limit))
        .bind(offset_value)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(Paged {
            items: rows
                .into_iter()
                .map(Media::try_from)
                .collect::<StoreResult<_>>()?,
            total: u64::try_from(total).map_err(StoreError::backend)?,
            page: u32::try_from(offset / u64::from(limit) + 1).unwrap_or(u32::MAX),
            per_page: limit,
        })
    }

    async fn media_bytes(&self, id: MediaId, width: Option<u32>) -> StoreResult<MediaBytes> {
        if let Some(width) = width {
            // Widths past i32 have no variant: the original answers.
            if let Ok(width) = i32::try_from(width) {
                let variant: Option<BytesRow> = sqlx::query_as(
                    "SELECT m.filename, v.content_type, v.width, v.bytes \
                     FROM media_variants v JOIN media m ON m.id = v.media_id \
                     WHERE v.media_id = $1 AND v.width >= $2 ORDER BY v.width LIMIT 1",
                )
                .bind(id.0)
                .bind(width)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
                if let Some(variant) = variant {
                    return variant.try_into();
                }
            }
        }
        let original: BytesRow =
            sqlx::query_as("SELECT filename, content_type, width, bytes FROM media WHERE id = $1")
                .bind(id.0)
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
        original.try_into()
    }

    async fn update_media_alt(&self, id: MediaId, alt: &str) -> StoreResult<Media> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let updated = sqlx::query("UPDATE media SET alt = $1 WHERE id = $2")
            .bind(alt)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let media = media_row(&mut tx, id.0).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(media)
    }

    async fn delete_media(&self, id: MediaId) -> StoreResult<()> {
        // The variants go with it (ON DELETE CASCADE).
        let deleted = sqlx::query("DELETE FROM media WHERE id = $1")
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
