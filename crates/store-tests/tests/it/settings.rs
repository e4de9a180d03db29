use broadsheet_domain::read_time::ReadingSpeed;
use broadsheet_domain::{CommentSettings, FeedContent, ReactionDef, SiteSettings};

use crate::backends::each_backend;

#[tokio::test]
async fn settings_start_as_defaults_and_keep_what_is_saved() {
    each_backend(|store| async move {
        assert_eq!(store.settings().await.unwrap(), SiteSettings::default());

        let mine = SiteSettings {
            title: "The Daily \"Quote\"".into(),
            description: "Notizie, écrites à la main.".into(),
            time_zone: "Europe/Berlin".into(),
            language: "de-CH".into(),
            reading_speed: ReadingSpeed {
                words_per_minute: 230,
                cjk_chars_per_minute: 450,
            },
            per_page: 25,
            // A site's own reaction set is kept as saved, in its order.
            reactions: vec![ReactionDef {
                key: "insightful".into(),
                label: "Insightful".into(),
                emoji: "💡".into(),
            }],
            comments: CommentSettings {
                hold_all: true,
                max_depth: 3,
                blocklist: vec!["casino".into()],
                ..CommentSettings::default()
            },
            feed_content: FeedContent::Excerpt,
        };
        store.save_settings(&mine).await.unwrap();
        assert_eq!(store.settings().await.unwrap(), mine);

        let changed = SiteSettings {
            per_page: 5,
            ..mine
        };
        store.save_settings(&changed).await.unwrap();
        assert_eq!(
            store.settings().await.unwrap(),
            changed,
            "saving again replaces"
        );
    })
    .await;
}
