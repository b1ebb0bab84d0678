import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter } from "../../router/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { FerryError } from "../../core/errors.ts";
import { scratch } from "../runtime/helpers.ts";
import { ADAPTERS, deployment, fakeResolve, output, ready, staticFile, type RouterClient } from "./helpers.ts";
import type { Resolved } from "../../router/resolver.ts";

/** A function host whose functions fail the way the real one reports failures. */
const failingHost = (err: FerryError): FunctionHost => ({
  invoke: async () => {
    throw err;
  },
  evict: async () => {},
  stats: () => ({ instances: 0, byDeployment: {} }),
  close: async () => {},
});

const fnOut = (route: string) => ({
  name: "api/x",
  route,
  source: "api/x.ts",
  handler: "function" as const,
  artifact: { prefix: "p", entry: "index.mjs", files: ["index.mjs"] },
  config: { memory: 128, maxDuration: 1, maxConcurrency: 1 },
});

// Host -> deployment, deployment states, and how errors are shown to visitors.
describe.each(ADAPTERS)("router: hosts and visitor errors (%s)", (_adapter, serve) => {
  let table: Record<string, Resolved>;
  let app: RouterClient;
  const clients: RouterClient[] = [];
  let blobs: Awaited<ReturnType<typeof scratch>>["blobs"];
  let cleanup: () => Promise<unknown>;

  beforeAll(async () => {
    ({ blobs, cleanup } = await scratch());
    const home = await staticFile(blobs, "index.html", "<h1>home</h1>");
    table = {
      "site-abc12345": ready(output([home])),
      site: ready(output([home])),
      "wip-1": { deployment: deployment({ state: "BUILDING" }), output: null, env: {} },
      "queued-1": { deployment: deployment({ state: "QUEUED" }), output: null, env: {} },
      "broken-1": { deployment: deployment({ state: "ERROR" }), output: null, env: {} },
      "stopped-1": { deployment: deployment({ state: "CANCELED" }), output: null, env: {} },
      "crashy-1": ready(output([], [fnOut("/api/x")])),
    };
    app = serve(createRouter({ domain: "localhost", resolve: fakeResolve(table), host: failingHost(new FerryError("function_crashed", "exit code 1: secret detail", 502)), blobs }));
    clients.push(app);
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await cleanup();
  });

  it("serves a deployment by host label, ignoring port and case", async () => {
    for (const host of ["site-abc12345.localhost", "SITE-ABC12345.LocalHost:3000", "site.localhost:8080"]) {
      const res = await app.request(`http://${host}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("<h1>home</h1>");
      expect(res.headers.get("server")).toBe("ferry");
      expect(res.headers.get("x-ferry-request-id")).toMatch(/^req_/);
    }
  });

  it("answers 404 deployment_not_found for unknown or foreign hosts", async () => {
    for (const host of ["nope-1.localhost", "localhost", "a.b.localhost", "example.com", "site-abc12345.localhost.evil.com"]) {
      const res = await app.request(`http://${host}/`);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("deployment_not_found");
    }
  });

  it("answers 503 with Retry-After while building, 502 when the build failed", async () => {
    for (const label of ["wip-1", "queued-1"]) {
      const res = await app.request(`http://${label}.localhost/`);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBeTruthy();
      expect((await res.json()).error.code).toBe("deployment_building");
    }
    for (const label of ["broken-1", "stopped-1"]) {
      const res = await app.request(`http://${label}.localhost/`);
      expect(res.status).toBe(502);
      expect((await res.json()).error.code).toBe("deployment_failed");
    }
  });

  it("shows an HTML page to browsers and JSON to everyone else", async () => {
    const html = await app.request("http://nope-1.localhost/", { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(html.headers.get("content-type")).toContain("text/html");
    const page = await html.text();
    expect(page).toContain("404");
    expect(page).toContain("deployment_not_found");
    const json = await app.request("http://nope-1.localhost/", { headers: { accept: "application/json" } });
    expect(json.headers.get("content-type")).toBe("application/json");
    expect(await json.json()).toMatchObject({ error: { code: "deployment_not_found", message: expect.any(String) } });
  });

  it("maps a crashed function to 502 and a timeout to 504 without leaking details", async () => {
    const res = await app.request("http://crashy-1.localhost/api/x");
    expect(res.status).toBe(502);
    const body = await res.json();
    expect(body.error.code).toBe("function_crashed");
    expect(JSON.stringify(body)).not.toContain("secret detail");
    const slow = serve(
      createRouter({
        domain: "localhost",
        resolve: fakeResolve(table),
        host: failingHost(new FerryError("function_timeout", "too slow", 504)),
        blobs,
      }),
    );
    clients.push(slow);
    const t = await slow.request("http://crashy-1.localhost/api/x", { headers: { accept: "text/html" } });
    expect(t.status).toBe(504);
    expect(await t.text()).toContain("function_timeout");
  });

  it("answers 404 for a path that is neither a file nor a function", async () => {
    const res = await app.request("http://site.localhost/missing");
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
  });

  it("passes invalidate through to the resolver as a label", () => {
    const seen: (string | undefined)[] = [];
    const r = createRouter({ domain: "apps.example", resolve: fakeResolve(table), host: failingHost(new FerryError("x", "x")), blobs, invalidate: (l) => seen.push(l) });
    r.invalidate("Shop.apps.example:443");
    r.invalidate("shop-2");
    r.invalidate();
    expect(seen).toEqual(["shop", "shop-2", undefined]);
  });
});
