import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogEntry } from "../../core/logs/port.ts";
import { createRouter } from "../../router/index.ts";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { eventually, scratch } from "../runtime/helpers.ts";
import { ADAPTERS, codeFunction, fakeResolve, output, ready, type RouterClient } from "./helpers.ts";

// A Node handler may set any status Node's server will write (100-999); only 200-599 may reach
// a visitor. `?s=` picks the status; `?hints` sends 103 Early Hints first.
const STATUS = `
export default function handler(req, res) {
  if ("hints" in req.query) res.writeEarlyHints({ link: "</a.css>; rel=preload" });
  res.statusCode = Number(req.query.s);
  res.setHeader("x-from", "function");
  res.end("body from the function");
}
`;

// In process, the host's answer is a Web Response; over the Node listener it is written straight
// into Node's response. Both must refuse what is not HTTP.
describe.each(ADAPTERS)("router: functions answering an invalid status (%s)", (_adapter, serve) => {
  let app: RouterClient;
  let host: FunctionHost;
  let cleanup: () => Promise<unknown>;
  const logs: LogEntry[] = [];

  beforeAll(async () => {
    const s = await scratch();
    cleanup = s.cleanup;
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir, onLog: (e) => logs.push(e) });
    const fn = await codeFunction(s.blobs, "dpl_status", "api/status", STATUS, { config: { maxDuration: 3 } });
    app = serve(createRouter({ domain: "localhost", resolve: fakeResolve({ app: ready(output([], [fn]), { id: "dpl_status" }) }), host, blobs: s.blobs }));
  });
  afterAll(async () => {
    await app.close();
    await host.close();
    await cleanup();
  });

  it("answers 502 function_invalid_response for a status past 599, and logs why", async () => {
    for (const s of [999, 600]) {
      const res = await app.request(`http://app.localhost/api/status?s=${s}`);
      expect(res.status, String(s)).toBe(502);
      const body = await res.json();
      expect(body.error.code).toBe("function_invalid_response");
      expect(res.headers.get("x-from")).toBeNull();
      expect(JSON.stringify(body)).not.toContain("body from the function");
    }
    await eventually(() => logs.some((l) => l.stream === "request" && l.status === 502 && l.text.includes("status 600")));
    expect(logs.some((l) => l.stream === "stderr" && l.text.startsWith("[ferry]") && l.text.includes("status 999"))).toBe(true);
  });

  it("answers 502 at once for a 1xx Node does not send as an interim response, instead of waiting for maxDuration", async () => {
    const started = Date.now();
    const res = await app.request("http://app.localhost/api/status?s=150");
    expect(res.status).toBe(502);
    expect((await res.json()).error.code).toBe("function_invalid_response");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("still passes interim responses over and the answer after them through", async () => {
    const res = await app.request("http://app.localhost/api/status?s=201&hints");
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("body from the function");
    const edge = await app.request("http://app.localhost/api/status?s=599");
    expect(edge.status).toBe(599);
    await edge.arrayBuffer();
  });
});
