//! The media library: images and their variants kept in the database, so that every
//! node serves the same bytes.

use broadsheet_domain::{MediaId, NewMedia, NewVariant, StoreError, User, UserId};
use chrono::TimeDelta;

use crate::backends::{each_backend, each_backend_twice};
use crate::fixtures::{author, now};

/// An image `width` wide with variants at `variants`, its bytes made distinguishable.
fn image(uploader: &User, name: &str, width: u32, variants: &[u32], minutes: i64) -> NewMedia {
    NewMedia {
        filename: format!("{name}.jpg"),
        alt: format!("A picture of {name}"),
        content_type: "image/jpeg".into(),
        width,
        height: width / 2,
        bytes: format!("original of {name}").into_bytes(),
        variants: variants
            .iter()
            .map(|w| NewVariant {
                width: *w,
                height: w / 2,
                content_type: "image/webp".into(),
                bytes: format!("{name} at {w}").into_bytes(),
            })
            .collect(),
        uploaded_by: uploader.id,
        created_at: now() + TimeDelta::minutes(minutes),
    }
}

#[tokio::test]
async fn an_image_is_stored_with_its_variants_and_served_by_width() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        // Variants given out of order come back narrowest first.
        let new = image(&ada, "harbour", 2000, &[960, 480, 1600], 0);
        let media = store.insert_media(&new).await.unwrap();
        assert_eq!(media.filename, "harbour.jpg");
        assert_eq!(media.alt, "A picture of harbour");
        assert_eq!(media.content_type, "image/jpeg");
        assert_eq!((media.width, media.height), (2000, 1000));
        assert_eq!(media.size, new.bytes.len() as u64);
        assert_eq!(media.variants, vec![480, 960, 1600]);
        assert_eq!(media.uploaded_by, ada.id);
        assert_eq!(media.created_at, new.created_at);
        assert_eq!(store.media_by_id(media.id).await.unwrap(), media);

        let original = store.media_bytes(media.id, None).await.unwrap();
        assert_eq!(original.bytes, b"original of harbour");
        assert_eq!(original.content_type, "image/jpeg");
        assert_eq!(original.filename, "harbour.jpg");
        assert_eq!(original.width, 2000);

        // An exact width, the nearest wider variant, and past the widest: the original.
        for (asked, served, bytes) in [
            (480, 480, "harbour at 480"),
            (1, 480, "harbour at 480"),
            (481, 960, "harbour at 960"),
            (1600, 1600, "harbour at 1600"),
            (1601, 2000, "original of harbour"),
            (u32::MAX, 2000, "original of harbour"),
        ] {
            let found = store.media_bytes(media.id, Some(asked)).await.unwrap();
            assert_eq!(found.width, served, "asked for {asked}");
            assert_eq!(found.bytes, bytes.as_bytes(), "asked for {asked}");
            let content_type = if served == 2000 {
                "image/jpeg"
            } else {
                "image/webp"
            };
            assert_eq!(found.content_type, content_type);
            assert_eq!(found.filename, "harbour.jpg");
        }

        // An image too small for variants answers every width with the original.
        let small = store
            .insert_media(&image(&ada, "stamp", 300, &[], 1))
            .await
            .unwrap();
        assert!(small.variants.is_empty());
        let found = store.media_bytes(small.id, Some(480)).await.unwrap();
        assert_eq!(found.bytes, b"original of stamp");
    })
    .await;
}

#[tokio::test]
async fn the_library_lists_newest_first_in_pages() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let empty = store.list_media(10, 0).await.unwrap();
        assert!(empty.items.is_empty());
        assert_eq!(empty.total, 0);

        let mut ids = Vec::new();
        for (i, name) in ["one", "two", "three", "four", "five"].iter().enumerate() {
            let media = store
                .insert_media(&image(&ada, name, 1000, &[480, 960], i as i64))
                .await
                .unwrap();
            ids.push(media.id);
        }
        // Two uploaded in the same millisecond: the later id first.
        let same_time = store
            .insert_media(&image(&ada, "six", 1000, &[], 4))
            .await
            .unwrap();
        ids.push(same_time.id);

        let first = store.list_media(4, 0).await.unwrap();
        assert_eq!(first.total, 6);
        assert_eq!((first.page, first.per_page), (1, 4));
        let names: Vec<&str> = first.items.iter().map(|m| m.filename.as_str()).collect();
        assert_eq!(names, ["six.jpg", "five.jpg", "four.jpg", "three.jpg"]);
        assert_eq!(first.items[1].variants, vec![480, 960]);
        assert_eq!(first.items[0], same_time);

        let second = store.list_media(4, 4).await.unwrap();
        assert_eq!(second.page, 2);
        let names: Vec<&str> = second.items.iter().map(|m| m.filename.as_str()).collect();
        assert_eq!(names, ["two.jpg", "one.jpg"]);
        assert_eq!(second.total, 6);

        let past_the_end = store.list_media(4, 40).await.unwrap();
        assert!(past_the_end.items.is_empty());
        assert_eq!(past_the_end.total, 6);
    })
    .await;
}

#[tokio::test]
async fn alt_text_changes_and_deleting_removes_every_size() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let media = store
            .insert_media(&image(&ada, "pier", 1200, &[480, 960], 0))
            .await
            .unwrap();
        let changed = store
            .update_media_alt(media.id, "The pier at dawn")
            .await
            .unwrap();
        assert_eq!(changed.alt, "The pier at dawn");
        assert_eq!(changed.variants, media.variants);
        assert_eq!(store.media_by_id(media.id).await.unwrap(), changed);

        store.delete_media(media.id).await.unwrap();
        assert!(matches!(
            store.media_by_id(media.id).await,
            Err(StoreError::NotFound)
        ));
        for width in [None, Some(480), Some(960), Some(2000)] {
            assert!(
                matches!(
                    store.media_bytes(media.id, width).await,
                    Err(StoreError::NotFound)
                ),
                "{width:?}"
            );
        }
        assert!(matches!(
            store.delete_media(media.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.update_media_alt(media.id, "gone").await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.list_media(10, 0).await.unwrap().total, 0);

        // Cached URLs name ids: a deleted id is never handed out again.
        let next = store
            .insert_media(&image(&ada, "pier", 1200, &[], 1))
            .await
            .unwrap();
        assert!(next.id > media.id);
    })
    .await;
}

#[tokio::test]
async fn unknown_images_and_uploaders_are_not_found() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        assert!(matches!(
            store.media_by_id(MediaId(999)).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.media_bytes(MediaId(999), Some(480)).await,
            Err(StoreError::NotFound)
        ));
        let stranger = User {
            id: UserId(999),
            ..ada.clone()
        };
        assert!(matches!(
            store
                .insert_media(&image(&stranger, "x", 1000, &[480], 0))
                .await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.list_media(10, 0).await.unwrap().total,
            0,
            "nothing half-kept"
        );
    })
    .await;
}

#[tokio::test]
async fn every_node_serves_what_one_node_stored() {
    each_backend_twice(|one, other| async move {
        let ada = author(&*one, "Ada Lovelace").await;
        let media = one
            .insert_media(&image(&ada, "shared", 1000, &[480], 0))
            .await
            .unwrap();
        assert_eq!(other.media_by_id(media.id).await.unwrap(), media);
        let found = other.media_bytes(media.id, Some(480)).await.unwrap();
        assert_eq!(found.bytes, b"shared at 480");
    })
    .await;
}
