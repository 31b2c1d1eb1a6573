// [promgen: packs] The chunks a page needs first come in one file, its group's pack
// (`pack_<group>.bin`, written by `promgen-wasm-split pack`): one compressed stream is 20-25%
// smaller than the same chunks compressed one by one. The page names its group in
// `globalThis.__promgenGroup` before it asks for its first chunk (app/src/chunks.rs); chunks
// the pack lacks, and every chunk after that first page's, are fetched one by one. A pack that
// cannot be fetched or read leaves the chunks to be fetched one by one too.
// Pack: one line of JSON, `[["chunk_3", <bytes>], …]`, then those chunks' bytes in that order.
let packed;
function fetchChunk(path, base) {
    if (packed === undefined) {
        const group = globalThis.__promgenGroup;
        packed = /^\w+$/.test(group ?? "")
            ? fetch(new URL(`./pack_${group}.bin`, base)).then(unpack).catch(() => null)
            : Promise.resolve(null);
    }
    return packed.then((chunks) => {
        const bytes = chunks?.get(path);
        if (!bytes) return fetch(new URL(path, base));
        chunks.delete(path);
        return new Response(bytes, { headers: { "content-type": "application/wasm" } });
    });
}
async function unpack(res) {
    if (!res.ok) throw new Error(`${res.url}: ${res.status}`);
    const buf = new Uint8Array(await res.arrayBuffer());
    const end = buf.indexOf(10);
    const chunks = new Map();
    let at = end + 1;
    for (const [name, len] of JSON.parse(new TextDecoder().decode(buf.subarray(0, end)))) {
        chunks.set(`./${name}.wasm`, buf.subarray(at, at + len));
        at += len;
    }
    if (end < 0 || at !== buf.length) throw new Error(`${res.url}: not a pack`);
    return chunks;
}
