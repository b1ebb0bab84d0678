import type { IncomingMessage, ServerResponse } from "node:http";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Hono } from "hono";
import type { BlobStore } from "../core/blobs/port.ts";
import { isFerryError } from "../core/errors.ts";
import { randomId } from "../core/ids.ts";
import type { BuiltFunction, StaticFile } from "../core/types.ts";
import type { FunctionHost, FunctionTarget } from "../runtime/port.ts";
import { errorFromThrown, errorResponse } from "./errors.ts";
import { decodeParams, decodePath, hostLabel, splitUrl, validHost, type UrlParts } from "./paths.ts";
import type { Resolved } from "./resolver.ts";
import { destination, matchFunction, mergeSearch, routeTable, type RouteTable } from "./routes.ts";
import { createStaticServer } from "./static.ts";

export interface RouterOptions {
  /** apps domain: `<label>.<domain>` is served */
  domain: string;
  resolve: (hostLabel: string) => Promise<Resolved | null>;
  host: FunctionHost;
  blobs: BlobStore;
  /** forgets cached host lookups (the resolver's invalidate); called by `invalidate` */
  invalidate?: (label?: string) => void;
}

export interface Router {
  /** the data plane as a fetch handler; the Node adapter passes its request and response as
   * `env`, which lets a function's answer be written straight into the socket */
  fetch(req: Request, env?: Bindings): Promise<Response>;
  /** the same behind Hono, for in-process `app.request()` */
  app: Hono;
  /** drop what is cached for a host (full host name or bare label), or for every host */
  invalidate(host?: string): void;
}

/** Node's request, when served by @hono/node-server: handed to the host (raw headers and body
 * stream, skipping Web conversions) and read for X-Forwarded-For. */
