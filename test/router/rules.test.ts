import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter } from "../../router/index.ts";
import type { FunctionHost, FunctionTarget, InvokeContext } from "../../runtime/port.ts";
import type { BuiltFunction, RouteConfig, StaticFile } from "../../core/types.ts";
import { scratch } from "../runtime/helpers.ts";
import { ADAPTERS, fakeResolve, output, ready, staticFile, type RouterClient } from "./helpers.ts";

/** Records what would be invoked, and answers with it (applying responseHeaders, as hosts must). */
const echoHost: FunctionHost = {
  invoke: async (t: FunctionTarget, req: Request, ctx: InvokeContext) =>
    Response.json({ fn: t.fn.name, params: ctx.params ?? null, path: ctx.path ?? null, url: req.url }, { headers: ctx.responseHeaders }),
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

// Routing rules as older builds stored them (the config's keys), compiled by the router on load:
// redirects, headers, filesystem, functions, rewrites, 404.
describe.each(ADAPTERS)("router: rules (%s)", (_adapter, serve) => {
  const clients: RouterClient[] = [];
  let files: StaticFile[];
  let cleanup: () => Promise<unknown>;
  let blobs: Awaited<ReturnType<typeof scratch>>["blobs"];
  const functions = [
    fn("api/users/[id]", "/api/users/:id"),
    fn("api/users/me", "/api/users/me"),
    fn("api/files/[...path]", "/api/files/*path"),
    fn("api/index", "/api"),
  ];

  beforeAll(async () => {
    const s = await scratch();
    ({ blobs, cleanup } = s);
    files = [
      await staticFile(blobs, "index.html", "home"),
      await staticFile(blobs, "about.html", "about"),
      await staticFile(blobs, "docs/index.html", "docs"),
      await staticFile(blobs, "app.js", "js", "text/javascript"),
    ];
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await cleanup();
  });

  const appWith = (routes: RouteConfig) => {
    const client = serve(createRouter({ domain: "localhost", resolve: fakeResolve({ site: ready(output(files, functions, routes)) }), host: echoHost, blobs }));
    clients.push(client);
    return client;
  };
  const get = (app: ReturnType<typeof appWith>, path: string, method = "GET") => app.request(`http://site.localhost${path}`, { method });

  it("routes functions by specificity, with decoded params", async () => {
    const app = appWith({});
    expect(await (await get(app, "/api/users/me")).json()).toMatchObject({ fn: "api/users/me", params: null });
    expect(await (await get(app, "/api/users/42")).json()).toMatchObject({ fn: "api/users/[id]", params: { id: "42" } });
    expect(await (await get(app, "/api/users/a%20b")).json()).toMatchObject({ params: { id: "a b" } });
    expect(await (await get(app, "/api/files/x/y/z.txt")).json()).toMatchObject({ fn: "api/files/[...path]", params: { path: ["x", "y", "z.txt"] } });
    expect(await (await get(app, "/api")).json()).toMatchObject({ fn: "api/index" });
    const withQuery = await (await get(app, "/api/users/7?x=1")).json();
    expect(withQuery).toMatchObject({ path: null, url: "http://site.localhost/api/users/7?x=1" });
  });

  it("redirects with 308 (Vercel's default), 308 with permanent, or statusCode, filling params and keeping the query", async () => {
    const app = appWith({
      redirects: [
        { source: "/old/:slug", destination: "/new/:slug" },
        { source: "/perm", destination: "/about", permanent: true },
        { source: "/moved", destination: "https://example.com/x?from=ferry", statusCode: 301 },
        { source: "/about", destination: "/never" }, // redirects come before files
      ],
    });
    const r1 = await get(app, "/old/hello?utm=1");
    expect(r1.status).toBe(308);
    expect(r1.headers.get("location")).toBe("/new/hello?utm=1");
    const r2 = await get(app, "/perm");
    expect(r2.status).toBe(308);
    expect(r2.headers.get("location")).toBe("/about");
    const r3 = await get(app, "/moved?a=b");
    expect(r3.status).toBe(301);
    expect(r3.headers.get("location")).toBe("https://example.com/x?from=ferry&a=b");
    expect((await get(app, "/about")).status).toBe(308);
  });

  it("applies every matching headers rule to the final response", async () => {
    const app = appWith({
      headers: [
        { source: "/:all*", headers: [{ key: "X-Frame-Options", value: "DENY" }] },
        { source: "/app.js", headers: [{ key: "Cache-Control", value: "public, max-age=31536000, immutable" }] },
        { source: "/api/users/:id", headers: [{ key: "X-Api", value: "yes" }] },
      ],
    });
    const js = await get(app, "/app.js");
    expect(js.headers.get("x-frame-options")).toBe("DENY");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const api = await get(app, "/api/users/1");
    expect(api.headers.get("x-api")).toBe("yes");
    expect(api.headers.get("x-frame-options")).toBe("DENY");
    const missing = await get(app, "/nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-frame-options")).toBe("DENY");
  });

  it("cleanUrls: redirects .html away and serves the file without it", async () => {
    const app = appWith({ cleanUrls: true });
    const r = await get(app, "/about.html?x=1");
    expect(r.status).toBe(308);
    expect(r.headers.get("location")).toBe("/about?x=1");
    const idx = await get(app, "/docs/index.html");
    expect(idx.headers.get("location")).toBe("/docs");
    expect((await get(app, "/index.html")).headers.get("location")).toBe("/");
    expect(await (await get(app, "/about")).text()).toBe("about");
    expect(await (await get(app, "/docs")).text()).toBe("docs");
  });

  it("trailingSlash true adds one to non-file paths; false removes it", async () => {
    const add = appWith({ trailingSlash: true });
    const r = await get(add, "/docs?q=1");
    expect(r.status).toBe(308);
    expect(r.headers.get("location")).toBe("/docs/?q=1");
    expect((await get(add, "/app.js")).status).toBe(200);
    expect(await (await get(add, "/docs/")).text()).toBe("docs");
    expect((await get(add, "/")).status).toBe(200);
    const remove = appWith({ trailingSlash: false });
    const r2 = await get(remove, "/docs/");
    expect(r2.status).toBe(308);
    expect(r2.headers.get("location")).toBe("/docs");
    expect((await get(remove, "/")).status).toBe(200);
    const both = appWith({ cleanUrls: true, trailingSlash: true });
    expect((await get(both, "/about.html")).headers.get("location")).toBe("/about/");
    expect(await (await get(both, "/about/")).text()).toBe("about");
  });

  it("rewrites to files and to functions, after the filesystem and functions had their chance", async () => {
    const app = appWith({
      rewrites: [
        { source: "/app.js", destination: "/index.html" }, // the file wins: never applied
        { source: "/team/:id", destination: "/api/users/:id?from=team" },
        { source: "/spa/*rest", destination: "/index.html" }, // the v8 syntax older builds stored

        { source: "/gone", destination: "/nothing-here" },
      ],
    });
    expect(await (await get(app, "/app.js")).text()).toBe("js");
    const team = await (await get(app, "/team/9?x=2")).json();
    expect(team).toMatchObject({ fn: "api/users/[id]", params: { id: "9" }, path: "/api/users/9?from=team&x=2" });
    expect(await (await get(app, "/spa/deep/link")).text()).toBe("home");
    expect((await get(app, "/gone")).status).toBe(404);
  });
});
