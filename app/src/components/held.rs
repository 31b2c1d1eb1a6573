//! The data of the sections that fetch their own (members, notifiers, rules), held by the page
//! that shows them. A service or project page draws its view again after every change (the new
//! hosts, the new name), and sections inside that view are made anew with it: each fetched its
//! data again, showed "Loading…" meanwhile, and the page shrank and jumped. Made by the page,
//! outside that view (and before it, so the server and the browser make them in one order), the
//! data is there, loaded, for the new section.

use crate::api::alerts::owner_notifiers;
use crate::api::json_text::RawJson;
use crate::api::members::object_members;
use crate::api::rules::owner_rules;
use crate::error::AppError;
use crate::model::{Members, NotifierListing, OwnerKind, RuleListing};
use leptos::prelude::*;
use std::future::Future;

/// One section's data: fetched for the page's object, again when `changed` goes up (the
/// section's own changes, see [`Held::refetch_on`]). Held as its JSON, which the section reads
/// ([`Held::read`]): the page's code does not include serde's reader for `T`.
pub struct Held<T: 'static> {
    data: Resource<Result<RawJson<()>, AppError>>,
    changed: RwSignal<usize>,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T: 'static> Clone for Held<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Held<T> {}

impl<T: 'static> Held<T> {
    /// `owner`: the id of the object (the route's, `None` when it is not a number: then a 404);
    /// `fetch`: the section's server function for an id.
    pub fn new<Fut>(
        owner: impl Fn() -> Option<i64> + Send + Sync + 'static,
        fetch: impl Fn(i64) -> Fut + Send + Sync + Copy + 'static,
    ) -> Self
    where
        Fut: Future<Output = Result<RawJson<T>, AppError>> + Send + 'static,
    {
        let changed = RwSignal::new(0usize);
        let data = Resource::new(
            move || (owner(), changed.get()),
            move |(owner, _)| async move {
                match owner {
                    Some(id) => fetch(id).await.map(RawJson::untyped),
                    None => Err(AppError::NotFound("page".into())),
                }
            },
        );
        Held { data, changed, of: std::marker::PhantomData }
    }

    /// The data, read (inside a `Suspense`, which it holds until the data is there).
    pub async fn read(self) -> Result<T, AppError>
    where
        T: serde::de::DeserializeOwned,
    {
        self.data.await.and_then(|d| d.read_as())
    }

    /// Fetches again each time `changes` (a count of the section's successful actions) changes.
    pub fn refetch_on(self, changes: impl Fn() -> usize + Send + Sync + 'static) {
        Effect::watch(changes, move |_, _, _| self.changed.update(|n| *n += 1), false);
    }
}

/// The members', notifiers' and rules' data of a service or project page.
#[derive(Clone, Copy)]
pub struct Sections {
    pub members: Held<Members>,
    pub notifiers: Held<NotifierListing>,
    pub rules: Held<RuleListing>,
}

impl Sections {
    /// For the object of kind `kind` whose id `owner` gives (the route's).
    pub fn new(kind: OwnerKind, owner: impl Fn() -> Option<i64> + Clone + Send + Sync + 'static) -> Sections {
        Sections {
            members: Held::new(owner.clone(), move |id| object_members(kind.as_str().to_string(), id)),
            notifiers: Held::notifiers(kind, owner.clone()),
            rules: Held::rules(kind, owner),
        }
    }
}

impl Held<NotifierListing> {
    /// The notifiers of the `kind` object whose id `owner` gives (a page that shows them
    /// without the rest of [`Sections`]: the site's).
    pub fn notifiers(kind: OwnerKind, owner: impl Fn() -> Option<i64> + Send + Sync + 'static) -> Self {
        Held::new(owner, move |id| owner_notifiers(kind.as_str().to_string(), id))
    }
}

impl Held<RuleListing> {
    /// The rules of the `kind` object whose id `owner` gives, as [`Held::notifiers`].
    pub fn rules(kind: OwnerKind, owner: impl Fn() -> Option<i64> + Send + Sync + 'static) -> Self {
        Held::new(owner, move |id| owner_rules(kind.as_str().to_string(), id))
    }
}
