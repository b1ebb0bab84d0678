import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routesOf } from "../../builder/build.ts";
import { parseFerryConfig } from "../../core/config/schema.ts";
import { createRouter } from "../../router/index.ts";
import { nodeListener } from "../../router/node.ts";
import { scratch } from "../runtime/helpers.ts";
import { noFunctions, output, ready } from "./helpers.ts";

// An external rewrite streams both ways: the other site gets the visitor's body as it arrives and
// the visitor gets the other site's answer as it is sent, neither waiting for the whole.
describe("router: external rewrites stream", () => {
  let upstream: Server;
  let router: Server;
  let port: number;
  let cleanup: () => Promise<unknown>;
  let firstChunkSeen: () => void;
  const upstreamGotFirst = new Promise<void>((r) => (firstChunkSeen = r));
  let releaseUpstream: () => void;
  const released = new Promise<void>((r) => (releaseUpstream = r));

  beforeAll(async () => {
    const s = await scratch();
    cleanup = s.cleanup;
    upstream = createServer(async (req, res) => {
      if (req.url === "/upload") {
        let n = 0;
        for await (const c of req) {
          n += (c as Buffer).length;
          firstChunkSeen();
        }
        return void res.end(`got ${n}`);
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first;");
      await released;
      res.end("second");
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const routes = routesOf(parseFerryConfig({ rewrites: [{ source: "/ext/:path*", destination: `${origin}/:path*` }] }));
    const app = createRouter({ domain: "localhost", resolve: async (l) => (l === "site" ? ready(output([], [], routes)) : null), host: noFunctions, blobs: s.blobs, externalRewrites: { allowPrivateNetworks: true } });
    router = createServer(nodeListener(app.fetch));
    await new Promise<void>((r) => router.listen(0, "127.0.0.1", r));
    port = (router.address() as AddressInfo).port;
  });
  afterAll(async () => {
    releaseUpstream();
    for (const srv of [router, upstream]) {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
    await cleanup();
  });

  it("passes the answer on before the other site has finished it", async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest({ port, host: "127.0.0.1", path: "/ext/stream", headers: { host: "site.localhost" } }, resolve).once("error", reject).end());
    expect(res.statusCode).toBe(200);
    const first = await new Promise<string>((r) => res.once("data", (c: Buffer) => r(c.toString())));
    expect(first).toBe("first;");
    releaseUpstream();
    let rest = "";
    for await (const c of res) rest += (c as Buffer).toString();
    expect(rest).toBe("second");
  });

  it("passes the visitor's body on before it has all arrived", async () => {
    const req = httpRequest({ port, host: "127.0.0.1", path: "/ext/upload", method: "POST", headers: { host: "site.localhost", "transfer-encoding": "chunked" } });
    const answer = new Promise<IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject));
    req.write("a".repeat(1000));
    // the other site has the first part while the visitor is still sending
    await upstreamGotFirst;
    req.end("b".repeat(500));
    const res = await answer;
    let body = "";
    for await (const c of res) body += (c as Buffer).toString();
    expect(body).toBe("got 1500");
  });
});