export type Bindings = { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;

/**
 * The data plane: maps Host + path to a deployment's static files and functions, applying its
 * routing rules in the order documented in router/README.md.
 */
export function createRouter(opts: RouterOptions): Router {
  const domain = opts.domain.toLowerCase();
  const serveStatic = createStaticServer(opts.blobs);
  const targets = new WeakMap<BuiltFunction, FunctionTarget>();
  // request ids: a random per-process prefix and a counter, so minting one costs no entropy
  const idPrefix = `req_${randomId(6)}`;
  let seq = 0;

  async function handle(req: Request, env: Bindings): Promise<Response> {
    const requestId = `${idPrefix}${(++seq).toString(36)}`;
    const url = splitUrl(req.url);
    // the Node listener leaves the host empty when the request names none it can use (no Host,
    // two of them, an invalid one): all 400, as RFC 9112 §3.2 asks. A host it checked already
    // is not checked twice.
    if (url.host === "" || (!(req as { hostChecked?: boolean }).hostChecked && !validHost(url.host))) return errorResponse(req, 400, "invalid_host", requestId);
    const label = hostLabel(url.host, domain);
    let resolved: Resolved | null;
    try {
      resolved = label ? await opts.resolve(label) : null;
    } catch (e) {
      if (isFerryError(e)) return errorFromThrown(req, e, requestId);
      // the metadata store failing is not the function's fault, and not the visitor's
      console.error(`[router] ${requestId}: looking up ${label} failed:`, e);
      return errorResponse(req, 503, "deployment_lookup_failed", requestId, { "retry-after": "5" });
    }
    if (!resolved) return errorResponse(req, 404, "deployment_not_found", requestId);
    const state = resolved.deployment.state;
    if (state === "QUEUED" || state === "BUILDING") return errorResponse(req, 503, "deployment_building", requestId, { "retry-after": "5" });
    if (state !== "READY" || !resolved.output) return errorResponse(req, 502, "deployment_failed", requestId);
    try {
      return await route(req, routeTable(resolved.output), resolved, url, requestId, env);
    } catch (e) {
      return errorFromThrown(req, e, requestId);
    }
  }

  async function route(req: Request, t: RouteTable, r: Resolved, url: UrlParts, requestId: string, env: Bindings): Promise<Response> {
    const path = url.path;
    const decoded = decodePath(path);
    if (decoded === null) return errorResponse(req, 400, "bad_request", requestId);
    let extra: Record<string, string> | null = null;

    if (!t.plain) {
      for (const rule of t.redirects) {
        const params = rule.match(path);
        if (!params) continue;
        const d = destination(rule.destination, params);
        return redirect(rule.status, d.path + mergeSearch(d.search, url.search), requestId, null);
      }
      for (const rule of t.headers) {
        if (!rule.match(path)) continue;
        extra ??= {};
        for (const [k, v] of rule.headers) extra[k.toLowerCase()] = v;
      }
      const canonical = canonicalPath(t, path);
      if (canonical !== path) return redirect(308, canonical + url.search, requestId, extra);
    }

    const direct = await serveTarget(req, t, r, path, decoded, url, null, requestId, extra, env);
    if (direct) return direct;

    for (const rule of t.rewrites) {
      const params = rule.match(path);
      if (!params) continue;
      const d = destination(rule.destination, params);
      if (d.external) return errorResponse(req, 502, "external_rewrite_unsupported", requestId, extra ?? {});
      const rewritten = decodePath(d.path);
      if (rewritten === null) return errorResponse(req, 400, "bad_request", requestId);
      const res = await serveTarget(req, t, r, d.path, rewritten, url, mergeSearch(d.search, url.search), requestId, extra, env);
      if (res) return res;
      break;
    }

    const notFound = t.files.get("404.html");
    if (notFound && (req.method === "GET" || req.method === "HEAD")) return serveStatic(req, notFound, 404, withIds(extra, requestId), nodeTarget(env));
    return errorResponse(req, 404, "not_found", requestId, extra ?? {});
  }

  /** Filesystem, then functions, for one path; null when neither has it. `search` is set
   * when the path came from a rewrite, and is what the function then sees. */
  async function serveTarget(
    req: Request,
    t: RouteTable,
    r: Resolved,
    path: string,
    decoded: string,
    url: UrlParts,
    search: string | null,
    requestId: string,
    extra: Record<string, string> | null,
    env: Bindings,
  ): Promise<Response | null> {
    const file = findFile(t, decoded);
    if (file) {
      if (req.method !== "GET" && req.method !== "HEAD") return errorResponse(req, 405, "method_not_allowed", requestId, { ...extra, allow: "GET, HEAD" });
      return serveStatic(req, file, 200, withIds(extra, requestId), nodeTarget(env));
    }
    const m = matchFunction(t, path);
    if (!m) return null;
    let target = targets.get(m.fn);
    if (!target) targets.set(m.fn, (target = { deploymentId: r.deployment.id, project: r.deployment.project, fn: m.fn, env: r.env }));
    // read from Node's header object when there is one: touching `req.headers` would build a
    // whole Web Headers object per request on the hot path
    const incomingXff = env?.incoming?.headers["x-forwarded-for"];
    const xff = env?.incoming ? (Array.isArray(incomingXff) ? incomingXff.join(", ") : incomingXff) : req.headers.get("x-forwarded-for");
    const ip = env?.incoming?.socket?.remoteAddress;
    const forwarded: Record<string, string> = {
      "x-forwarded-host": url.host,
      "x-forwarded-proto": req.url.startsWith("https:") ? "https" : "http",
    };
    if (ip || xff) forwarded["x-forwarded-for"] = xff && ip ? `${xff}, ${ip}` : (ip ?? xff)!;
    try {
      return await opts.host.invoke(target, req, {
        requestId,
        params: m.params ? decodeParams(m.params) : undefined,
        path: search === null ? undefined : path + search,
        headers: forwarded,
        responseHeaders: withIds(extra, requestId),
        incoming: env?.incoming,
        outgoing: env?.outgoing,
        sent: RESPONSE_ALREADY_SENT,
      });
    } catch (e) {
      return errorFromThrown(req, e, requestId);
    }
  }

  return {
    fetch: handle,
    app: new Hono().all("*", (c) => handle(c.req.raw, c.env as Bindings)),
    invalidate(host) {
      if (host === undefined) return opts.invalidate?.();
      const label = host.includes(".") ? hostLabel(host, domain) : host.toLowerCase();
      if (label) opts.invalidate?.(label);
    },
  };
}

function findFile(t: RouteTable, decoded: string): StaticFile | undefined {
  const files = t.files;
  if (!files.size) return undefined;
  if (decoded === "/") return files.get("index.html");
  const p = decoded.slice(1);
  if (p.endsWith("/")) return files.get(`${p}index.html`) ?? (t.cleanUrls ? files.get(`${p.slice(0, -1)}.html`) : undefined);
  return files.get(p) ?? files.get(`${p}/index.html`) ?? (t.cleanUrls ? files.get(`${p}.html`) : undefined);
}

/** Where cleanUrls and trailingSlash want this path to be; equal to `path` when it is fine. */
export function canonicalPath(t: Pick<RouteTable, "cleanUrls" | "trailingSlash">, path: string): string {
  let p = path;
  if (t.cleanUrls) {
    if (p.endsWith("/index.html")) p = p.slice(0, -"index.html".length);
    else if (p.endsWith(".html")) p = p.slice(0, -".html".length);
    if (p !== path && p.length > 1 && p.endsWith("/") && t.trailingSlash !== true) p = p.slice(0, -1);
  }
  if (t.trailingSlash === true) {
    const last = p.slice(p.lastIndexOf("/") + 1);
    if (!p.endsWith("/") && !last.includes(".")) p += "/";
  } else if (t.trailingSlash === false && p.length > 1 && p.endsWith("/")) {
    p = p.replace(/\/+$/, "") || "/";
  }
  return p;
}

/** With Node's response at hand, static files are written straight into it too. */
function nodeTarget(env: Bindings) {
  return env?.outgoing ? { out: env.outgoing, sent: RESPONSE_ALREADY_SENT } : undefined;
}

function withIds(extra: Record<string, string> | null, requestId: string): Record<string, string> {
  return { ...extra, "x-ferry-request-id": requestId, server: "ferry" };
}

function redirect(status: number, location: string, requestId: string, extra: Record<string, string> | null): Response {
  return new Response(null, { status, headers: { ...extra, location, "x-ferry-request-id": requestId, server: "ferry" } });
}
