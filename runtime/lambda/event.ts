import { randomUUID } from "node:crypto";

/** The payload-2.0 event a function URL sends (the API Gateway v2 HTTP API shape). */
export interface FunctionUrlEvent {
  version: "2.0";
  routeKey: "$default";
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: "$default";
    stage: "$default";
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");
/** requestContext.time as function URLs write it: `12/Mar/2024:19:03:58 +0000`. */
export const clfTime = (d: Date) =>
  `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;

export interface EventOptions {
  /** path and query to send instead of the request's own (a rewrite) */
  path?: string;
  /** headers added by the router */
  headers?: Record<string, string>;
  /** route params, carried as `x-ferry-params` like on the local host */
  params?: Record<string, unknown>;
  requestId?: string;
  sourceIp?: string;
}

/**
 * A Web Request as the event its function would get behind a function URL. Invoke payloads are
 * JSON, so the body travels base64 (binary-safe) and is bounded by the 6 MB invoke limit, which
 * the router enforces before it gets here.
 */
export async function requestToEvent(req: Request, opts: EventOptions = {}): Promise<FunctionUrlEvent> {
  const url = new URL(req.url);
  const pathAndQuery = opts.path ?? url.pathname + url.search;
  const q = pathAndQuery.indexOf("?");
  const rawPath = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const rawQueryString = q < 0 ? "" : pathAndQuery.slice(q + 1);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  req.headers.forEach((v, k) => {
    // function URLs move cookies out of the headers into their own array
    if (k === "cookie") cookies = v.split(/;\s*/).filter(Boolean);
    else headers[k] = v;
  });
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  if (opts.params && Object.keys(opts.params).length) headers["x-ferry-params"] = JSON.stringify(opts.params);
  headers.host ??= url.host;
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.body;
  const body = hasBody ? Buffer.from(await req.arrayBuffer()) : null;
  const now = new Date();
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = k in query ? `${query[k]},${v}` : v;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: "anonymous",
      apiId: "ferry",
      domainName: headers.host,
      domainPrefix: headers.host.split(".")[0]!,
      http: { method: req.method, path: rawPath, protocol: "HTTP/1.1", sourceIp: opts.sourceIp ?? headers["x-forwarded-for"]?.split(",")[0]?.trim() ?? "127.0.0.1", userAgent: headers["user-agent"] ?? "" },
      requestId: opts.requestId ?? randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body && body.length ? { body: body.toString("base64") } : {}),
    isBase64Encoded: !!(body && body.length),
  };
}
