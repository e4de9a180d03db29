//! The media library (see the `0007_media` migration): images and their variants as
//! BLOBs. Listings and metadata reads never select `bytes`, so they stay cheap however
//! large the images.

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    Media, MediaBytes, MediaId, MediaStore, NewMedia, Paged, StoreError, UserId,
};

use crate::SqliteStore;
use crate::rows::{db_error, from_millis, millis, to_u32};

/// The columns of [`MediaRow`]; `m` is `media`. The variant widths come as one
/// comma-separated list.
macro_rules! select_media {
    () => {
        "SELECT m.id, m.filename, m.alt, m.content_type, m.width, m.height, m.size, \
         m.uploaded_by, m.created_at, \
         (SELECT group_concat(v.width) FROM media_variants v WHERE v.media_id = m.id) \
         AS variants \
         FROM media m"
    };
}

#[derive(sqlx::FromRow)]
struct MediaRow {
    id: i64,
    filename: String,
    alt: String,
    content_type: String,
    width: i64,
    height: i64,
    size: i64,
    uploaded_by: i64,
    created_at: i64,
    variants: Option<String>,
}

impl TryFrom<MediaRow> for Media {
    type Error = StoreError;

    fn try_from(row: MediaRow) -> StoreResult<Media> {
        let mut variants = row
            .variants
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|w| !w.is_empty())
            .map(|w| w.parse::<u32>().map_err(StoreError::backend))
            .collect::<StoreResult<Vec<u32>>>()?;
        variants.sort_unstable();
        Ok(Media {
            id: MediaId(row.id),
            filename: row.filename,
            alt: row.alt,
            content_type: row.content_type,
            width: to_u32(row.width)?,
            height: to_u32(row.height)?,
            size: u64::try_from(row.size).map_err(StoreError::backend)?,
            variants,
            uploaded_by: UserId(row.uploaded_by),
            created_at: from_millis(row.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct BytesRow {
    filename: String,
    content_type: String,
    width: i64,
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

#[async_trait]
impl MediaStore for SqliteStore {
    async fn insert_media(&self, media: &NewMedia) -> StoreResult<Media> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO media (filename, alt, content_type, width, height, size, \
             uploaded_by, created_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&media.filename)
        .bind(&media.alt)
        .bind(&media.content_type)
        .bind(media.width)
        .bind(media.height)
        .bind(i64::try_from(media.bytes.len()).map_err(StoreError::backend)?)
        .bind(media.uploaded_by.0)
        .bind(millis(media.created_at))
        .bind(&media.bytes)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        for variant in &media.variants {
            sqlx::query(
                "INSERT INTO media_variants (media_id, width, height, content_type, bytes) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(variant.width)
            .bind(variant.height)
            .bind(&variant.content_type)
            .bind(&variant.bytes)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        let row: MediaRow = sqlx::query_as(concat!(select_media!(), " WHERE m.id = ?"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.try_into()
    }

    async fn media_by_id(&self, id: MediaId) -> StoreResult<Media> {
        let row: MediaRow = sqlx::query_as(concat!(select_media!(), " WHERE m.id = ?"))
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        row.try_into()
    }

    async fn list_media(&self, limit: u32, offset: u64) -> StoreResult<Paged<Media>> {
        let limit = limit.max(1);
        let offset_value = i64::try_from(offset).map_err(StoreError::backend)?;
        // One read transaction, so the total and the page agree.
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM media")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let rows: Vec<MediaRow> = sqlx::query_as(concat!(
            select_media!(),
            " ORDER BY m.created_at DESC, m.id DESC LIMIT ? OFFSET ?"
        ))
        .bind(limit)
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
            let variant: Option<BytesRow> = sqlx::query_as(
                "SELECT m.filename, v.content_type, v.width, v.bytes \
                 FROM media_variants v JOIN media m ON m.id = v.media_id \
                 WHERE v.media_id = ? AND v.width >= ? ORDER BY v.width LIMIT 1",
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
        let original: BytesRow =
            sqlx::query_as("SELECT filename, content_type, width, bytes FROM media WHERE id = ?")
                .bind(id.0)
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
        original.try_into()
    }

    async fn update_media_alt(&self, id: MediaId, alt: &str) -> StoreResult<Media> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE media SET alt = ? WHERE id = ?")
            .bind(alt)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let row: MediaRow = sqlx::query_as(concat!(select_media!(), " WHERE m.id = ?"))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.try_into()
    }

    async fn delete_media(&self, id: MediaId) -> StoreResult<()> {
        // The variants go with it (ON DELETE CASCADE).
        let deleted = sqlx::query("DELETE FROM media WHERE id = ?")
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
