import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { Agent, errors, request as undiciRequest, type Dispatcher } from "undici";
import { isAddressLiteral, isNonPublicAddress, publicLookup } from "../core/net/public-address.ts";

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host"]);

export interface ProxyOptions {
  /** how long the other site may take to send its response headers */
  headersTimeoutMs: number;
  /** how long it may pause while sending its body */
  bodyTimeoutMs: number;
  dispatcher?: Dispatcher;
  /**
   * Let destinations be loopback, private, link-local (cloud metadata) or other non-public
   * addresses. Off by default: a tenant's rewrite must not turn the router into a way in to the
   * platform's own listeners or the host's network.
   */
  allowPrivateNetworks?: boolean;
}

export const DEFAULT_PROXY: ProxyOptions = { headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 };

let publicAgent: Agent | undefined;
const publicOnly = () => (publicAgent ??= new Agent({ connect: { lookup: publicLookup() } }));

export type ProxyResult = { ok: true; response: Response } | { ok: false; status: 502 | 504; code: "external_rewrite_failed" | "external_rewrite_timeout" };

/**
 * Forwards a request to another site (a rewrite whose destination is an absolute URL), streaming
 * the body both ways. The other site sees the visitor's method, body, query and headers, minus
 * hop-by-hop ones and anything of the platform's (`x-ferry-*`, the visitor's own `x-forwarded-*`,
 * which the router replaces with what it knows); its Host is its own. Its answer is passed back
 * as it streams, without hop-by-hop headers.
 */
export async function proxyExternal(
  req: Request,
  target: string,
  incoming: IncomingMessage | undefined,
  forwarded: Record<string, string>,
  opts: ProxyOptions,
): Promise<ProxyResult> {
  const headers: Record<string, string | string[]> = {};
  const drop = connectionTokens(incoming ? [incoming.headers.connection].flat().join(",") : req.headers.get("connection"));
  const add = (k: string, v: string | string[] | undefined) => {
    const name = k.toLowerCase();
    if (v === undefined || HOP_BY_HOP.has(name) || drop.has(name) || name.startsWith("x-ferry-") || name.startsWith("x-forwarded-") || name === "forwarded") return;
    headers[name] = v;
  };
  if (incoming) for (const [k, v] of Object.entries(incoming.headers)) add(k, v);
  else req.headers.forEach((v, k) => add(k, v));
  Object.assign(headers, forwarded);
  if (!opts.allowPrivateNetworks) {
    // an address literal is never looked up, so it is checked here; names are checked as they resolve
    const host = new URL(target).hostname;
    if (isAddressLiteral(host) && isNonPublicAddress(host)) return { ok: false, status: 502, code: "external_rewrite_failed" };
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const body = !hasBody ? null : incoming ?? (req.body ? Readable.fromWeb(req.body as import("node:stream/web").ReadableStream) : null);
  try {
    const res = await undiciRequest(target, {
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body,
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      dispatcher: opts.dispatcher ?? (opts.allowPrivateNetworks ? undefined : publicOnly()),
    });
    const out = new Headers();
    const dropped = connectionTokens([res.headers.connection].flat().join(","));
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k) || dropped.has(k)) continue;
      for (const one of [v].flat()) out.append(k, one);
    }
    const nullBody = req.method === "HEAD" || res.statusCode === 204 || res.statusCode === 304;
    if (nullBody) res.body.resume();
    // a body the other site stops sending midway ends the visitor's response too, not the process
    res.body.on("error", () => {});
    return { ok: true, response: new Response(nullBody ? null : (Readable.toWeb(res.body) as ReadableStream), { status: res.statusCode, headers: out }) };
  } catch (e) {
    if (e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError) return { ok: false, status: 504, code: "external_rewrite_timeout" };
    return { ok: false, status: 502, code: "external_rewrite_failed" };
  }
}

function connectionTokens(value: string | null | undefined): Set<string> {
  return new Set((value ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean));
}
