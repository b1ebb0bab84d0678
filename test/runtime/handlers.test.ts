import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import type { LogEntry } from "../../runtime/local/logs.ts";
import { ctx, fixtureFunction, request, scratch, targetOf } from "./helpers.ts";

// The calling conventions a bundle may use, each through a real child process.
describe("local host: handler shapes", () => {
  let s: Awaited<ReturnType<typeof scratch>>;
  let host: FunctionHost;
  const logs: LogEntry[] = [];
  const dep = "dpl_handlers";

  beforeAll(async () => {
    s = await scratch();
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir, onLog: (e) => logs.push(e) });
  });
  afterAll(async () => {
    await host.close();
    await s.cleanup();
  });

  it("runs a web handler with route params and the request id", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "web-hello.mjs", { route: "/api/users/:id" });
    const res = await host.invoke(targetOf(dep, fn), request("/api/users/42?x=1", { headers: { "x-custom": "y" } }), {
      ...ctx({ id: "42" }),
      requestId: "req_abc",
      headers: { "x-forwarded-host": "app.localhost" },
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ method: "GET", url: "http://app.localhost/api/users/42?x=1", params: { id: "42" }, requestId: "req_abc", forwardedHost: "app.localhost" });
    expect(body.pid).not.toBe(process.pid);
  });

  it("dispatches named method exports and answers 405 with Allow for others", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "named-methods.mjs");
    const t = targetOf(dep, fn);
    const get = await host.invoke(t, request("/named/7"), ctx({ id: "7" }));
    expect(await get.text()).toBe('get /named/7 {"id":"7"}');
    const post = await host.invoke(t, request("/named", { method: "POST", body: "hello" }), ctx());
    expect(post.status).toBe(201);
    expect(await post.text()).toBe("post hello");
    const head = await host.invoke(t, request("/named", { method: "HEAD" }), ctx());
    expect(head.status).toBe(200);
    const del = await host.invoke(t, request("/named", { method: "DELETE" }), ctx());
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("GET, POST, HEAD");
    await del.arrayBuffer();
  });

  it("serves an object with fetch() (a Hono app)", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "fetch-object.mjs");
    const res = await host.invoke(targetOf(dep, fn), request("/hono/path"), ctx());
    expect(res.headers.get("x-app")).toBe("hono-like");
    expect(await res.text()).toBe("fetch /hono/path");
  });

  it("runs a Node (req, res) handler with req.params, req.query and repeated headers", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "node-handler.mjs");
    const res = await host.invoke(targetOf(dep, fn), request("/node/5?a=1&a=2&b=3"), ctx({ slug: "5" }));
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    // route params are in req.query too, as Vercel puts them there
    expect(await res.json()).toEqual({ url: "/node/5?a=1&a=2&b=3", params: { slug: "5" }, query: { slug: "5", a: ["1", "2"], b: "3" }, method: "GET" });
  });

  it("runs a server app that listens on PORT", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "server-app.mjs", { name: "server", handler: "server" });
    const res = await host.invoke(targetOf(dep, fn), request("/anything/here?q=1"), ctx());
    const body = await res.json();
    expect(body).toMatchObject({ server: true, url: "/anything/here?q=1" });
    expect(Number(body.port)).toBeGreaterThan(0);
    expect(logs.some((l) => l.function === "server" && l.stream === "stdout" && l.text === "server starting")).toBe(true);
  });

  it("gives the function only its own environment", async () => {
    process.env.FERRY_PLATFORM_SECRET = "do-not-leak";
    try {
      const fn = await fixtureFunction(s.blobs, dep, "env.mjs");
      const res = await host.invoke(targetOf(dep, fn, { APP_SETTING: "on", FERRY_ENV: "preview" }), request("/env"), ctx());
      const env = await res.json();
      expect(env.APP_SETTING).toBe("on");
      expect(env.FERRY_ENV).toBe("preview");
      expect(env.NODE_ENV).toBe("production");
      expect(env.PATH).toBeTruthy();
      expect(env.FERRY_PLATFORM_SECRET).toBeUndefined();
      expect(env.HOME).toBeUndefined();
    } finally {
      delete process.env.FERRY_PLATFORM_SECRET;
    }
  });

  it("passes a 5 MB body both ways intact", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "echo.mjs");
    const data = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 11)) & 0xff;
    const res = await host.invoke(targetOf(dep, fn), request("/echo", { method: "POST", body: data, headers: { "content-type": "application/x-test" } }), ctx());
    expect(res.headers.get("content-type")).toBe("application/x-test");
    const back = Buffer.from(await res.arrayBuffer());
    expect(back.length).toBe(data.length);
    expect(back.equals(data)).toBe(true);
  });

  it("streams chunks as the function produces them", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "sse.mjs");
    const started = Date.now();
    const res = await host.invoke(targetOf(dep, fn), request("/sse"), ctx());
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    expect(new TextDecoder().decode(first.value)).toBe("data: 0\n\n");
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    const total = Date.now() - started;
    expect(rest).toBe("data: 1\n\ndata: 2\n\n");
    // the first event arrived well before the stream ended (>= 600 ms of pauses)
    expect(total - firstAt).toBeGreaterThanOrEqual(450);
  });

  it("writes one request log line per request", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "crash.mjs", { name: "logger" });
    await (await host.invoke(targetOf(dep, fn), request("/logged?x=1"), { requestId: "req_log" })).text();
    await new Promise((r) => setTimeout(r, 50));
    const line = logs.find((l) => l.stream === "request" && l.requestId === "req_log");
    expect(line).toMatchObject({ deploymentId: dep, function: "logger", method: "GET", path: "/logged?x=1", status: 200 });
    expect(line!.durationMs).toBeGreaterThanOrEqual(0);
    expect(logs.some((l) => l.stream === "stdout" && l.text === "served /logged" && l.function === "logger")).toBe(true);
  });
});
