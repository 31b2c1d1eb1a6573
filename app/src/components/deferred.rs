//! Sections of a page whose code comes after the page's own: the members, notifiers and rules
//! of a service, a project, the site and a profile (declared here), and parts declared by
//! their pages with [`deferred_sections`] (a project's farm, exporter forms, URLs and edit
//! form, a service's, the site's settings, a rule's history and delete button, the rule
//! editor). Each is a wasm split point of its own (as a page group is, `app::lazy`), so a first
//! page's pack holds the page's code without them (`.ci/build-site`), and a section's code is
//! fetched once the page is there, in a pack of what the tab lacks (server/src/web/packs.rs).
//!
//! - **On the server** a section renders in place, inside `<div class="deferred"
//!   data-promgen-section="<split>">` (CSS `display: contents`, so the layout does not change).
//!   The chunk loader asks for the sections named so on a first page in one pack as soon as
//!   the page's own has arrived (`.ci/wasm-split`'s `packs.js`).
//! - **While the browser hydrates a server page** the wrapper is hydrated empty; the section's
//!   HTML stays as the server sent it (its forms post as they do without the wasm, so nothing
//!   typed or clicked is lost meanwhile). Its chunk is asked for at once (from that pack), and
//!   when it has arrived the section hydrates the server's HTML in place. `html[data-hydrated]` is set once
//!   every such section has ([`sections_hydrated`]).
//! - **A page drawn in the browser** (a link followed, a redraw after a change) builds the
//!   section when its chunk is there: at once when the tab has it already.
//!
//! A section made here must create no `Resource` of its own: resources are matched to the
//! server's data in the order they are made during hydration, and a deferred section is made
//! after the page. Its data is the page's ([`Held`]).

use crate::chunks::ChunkUnavailable;
use crate::components::{Held, MembersPanel, NotifiersSection, RulesSection};
use crate::model::{Members, NotifierListing, OwnerKind, RuleListing};
use leptos::prelude::*;
use std::future::Future;
use std::pin::Pin;

/// Declares sections whose code comes after their page's: for each, a split point (the
/// split's name is its chunk group's in `chunks.json`, and must not be a page group's name, see
/// `app::lazy`; a plain function in the unsplit `csr` bundle), and `pub fn $name(args) ->
/// AnyView`, the section for a page's view. Its body makes the section's view from `args`
/// (handles to the page's data and actions, never a `Resource` of its own).
macro_rules! deferred_sections {
    ($($(#[$doc:meta])* $split:ident => $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block)*) => {$(
        #[cfg(not(feature = "csr"))]
        #[leptos::wasm_split::wasm_split($split, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $split($($arg: $ty),*) -> Result<$crate::components::deferred::SectionView, $crate::chunks::ChunkUnavailable> {
            Ok(Box::new(move || $body))
        }

        #[cfg(feature = "csr")]
        async fn $split($($arg: $ty),*) -> Result<$crate::components::deferred::SectionView, $crate::chunks::ChunkUnavailable> {
            Ok(Box::new(move || $body))
        }

        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) -> AnyView {
            $crate::components::deferred::defer(stringify!($split), Box::new(move || Box::pin($split($($arg),*))))
        }
    )*};
}
pub(crate) use deferred_sections;

deferred_sections! {
    /// A service's or project's members ([`MembersPanel`]), its code fetched after the page's.
    section_members => pub fn members(owner_kind: &'static str, owner_id: i64, held: Held<Members>) {
        view! { <MembersPanel owner_kind owner_id held /> }.into_any()
    }
    /// The notifiers of a site, service, project or user ([`NotifiersSection`]), their code
    /// fetched after the page's.
    section_notifiers => pub fn notifiers(owner_kind: &'static str, owner_id: i64, held: Held<NotifierListing>) {
        view! { <NotifiersSection owner_kind owner_id held /> }.into_any()
    }
    /// The rules of the site, a service or a project ([`RulesSection`]), their code fetched
    /// after the page's.
    section_rules => pub fn rules(owner_kind: OwnerKind, owner_id: i64, held: Held<RuleListing>) {
        view! { <RulesSection owner_kind owner_id held /> }.into_any()
    }
}

