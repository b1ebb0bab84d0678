import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeHome, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

// test-only: retries a second apart instead of ten, so the test need not wait long; the receiver
// is on loopback, which only the operator's opt-out allows
const FAST_RETRY = { FERRY_WEBHOOK_RETRY_BASE_MS: "1000", FERRY_ALLOW_PRIVATE_WEBHOOKS: "1" };

/**
 * Webhook deliveries are queued durably: one a receiver refused before the platform was killed
 * (kill -9, nothing flushed on the way out) is delivered after the restart, the same delivery.
 */
describe("end to end: webhook deliveries survive a kill -9", () => {
  let platform: RunningPlatform | undefined;
  let home = "";
  let server: Server | undefined;
  afterAll(async () => {
    await platform?.stop();
    server?.closeAllConnections();
    server?.close();
    if (home) await removeHome(home);
  });

  it("a refused delivery pending at the crash is delivered after the restart", { timeout: 180_000 }, async () => {
    let accept = false;
    const got: { delivery: string; event: string; status: number }[] = [];
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const status = accept ? 200 : 503;
        got.push({ delivery: String(req.headers["x-ferry-delivery"]), event: String(req.headers["x-ferry-event"]), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

    platform = await startPlatformProcess({ env: FAST_RETRY });
    home = platform.home;
    const p = platform;
    const call = (q: RunningPlatform, method: string, path: string, body?: unknown) =>
      fetch(q.apiUrl + path, { method, headers: { authorization: `Bearer ${q.token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const hook = await (await call(p, "POST", "/v1/webhooks", { url: hookUrl, events: ["deployment.created"] })).json();
    expect(hook.id).toBeTruthy();

    const dir = await mkdtemp(join(tmpdir(), "ferry-hooked-"));
    await writeFile(join(dir, "index.html"), "hooked");
    const d = await runFerryProcess([dir, "--name", "hooked", "--json"], { env: { FERRY_HOME: home } });
    expect(d.code, d.stderr).toBe(0);

    // the receiver has refused at least once: the delivery is pending, then the platform dies
    const deadline = Date.now() + 60_000;
    while (!got.some((g) => g.event === "deployment.created") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const first = got.find((g) => g.event === "deployment.created");
    expect(first?.status).toBe(503);
    p.proc.kill("SIGKILL");
    await new Promise((r) => p.proc.once("exit", r));

    accept = true;
    platform = await startPlatformProcess({ home, env: FAST_RETRY });
    const q = platform;
    const end = Date.now() + 60_000;
    while (!got.some((g) => g.status === 200) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const delivered = got.find((g) => g.status === 200);
    expect(delivered?.delivery).toBe(first!.delivery);

    const list = (await (await call(q, "GET", `/v1/webhooks/${hook.id}/deliveries`)).json()).deliveries as { id: string; state: string; attempts: { status?: number }[] }[];
    const rec = list.find((x) => x.id === first!.delivery);
    expect(rec?.state).toBe("delivered");
    expect(rec?.attempts.at(-1)?.status).toBe(200);
    expect(rec?.attempts[0]?.status).toBe(503);
  });
});
