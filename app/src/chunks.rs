//! Which wasm chunks each group of pages needs (see `app::lazy`), so that the server can have
//! browsers fetch them alongside the main module instead of after it has started (in one file,
//! the group's pack `pack_<group>.bin`, which `.ci/build-site` writes beside the chunks), and
//! what a page does when its chunk cannot be fetched.
//!
//! `.ci/build-site` leaves the splitter's manifest beside the bundle (`pkg/<hash>/chunks.json`:
//! `{"<group>": ["chunk_3", "split_<group>", …]}`, the shape of Leptos'
//! `__wasm_split_manifest.json`). Leptos would turn that file into `<link rel="preload">` tags
//! itself, but it looks the manifest up outside the page's reactive owner, so the tags come and
//! go with the request's scheduling; the server sends HTTP `Link` headers instead, from the
//! page's own render.

use std::collections::HashMap;
use std::sync::Arc;

/// The current bundle's preload `Link` header per group of pages, built once at start (the
/// server hands a clone to every page it renders: an `Arc`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChunkManifest {
    /// Group (`rules`) → its `Link` header value.
    headers: Arc<HashMap<String, String>>,
}

impl ChunkManifest {
    /// Reads the splitter's manifest (JSON, group → chunk file stems) for the bundle served
    /// from `pkg_href` (`/pkg/0123456789abcdef`); anything unreadable gives an empty manifest
    /// (no preloads: the pages still load their chunks, later).
    pub fn parse(pkg_href: &str, json: &str) -> ChunkManifest {
        let entries: HashMap<String, Vec<String>> = serde_json::from_str(json).unwrap_or_default();
        let name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let dir = pkg_href.trim_end_matches('/');
        let headers = entries
            .into_iter()
            .filter(|(group, files)| name(group) && files.iter().all(|f| name(f)))
            .map(|(group, _)| {
                let header = link_header(dir, &group);
                (group, header)
            })
            .collect();
        ChunkManifest { headers: Arc::new(headers) }
    }

    /// The `Link` header value that preloads `group`'s pack and the chunk loader; `None` for
    /// a group the manifest does not know.
    pub fn link_header(&self, group: &str) -> Option<&str> {
        self.headers.get(group).map(String::as_str)
    }
}

/// `Link` preloads of `group`'s pack (`pack_<group>.bin`: its chunks in one file, which the
/// chunk loader takes a first page's chunks from; `as=fetch`, `crossorigin`, as the loader's
/// `fetch()` asks for it) and of the loader itself (`modulepreload`), all under `dir`. A later
/// page's pack leaves out the chunks the first brought (`?have=`, server/src/web/packs.rs).
fn link_header(dir: &str, group: &str) -> String {
    format!(
        "<{dir}/pack_{group}.bin>; rel=preload; as=fetch; crossorigin, \
         <{dir}/__wasm_split.______________________.js>; rel=modulepreload; crossorigin"
    )
}

/// While a page of `group` renders on the server: asks the browser, in the response's `Link`
/// header, to fetch the group's pack now. In the browser, see [`name_group`].
pub fn preload(group: &str) {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        if let (Some(manifest), Some(res)) =
            (use_context::<ChunkManifest>(), use_context::<leptos_axum::ResponseOptions>())
            && let Some(value) = manifest.link_header(group)
            && let Ok(value) = axum::http::HeaderValue::from_str(value)
        {
            res.append_header(axum::http::header::LINK, value);
        }
    }
    name_group(group);
}

/// In the browser, before a page of `group` asks for its chunks: names the group for the chunk
/// loader, which takes them from the group's pack: the whole pack for the first page (see
/// [`link_header`]; the server's page names it on `<html data-promgen-group>` unless the path
/// was unknown), the chunks the tab lacks for a later one.
pub fn name_group(group: &str) {
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    let _ = js_sys::Reflect::set(&js_sys::global(), &"__promgenGroup".into(), &group.into());
    #[cfg(not(any(feature = "hydrate", feature = "csr")))]
    let _ = group;
}

/// A page group's chunk could not be fetched: the network failed, or the server has a new
/// build and the old one's files are gone (a tab left open across a deploy).
#[derive(Clone, Copy, Debug)]
pub struct ChunkUnavailable;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkUnavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkUnavailable
    }
}

/// What a page shows when its chunk could not be fetched. The browser first loads the page in
/// full from the server (which brings the current build); only if that same page failed the
/// same way within the last 30 s (a reload would loop) it says so, with a link to try again.
pub fn unavailable() -> leptos::prelude::AnyView {
    use leptos::prelude::*;
    let here = leptos_router::hooks::use_location();
    let href = format!("{}{}{}", here.pathname.get_untracked(), here.search.get_untracked(), here.hash.get_untracked());
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    if reload_once(&href) {
        return ().into_any();
    }
    view! {
        <p class="error" role="alert">
            "This page's code could not be loaded: the network failed, or Promgen was updated. "
            <a href=href rel="external">"Load the page again"</a>
        </p>
    }
    .into_any()
}

/// Loads `href` in full unless this tab did so for the same `href` under 30 s ago; whether it
/// did now. The last attempt is kept in `sessionStorage`.
#[cfg(any(feature = "hydrate", feature = "csr"))]
fn reload_once(href: &str) -> bool {
    const KEY: &str = "promgen-chunk-reload";
    let window = leptos::prelude::window();
    // Whole milliseconds: reading a float brought the float parser and its tables into the
    // main module, which every page loads (12.5 KB of its 210 KB brotli, 17 KB raw).
    let now = js_sys::Date::now() as u64;
    let storage = window.session_storage().ok().flatten();
    let last = storage.as_ref().and_then(|s| s.get_item(KEY).ok().flatten());
    let recent = last
        .as_deref()
        .and_then(|l| l.split_once(' '))
        .is_some_and(|(at, h)| h == href && at.parse::<u64>().is_ok_and(|at| now.saturating_sub(at) < 30_000));
    if recent {
        return false;
    }
    if let Some(s) = storage {
        let _ = s.set_item(KEY, &format!("{now} {href}"));
    }
    window.location().assign(href).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_preloads_its_pack_and_the_loader() {
        let m = ChunkManifest::parse(
            "/pkg/0123456789abcdef/",
            r#"{"rules": ["chunk_3", "split_rules_10539182250976418973"], "home": ["chunk_1"]}"#,
        );
        assert_eq!(
            m.link_header("rules").unwrap(),
            "</pkg/0123456789abcdef/pack_rules.bin>; rel=preload; as=fetch; crossorigin, \
             </pkg/0123456789abcdef/__wasm_split.______________________.js>; rel=modulepreload; crossorigin"
        );
        assert!(m.link_header("home").is_some());
        assert_eq!(m.link_header("people"), None);
    }

    #[test]
    fn odd_manifests_preload_nothing() {
        assert_eq!(ChunkManifest::parse("/pkg/x", "not json"), ChunkManifest::default());
        // A file name that would break out of the header or the directory is not taken.
        let m = ChunkManifest::parse(
            "/pkg/x",
            r#"{"rules_1": ["chunk_1>; rel=stylesheet"], "start": ["../etc"], "a>b": ["a"]}"#,
        );
        assert_eq!(m, ChunkManifest::default());
    }
}
