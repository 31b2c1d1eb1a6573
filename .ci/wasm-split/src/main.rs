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
//! `promgen-wasm-split pack PKG_DIR`, once the chunks are final (after wasm-opt), writes each
//! group's pack, `pack_<group>.bin`: the chunks `chunks.json` lists for it in one file, which
//! the loader takes a first page's chunks from (vendor/wasm_split_cli_support/src/packs.js):
//! one line of JSON, `[["chunk_3", <bytes>], …]`, then those chunks' bytes in that order.
//!
//! Errors (unreadable input, no relocations, a runtime/splitter version mismatch, a chunk the
//! manifest names missing) end the process with the splitter's message.
use std::collections::BTreeMap;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, pkg_dir] = args.as_slice()
        && command == "pack"
    {
        return pack(Path::new(pkg_dir));
    }
    let [input, pkg_dir, main_out, main_js] = args.as_slice() else {
        return Err("usage: promgen-wasm-split INPUT.wasm PKG_DIR MAIN_OUT.wasm MAIN_JS | pack PKG_DIR".into());
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
    let manifest: BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    std::fs::write(
        pkg_dir.join("chunks.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    for chunk in &split.split_modules {
        println!("{}", chunk.display());
    }
    Ok(())
}

/// Writes `pack_<group>.bin` for every group of `PKG_DIR/chunks.json`.
fn pack(pkg_dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let manifest = std::fs::read_to_string(pkg_dir.join("chunks.json"))
        .map_err(|e| format!("promgen-wasm-split: {}/chunks.json: {e}", pkg_dir.display()))?;
    let manifest: BTreeMap<String, Vec<String>> = serde_json::from_str(&manifest)?;
    for (group, chunks) in &manifest {
        let mut index = Vec::new();
        let mut bytes = Vec::new();
        for chunk in chunks {
            let path = pkg_dir.join(format!("{chunk}.wasm"));
            let wasm = std::fs::read(&path).map_err(|e| format!("promgen-wasm-split: {}: {e}", path.display()))?;
            index.push((chunk.as_str(), wasm.len()));
            bytes.extend_from_slice(&wasm);
        }
        let mut pack = serde_json::to_vec(&index)?;
        pack.push(b'\n');
        pack.extend_from_slice(&bytes);
        std::fs::write(pkg_dir.join(format!("pack_{group}.bin")), pack)?;
    }
    Ok(())
}
