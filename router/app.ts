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
import type { Params } from "../core/config/patterns.ts";
import { sameHost } from "./engine/location.ts";
import { runRoutes } from "./engine/phases.ts";
import { DEFAULT_PROXY, proxyExternal, type ProxyOptions } from "./proxy.ts";
import { matchFunction, routeTable, type RouteTable } from "./routes.ts";
import { createStaticServer } from "./static.ts";

export interface RouterOptions {
  /** apps domain: `<label>.<domain>` is served */
  domain: string;
  resolve: (hostLabel: string) => Promise<Resolved | null>;
  host: FunctionHost;
  blobs: BlobStore;
  /** forgets cached host lookups (the resolver's invalidate); called by `invalidate` */
  invalidate?: (label?: string) => void;
  /** timeouts for rewrites to other sites (tests shorten them) */
  externalRewrites?: Partial<ProxyOptions>;
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
  const proxyOptions: ProxyOptions = { ...DEFAULT_PROXY, ...opts.externalRewrites };
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
    if (!t.routes) {
      const found = findTarget(t, path, decoded);
      return found ? serveFound(req, found, r, url, null, undefined, requestId, null, env) : notFound(req, t, 404, requestId, null, env);
    }
    const seen = new Map<string, Found | null>();
    const lookup = (p: string): Found | null => {
      let f = seen.get(p);
      if (f === undefined) {
        const d = p === path ? decoded : decodePath(p);
        seen.set(p, (f = d === null ? null : findTarget(t, p, d)));
      }
      return f;
    };
    const host = url.host.replace(/:\d*$/, "").toLowerCase();
    const facts = { method: req.method, host, header: (n: string) => req.headers.get(n) ?? undefined, search: url.search };
    // repeated slashes are one (serve-handler's rule under trailingSlash/cleanUrls): the collapsed
    // path is redirected to, in one hop with whatever the routes make of it, and it is a path on
    // this host, so `//evil.example/page.html` cannot become a protocol-relative Location
    if (t.collapseSlashes && path.includes("//")) {
      const collapsed = sameHost(path.replace(/\/{2,}/g, "/"));
      const then = runRoutes(t.routes, { ...facts, path: collapsed }, lookup);
      if (then.type === "redirect") return redirect(then.status, then.location, requestId, then.headers);
      return redirect(308, collapsed + url.search, requestId, null);
    }
    const outcome = runRoutes(t.routes, { ...facts, path }, lookup);
    switch (outcome.type) {
      case "redirect":
        return redirect(outcome.status, outcome.location, requestId, outcome.headers);
      case "proxy": {
        const res = await proxyExternal(req, outcome.url, env?.incoming, forwardedHeaders(req, url, env), proxyOptions);
        if (!res.ok) return errorResponse(req, res.status, res.code, requestId, outcome.headers);
        for (const [k, v] of Object.entries(withIds(outcome.headers, requestId))) res.response.headers.set(k, v);
        return res.response;
      }
      case "status":
        return notFound(req, t, outcome.status, requestId, outcome.headers, env);
      case "serve": {
        const rewritten = outcome.path !== path || outcome.search !== url.search;
        return serveFound(req, outcome.found, r, url, rewritten ? outcome.path + outcome.search : null, outcome.status, requestId, outcome.headers, env);
      }
    }
  }

  /** Nothing to serve: the deployment's 404.html for a 404, else an error page with the status
   * a route asked for. */
  function notFound(req: Request, t: RouteTable, status: number, requestId: string, extra: Record<string, string> | null, env: Bindings): Promise<Response> | Response {
    if (status < 400) status = 404;
    const page = status === 404 ? t.files.get("404.html") : undefined;
    if (page && (req.method === "GET" || req.method === "HEAD")) return serveStatic(req, page, 404, withIds(extra, requestId), nodeTarget(env));
    return errorResponse(req, status, status === 404 ? "not_found" : "route_status", requestId, extra ?? {});
  }

  /** A static file or a function. `pathAndQuery` is set when routes rewrote the request, and is
   * what the function then sees; `status` is a route's status for a file. */
  async function serveFound(
    req: Request,
    found: Found,
    r: Resolved,
    url: UrlParts,
    pathAndQuery: string | null,
    status: number | undefined,
    requestId: string,
    extra: Record<string, string> | null,
    env: Bindings,
  ): Promise<Response> {
    if ("file" in found) {
      if (req.method !== "GET" && req.method !== "HEAD") return errorResponse(req, 405, "method_not_allowed", requestId, { ...extra, allow: "GET, HEAD" });
      return serveStatic(req, found.file, status ?? 200, withIds(extra, requestId), nodeTarget(env));
    }
    let target = targets.get(found.fn);
    if (!target) targets.set(found.fn, (target = { deploymentId: r.deployment.id, project: r.deployment.project, fn: found.fn, env: r.env }));
    try {
      return await opts.host.invoke(target, req, {
        requestId,
        params: found.params ? decodeParams(found.params) : undefined,
        path: pathAndQuery ?? undefined,
        headers: forwardedHeaders(req, url, env),
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

type Found = { file: StaticFile } | { fn: BuiltFunction; params: Params | null };

/** The filesystem check: the static file for a path, else the function serving it. */
function findTarget(t: RouteTable, raw: string, decoded: string): Found | null {
  const file = findFile(t, decoded);
  if (file) return { file };
  return matchFunction(t, raw);
}

/** `x-forwarded-host/-proto/-for` for a function or another site: what the router knows, never
 * what the visitor claimed (their own `x-forwarded-for` is kept as the start of the chain). */
function forwardedHeaders(req: Request, url: UrlParts, env: Bindings): Record<string, string> {
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
  return forwarded;
}

function findFile(t: RouteTable, decoded: string): StaticFile | undefined {
  const files = t.files;
  if (!files.size) return undefined;
  if (decoded === "/") return files.get("index.html");
  const p = decoded.slice(1);
  if (p.endsWith("/")) return files.get(`${p}index.html`) ?? (t.cleanUrls ? files.get(`${p.slice(0, -1)}.html`) : undefined);
  return files.get(p) ?? files.get(`${p}/index.html`) ?? (t.cleanUrls ? files.get(`${p}.html`) : undefined);
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
