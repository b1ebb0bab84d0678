import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { LogEntry } from "../../runtime/local/logs.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { ctx, eventually, fixtureFunction, request, scratch, sleep, targetOf } from "./helpers.ts";

// A visitor can leave while the router is still resolving the host: by the time the function is
// invoked, the response's "close" event has come and gone. The exchange must end at once (logged
// as 499), not wait for a "drain" that never comes until maxDuration kills the instance and every
// other request in flight on it.
describe("local host: a visitor gone before the invoke", () => {
  let s: Awaited<ReturnType<typeof scratch>>;
  let host: FunctionHost;
  let server: Server;
  const logs: LogEntry[] = [];
  const dep = "dpl_gone";
  const SENT = new Response(null);

  beforeAll(async () => {
    s = await scratch();
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir, onLog: (e) => logs.push(e) });
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await host.close();
    await s.cleanup();
  });

  it("ends the exchange as 499 and keeps the instance", async () => {
    const fn = await fixtureFunction(s.blobs, dep, "web-hello.mjs", { config: { maxDuration: 2 } });
    const target = targetOf(dep, fn);
    const first = await (await host.invoke(target, request("/web-hello"), ctx())).json();

    const settled: Promise<Response>[] = [];
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      res.once("close", () => {
        // the client is gone; only now does the router get to invoke the function
        settled.push(host.invoke(target, request("/web-hello"), { ...ctx(), requestId: "req_gone", incoming: req, outgoing: res, sent: SENT }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const sock = connect((server.address() as AddressInfo).port, "127.0.0.1", () => {
      sock.write("GET /web-hello HTTP/1.1\r\nhost: app.localhost\r\n\r\n");
      setTimeout(() => sock.destroy(), 50);
    });
    await eventually(() => settled.length === 1);
    expect(await settled[0]).toBe(SENT);
    await eventually(() => logs.some((l) => l.requestId === "req_gone"), 1_000);
    expect(logs.find((l) => l.requestId === "req_gone")).toMatchObject({ stream: "request", status: 499 });

    // past maxDuration: nothing timed out, and the same instance still answers
    await sleep(2_500);
    expect(logs.filter((l) => l.status === 504)).toEqual([]);
    const again = await (await host.invoke(target, request("/web-hello"), ctx())).json();
    expect(again.pid).toBe(first.pid);
  });
});
