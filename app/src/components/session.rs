//! Who is logged in: asked once per page load and again whenever this browser's login
//! changes, and shared by the header and the pages (what only a site admin may use).

use crate::api::auth::whoami;
use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

/// The logged-in user as the server last said, with a counter that asks again. Provided once
/// by the app.
#[derive(Clone, Copy)]
pub struct Session {
    changes: RwSignal<u64>,
    user: Resource<Result<Option<CurrentUser>, AppError>>,
}

impl Session {
    /// Provides the session for the whole app.
    pub fn provide() {
        let changes = RwSignal::new(0);
        let user = Resource::new(move || changes.get(), |_| whoami());
        provide_context(Session { changes, user });
    }

    /// Tells everyone the login changed (logged in, logged out): who is logged in is asked again.
    pub fn changed() {
        if let Some(s) = use_context::<Session>() {
            s.changes.update(|n| *n += 1);
        }
    }

    /// Who is logged in (`None` for a visitor).
    pub fn user() -> Resource<Result<Option<CurrentUser>, AppError>> {
        expect_context::<Session>().user
    }
}

/// What only a site admin may use (the server refuses it to anyone else): shown to site admins,
/// nothing for anyone else. The server checks every action itself; this spares the others
/// forms that cannot succeed.
#[component]
pub fn SiteAdminOnly(children: ChildrenFn) -> impl IntoView {
    let user = Session::user();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move { matches!(user.await, Ok(Some(u)) if u.is_superuser).then(|| children()) })
            }}
        </Transition>
    }
}
