import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter, nodeListener, type Router } from "../../router/index.ts";
import { createLocalHost, type LocalHostOptions } from "../../runtime/local/host.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import type { BuiltFunction } from "../../core/types.ts";
import type { LogEntry } from "../../core/logs/port.ts";
import { eventually, scratch, sleep } from "../runtime/helpers.ts";
import { ADAPTERS, codeFunction, fakeResolve, output, rawHttp, ready, type RouterClient } from "./helpers.ts";

const LIMIT = 16 * 1024;
const DEP = "dpl_bodies";

// counts the body it was sent
const COUNT = `export default async (req) => new Response(String((await req.arrayBuffer()).byteLength));`;
// answers as soon as the first piece of the body is there
const FIRST_PIECE = `
export default async (req) => {
  const first = await req.body.getReader().read();
  return new Response("first " + (first.value?.length ?? 0));
};`;

/** A router over a real local host whose functions all run one request at a time on one instance:
 * a request that holds the slot holds the function. */
async function setup(hostOpts: Partial<LocalHostOptions>) {
  const s = await scratch();
  const one = { maxConcurrency: 1 };
  const functions: BuiltFunction[] = [
    await codeFunction(s.blobs, DEP, "api/count", COUNT, { config: one }),
    await codeFunction(s.blobs, DEP, "api/upload", COUNT, { config: { ...one, streamingBody: true } }),
    await codeFunction(s.blobs, DEP, "api/first", FIRST_PIECE, { config: { ...one, streamingBody: true } }),
  ];
  const host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir, maxInstancesPerFunction: 1, ...hostOpts });
  const router = createRouter({ domain: "localhost", resolve: fakeResolve({ app: ready(output([], functions), { id: DEP }) }), host, blobs: s.blobs });
  return {
    host,
    router,
    async close() {
      await host.close();
      await s.cleanup();
    },
  };
}

async function listen(router: Router): Promise<{ server: Server; port: number }> {
  const server = createServer(nodeListener(router.fetch));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port };
}

