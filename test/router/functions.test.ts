import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import { serve } from "@hono/node-server";
import { request as undiciRequest } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter, nodeListener, type Router } from "../../router/index.ts";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { fixtureFunction, scratch } from "../runtime/helpers.ts";
import { fakeResolve, output, ready, staticFile } from "./helpers.ts";

// The router in front of the real local host, served over loopback HTTP.
// Served both ways the router can be: Hono's general Node adapter, and the thin listener the
// platform runs (which writes function responses straight into the socket).
const SERVERS: [string, (router: Router) => Server][] = [
  ["Hono's Node adapter", (router) => serve({ fetch: router.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server],
  ["the platform's Node listener", (router) => createServer(nodeListener(router.fetch)).listen(0, "127.0.0.1")],
];

describe.each(SERVERS)("router: functions over HTTP (%s)", (_name, start) => {
  let s: Awaited<ReturnType<typeof scratch>>;
  let host: FunctionHost;
  let server: Server;
  let port: number;
  const dep = "dpl_router_fn";

  beforeAll(async () => {
    s = await scratch();
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir });
    const functions = [
      await fixtureFunction(s.blobs, dep, "web-hello.mjs", { name: "api/users/[id]", route: "/api/users/:id" }),
      await fixtureFunction(s.blobs, dep, "node-handler.mjs", { name: "api/node/[...slug]", route: "/api/node/*slug" }),
      await fixtureFunction(s.blobs, dep, "sse.mjs", { name: "api/events", route: "/api/events" }),
      await fixtureFunction(s.blobs, dep, "echo.mjs", { name: "api/echo", route: "/api/echo" }),
      await fixtureFunction(s.blobs, dep, "crash.mjs", { name: "api/crash", route: "/api/crash" }),
      await fixtureFunction(s.blobs, dep, "hang.mjs", { name: "api/hang", route: "/api/hang", config: { maxDuration: 0.5 } }),
      await fixtureFunction(s.blobs, dep, "env.mjs", { name: "api/env", route: "/api/env" }),
    ];
    const files = [await staticFile(s.blobs, "index.html", "home")];
    const env = { FERRY_DEPLOYMENT_ID: dep, FERRY_ENV: "preview", GREETING: "hi" };
    const router = createRouter({
      domain: "localhost",
      resolve: fakeResolve({ app: ready(output(files, functions, { rewrites: [{ source: "/u/:id", destination: "/api/users/:id" }] }), { id: dep }, env) }),
      host,
      blobs: s.blobs,
    });
    server = start(router);
    await new Promise((r) => server.once("listening", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await host.close();
    await s.cleanup();
  });

  const call = (path: string, opts: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}) =>
    undiciRequest(`http://127.0.0.1:${port}${path}`, {
      method: (opts.method ?? "GET") as "GET",
      body: opts.body,
      headers: { host: `app.localhost:${port}`, ...opts.headers },
    });

  it("invokes a function route with params, request id and forwarded headers", async () => {
    const res = await call("/api/users/42?x=1");
    expect(res.statusCode).toBe(200);
    expect(res.headers.server).toBe("ferry");
    const id = res.headers["x-ferry-request-id"];
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ params: { id: "42" }, requestId: id, forwardedHost: `app.localhost:${port}`, url: `http://app.localhost:${port}/api/users/42?x=1` });
  });

  it("does not let a visitor forge route params", async () => {
    const res = await call("/api/users/1", { headers: { "x-ferry-params": '{"id":"admin"}' } });
    expect(((await res.body.json()) as { params: unknown }).params).toEqual({ id: "1" });
  });

  it("gives Node handlers req.params and req.query, and rewrites reach functions", async () => {
    const res = await call("/api/node/a/b?q=1");
    expect(await res.body.json()).toMatchObject({ params: { slug: ["a", "b"] }, query: { q: "1" } });
    const rw = await call("/u/7");
    expect(await rw.body.json()).toMatchObject({ params: { id: "7" } });
  });

  it("streams server-sent events through the router as they are produced", async () => {
    const started = Date.now();
    const res = await call("/api/events");
    expect(res.headers["content-type"]).toBe("text/event-stream");
    const times: number[] = [];
    let text = "";
    for await (const chunk of res.body) {
      times.push(Date.now() - started);
      text += chunk.toString();
    }
    expect(text).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\n");
    expect(times.length).toBeGreaterThanOrEqual(2);
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(450);
  });

  it("passes 5 MB through the router intact", async () => {
    const data = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
    const res = await call("/api/echo", { method: "POST", body: data });
    const back = Buffer.from(await res.body.arrayBuffer());
    expect(back.equals(data)).toBe(true);
  });

  it("answers 502 for a crash, 504 for a timeout, and keeps serving", async () => {
    const crash = await call("/api/crash", { headers: { accept: "application/json" } });
    expect(crash.statusCode).toBe(502);
    expect(((await crash.body.json()) as { error: { code: string } }).error.code).toBe("function_crashed");
    const hang = await call("/api/hang", { headers: { accept: "text/html" } });
    expect(hang.statusCode).toBe(504);
    expect(await hang.body.text()).toContain("function_timeout");
    const ok = await call("/api/users/1");
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });

  it("gives functions the deployment's env and FERRY_* facts only", async () => {
    const env = (await (await call("/api/env")).body.json()) as Record<string, string>;
    expect(env).toMatchObject({ GREETING: "hi", FERRY_DEPLOYMENT_ID: dep, FERRY_ENV: "preview", NODE_ENV: "production" });
    expect(env.FERRY_HOME).toBeUndefined();
  });

  it("refuses traversal sent as a raw request line", async () => {
    for (const line of ["/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/../../etc/passwd", "/a\\..\\..\\b"]) {
      const status = await rawStatus(port, `GET ${line} HTTP/1.1\r\nHost: app.localhost\r\nConnection: close\r\n\r\n`);
      expect([400, 404], line).toContain(status);
    }
  });
});

function rawStatus(port: number, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1", () => sock.write(text));
    let buf = "";
    sock.on("data", (d) => (buf += d.toString()));
    sock.on("end", () => resolve(Number(buf.split(" ")[1])));
    sock.on("error", reject);
  });
}
