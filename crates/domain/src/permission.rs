//! Who may do what in the newsroom (SPEC.md section 2): the one permission check every
//! admin route and API call goes through.
//!
//! Contributors write drafts; authors publish their own articles; editors publish and
//! edit everyone's and moderate comments; admins also manage users and settings. The
//! matrix is [`permits`]; a handler asks it once per request with the signed-in user's
//! role and what the request touches ([`Target`]).

use crate::user::{Role, User, UserId};

/// Something a signed-in user may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Start a new article or page (always as a draft).
    CreateArticle,
    /// Open an article in the editor, see its revisions and preview it.
    ViewArticle,
    /// Change an article's text, or restore one of its revisions.
    EditArticle,
    /// Publish, schedule or unpublish an article.
    PublishArticle,
    /// Delete an article.
    DeleteArticle,
    /// Upload images to the media library.
    UploadMedia,
    /// Delete an image from the media library.
    DeleteMedia,
    /// Approve, hold, spam or delete readers' comments.
    ModerateComments,
    /// See the site's dashboard (views, reactions, comments, top articles).
    ViewDashboard,
    /// Add users, change their roles, deactivate them.
    ManageUsers,
    /// Change the site settings.
    ManageSettings,
    /// Read the audit log and the job queue, and retry dead jobs.
    Operate,
    /// Export or erase a reader's data, such as a commenter's comments and email
    /// (SPEC 4: "by an admin").
    ManagePersonalData,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::CreateArticle,
        Action::ViewArticle,
        Action::EditArticle,
        Action::PublishArticle,
        Action::DeleteArticle,
        Action::UploadMedia,
        Action::DeleteMedia,
        Action::ModerateComments,
        Action::ViewDashboard,
        Action::ManageUsers,
        Action::ManageSettings,
        Action::Operate,
        Action::ManagePersonalData,
    ];
}

/// What an action touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The site as a whole (users, settings, the media library, the dashboard).
    Site,
    /// One article: whether the acting user wrote it, and whether it is live
    /// (published or scheduled), because a contributor's hold on their own article ends
    /// once an editor has published it.
    Article { own: bool, live: bool },
}

impl Target {
    /// The target for `user` acting on an article by `author` in the given state.
    pub fn article(user: &User, author: UserId, live: bool) -> Target {
        Target::Article {
            own: user.id == author,
            live,
        }
    }
}

/// The permission matrix. Deactivated users are refused before this is asked (they
/// cannot sign in), so only the role matters here.
pub fn permits(role: Role, action: Action, target: Target) -> bool {
    use Action::*;
    let at_least = |r: Role| role >= r;
    let (own, live) = match target {
        Target::Site => (false, false),
        Target::Article { own, live } => (own, live),
    };
    match action {
        CreateArticle => true,
        ViewArticle => own || at_least(Role::Editor),
        // A contributor may change their own article until it goes live; an author
        // keeps their own article for good; editors may change anyone's.
        EditArticle | DeleteArticle => {
            (own && (!live || at_least(Role::Author))) || at_least(Role::Editor)
        }
        PublishArticle => (own && at_least(Role::Author)) || at_least(Role::Editor),
        UploadMedia => at_least(Role::Author),
        DeleteMedia | ModerateComments | ViewDashboard => at_least(Role::Editor),
        ManageUsers | ManageSettings | Operate | ManagePersonalData => at_least(Role::Admin),
    }
}

/// `permits` for a user: false for a deactivated user whatever their role.
pub fn user_permits(user: &User, action: Action, target: Target) -> bool {
    user.active && permits(user.role, action, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Role::*;

    const OWN_DRAFT: Target = Target::Article {
        own: true,
        live: false,
    };
    const OWN_LIVE: Target = Target::Article {
        own: true,
        live: true,
    };
    const OTHERS_DRAFT: Target = Target::Article {
        own: false,
        live: false,
    };
    const OTHERS_LIVE: Target = Target::Article {
        own: false,
        live: true,
    };

    /// The whole matrix written out as a table: for every role, action and target, the
    /// expected answer. A change to `permits` that is not also made here fails.
    #[test]
    fn matrix_per_role_and_action() {
        // (action, target, [contributor, author, editor, admin])
        let table: &[(Action, Target, [bool; 4])] = &[
            (CreateArticle, Target::Site, [true, true, true, true]),
            (ViewArticle, OWN_DRAFT, [true, true, true, true]),
            (ViewArticle, OTHERS_DRAFT, [false, false, true, true]),
            (ViewArticle, OTHERS_LIVE, [false, false, true, true]),
            (EditArticle, OWN_DRAFT, [true, true, true, true]),
            (EditArticle, OWN_LIVE, [false, true, true, true]),
            (EditArticle, OTHERS_DRAFT, [false, false, true, true]),
            (EditArticle, OTHERS_LIVE, [false, false, true, true]),
            (DeleteArticle, OWN_DRAFT, [true, true, true, true]),
            (DeleteArticle, OWN_LIVE, [false, true, true, true]),
            (DeleteArticle, OTHERS_LIVE, [false, false, true, true]),
            (PublishArticle, OWN_DRAFT, [false, true, true, true]),
            (PublishArticle, OWN_LIVE, [false, true, true, true]),
            (PublishArticle, OTHERS_DRAFT, [false, false, true, true]),
            (UploadMedia, Target::Site, [false, true, true, true]),
            (DeleteMedia, Target::Site, [false, false, true, true]),
            (ModerateComments, Target::Site, [false, false, true, true]),
            (ViewDashboard, Target::Site, [false, false, true, true]),
            (ManageUsers, Target::Site, [false, false, false, true]),
            (ManageSettings, Target::Site, [false, false, false, true]),
            (Operate, Target::Site, [false, false, false, true]),
            (
                ManagePersonalData,
                Target::Site,
                [false, false, false, true],
            ),
        ];
        for (action, target, expected) in table {
            for (role, want) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(
                    permits(role, *action, *target),
                    *want,
                    "{role} {action:?} {target:?}"
                );
            }
        }
        // Every action appears in the table.
        for action in Action::ALL {
            assert!(table.iter().any(|(a, _, _)| *a == action), "{action:?}");
        }
    }

    #[test]
    fn deactivated_users_may_do_nothing() {
        let user = User {
            id: UserId(1),
            slug: "a".into(),
            display_name: "A".into(),
            email: "a@example.org".into(),
            role: Admin,
            bio: String::new(),
            active: false,
            password_hash: None,
            created_at: chrono::Utc::now(),
        };
        for action in Action::ALL {
            assert!(!user_permits(&user, action, Target::Site));
        }
        let target = Target::article(&user, UserId(1), false);
        assert_eq!(
            target,
            Target::Article {
                own: true,
                live: false
            }
        );
    }
}
