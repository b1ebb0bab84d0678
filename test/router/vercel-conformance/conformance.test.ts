import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routesOf } from "../../../builder/build.ts";
import { parseFerryConfig } from "../../../core/config/schema.ts";
import type { BuildOutput, BuiltFunction, StaticFile } from "../../../core/types.ts";
import { createRouter } from "../../../router/index.ts";
import type { Resolved } from "../../../router/resolver.ts";
import type { FunctionHost, FunctionTarget, InvokeContext } from "../../../runtime/port.ts";
import { scratch } from "../../runtime/helpers.ts";
import { ADAPTERS, ready, staticFile, type RouterClient } from "../helpers.ts";
import { VECTORS, type Vector } from "./vectors.ts";

// Every vector goes the way a deployment's config does: ferry.json validated and compiled
// (parseFerryConfig, the builder's routesOf), the build output served by the real router over
// loopback HTTP through the Node listener the platform runs.

/** Answers with what it was asked: which function, its params, the path and query it saw. */
const echoHost: FunctionHost = {
  invoke: async (t: FunctionTarget, req: Request, ctx: InvokeContext) =>
    Response.json({ fn: t.fn.name, params: ctx.params ?? null, path: ctx.path ?? null, url: req.url, method: req.method }, { headers: ctx.responseHeaders }),
  evict: async () => {},
  stats: () => ({ instances: 0, byDeployment: {} }),
  close: async () => {},
};

const fn = (name: string, route: string): BuiltFunction => ({
  name,
  route,
  source: `${name}.ts`,
  handler: "function",
  artifact: { prefix: "p", entry: "index.mjs", files: ["index.mjs"] },
  config: { memory: 128, maxDuration: 5, maxConcurrency: 1 },
});

const FUNCTIONS = [
  fn("api/echo", "/api/echo"),
  fn("api/users/[id]", "/api/users/:id"),
  fn("hi", "/hi"),
  fn("get", "/get"),
  fn("post", "/post"),
  fn("some/dest", "/some/dest"),
  fn("user.js", "/user.js"),
  fn("hello", "/api/functions/hello/index.js"),
];

const FILES: [string, string, string?][] = [
  ["index.html", "home"],
  ["about.html", "about"],
  ["docs/index.html", "docs"],
  ["404.html", "custom 404"],
  ["directory/index.html", "directory index"],
  ["directory/clean-file.html", "clean file"],
  ["object.json", '{"a":1}', "application/json; charset=utf-8"],
  [".dotfile", "dotfile", "text/plain; charset=utf-8"],
  ["docs.md", "# docs", "text/markdown; charset=utf-8"],
  ["app.js", "js", "text/javascript; charset=utf-8"],
  [".well-known/security", "security", "text/plain; charset=utf-8"],
  ["endpoints/user.js", "endpoint user", "text/javascript; charset=utf-8"],
  ["www/index.html", "www home"],
  ["_next/static/chunks/0.js", "chunk", "text/javascript; charset=utf-8"],
  ["test/index.html", "test dir"],
];

describe("Vercel routing conformance", () => {
  let files: StaticFile[];
  let cleanup: () => Promise<unknown>;
  let client: RouterClient;
  let upstream: Server;
  let upstreamOrigin: string;
  let lastUpstreamHeaders: Record<string, string | string[] | undefined> = {};
  const deployments: Record<string, Resolved> = {};

  beforeAll(async () => {
    const s = await scratch();
    cleanup = s.cleanup;
    files = await Promise.all(FILES.map(([p, body, type]) => staticFile(s.blobs, p, body, type)));
    // the other site an external rewrite reaches: echoes the request as JSON
    upstream = createServer(async (req, res) => {
      lastUpstreamHeaders = req.headers;
      if (req.url === "/slow") return void setTimeout(() => res.end("late"), 2_000);
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json", "x-upstream": "yes", connection: "x-hop", "x-hop": "1" });
      res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString(), headers: req.headers, hostIsUpstream: req.headers.host === new URL(upstreamOrigin).host }));
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    upstreamOrigin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const router = createRouter({
      domain: "localhost",
      resolve: async (label) => deployments[label] ?? null,
      host: echoHost,
      blobs: s.blobs,
      externalRewrites: { headersTimeoutMs: 300, allowPrivateNetworks: true },
    });
    client = ADAPTERS.find(([name]) => name.startsWith("Node"))![1](router);
  });
  afterAll(async () => {
    await client.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
    await cleanup();
  });

  /** The vector's config as a deployment would have it, under a host of its own. */
  function deploy(v: Vector, i: number): string {
    const config = parseFerryConfig(JSON.stringify(v.config).replaceAll("{{UPSTREAM}}", upstreamOrigin));
    const out: BuildOutput = { version: 1, static: files, functions: FUNCTIONS, routes: routesOf(config) };
    deployments[`v${i}`] = ready(out);
    return `v${i}.localhost`;
  }

  VECTORS.forEach((v, i) => {
    it(`${v.name} [${v.source}]`, async () => {
      const host = deploy(v, i);
      lastUpstreamHeaders = {};
      const res = await client.request(`http://${host}${v.request.path}`, { method: v.request.method, headers: v.request.headers, body: v.request.body });
      const text = await res.text();
      expect(res.status, text).toBe(v.expect.status);
      if (v.expect.location !== undefined) expect(res.headers.get("location")).toBe(v.expect.location);
      if (v.expect.body !== undefined) expect(text).toBe(v.expect.body);
      for (const [k, want] of Object.entries(v.expect.headers ?? {})) expect(res.headers.get(k), k).toBe(want);
      if (v.expect.json) expect(JSON.parse(text)).toMatchObject(v.expect.json);
      for (const k of v.expect.upstreamLacks ?? []) expect(lastUpstreamHeaders[k], k).toBeUndefined();
      // the platform's own headers are on every answer, and never the other site's hop-by-hop ones
      expect(res.headers.get("x-ferry-request-id")).toMatch(/^req_/);
      expect(res.headers.get("server")).toBe("ferry");
      expect(res.headers.get("x-hop")).toBeNull();
    });
  });
});