/// Makes a section's view, once its chunk is there: called under the section's reactive owner
/// (its signals and effects live as long as it does), and only while its page is there (its
/// body reads the page's actions and data).
pub type SectionView = Box<dyn FnOnce() -> AnyView>;

/// Loads a section's chunk and gives what makes its view (the split function, called with its
/// arguments). Boxed, so that [`defer`] is made once, not once per section.
pub type SectionLoad = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<SectionView, ChunkUnavailable>>>>>;

/// A section whose view `load` gives once its chunk `split` is there (see the module's doc);
/// for [`deferred_sections`].
pub fn defer(split: &'static str, load: SectionLoad) -> AnyView {
    #[cfg(feature = "ssr")]
    {
        // Off the wasm the split is a plain call: ready at the first poll.
        use futures::FutureExt;
        let section = load().now_or_never().and_then(Result::ok).map_or_else(|| ().into_any(), |view| view());
        view! { <div class="deferred" data-promgen-section=split>{section}</div> }.into_any()
    }
    #[cfg(not(feature = "ssr"))]
    {
        #[cfg(feature = "hydrate")]
        if Owner::current_shared_context().is_some_and(|sc| sc.during_hydration()) {
            return hydrate_later(split, load);
        }
        view! {
            <div class="deferred" data-promgen-section=split>
                // Polled at once (the loader takes the chunks under the group named last, so
                // no other load comes between); the browser's futures are not `Send`.
                {Suspend::new(send_wrapper::SendWrapper::new(async move {
                    crate::chunks::name_group(split);
                    load().await.map_or_else(|ChunkUnavailable| crate::chunks::unavailable(), |view| view())
                }))}
            </div>
        }
        .into_any()
    }
}

/// During hydration: the wrapper is hydrated empty, and the section's server HTML inside it
/// once its chunk has arrived (left as the server sent it if the chunk cannot be fetched: its
/// forms still post).
#[cfg(feature = "hydrate")]
fn hydrate_later(split: &'static str, load: SectionLoad) -> AnyView {
    use futures::FutureExt;
    use leptos::tachys::hydration::Cursor;
    use leptos::tachys::view::any_view::AnyViewState;
    use leptos::tachys::view::{PositionState, RenderHtml};
    use wasm_bindgen::JsCast;

    let wrapper = NodeRef::<leptos::html::Div>::new();
    // The section's reactive owner: a child of the page's, kept with the section's view state
    // by the page (an owner no one holds is disposed, and the section's signals with it).
    let owner = Owner::new();
    let state = StoredValue::new_local(None::<(AnyViewState, Owner)>);
    let (done, hydrated) = futures::channel::oneshot::channel::<()>();
    PENDING.with(|p| p.borrow_mut().push(hydrated));
    // Asked for now, under the section's name (the loader reads it when the load starts).
    crate::chunks::name_group(split);
    let mut section = load();
    let ready = (&mut section).now_or_never();
    leptos::task::spawn_local(async move {
        let view = match ready {
            Some(view) => view,
            None => section.await,
        };
        // The page has hydrated by now (a chunk comes over the network); it may also be gone,
        // and then so is its wrapper (and the section is not made: it reads the page's actions).
        if let (Ok(view), Some(Some(el))) = (view, wrapper.try_get_untracked()) {
            let el: web_sys::Element = el.unchecked_into();
            let hydrated = owner.with(|| view().hydrate::<true>(&Cursor::new(el), &PositionState::default()));
            let _ = state.try_update_value(|s| *s = Some((hydrated, owner)));
        }
        let _ = done.send(());
    });
    view! { <div class="deferred" data-promgen-section=split node_ref=wrapper></div> }.into_any()
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// One receiver per section still to hydrate (its sender dropped or used when it is done).
    static PENDING: std::cell::RefCell<Vec<futures::channel::oneshot::Receiver<()>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Resolves once every deferred section of the first page has hydrated (or given up): after
/// the page itself, before `html[data-hydrated]` says the page is live.
#[cfg(feature = "hydrate")]
pub async fn sections_hydrated() {
    loop {
        let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        if pending.is_empty() {
            return;
        }
        for section in pending {
            let _ = section.await;
        }
    }
}
