import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request as undiciRequest } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter, nodeListener } from "../../router/index.ts";
import { envOf } from "../../router/resolver.ts";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import type { Deployment } from "../../core/types.ts";
import { deployment, fakeResolve, output, ready } from "../router/helpers.ts";
import { fixtureFunction, scratch } from "./helpers.ts";

// Functions written the way Vercel users write them (test/fixtures/runtime/vercel-helpers),
// served by the router in front of real sandboxed instances, called over HTTP. The cases follow
// @vercel/node's own helpers tests (packages/node/test/helpers.test.js in vercel/vercel).

const FUNCTIONS: [file: string, route: string][] = [
  ["api/users/[id].js", "/api/users/:id"],
  ["api/files/[...path].js", "/api/files/*path"],
  ["api/env.js", "/api/env"],
  ["api/express-like.js", "/api/express-like"],
];
const GIT = { sha: "0123456789abcdef0123456789abcdef01234567", branch: "feature/Login", message: "Add login\n\nlong body", author: "Ada Lovelace <ada@example.com>", repo: "https://github.com/acme/shop.git" };

describe("Vercel's Node helpers and environment", () => {
  let s: Awaited<ReturnType<typeof scratch>>;
  let host: FunctionHost;
  let server: Server;
  let port: number;
  let preview: Deployment;

  beforeAll(async () => {
    s = await scratch();
    // each deployment its own artifacts, as the builder would make them
    const outputOf = async (dep: string) =>
      output([], await Promise.all(FUNCTIONS.map(([file, route]) => fixtureFunction(s.blobs, dep, `vercel-helpers/${file}`, { name: file.replace(/\.js$/, ""), route }))));
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir });
    preview = deployment({ id: "dpl_vh", project: "shop", host: "shop-abc123", target: "preview", git: GIT } as Partial<Deployment>);
    const prod = deployment({ id: "dpl_vhp", project: "shop", host: "shop-def456", target: "production" });
    const router = createRouter({
      domain: "localhost",
      resolve: fakeResolve({
        app: ready(await outputOf("dpl_vh"), preview, envOf(preview, { OWN: "1", VERCEL_ENV: "spoofed" }, "localhost")),
        prod: ready(await outputOf("dpl_vhp"), prod, envOf(prod, {}, "localhost")),
      }),
      host,
      blobs: s.blobs,
    });
    server = createServer(nodeListener(router.fetch)).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    await host?.close();
    await s?.cleanup();
  });

  const call = (path: string, opts: { method?: string; body?: Buffer | string; headers?: Record<string, string>; label?: string } = {}) =>
    undiciRequest(`http://127.0.0.1:${port}${path}`, {
      method: (opts.method ?? "GET") as "GET",
      body: opts.body,
      headers: { host: `${opts.label ?? "app"}.localhost:${port}`, ...opts.headers },
    });
  const json = async (path: string, opts?: Parameters<typeof call>[1]) => (await (await call(path, opts)).body.json()) as Record<string, unknown>;
  const echo = (opts: Parameters<typeof call>[1]) => json("/api/users/echo", { method: "POST", ...opts });

  describe("req.query", () => {
    it("has the route param, as Vercel's rewrite to ?id= puts it there", async () => {
      expect(await json("/api/users/42")).toEqual({ id: "42", query: { id: "42" } });
    });
    it("reflects the query string, repeated names as arrays, the visitor's value winning over a param", async () => {
      expect(await json("/api/users/42?who=bill&where=us&a=2&a=1")).toEqual({ id: "42", query: { id: "42", who: "bill", where: "us", a: ["2", "1"] } });
      expect((await json("/api/users/42?id=7")).query).toEqual({ id: "7" });
    });
    it("gives a catch-all as Vercel does: the `...name` key holding the path", async () => {
      expect(await json("/api/files/a/b%20c?x=1")).toEqual({ query: { "...path": "a/b c", x: "1" }, params: { path: ["a", "b c"] } });
    });
  });

  describe("req.cookies", () => {
    it("parses the Cookie header into an object (quotes dropped, values decoded)", async () => {
      const r = await echo({ headers: { cookie: 'who=bill; where=us; q="a%20b"' } });
      expect(r.cookies).toEqual({ who: "bill", where: "us", q: "a b" });
    });
    it("is {} without a Cookie header", async () => {
      expect((await echo({})).cookies).toEqual({});
    });
  });

  describe("req.body", () => {
    it("is undefined without a Content-Type, even with a body", async () => {
      expect(await echo({ body: "hello" })).toMatchObject({ bodyType: "undefined" });
      expect(await json("/api/users/echo")).toMatchObject({ bodyType: "undefined" });
    });
    it("is a string for text/plain", async () => {
      expect(await echo({ body: "hello", headers: { "content-type": "text/plain; charset=utf-8" } })).toMatchObject({ bodyType: "string", body: "hello" });
    });
    it("is a Buffer for application/octet-stream", async () => {
      expect(await echo({ body: Buffer.from([0, 1, 255]), headers: { "content-type": "application/octet-stream" } })).toMatchObject({ bodyType: "buffer", body: "0001ff" });
    });
    it("is an object for application/x-www-form-urlencoded", async () => {
      expect(await echo({ body: "who=mike&a=1&a=2", headers: { "content-type": "application/x-www-form-urlencoded" } })).toMatchObject({ bodyType: "object", body: { who: "mike", a: ["1", "2"] } });
    });
    it("is an object for application/json, {} for an empty one, parsed once", async () => {
      expect(await echo({ body: JSON.stringify({ who: "bill", where: "us" }), headers: { "content-type": "application/json" } })).toMatchObject({ body: { who: "bill", where: "us" }, sameBody: true });
      expect(await echo({ body: "", headers: { "content-type": "application/json" } })).toMatchObject({ body: {} });
    });
    it("is undefined for other types", async () => {
      expect(await echo({ body: "<a/>", headers: { "content-type": "application/xml" } })).toMatchObject({ bodyType: "undefined" });
    });
    it("answers 400 Invalid JSON for malformed JSON when the handler reads it", async () => {
      const res = await call("/api/users/echo", { method: "POST", body: '{"wrong":"json"', headers: { "content-type": "application/json" } });
      expect(res.statusCode).toBe(400);
      expect(await res.body.text()).toBe("Invalid JSON");
    });
    it("throws a catchable error with statusCode 400", async () => {
      expect(await json("/api/users/catch", { method: "POST", body: "{", headers: { "content-type": "application/json" } })).toEqual({ message: "Invalid JSON", statusCode: 400 });
    });
    it("leaves the request stream whole for handlers that read it themselves", async () => {
      const big = Buffer.alloc(3 * 1024 * 1024, "x");
      expect(await json("/api/users/stream", { method: "POST", body: big, headers: { "content-type": "text/plain" } })).toEqual({ streamed: big.length, parsed: big.length });
    });
    it("can be overwritten, like the other request helpers", async () => {
      expect(await json("/api/users/overwrite?x=1", { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).toEqual({ body: "mine", query: { mine: true } });
    });
  });

  describe("res.status, res.send, res.json", () => {
    it("res.status() sets the status and chains", async () => {
      const res = await call("/api/users/chain");
      expect(res.statusCode).toBe(201);
      expect(await res.body.json()).toEqual({ chained: true });
    });
    it("sends strings as html in utf-8 with Content-Length and a weak ETag", async () => {
      const res = await call("/api/users/send?what=string");
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(await res.body.text()).toBe("<p>hey</p>");
      const utf8 = await call("/api/users/send?what=utf8");
      expect(utf8.headers["content-length"]).toBe("12");
      expect(await utf8.body.text()).toBe("½ + ¼ = ¾");
    });
    it("sends Buffers as octet-stream, objects and numbers as JSON, null and nothing as empty", async () => {
      const buf = await call("/api/users/send?what=buffer");
      expect(buf.headers["content-type"]).toBe("application/octet-stream");
      expect(await buf.body.text()).toBe("hello");
      const obj = await call("/api/users/send?what=object");
      expect(obj.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(await obj.body.text()).toBe('{"name":"tobi"}');
      expect(await (await call("/api/users/send?what=number")).body.text()).toBe("300");
      const nul = await call("/api/users/send?what=null");
      expect(nul.headers["content-length"]).toBe("0");
      expect(await nul.body.text()).toBe("");
      const none = await call("/api/users/send?what=none");
      expect(none.statusCode).toBe(200);
      expect(none.headers.etag).toBeUndefined();
      expect(await none.body.text()).toBe("");
    });
    it("sets charset utf-8 on a string's Content-Type, keeps a Buffer's", async () => {
      const s1 = await call("/api/users/charset");
      expect(s1.headers["content-type"]).toBe("text/plain; charset=utf-8");
      expect(await s1.body.text()).toBe("hey");
      const b = await call("/api/users/charset?buffer=1");
      expect(b.headers["content-type"]).toBe("text/plain; charset=iso-8859-1");
      await b.body.dump();
    });
    it("computes the ETag as @vercel/node does, and keeps one already set", async () => {
      const cases: [string, string][] = [
        ["", 'W/"c-IgR/L5SF7CJQff4wxKGF/vfPuZ0"'],
        [`&text=${"-".repeat(999)}`, 'W/"3e7-qPnkJ3CVdVhFJQvUBfF10TmVA7g"'],
        ["&text=", 'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"'],
        ["&preset=1", '"foo"'],
      ];
      for (const [q, tag] of cases) {
        const res = await call(`/api/users/etag?x=1${q}`);
        expect(res.headers.etag).toBe(tag);
        await res.body.dump();
      }
    });
    it("strips the body and Content-* headers for 204", async () => {
      const res = await call("/api/users/no-content");
      expect(res.statusCode).toBe(204);
      expect(res.headers["content-type"]).toBeUndefined();
      expect(res.headers["content-length"]).toBeUndefined();
      expect(await res.body.text()).toBe("");
    });
    it("res.json() keeps an earlier Content-Type, adding the charset", async () => {
      const res = await call("/api/users/json-type");
      expect(res.headers["content-type"]).toBe("application/vnd.example+json; charset=utf-8");
      expect(await res.body.text()).toBe('{"hello":"world"}');
    });
    it("sends no body for HEAD", async () => {
      const res = await call("/api/users/send?what=string", { method: "HEAD" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-length"]).toBe("10");
      expect(await res.body.text()).toBe("");
    });
  });

  describe("res.redirect", () => {
    it("redirects with 307 by default, or the status given", async () => {
      const r = await call("/api/users/redirect");
      expect(r.statusCode).toBe(307);
      expect(r.headers.location).toBe("/login");
      await r.body.dump();
      const p = await call("/api/users/redirect?status=301");
      expect(p.statusCode).toBe(301);
      expect(p.headers.location).toBe("/login");
      await p.body.dump();
    });
    it("explains wrong arguments", async () => {
      expect(await (await call("/api/users/bad-redirect")).body.text()).toBe(
        "Invalid redirect arguments. Please use a single argument URL, e.g. res.redirect('/destination') or use a status code and URL, e.g. res.redirect(307, '/destination').",
      );
    });
  });

  it("keeps the helpers for an app that swaps in its own prototypes, as Express does", async () => {
    const res = await call("/api/express-like?a=1", { method: "POST", body: '{"x":1}', headers: { "content-type": "application/json", cookie: "k=v" } });
    expect(res.statusCode).toBe(201);
    expect(res.headers["x-json-by"]).toBe("app");
    expect(await res.body.json()).toEqual({ fromApp: "app request", cookies: { k: "v" }, body: { x: 1 }, query: { a: "1" } });
  });

  describe("VERCEL_* variables", () => {
    it("a preview deployment with git metadata sees Vercel's system variables beside FERRY_*", async () => {
      expect(await json("/api/env")).toEqual({
        VERCEL: "1",
        VERCEL_ENV: "preview",
        VERCEL_TARGET_ENV: "preview",
        VERCEL_URL: "shop-abc123.localhost",
        VERCEL_PROJECT_PRODUCTION_URL: "shop.localhost",
        VERCEL_BRANCH_URL: "shop-git-feature-login.localhost",
        VERCEL_DEPLOYMENT_ID: "dpl_vh",
        VERCEL_GIT_COMMIT_SHA: GIT.sha,
        VERCEL_GIT_COMMIT_REF: "feature/Login",
        VERCEL_GIT_COMMIT_MESSAGE: "Add login",
        VERCEL_GIT_COMMIT_AUTHOR_NAME: "Ada Lovelace",
        VERCEL_GIT_PROVIDER: "github",
        VERCEL_GIT_REPO_OWNER: "acme",
        VERCEL_GIT_REPO_SLUG: "shop",
        FERRY_DEPLOYMENT_ID: "dpl_vh",
        FERRY_PROJECT: "shop",
        FERRY_URL: "shop-abc123.localhost",
        FERRY_ENV: "preview",
      });
    });
    it("a production deployment without git metadata: no branch URL, no VERCEL_GIT_*", async () => {
      const env = await json("/api/env", { label: "prod" });
      expect(env).toMatchObject({ VERCEL: "1", VERCEL_ENV: "production", VERCEL_URL: "shop-def456.localhost", VERCEL_PROJECT_PRODUCTION_URL: "shop.localhost" });
      expect(Object.keys(env).filter((k) => k.startsWith("VERCEL_GIT_") || k === "VERCEL_BRANCH_URL")).toEqual([]);
    });
  });
});
