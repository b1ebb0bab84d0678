import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter, nodeListener } from "../../router/index.ts";
import { hostLabel, validHost } from "../../router/paths.ts";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { fixtureFunction, scratch } from "../runtime/helpers.ts";
import { ADAPTERS, fakeResolve, noFunctions, output, rawHttp, ready, staticFile, type RouterClient } from "./helpers.ts";

const label63 = "a".repeat(63);
const label64 = "a".repeat(64);
// 4 labels of 62 + dots = 251, plus ".localhost" = 261 > 253
const longName = `${["b", "c", "d", "e"].map((c) => c.repeat(62)).join(".")}.localhost`;

describe("router: what a valid host is", () => {
  it("accepts hostname[:port], IPv4 and IPv6 literals", () => {
    for (const h of ["site.localhost", "SITE.LocalHost:3000", "site.localhost.", "site.localhost.:80", "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:3000", "[2001:db8::7]", "a_b~c.localhost", "%41pp.localhost", `${label63}.localhost`, "x:"]) {
      expect(validHost(h), h).toBe(true);
    }
  });

  it("refuses paths, queries, fragments, userinfo, spaces, control characters and DNS-breaking lengths", () => {
    for (const h of [
      "",
      "app.localhost/api/ping#",
      "app.localhost/",
      "app.localhost?x",
      "app.localhost#x",
      "user@app.localhost",
      "app .localhost",
      "app.localhost\t",
      "app\u0000.localhost",
      "app\u007f.localhost",
      "app.localhost\\evil",
      "ąpp.localhost",
      "app.localhost:80:81",
      "app.localhost:http",
      "app.localhost:123456",
      ":80",
      "%zz.localhost",
      "[::1",
      "[]",
      "[127.0.0.1]",
      "[::g]",
      "[::1]x",
      `${label64}.localhost`,
      longName,
    ]) {
      expect(validHost(h), JSON.stringify(h)).toBe(false);
    }
  });

  it("looks up only labels a deployment can have", () => {
    expect(hostLabel("site-abc.localhost:80", "localhost")).toBe("site-abc");
    for (const h of ["s!te.localhost", "%41pp.localhost", "-site.localhost", "a_b.localhost", "[::1]:80"]) expect(hostLabel(h, "localhost"), h).toBeNull();
  });
});

// Host rules that hold however the router is served.
describe.each(ADAPTERS)("router: host lengths (%s)", (_adapter, serve) => {
  let app: RouterClient;
  let cleanup: () => Promise<unknown>;
  beforeAll(async () => {
    const s = await scratch();
    cleanup = s.cleanup;
    const home = await staticFile(s.blobs, "index.html", "<h1>home</h1>");
    app = serve(createRouter({ domain: "localhost", resolve: fakeResolve({ site: ready(output([home])), [label63]: ready(output([home])) }), host: noFunctions, blobs: s.blobs }));
  });
  afterAll(async () => {
    await app.close();
    await cleanup();
  });

  it("answers 400 invalid_host for a label over 63 bytes or a name over 253", async () => {
    for (const host of [`${label64}.localhost`, longName]) {
      const res = await app.request(`http://${host}/`);
      expect(res.status, host).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_host");
    }
    const ok = await app.request(`http://${label63}.localhost/`);
    expect(ok.status).toBe(200);
  });
});

describe("router: a host lookup that fails", () => {
  it("is 503 deployment_lookup_failed, not a function's error", async () => {
    const s = await scratch();
    const router = createRouter({
      domain: "localhost",
      resolve: async () => {
        throw new Error("metadata store unreachable");
      },
      host: noFunctions,
      blobs: s.blobs,
    });
    const res = await router.app.request("http://site.localhost/");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBeTruthy();
    const body = await res.json();
    expect(body.error.code).toBe("deployment_lookup_failed");
    expect(JSON.stringify(body)).not.toContain("unreachable");
    await s.cleanup();
  });
});

