import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Bindings } from "./app.ts";
import { validHost } from "./paths.ts";

/** The router core's fetch handler (`Router.fetch`). */
type Fetch = (req: Request, env: Bindings) => Promise<Response>;

/** Bodies up to this size (by Content-Length) are written in one call. */
const ONE_WRITE = 1024 * 1024;

/**
 * The router on Node's http server. The router core reads a request's method, URL and a few
 * headers, and a function's answer is written by the host straight into `res`; so instead of a
 * general Web adapter (which wraps every request and inspects every response), each request gets a
 * small view over Node's, whose Headers and body are made only if something asks for them. On the
 * warm function path this saves a measurable share of the router's CPU per request (bench/router.ts).
 */
export function nodeListener(fetch: Fetch): (req: IncomingMessage, res: ServerResponse) => void {
  return (incoming, outgoing) => void serve(fetch, incoming, outgoing);
}

/** One request: an async function rather than `.then` callbacks, which would be two closures and
 * a promise more per request. */
async function serve(fetch: Fetch, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  try {
    const res = await fetch(new NodeRequest(incoming) as unknown as Request, { incoming, outgoing });
    if (res !== RESPONSE_ALREADY_SENT) await writeResponse(res, outgoing);
  } catch (err) {
    fail(outgoing, err as Error);
  }
}

/**
 * The parts of a Web Request the router uses, over Node's request: `method`, `url`, `headers`
 * (a read-only view of Node's) and `body` (a stream over the request, on first use). It stands in for a
 * Request only here, where the router is the one reading it.
 */
class NodeRequest {
  #incoming: IncomingMessage;
  #headers: NodeHeaders | null = null;
  readonly method: string;
  readonly url: string;
  /** the URL's host is already checked (origin-form: it is the one valid Host, or empty), so the
   * router need not check it again; an absolute-form target's authority it checks itself */
  readonly hostChecked: boolean;

  constructor(incoming: IncomingMessage) {
    this.#incoming = incoming;
    this.method = incoming.method ?? "GET";
    const target = incoming.url ?? "/";
    const scheme = (incoming.socket as { encrypted?: boolean } | null)?.encrypted ? "https" : "http";
    // An unusable Host leaves the URL's host empty, which the router answers with 400: spliced in
    // as sent, `Host: app.localhost/api/x#` would have become a host plus another path.
    const host = soleHost(incoming);
    this.hostChecked = target.charCodeAt(0) === 47; /* / */
    this.url = this.hostChecked ? `${scheme}://${host}${target}` : absoluteUrl(target, scheme, host);
  }

  get headers(): Headers {
    return (this.#headers ??= new NodeHeaders(this.#incoming)) as unknown as Headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.method === "GET" || this.method === "HEAD") return null;
    return Readable.toWeb(this.#incoming) as ReadableStream<Uint8Array>;
  }
}

/**
 * The request's one valid Host header, or "" when there is none, more than one or an invalid one
 * (all 400 by RFC 9112 §3.2). Node keeps the first of repeated Host lines and drops the rest, so
 * they are counted in the raw list (without allocating: this runs for every request).
 */
function soleHost(incoming: IncomingMessage): string {
  const host = incoming.headers.host;
  if (host === undefined || !validHost(host)) return "";
  const raw = incoming.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (
      name.length === 4 &&
      (name.charCodeAt(0) | 32) === 104 &&
      (name.charCodeAt(1) | 32) === 111 &&
      (name.charCodeAt(2) | 32) === 115 &&
      (name.charCodeAt(3) | 32) === 116 &&
      ++seen > 1
    ) {
      return "";
    }
  }
  return host;
}

/**
 * An absolute-form target (`GET http://app.example/path`), which servers must accept. Its
 * authority names the host and the Host header's value is ignored (RFC 9112 §3.2.2), though a
 * missing, repeated or invalid Host is still refused; the scheme is the connection's, not the
 * visitor's claim. Any other form (`*`, `host:port`) names no resource here: empty host, 400.
 */
function absoluteUrl(target: string, scheme: string, host: string): string {
  const m = host ? /^https?:\/\//i.exec(target) : null;
  if (!m) return `${scheme}:///`;
  const from = m[0].length;
  let end = from;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break; // / ? #
    end++;
  }
  const rest = target.slice(end);
  return `${scheme}://${target.slice(from, end)}${rest.charCodeAt(0) === 47 ? rest : `/${rest}`}`;
}

/** Read-only Headers over Node's parsed ones (names lower-cased, repeats joined as Headers
 * joins them): what the router reads, without copying and validating every header. */
class NodeHeaders {
  #incoming: IncomingMessage;
  constructor(incoming: IncomingMessage) {
    this.#incoming = incoming;
  }
  get(name: string): string | null {
    const v = this.#incoming.headers[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  }
  has(name: string): boolean {
    return this.#incoming.headers[name.toLowerCase()] !== undefined;
  }
  forEach(fn: (value: string, name: string) => void): void {
    for (const name of Object.keys(this.#incoming.headers)) {
      // HTTP/2 pseudo-headers (`:path`...) describe the request line, not headers
      if (name.charCodeAt(0) !== 58) fn(this.get(name)!, name);
    }
  }
}

/** A Web Response into Node's: small bodies in one write, larger ones streamed with backpressure. */
async function writeResponse(res: Response, out: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  res.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  const body = res.body;
  if (!body) {
    out.writeHead(res.status, headers);
    out.end();
    return;
  }
  const length = Number(headers["content-length"] ?? NaN);
  if (length <= ONE_WRITE) {
    const bytes = Buffer.from(await res.arrayBuffer());
    out.writeHead(res.status, headers);
    out.end(bytes);
    return;
  }
  out.writeHead(res.status, headers);
  // a visitor who leaves ends the pipeline, which cancels the body (closing the file it reads)
  await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>), out).catch(() => {});
}

function fail(out: ServerResponse, err: Error) {
  console.error("[router] unexpected error:", err);
  if (!out.headersSent) {
    out.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    out.end("Internal Server Error");
  } else out.destroy(err);
}