async function stop(server: Server) {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

const codeOf = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

describe.each(ADAPTERS)("router: request bodies (%s)", (_adapter, serve) => {
  let env: Awaited<ReturnType<typeof setup>>;
  let app: RouterClient;
  beforeAll(async () => {
    env = await setup({ maxRequestBodyBytes: LIMIT, requestBodyTimeoutMs: 1_000 });
    app = serve(env.router);
  });
  afterAll(async () => {
    await app.close();
    await env.close();
  });

  it("hands a function its whole body, up to the limit", async () => {
    const res = await app.request("http://app.localhost/api/count", { method: "POST", body: Buffer.alloc(LIMIT, 1) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(String(LIMIT));
    expect(await (await app.request("http://app.localhost/api/count", { method: "POST" })).text()).toBe("0");
  });

  it("answers 413 payload_too_large for a body over the limit, and closes the connection", async () => {
    const res = await app.request("http://app.localhost/api/count", { method: "POST", body: Buffer.alloc(LIMIT + 1, 1) });
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect(codeOf(await res.text())).toBe("payload_too_large");
  });

  it("streams the body to a function that opted in, which the limit does not apply to", async () => {
    const res = await app.request("http://app.localhost/api/upload", { method: "POST", body: Buffer.alloc(LIMIT * 4, 1) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(String(LIMIT * 4));
  });
});

describe("router: a stalled request body, in process", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup({ maxRequestBodyBytes: LIMIT, requestBodyTimeoutMs: 800 });
  });
  afterAll(() => env.close());

  it("answers 408 request_body_timeout once the body timeout passes", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(10)); // and nothing more, ever
      },
    });
    const started = Date.now();
    const res = await env.router.app.request("http://app.localhost/api/count", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(408);
    expect(codeOf(await res.text())).toBe("request_body_timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

// Over a bare TCP socket: bodies sent exactly as a slow or hostile client sends them.
describe("router: request bodies on the wire", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    env = await setup({ maxRequestBodyBytes: LIMIT, requestBodyTimeoutMs: 1_000 });
    ({ server, port } = await listen(env.router));
  });
  afterAll(async () => {
    await stop(server);
    await env.close();
  });

  it("answers 413 at once when Content-Length is over the limit, without waiting for the body", async () => {
    const ex = rawHttp(port, `POST /api/count HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: ${100 * 1024 * 1024}`);
    const res = await ex.response;
    expect(res.status).toBe(413);
    expect(codeOf(res.body)).toBe("payload_too_large");
    await ex.closed; // the unread body cannot be followed by another request
  });

  it("answers 413 when a chunked body grows past the limit", async () => {
    const chunk = (n: number) => `${n.toString(16)}\r\n${"x".repeat(n)}\r\n`;
    const ex = rawHttp(port, "POST /api/count HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked", { body: [chunk(8 * 1024), chunk(8 * 1024), chunk(1)], gapMs: 20 });
    const res = await ex.response;
    expect(res.status).toBe(413);
    expect(codeOf(res.body)).toBe("payload_too_large");
    ex.destroy();
    const ok = rawHttp(port, "POST /api/count HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\nConnection: close", { body: [chunk(100), chunk(23), "0\r\n\r\n"], gapMs: 20 });
    expect((await ok.response).body).toBe("123");
  });

  it("answers 408 request_body_timeout for a body that stalls, and closes the connection", async () => {
    const started = Date.now();
    const ex = rawHttp(port, "POST /api/count HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 100", { body: ["only this much"] });
    const res = await ex.response;
    expect(res.status).toBe(408);
    expect(codeOf(res.body)).toBe("request_body_timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5_000);
    await ex.closed;
  });

  it("lets a function that opted in read its body as it arrives", async () => {
    const ex = rawHttp(port, "POST /api/first HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 100000", { body: ["x".repeat(10)] });
    const res = await ex.response; // long before the other 99,990 bytes, which never come
    expect(res.body).toBe("first 10");
    ex.destroy();
  });
});

// The defect this guards against: visitors trickling bodies each held one of a function's
// instance slots while their body arrived, so a few dozen of them made it unanswerable.
describe("router: slow request bodies do not take a function's instances", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  let server: Server;
  let port: number;
  let host: FunctionHost;
  const logs: LogEntry[] = [];
  beforeAll(async () => {
    env = await setup({ requestBodyTimeoutMs: 10_000, onLog: (e) => logs.push(e) });
    host = env.host;
    ({ server, port } = await listen(env.router));
  });
  afterAll(async () => {
    await stop(server);
    await env.close();
  });

  it("answers a normal request promptly while 20 visitors send 1 byte every 200 ms", async () => {
    const post = (body: string) => rawHttp(port, `POST /api/count HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: ${body.length}\r\nConnection: close`, { body: [body] }).response;
    expect((await post("warm")).body).toBe("4"); // the one instance is up
    const slow = Array.from({ length: 20 }, () =>
      rawHttp(port, "POST /api/count HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 1000", { body: Array(1000).fill("x"), gapMs: 200, timeoutMs: 30_000 }),
    );
    // and one slow but finite body, which is answered once it is all there
    const patient = rawHttp(port, "POST /api/count HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 8\r\nConnection: close", { body: Array(8).fill("y"), gapMs: 200 });
    try {
      await sleep(600);
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const res = await post("hello");
        expect(res.body).toBe("5");
        expect(Date.now() - started).toBeLessThan(1_000);
        await sleep(300);
      }
      expect((await patient.response).body).toBe("8");
      expect(host.stats().instances).toBe(1);
    } finally {
      for (const s of slow) s.destroy();
    }
    // each one that left is one request line, and held nothing
    await eventually(() => logs.filter((l) => l.stream === "request" && l.status === 499).length === 20);
    expect(host.stats().instances).toBe(1);
  });
});