// What arrives on the wire before anything can normalize it: raw bytes over a TCP socket.
describe("router: the Host header on the wire", () => {
  let server: Server;
  let port: number;
  let cleanup: () => Promise<unknown>;

  beforeAll(async () => {
    const s = await scratch();
    cleanup = s.cleanup;
    const files = [await staticFile(s.blobs, "index.html", "<h1>home</h1>"), await staticFile(s.blobs, "other.html", "<h1>other</h1>")];
    const router = createRouter({ domain: "localhost", resolve: fakeResolve({ site: ready(output(files)), second: ready(output([await staticFile(s.blobs, "index.html", "second")])) }), host: noFunctions, blobs: s.blobs });
    server = createServer(nodeListener(router.fetch));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await cleanup();
  });

  const send = async (head: string) => {
    const res = await rawHttp(port, head).response;
    return { ...res, code: res.headers["content-type"] === "application/json" ? (JSON.parse(res.body) as { error: { code: string } }).error.code : null };
  };

  it("refuses a Host with a path instead of letting it pick another route", async () => {
    for (const host of ["site.localhost/other.html#", "site.localhost/other.html?", "site.localhost?/other.html", "site.localhost#"]) {
      const res = await send(`GET /index.html HTTP/1.1\r\nHost: ${host}\r\nConnection: close`);
      expect(res.status, host).toBe(400);
      expect(res.code).toBe("invalid_host");
      expect(res.body).not.toContain("other");
    }
    expect((await send("GET /index.html HTTP/1.1\r\nHost: site.localhost\r\nConnection: close")).body).toBe("<h1>home</h1>");
  });

  it("refuses userinfo, spaces and other bytes no host has", async () => {
    for (const host of ["evil@site.localhost", "site .localhost", "site.localhost:80:80", "site.localhost\\x"]) {
      const res = await send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close`);
      expect(res.status, host).toBe(400);
      expect(res.code).toBe("invalid_host");
    }
  });

  it("answers 400 for two Host headers, whatever their case and order", async () => {
    for (const pair of ["Host: site.localhost\r\nHost: second.localhost", "host: site.localhost\r\nHOST: site.localhost", "Host: site.localhost\r\nX-A: 1\r\nhOsT: second.localhost"]) {
      const res = await send(`GET / HTTP/1.1\r\n${pair}\r\nConnection: close`);
      expect(res.status, pair).toBe(400);
      expect(res.code).toBe("invalid_host");
    }
  });

  it("answers 400 for labels over 63 bytes and names over 253", async () => {
    for (const host of [`${label64}.localhost`, longName, `${label64}.localhost:80`]) {
      const res = await send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close`);
      expect(res.status, host).toBe(400);
      expect(res.code).toBe("invalid_host");
    }
  });

  it("routes an absolute-form target by its own authority, never by Host (RFC 9112 §3.2.2)", async () => {
    expect((await send("GET http://site.localhost/other.html HTTP/1.1\r\nHost: second.localhost\r\nConnection: close")).body).toBe("<h1>other</h1>");
    expect((await send("GET http://second.localhost/ HTTP/1.1\r\nHost: site.localhost\r\nConnection: close")).body).toBe("second");
    // scheme in any case; no path at all means `/`
    expect((await send("GET HTTP://SITE.localhost HTTP/1.1\r\nHost: second.localhost\r\nConnection: close")).body).toBe("<h1>home</h1>");
    expect((await send("GET http://site.localhost?x=1 HTTP/1.1\r\nHost: second.localhost\r\nConnection: close")).body).toBe("<h1>home</h1>");
    // the target's authority is held to the same rules as Host
    for (const target of [`http://${label64}.localhost/`, "http://evil@site.localhost/", "http:///index.html", "ftp://site.localhost/"]) {
      expect((await send(`GET ${target} HTTP/1.1\r\nHost: site.localhost\r\nConnection: close`)).status, target).toBe(400);
    }
    // ignored for routing, but still refused when invalid or repeated
    expect((await send("GET http://site.localhost/ HTTP/1.1\r\nHost: site.localhost/x\r\nConnection: close")).status).toBe(400);
    expect((await send("GET http://site.localhost/ HTTP/1.1\r\nHost: site.localhost\r\nHost: second.localhost\r\nConnection: close")).status).toBe(400);
  });

  it("answers 400 for a request target in neither origin nor absolute form, or with no Host", async () => {
    expect((await send("OPTIONS * HTTP/1.1\r\nHost: site.localhost\r\nConnection: close")).status).toBe(400);
    expect((await send("GET / HTTP/1.0")).status).toBe(400);
  });
});

// A function is told the host the router routed on, in Host and X-Forwarded-Host alike.
describe("router: the host a function sees", () => {
  let server: Server;
  let port: number;
  let host: FunctionHost;
  let cleanup: () => Promise<unknown>;

  beforeAll(async () => {
    const s = await scratch();
    cleanup = s.cleanup;
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir });
    const fn = await fixtureFunction(s.blobs, "dpl_hosts", "web-hello.mjs", { name: "api/hello", route: "/api/hello" });
    const router = createRouter({ domain: "localhost", resolve: fakeResolve({ app: ready(output([], [fn]), { id: "dpl_hosts" }) }), host, blobs: s.blobs });
    server = createServer(nodeListener(router.fetch));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await host.close();
    await cleanup();
  });

  it("is the absolute-form target's authority, not a Host that disagrees", async () => {
    const res = await rawHttp(port, "GET http://app.localhost:8080/api/hello?x=1 HTTP/1.1\r\nHost: other.localhost\r\nConnection: close").response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ url: "http://app.localhost:8080/api/hello?x=1", forwardedHost: "app.localhost:8080" });
    const plain = await rawHttp(port, "GET /api/hello HTTP/1.1\r\nHost: App.localhost:9\r\nConnection: close").response;
    expect(JSON.parse(plain.body)).toMatchObject({ url: "http://app.localhost:9/api/hello", forwardedHost: "App.localhost:9" });
  });
});
