//! API tokens: kept by hash only, found with their user while live, ended by revoking
//! or by deactivating the user, listed per user or for everyone.

use broadsheet_domain::{ApiTokenId, NewApiToken, Scope, StoreError, UserChanges, UserId};
use chrono::TimeDelta;

use crate::backends::each_backend;
use crate::fixtures::{author, now};

fn token(user: UserId, hash: &str, scope: Scope) -> NewApiToken {
    NewApiToken {
        user_id: user,
        name: format!("token {hash}"),
        scope,
        token_hash: hash.into(),
        prefix: "bs_abcd".into(),
        created_at: now(),
    }
}

#[tokio::test]
async fn a_token_works_until_it_is_revoked_or_its_user_is_deactivated() {
    each_backend(|store| async move {
        // An active admin, so deactivating an author below is allowed.
        let admin = broadsheet_domain::NewUser::validate(
            "Site Admin",
            "admin@example.org",
            broadsheet_domain::Role::Admin,
            None,
        )
        .unwrap();
        store.create_user(&admin).await.unwrap();
        let ada = author(&*store, "Ada Lovelace").await;
        let grace = author(&*store, "Grace Hopper").await;
        let made = store
            .create_api_token(&token(ada.id, "h-ada", Scope::Write))
            .await
            .unwrap();
        assert_eq!(made.user_id, ada.id);
        assert_eq!(made.scope, Scope::Write);
        assert_eq!(made.name, "token h-ada");
        assert_eq!(made.prefix, "bs_abcd");
        assert_eq!(made.created_at, now());
        assert_eq!(made.last_used_at, None);
        assert!(!made.is_revoked());
        let other = store
            .create_api_token(&token(grace.id, "h-grace", Scope::Read))
            .await
            .unwrap();

        let (found, user) = store.api_token_user("h-ada").await.unwrap();
        assert_eq!((found.id, user.id), (made.id, ada.id));
        assert!(matches!(
            store.api_token_user("nope").await,
            Err(StoreError::NotFound)
        ));

        let later = now() + TimeDelta::minutes(3);
        store.touch_api_token(made.id, later).await.unwrap();
        assert_eq!(
            store.api_token_by_id(made.id).await.unwrap().last_used_at,
            Some(later)
        );

        assert_eq!(store.list_api_tokens(Some(ada.id)).await.unwrap().len(), 1);
        let all = store.list_api_tokens(None).await.unwrap();
        assert_eq!(
            all.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![other.id, made.id],
            "newest first"
        );

        let revoked = store.revoke_api_token(made.id, later).await.unwrap();
        assert_eq!(revoked.revoked_at, Some(later));
        let again = store
            .revoke_api_token(made.id, later + TimeDelta::hours(1))
            .await
            .unwrap();
        assert_eq!(again.revoked_at, Some(later), "the first revocation stands");
        assert!(matches!(
            store.api_token_user("h-ada").await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.list_api_tokens(Some(ada.id)).await.unwrap().len(),
            1,
            "revoked tokens stay listed"
        );

        store.api_token_user("h-grace").await.unwrap();
        store
            .update_user(
                grace.id,
                &UserChanges {
                    active: Some(false),
                    ..UserChanges::default()
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            store.api_token_user("h-grace").await,
            Err(StoreError::NotFound)
        ));

        assert!(matches!(
            store.revoke_api_token(ApiTokenId(9999), now()).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .create_api_token(&token(UserId(9999), "h-x", Scope::Read))
                .await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}
