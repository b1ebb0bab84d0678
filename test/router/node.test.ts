import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter, nodeListener } from "../../router/index.ts";
import { scratch } from "../runtime/helpers.ts";
import { fakeResolve, noFunctions, output, ready, staticFile } from "./helpers.ts";

// What only the Node listener deals with: the request line as Node hands it over.
describe("router: the Node listener", () => {
  let server: Server;
  let port: number;
  let cleanup: () => Promise<unknown>;

  beforeAll(async () => {
    const s = await scratch();
    cleanup = s.cleanup;
    const files = [await staticFile(s.blobs, "index.html", "<h1>home</h1>")];
    const router = createRouter({ domain: "localhost", resolve: fakeResolve({ site: ready(output(files)) }), host: noFunctions, blobs: s.blobs });
    server = createServer(nodeListener(router.fetch));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await cleanup();
  });

  const get = (path: string, host: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res: IncomingMessage) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d) => (body += d)).on("end", () => resolve({ status: res.statusCode!, body }));
      });
      req.once("error", reject).end();
    });

  it("accepts a request target in absolute form, which names the host itself", async () => {
    expect(await get("http://site.localhost/index.html", "elsewhere.example")).toEqual({ status: 200, body: "<h1>home</h1>" });
    expect((await get("/index.html", "site.localhost")).status).toBe(200);
    expect((await get("/index.html", "nope.localhost")).status).toBe(404);
  });
});
