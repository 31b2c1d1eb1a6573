// [promgen: packs] The chunks a page needs come in one file, its group's pack
// (`pack_<group>.bin`, written by `promgen-wasm-split pack`): one compressed stream is 20-25%
// smaller than the same chunks compressed one by one, and a page's group may need 270 of them.
// A page rendered by the server names its group on `<html data-promgen-group>`
// (app/src/app.rs), so that pack is fetched as soon as this loader is imported, before the main
// module has arrived (the page's Link header preloads it; fetched later, a slow link's browser
// warned that the preload went unused). Pages reached later name their group in
// `globalThis.__promgenGroup` before asking for a chunk; their pack is asked for with the
// chunks this page has taken already (`?have=3.5-9.split_home`), which Promgen's server leaves
// out (server/src/web/packs.rs; a server that ignores `have` sends the whole pack, which works
// as well, and Promgen's sends it when a pack of the rest would not be much smaller). Chunks a
// pack lacks are fetched one by one; so are all of a group's when its pack cannot be fetched or
// read, or sends no answer (headers) within 10 s.
// Pack: one line of JSON, `[["chunk_3", <bytes>], …]`, then those chunks' bytes in that order.
const groupName = (g) => (/^\w+$/.test(g ?? "") ? g : undefined);
const taken = new Set();
const packs = new Map();
const first = groupName(globalThis.document?.documentElement.dataset.promgenGroup);
if (first !== undefined) {
    const own = fetchPack(first, import.meta.url, "");
    packs.set(first, own);
    // The first page's sections whose code comes after its own (`data-promgen-section`,
    // app/src/components/deferred.rs): their chunks in one pack, less the page's, asked for as
    // soon as the page's pack is in, so that they arrive while the page's wasm starts (asked
    // for by the sections themselves, they came a round trip after the page had hydrated).
    own.then((chunks) => {
        const sections = [...globalThis.document.querySelectorAll("[data-promgen-section]")]
            .map((e) => groupName(e.dataset.promgenSection))
            .filter((g, i, all) => g !== undefined && all.indexOf(g) === i && !packs.has(g));
        if (!chunks || !sections.length) return;
        const names = [...chunks.keys()].map((p) => p.replace(/^\.\//, "").replace(/\.wasm$/, ""));
        const rest = fetchPack(sections[0], import.meta.url, have(names), sections.slice(1));
        for (const s of sections) packs.set(s, rest);
    });
}
// `also`: other groups whose chunks the pack holds too (`&with=`).
function fetchPack(group, base, have, also = []) {
    const url = new URL(`./pack_${group}.bin`, base);
    if (have) url.search = `have=${have}`;
    if (also.length) url.searchParams.append("with", also.join("."));
    // A pack with no answer in 10 s is given up, and its download stopped.
    const stop = new AbortController();
    let answered = false;
    const answer = fetch(url, { signal: stop.signal }).then((res) => ((answered = true), res));
    // Resolves (to nothing) rather than rejects: a rejection nobody waits for is logged.
    const late = new Promise((done) => setTimeout(() => (answered || stop.abort(), done(null)), 10000));
    return Promise.race([answer, late]).then((res) => res && unpack(res)).catch(() => null);
}
// Chunks (by default those taken so far) as `have` lists them: numbers and ranges of
// `chunk_N`, other names.
function have(chunks = taken) {
    const numbers = [], names = [];
    for (const name of chunks) {
        const n = /^chunk_(\d+)$/.exec(name);
        n ? numbers.push(Number(n[1])) : names.push(name);
    }
    numbers.sort((a, b) => a - b);
    const parts = [];
    for (let i = 0; i < numbers.length; ) {
        let j = i;
        while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
        parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
        i = j + 1;
    }
    return [...parts, ...names].join(".");
}
function fetchChunk(path, base) {
    const group = groupName(globalThis.__promgenGroup) ?? first;
    let packed = packs.get(group);
    if (packed === undefined) {
        packed = group === undefined ? Promise.resolve(null) : fetchPack(group, base, have());
        packs.set(group, packed);
    }
    taken.add(path.replace(/^\.\//, "").replace(/\.wasm$/, ""));
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
