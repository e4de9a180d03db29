//! Accounts: sessions that every process on the database sees and that end when they
//! expire, when their user is deactivated or changes password; the login lockout; the
//! last active admin who cannot be removed; single-use password resets; the audit log.

use std::sync::Arc;

use broadsheet_domain::account::{LOCKED_FOR, MAX_FAILURES, SESSION_LIFETIME};
use broadsheet_domain::{
    Change, NewAuditEntry, NewUser, Role, Session, Store, StoreError, User, UserChanges, UserId,
};
use chrono::TimeDelta;

use crate::backends::{each_backend, each_backend_twice};
use crate::changes::next;
use crate::fixtures::{author, now};

async fn user(store: &dyn Store, name: &str, role: Role) -> User {
    let email = format!("{}@example.org", broadsheet_domain::slug::slugify(name));
    let new = NewUser::validate(name, &email, role, Some("$argon2id$stub".into())).unwrap();
    store.create_user(&new).await.unwrap()
}

fn session(hash: &str, user: UserId) -> Session {
    Session::start(hash.into(), user, format!("csrf-{hash}"), now())
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

fn deactivate() -> UserChanges {
    UserChanges {
        active: Some(false),
        ..UserChanges::default()
    }
}

#[tokio::test]
async fn a_session_started_on_one_node_works_on_another_until_it_ends() {
    each_backend_twice(|one, two| async move {
        let ada = user(&*one, "Ada Lovelace", Role::Editor).await;
        let started = session("h1", ada.id);
        one.create_session(&started).await.unwrap();

        let (found, found_user) = two.session_user("h1", now()).await.unwrap();
        assert_eq!(found, started);
        assert_eq!(found_user, ada);
        assert!(is_not_found(two.session_user("other", now()).await));

        two.delete_session("h1").await.unwrap();
        assert!(is_not_found(one.session_user("h1", now()).await));
        // Ending it again is fine.
        one.delete_session("h1").await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_unless_used() {
    each_backend(|store| async move {
        let ada = user(&*store, "Ada Lovelace", Role::Author).await;
        store.create_session(&session("h1", ada.id)).await.unwrap();
        let end = now() + SESSION_LIFETIME;
        assert!(
            store
                .session_user("h1", end - TimeDelta::milliseconds(1))
                .await
                .is_ok()
        );
        assert!(is_not_found(store.session_user("h1", end).await));

        // A use a day in moves the end a day out.
        let later = now() + TimeDelta::days(1);
        store.touch_session("h1", later).await.unwrap();
        let (touched, _) = store.session_user("h1", end).await.unwrap();
        assert_eq!(touched.last_seen_at, later);
        assert_eq!(touched.expires_at, later + SESSION_LIFETIME);

        // Starting a session sweeps out the expired ones.
        let far = later + SESSION_LIFETIME + TimeDelta::days(1);
        store
            .create_session(&Session::start("h2".into(), ada.id, "c".into(), far))
            .await
            .unwrap();
        store.touch_session("h1", now()).await.unwrap();
        assert!(
            is_not_found(store.session_user("h1", now()).await),
            "gone, not only expired"
        );
    })
    .await;
}

#[tokio::test]
async fn deactivating_a_user_or_setting_a_password_ends_their_sessions() {
    each_backend(|store| async move {
        user(&*store, "Grace Hopper", Role::Admin).await;
        let ada = user(&*store, "Ada Lovelace", Role::Editor).await;
        let bob = user(&*store, "Bob Woodward", Role::Author).await;
        store
            .create_session(&session("ada1", ada.id))
            .await
            .unwrap();
        store
            .create_session(&session("ada2", ada.id))
            .await
            .unwrap();
        store.create_session(&session("bob", bob.id)).await.unwrap();

        store.set_password(ada.id, "$argon2id$new").await.unwrap();
        assert!(is_not_found(store.session_user("ada1", now()).await));
        assert!(is_not_found(store.session_user("ada2", now()).await));
        assert!(store.session_user("bob", now()).await.is_ok());
        assert_eq!(
            store
                .user_by_id(ada.id)
                .await
                .unwrap()
                .password_hash
                .as_deref(),
            Some("$argon2id$new")
        );

        let bob = store.update_user(bob.id, &deactivate()).await.unwrap();
        assert!(!bob.active);
        assert!(is_not_found(store.session_user("bob", now()).await));
        // A session of a deactivated user (say, one made before) is refused too.
        store
            .create_session(&session("bob2", bob.id))
            .await
            .unwrap();
        assert!(is_not_found(store.session_user("bob2", now()).await));

        store
            .create_session(&session("ada3", ada.id))
            .await
            .unwrap();
        store.delete_user_sessions(ada.id).await.unwrap();
        assert!(is_not_found(store.session_user("ada3", now()).await));

        assert!(is_not_found(store.set_password(UserId(9999), "x").await));
    })
    .await;
}

#[tokio::test]
async fn users_change_name_role_and_state_and_everyone_hears_of_it() {
    each_backend(|store| async move {
        user(&*store, "Grace Hopper", Role::Admin).await;
        let ada = author(&*store, "Ada Lovelace").await;
        let mut changes = store.subscribe().await.unwrap();
        let changed = store
            .update_user(
                ada.id,
                &UserChanges {
                    display_name: Some("Ada King".into()),
                    role: Some(Role::Editor),
                    active: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(changed.display_name, "Ada King");
        assert_eq!(changed.role, Role::Editor);
        assert_eq!(changed.slug, ada.slug, "slugs do not follow names");
        assert!(changed.active);
        assert_eq!(next(&mut changes).await, Change::Users);
        assert_eq!(store.user_by_id(ada.id).await.unwrap(), changed);

        let back = store
            .update_user(
                ada.id,
                &UserChanges {
                    active: Some(true),
                    ..deactivate()
                },
            )
            .await
            .unwrap();
        assert_eq!(back, changed, "no change asked, none made");
        assert!(is_not_found(
            store.update_user(UserId(9999), &deactivate()).await
        ));
    })
    .await;
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_deactivated() {
    each_backend(|store| async move {
        let grace = user(&*store, "Grace Hopper", Role::Admin).await;
        let demote = UserChanges {
            role: Some(Role::Editor),
            ..UserChanges::default()
        };
        assert!(matches!(
            store.update_user(grace.id, &demote).await,
            Err(StoreError::Conflict { field: "role" })
        ));
        assert!(matches!(
            store.update_user(grace.id, &deactivate()).await,
            Err(StoreError::Conflict { field: "active" })
        ));
        assert_eq!(
            store.user_by_id(grace.id).await.unwrap(),
            grace,
            "unchanged"
        );

        // With a second admin, one may go; then the other is the last.
        let ada = user(&*store, "Ada Lovelace", Role::Admin).await;
        store.update_user(grace.id, &demote).await.unwrap();
        assert!(store.update_user(ada.id, &deactivate()).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    each_backend_twice(|one, two| async move {
        let grace = user(&*one, "Grace Hopper", Role::Admin).await;
        let ada = user(&*one, "Ada Lovelace", Role::Admin).await;
        let demote = UserChanges {
            role: Some(Role::Editor),
            ..UserChanges::default()
        };
        let (a, b) = tokio::join!(
            one.update_user(grace.id, &demote),
            two.update_user(ada.id, &demote)
        );
        assert_eq!(
            [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
            1,
            "{a:?} {b:?}"
        );
        let admins = one
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.role == Role::Admin && u.active)
            .count();
        assert_eq!(admins, 1);
    })
    .await;
}

/// A would-be first admin, as the setup form makes one.
fn candidate(name: &str) -> NewUser {
    let email = format!("{}@example.org", broadsheet_domain::slug::slugify(name));
    NewUser::validate(name, &email, Role::Author, Some("$argon2id$x".into())).unwrap()
}

#[tokio::test]
async fn setup_is_closed_once_an_active_admin_exists() {
    each_backend(|store| async move {
        // An inactive admin does not count...
        let old = user(&*store, "Old Admin", Role::Admin).await;
        user(&*store, "Grace Hopper", Role::Admin).await;
        store.update_user(old.id, &deactivate()).await.unwrap();
        // ...but an active one does.
        assert!(matches!(
            store.create_first_admin(&candidate("Eve")).await,
            Err(StoreError::Conflict { field: "admin" })
        ));
        assert!(is_not_found(store.user_by_email("eve@example.org").await));
    })
    .await;
}

#[tokio::test]
async fn two_setups_at_once_make_one_admin() {
    each_backend_twice(|one, two| async move {
        let (ada, grace) = (candidate("Ada Lovelace"), candidate("Grace Hopper"));
        let (a, b) = tokio::join!(one.create_first_admin(&ada), two.create_first_admin(&grace));
        let made: Vec<User> = [a, b].into_iter().filter_map(Result::ok).collect();
        assert_eq!(made.len(), 1, "exactly one setup wins");
        assert_eq!(made[0].role, Role::Admin, "whatever role the input said");
        assert_eq!(one.list_users().await.unwrap(), made);
    })
    .await;
}

#[tokio::test]
async fn failed_sign_ins_lock_an_address_for_a_while() {
    each_backend_twice(|one, two| async move {
        let email = "anyone@example.org";
        assert_eq!(one.login_failures(email).await.unwrap().count, 0);
        // Failures arriving at two nodes all count.
        for i in 0..MAX_FAILURES - 1 {
            let node: &Arc<dyn Store> = if i % 2 == 0 { &one } else { &two };
            let at = now() + TimeDelta::seconds(i64::from(i));
            let failures = node.record_login_failure(email, at).await.unwrap();
            assert_eq!(failures.count, i + 1);
            assert_eq!(failures.locked_at(at), None);
        }
        let at = now() + TimeDelta::minutes(1);
        let locked = two.record_login_failure(email, at).await.unwrap();
        assert_eq!(locked.locked_at(at), Some(at + LOCKED_FOR));
        assert_eq!(one.login_failures(email).await.unwrap(), locked);
        assert_eq!(
            one.login_failures("other@example.org").await.unwrap().count,
            0
        );

        one.clear_login_failures(email).await.unwrap();
        assert_eq!(two.login_failures(email).await.unwrap().locked_at(at), None);
    })
    .await;
}

#[tokio::test]
async fn concurrent_failures_for_one_address_are_all_counted() {
    each_backend_twice(|one, two| async move {
        let email = "race@example.org";
        let tries = (0..4).map(|i| {
            let node = if i % 2 == 0 { one.clone() } else { two.clone() };
            async move { node.record_login_failure(email, now()).await.unwrap() }
        });
        futures::future::join_all(tries).await;
        assert_eq!(one.login_failures(email).await.unwrap().count, 4);
    })
    .await;
}

#[tokio::test]
async fn reset_tokens_work_once_and_not_after_they_expire() {
    each_backend_twice(|one, two| async move {
        let ada = user(&*one, "Ada Lovelace", Role::Author).await;
        let expires = now() + TimeDelta::hours(1);
        one.create_password_reset("r1", ada.id, expires)
            .await
            .unwrap();
        one.create_password_reset("r2", ada.id, expires)
            .await
            .unwrap();

        assert_eq!(two.take_password_reset("r1", now()).await.unwrap(), ada.id);
        assert!(
            is_not_found(one.take_password_reset("r1", now()).await),
            "single use"
        );
        assert!(is_not_found(one.take_password_reset("nope", now()).await));
        assert!(
            is_not_found(two.take_password_reset("r2", expires).await),
            "expired"
        );
        assert!(
            is_not_found(two.take_password_reset("r2", now()).await),
            "and gone"
        );

        // Two nodes racing for one token: one wins.
        one.create_password_reset("r3", ada.id, expires)
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            one.take_password_reset("r3", now()),
            two.take_password_reset("r3", now())
        );
        assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1);
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_pages_newest_first() {
    each_backend(|store| async move {
        let grace = user(&*store, "Grace Hopper", Role::Admin).await;
        for i in 0..5 {
            store
                .record_audit(&NewAuditEntry {
                    at: now() + TimeDelta::minutes(i),
                    actor_id: grace.id,
                    action: "user.role".into(),
                    target: format!("user:{i}"),
                    detail: format!("change {i}"),
                })
                .await
                .unwrap();
        }
        let first = store.list_audit(1, 2).await.unwrap();
        assert_eq!(first.total, 5);
        assert_eq!(first.pages(), 3);
        let targets: Vec<_> = first.items.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(targets, ["user:4", "user:3"]);
        let entry = &first.items[0];
        assert_eq!(entry.actor_id, grace.id);
        assert_eq!(entry.actor_name, "Grace Hopper");
        assert_eq!(entry.at, now() + TimeDelta::minutes(4));
        assert_eq!(
            (entry.action.as_str(), entry.detail.as_str()),
            ("user.role", "change 4")
        );
        let last = store.list_audit(3, 2).await.unwrap();
        assert_eq!(last.items.len(), 1);
        assert_eq!(last.items[0].target, "user:0");
        assert!(store.list_audit(4, 2).await.unwrap().items.is_empty());
    })
    .await;
}

#[tokio::test]
async fn comment_notices_are_on_until_a_user_stops_them_and_can_be_turned_back_on() {
    each_backend(|store| async move {
        let ada = user(&*store, "Ada Lovelace", Role::Editor).await;
        let bob = user(&*store, "Bob Woodward", Role::Admin).await;
        assert_eq!(store.comment_notices_off().await.unwrap(), vec![]);
        store
            .set_comment_notices(bob.id, false, now())
            .await
            .unwrap();
        // Stopping twice is the same as once; an unknown user changes nothing.
        store
            .set_comment_notices(bob.id, false, now())
            .await
            .unwrap();
        store
            .set_comment_notices(UserId(9_999), false, now())
            .await
            .unwrap();
        assert_eq!(store.comment_notices_off().await.unwrap(), vec![bob.id]);
        store
            .set_comment_notices(ada.id, false, now())
            .await
            .unwrap();
        store
            .set_comment_notices(bob.id, true, now())
            .await
            .unwrap();
        assert_eq!(store.comment_notices_off().await.unwrap(), vec![ada.id]);
    })
    .await;
}
