//! Which wasm chunks each group of pages needs (see `app::lazy`), so that the server can have
//! browsers fetch them alongside the main module instead of after it has started.
//!
//! `.ci/build-site` leaves the splitter's manifest beside the bundle (`pkg/<hash>/chunks.json`:
//! `{"<group>_<n>": ["chunk_3", "split_<group>_<n>", …]}`, the shape of Leptos'
//! `__wasm_split_manifest.json`). Leptos would turn that file into `<link rel="preload">` tags
//! itself, but it looks the manifest up outside the page's reactive owner, so the tags come and
//! go with the request's scheduling; the server sends HTTP `Link` headers instead, from the
//! page's own render.

use std::collections::HashMap;

/// The current bundle's chunks per group of pages.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChunkManifest {
    /// Where the bundle is served from, e.g. `/pkg/0123456789abcdef`.
    pkg_href: String,
    /// Group (`rules`) → the chunk file stems its pages need (`chunk_3`, `split_rules_12…`).
    groups: HashMap<String, Vec<String>>,
}

impl ChunkManifest {
    /// Reads the splitter's manifest (JSON, keys `<group>_<digits>`); anything unreadable
    /// gives an empty manifest (no preloads: the pages still load their chunks, later).
    pub fn parse(pkg_href: &str, json: &str) -> ChunkManifest {
        let entries: HashMap<String, Vec<String>> = serde_json::from_str(json).unwrap_or_default();
        let name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let groups = entries
            .into_iter()
            .filter_map(|(key, files)| {
                let (group, n) = key.rsplit_once('_')?;
                let ok = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && files.iter().all(|f| name(f));
                ok.then(|| (group.to_string(), files))
            })
            .collect();
        ChunkManifest { pkg_href: pkg_href.trim_end_matches('/').to_string(), groups }
    }

    /// The `Link` header value that preloads `group`'s chunks (`as=fetch`, `crossorigin`, as
    /// the loader's `fetch()` asks for them) and the chunk loader itself (`modulepreload`);
    /// `None` for a group the manifest does not know.
    pub fn link_header(&self, group: &str) -> Option<String> {
        let files = self.groups.get(group)?;
        let dir = &self.pkg_href;
        let mut links: Vec<String> = files
            .iter()
            .map(|f| format!("<{dir}/{f}.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin"))
            .collect();
        links.push(format!("<{dir}/__wasm_split.______________________.js>; rel=modulepreload; crossorigin"));
        Some(links.join(", "))
    }
}

/// While a page of `group` renders on the server: asks the browser, in the response's `Link`
/// header, to fetch the group's chunks now. Nothing in the browser.
pub fn preload(group: &str) {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        if let (Some(manifest), Some(res)) =
            (use_context::<ChunkManifest>(), use_context::<leptos_axum::ResponseOptions>())
            && let Some(value) = manifest.link_header(group)
            && let Ok(value) = axum::http::HeaderValue::from_str(&value)
        {
            res.append_header(axum::http::header::LINK, value);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = group;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_preloads_its_chunks_and_the_loader() {
        let m = ChunkManifest::parse(
            "/pkg/0123456789abcdef/",
            r#"{"rules_10539182250976418973": ["chunk_3", "split_rules_10539182250976418973"], "start_1": ["chunk_1"]}"#,
        );
        assert_eq!(
            m.link_header("rules").unwrap(),
            "</pkg/0123456789abcdef/chunk_3.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin, \
             </pkg/0123456789abcdef/split_rules_10539182250976418973.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin, \
             </pkg/0123456789abcdef/__wasm_split.______________________.js>; rel=modulepreload; crossorigin"
        );
        assert!(m.link_header("start").is_some());
        assert_eq!(m.link_header("people"), None);
    }

    #[test]
    fn odd_manifests_preload_nothing() {
        assert_eq!(
            ChunkManifest::parse("/pkg/x", "not json"),
            ChunkManifest { pkg_href: "/pkg/x".into(), ..Default::default() }
        );
        // A file name that would break out of the header or the directory is not taken.
        let m = ChunkManifest::parse(
            "/pkg/x",
            r#"{"rules_1": ["chunk_1>; rel=stylesheet"], "start_1": ["../etc"], "nonumber": ["a"]}"#,
        );
        assert_eq!(m, ChunkManifest { pkg_href: "/pkg/x".into(), ..Default::default() });
    }
}
