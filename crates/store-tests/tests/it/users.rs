use broadsheet_domain::{NewUser, Role, StoreError, UserId, clock};

use crate::backends::each_backend;
use crate::fixtures::author;

#[tokio::test]
async fn users_are_created_and_found_by_id_slug_and_email() {
    each_backend(|store| async move {
        let before = clock::now();
        let new = NewUser::validate("Ada Lovelace", "Ada@Example.org", Role::Editor, None).unwrap();
        let ada = store.create_user(&new).await.unwrap();
        assert_eq!(ada.slug, "ada-lovelace");
        assert_eq!(ada.display_name, "Ada Lovelace");
        assert_eq!(ada.email, "ada@example.org");
        assert_eq!(ada.role, Role::Editor);
        assert_eq!(ada.password_hash, None);
        assert!(ada.active, "new users can log in");
        assert!(ada.created_at >= before && ada.created_at <= clock::now());

        assert_eq!(store.user_by_id(ada.id).await.unwrap(), ada);
        assert_eq!(store.user_by_slug("ada-lovelace").await.unwrap(), ada);
        assert_eq!(store.user_by_email("ada@example.org").await.unwrap(), ada);

        let with_password = NewUser {
            bio: "Counts things.".into(),
            ..NewUser::validate(
                "Grace Hopper",
                "grace@example.org",
                Role::Admin,
                Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            )
            .unwrap()
        };
        let grace = store.create_user(&with_password).await.unwrap();
        assert_eq!(store.user_by_id(grace.id).await.unwrap(), grace);
        assert_eq!(grace.bio, "Counts things.");
        assert!(grace.password_hash.is_some());

        let all = store.list_users().await.unwrap();
        assert_eq!(all, vec![ada, grace], "oldest first");
    })
    .await;
}

#[tokio::test]
async fn unknown_users_are_not_found() {
    each_backend(|store| async move {
        author(&*store, "Ada Lovelace").await;
        assert!(matches!(
            store.user_by_id(UserId(9999)).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.user_by_slug("nobody").await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.user_by_email("nobody@example.org").await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn email_and_slug_are_each_taken_once() {
    each_backend(|store| async move {
        author(&*store, "Ada Lovelace").await;

        let same_email = NewUser::validate(
            "Someone Else",
            "ada-lovelace@example.org",
            Role::Author,
            None,
        )
        .unwrap();
        let err = store.create_user(&same_email).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { field: "email" }),
            "{err:?}"
        );

        let same_name =
            NewUser::validate("Ada Lovelace", "other@example.org", Role::Author, None).unwrap();
        let err = store.create_user(&same_name).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { field: "slug" }),
            "{err:?}"
        );

        assert_eq!(
            store.list_users().await.unwrap().len(),
            1,
            "nothing half-created"
        );
    })
    .await;
}
