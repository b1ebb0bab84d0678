import type { ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants as zc, createBrotliCompress, createGzip, brotliCompress, gzip } from "node:zlib";
import { promisify } from "node:util";
import type { BlobStore } from "../core/blobs/port.ts";
import { FerryError } from "../core/errors.ts";
import type { StaticFile } from "../core/types.ts";
import { ByteLru } from "./lru.ts";
import { parseRange } from "./range.ts";

const COMPRESSIBLE = /^text\/|json|javascript|xml|svg|wasm|font\/(ttf|otf)|x-font/i;
/** below this, compression costs more than it saves */
const MIN_COMPRESS = 1024;
/** files up to this size are read whole and kept in memory; larger ones stream */
const SMALL = 256 * 1024;
// on-the-fly brotli at its default quality (11) is far too slow for a request path
const BROTLI = { params: { [zc.BROTLI_PARAM_QUALITY]: 5 } };

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress) as (b: Buffer, o: typeof BROTLI) => Promise<Buffer>;

export type Encoding = "br" | "gzip" | null;

/**
 * Serves files of a deployment's static manifest from the blob store: ETag from the content
 * sha (304 on If-None-Match), byte ranges (206/416), HEAD, and gzip/brotli for text types.
 * Blobs are content-addressed and immutable, so small ones and their compressed forms are
 * cached in memory by key.
 */
export function createStaticServer(blobs: BlobStore, cacheBytes = 64 * 1024 * 1024) {
  const cache = new ByteLru(cacheBytes);

  async function bytes(file: StaticFile, enc: Encoding): Promise<Buffer> {
    const ck = enc ? `${file.key}\0${enc}` : file.key;
    const hit = cache.get(ck);
    if (hit) return hit;
    let raw = enc ? cache.get(file.key) : undefined;
    if (!raw) {
      const got = await blobs.get(file.key);
      if (!got) throw new FerryError("static_file_missing", `static file ${file.path} is missing from storage`, 502);
      raw = got;
      cache.set(file.key, raw);
    }
    if (!enc) return raw;
    const out = enc === "br" ? await brotliAsync(raw, BROTLI) : await gzipAsync(raw);
    cache.set(ck, out);
    return out;
  }

  async function stream(file: StaticFile, enc: Encoding, range?: { start: number; end: number }) {
    const s = await blobs.getStream(file.key, range);
    if (!s) throw new FerryError("static_file_missing", `static file ${file.path} is missing from storage`, 502);
    const out = enc === "br" ? s.pipe(createBrotliCompress(BROTLI)) : enc === "gzip" ? s.pipe(createGzip()) : s;
    if (enc) s.once("error", (e) => out.destroy(e));
    return out;
  }

  /** `status` is 200, or 404 when this is the deployment's custom 404 page. With `node`, the
   * answer is written straight into Node's response and `node.sent` is returned. */
  return async function serve(req: Request, file: StaticFile, status: number, extra: Record<string, string>, node?: NodeTarget): Promise<Response> {
    const etag = `"${file.sha}"`;
    const compressible = COMPRESSIBLE.test(file.contentType);
    const headers: Record<string, string> = {
      "content-type": file.contentType,
      etag,
      "cache-control": "public, max-age=0, must-revalidate",
      "accept-ranges": "bytes",
      ...extra,
    };
    if (compressible) headers.vary = "Accept-Encoding";
    const h = req.headers;
    const head = req.method === "HEAD";
    const reply = (code: number, body: Buffer | NodeJS.ReadableStream | null = null) => send(code, headers, body, node);

    if (status === 200 && etagMatches(h.get("if-none-match"), file.sha)) return reply(304);

    const rangeHeader = status === 200 ? h.get("range") : null;
    if (rangeHeader && ifRangeHolds(h.get("if-range"), etag)) {
      const range = parseRange(rangeHeader, file.size);
      if (range === "unsatisfiable") {
        headers["content-range"] = `bytes */${file.size}`;
        return reply(416);
      }
      if (range) {
        headers["content-range"] = `bytes ${range.start}-${range.end}/${file.size}`;
        headers["content-length"] = String(range.end - range.start + 1);
        if (head) return reply(206);
        return reply(206, file.size <= SMALL ? (await bytes(file, null)).subarray(range.start, range.end + 1) : await stream(file, null, range));
      }
    }

    const enc = compressible && file.size >= MIN_COMPRESS ? pickEncoding(h.get("accept-encoding")) : null;
    if (enc) {
      headers["content-encoding"] = enc;
      // a different representation needs its own validator
      headers.etag = `"${file.sha}-${enc}"`;
    }
    if (head) {
      if (!enc) headers["content-length"] = String(file.size);
      return reply(status);
    }
    if (file.size <= SMALL) {
      const body = await bytes(file, enc);
      headers["content-length"] = String(body.length);
      return reply(status, body);
    }
    if (!enc) headers["content-length"] = String(file.size);
    return reply(status, await stream(file, enc));
  };
}

/** Node's response to write into, and what to answer once it is written. */
export interface NodeTarget {
  out: ServerResponse;
  sent: Response;
}

function send(status: number, headers: Record<string, string>, body: Buffer | NodeJS.ReadableStream | null, node: NodeTarget | undefined): Response {
  if (!node) {
    const web = body === null ? null : Buffer.isBuffer(body) ? body : (Readable.toWeb(body as Readable) as ReadableStream<Uint8Array>);
    return new Response(web as BodyInit | null, { status, headers });
  }
  const out = node.out;
  out.writeHead(status, headers);
  if (body === null) out.end();
  else if (Buffer.isBuffer(body)) out.end(body);
  // a visitor who leaves ends the pipeline, which closes the file being read
  else pipeline(body, out).catch(() => {});
  return node.sent;
}

/** Weak comparison, accepting the tags of compressed variants too. */
export function etagMatches(header: string | null, sha: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  for (let tag of header.split(",")) {
    tag = tag.trim();
    if (tag.startsWith("W/")) tag = tag.slice(2);
    if (tag === `"${sha}"` || tag === `"${sha}-br"` || tag === `"${sha}-gzip"`) return true;
  }
  return false;
}

/** If-Range with an ETag: the range applies only to that exact representation. Dates are not
 * supported (no modification times), so they mean "send it all". */
function ifRangeHolds(header: string | null, etag: string): boolean {
  return header === null || header.trim() === etag;
}

export function pickEncoding(accept: string | null): Encoding {
  if (!accept) return null;
  let br = false;
  let gz = false;
  for (const part of accept.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q && Number(q.slice(2)) === 0) continue;
    if (name === "br") br = true;
    else if (name === "gzip" || name === "*") gz = true;
  }
  return br ? "br" : gz ? "gzip" : null;
}
