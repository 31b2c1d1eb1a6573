// [promgen: packs] The chunks a page needs first come in one file, its group's pack
// (`pack_<group>.bin`, written by `promgen-wasm-split pack`): one compressed stream is 20-25%
// smaller than the same chunks compressed one by one. A page rendered by the server names its
// group on `<html data-promgen-group>` (app/src/app.rs), so the pack is fetched as soon as this
// loader is imported, before the main module has arrived (the page's Link header preloads it;
// fetched later, a slow link's browser warned that the preload went unused). A page the server
// rendered without a group (an unknown path) names the group of the page it goes to in
// `globalThis.__promgenGroup` before asking for a chunk. Chunks the pack lacks, and every
// chunk after the first page's, are fetched one by one; so are all of them when the pack
// cannot be fetched or read, or sends no answer (headers) within 10 s.
// Pack: one line of JSON, `[["chunk_3", <bytes>], …]`, then those chunks' bytes in that order.
const groupName = (g) => (/^\w+$/.test(g ?? "") ? g : undefined);
let packed = fetchPack(groupName(globalThis.document?.documentElement.dataset.promgenGroup), import.meta.url);
function fetchPack(group, base) {
    if (group === undefined) return undefined;
    const answer = fetch(new URL(`./pack_${group}.bin`, base));
    // Resolves (to nothing) rather than rejects: a rejection nobody waits for is logged.
    const late = new Promise((done) => setTimeout(done, 10000, null));
    return Promise.race([answer, late]).then((res) => res && unpack(res)).catch(() => null);
}
function fetchChunk(path, base) {
    packed ??= fetchPack(groupName(globalThis.__promgenGroup), base) ?? Promise.resolve(null);
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
        const bytes = buf.subarray(at, at + len);
        // Each a wasm module ("\0asm"), or none is taken.
        if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new Error(`${name}: not wasm`);
        chunks.set(`./${name}.wasm`, bytes);
        at += len;
    }
    if (end < 0 || at !== buf.length) throw new Error(`${res.url}: not a pack`);
    return chunks;
}
