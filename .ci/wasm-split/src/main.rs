//! Splits a Leptos hydration wasm at its `#[lazy_route]`/`#[lazy]` points, the way cargo-leptos'
//! `--split` does, for .ci/build-site (which uses plain cargo and wasm-bindgen instead).
//!
//! Usage: `promgen-wasm-split INPUT.wasm PKG_DIR MAIN_OUT.wasm MAIN_JS`
//! - INPUT.wasm: cargo's output, linked with `--emit-relocs` (the splitter needs relocations);
//! - PKG_DIR: where the chunks (`*.wasm`), the loader `__wasm_split.______________________.js`
//!   (the name Leptos' macros import it by) and `chunks.json` go: the manifest, split name →
//!   the chunk file stems it needs, from which the server sends a page's preload `Link`
//!   headers (app/src/chunks.rs). Not under Leptos' name `__wasm_split_manifest.json`: Leptos'
//!   own preloading from it is unreliable (see app/src/chunks.rs);
//! - MAIN_OUT.wasm: the main module, still to be processed by wasm-bindgen with
//!   `--keep-lld-exports` (the chunks import those exports);
//! - MAIN_JS: the path, relative to PKG_DIR, of the JS wasm-bindgen will write for the main
//!   module (`./promgen.<hash>.js`): the loader imports the main module's memory and table from it.
//!
//! Errors (unreadable input, no relocations, a runtime/splitter version mismatch) end the process
//! with the splitter's message.
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, pkg_dir, main_out, main_js] = args.as_slice() else {
        return Err("usage: promgen-wasm-split INPUT.wasm PKG_DIR MAIN_OUT.wasm MAIN_JS".into());
    };
    let input_wasm =
        std::fs::read(input).map_err(|e| format!("promgen-wasm-split: {input}: {e}"))?;
    let pkg_dir = Path::new(pkg_dir);
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&input_wasm);
        opts.output_dir = pkg_dir;
        opts.main_out_path = Path::new(main_out);
        opts.main_module = main_js;
        opts.link_name = "./__wasm_split.______________________.js";
        opts
    })
    .map_err(|e| format!("promgen-wasm-split: {e:#}"))?;
    // Sorted, so the same input writes the same manifest (the site's hashes stay stable).
    let manifest: std::collections::BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    std::fs::write(
        pkg_dir.join("chunks.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    for chunk in &split.split_modules {
        println!("{}", chunk.display());
    }
    Ok(())
}
