// The data plane on Lambda: the same router as embedded, behind CloudFront. CloudFront reaches
// the function URL under the URL's own host name, so the visitor's host arrives in
// x-forwarded-host (set by the viewer-request CloudFront Function) and is put back here.
import { Hono } from "hono";
import { streamHandle } from "hono/aws-lambda";
import { createRouter } from "../../router/app.ts";
import { createResolver } from "../../router/resolver.ts";
import { lambdaHostFromEnv, platformFromEnv } from "./platform.ts";

const p = platformFromEnv();
const host = lambdaHostFromEnv(p);
// a short TTL: an alias move is one write of a HOST# item, seen by every router within it
const resolver = createResolver({ metadata: p.metadata, blobs: p.blobs, domain: p.domain, encryptor: p.encryptor, ttlMs: 1_000 });
const router = createRouter({ domain: p.domain, resolve: resolver.resolve, host, blobs: p.blobs });

export function withViewerHost(req: Request): Request {
  const viewer = req.headers.get("x-forwarded-host");
  if (!viewer) return req;
  const url = new URL(req.url);
  url.host = viewer;
  const headers = new Headers(req.headers);
  headers.set("host", viewer);
  headers.delete("x-forwarded-host");
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, redirect: "manual" };
  if (req.body) {
    init.body = req.body;
    init.duplex = "half";
  }
  return new Request(url, init);
}

const outer = new Hono();
outer.all("*", (c) => router.fetch(withViewerHost(c.req.raw)));
export const handler = streamHandle(outer);
