import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { BuildResult } from "../../core/types.ts";
import { createToken } from "../../api/services/tokens.ts";
import { apiHarness } from "../helpers/api.ts";
import { until } from "../helpers/until.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };

interface Received {
  headers: IncomingMessage["headers"];
  raw: string;
  body: { id: string; type: string; createdAt: number; payload: Record<string, any> };
}

/** A receiver on loopback; `answer` decides each response (a status, or "hang"). */
async function receiver(answer: (n: number) => number | "hang") {
  const got: Received[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      got.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      const a = answer(n++);
      if (a !== "hang") res.writeHead(a).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

/** What a receiver does with the documented scheme: HMAC-SHA256 of the raw body, compared in constant time. */
const verify = (secret: string, raw: string, header: string | string[] | undefined) => {
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`);
  const given = Buffer.from(String(header ?? ""));
  return expected.length === given.length && timingSafeEqual(expected, given);
};


describe("outgoing webhooks: signed, recorded, retried, never in a deployment's way", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  const receivers: { close: () => Promise<unknown> }[] = [];
  beforeAll(async () => {
    process.env.FERRY_WEBHOOK_RETRY_BASE_MS = "200";
    // the receivers are on loopback: the operator's opt-out, as FERRY_ALLOW_PRIVATE_WEBHOOKS=1 sets it
    h = await apiHarness(async () => success, undefined, undefined, { allowPrivateWebhooks: true });
  });
  afterAll(async () => {
    h.api.services.webhooks.stop();
    for (const r of receivers) await r.close();
    await h.end();
    delete process.env.FERRY_WEBHOOK_RETRY_BASE_MS;
  });

  const addHook = async (url: string, events: string[], token = h.tokenA) => {
    const r = await h.call("POST", "/v1/webhooks", { token, json: { url, events } });
    expect(r.status).toBe(201);
    return (await r.json()) as { id: string; secret: string; events: string[] };
  };
  const deliveries = async (id: string, token = h.tokenA) => (await (await h.call("GET", `/v1/webhooks/${id}/deliveries`, { token })).json()).deliveries as any[];

  it("sends deployment.created and deployment.succeeded, each signed with the webhook's secret", async () => {
    const rx = await receiver(() => 200);
    receivers.push(rx);
    const hook = await addHook(rx.url, ["deployment.created", "deployment.succeeded"]);
    expect(hook.secret).toMatch(/^whsec_/);
    const files = await h.upload({ "index.html": "webhooks" });
    const d = await (await h.call("POST", "/v1/deployments", { json: { name: "hooked", files } })).json();
    await h.waitFor(d.id);
    await until("two deliveries", () => rx.got.length >= 2 || undefined);
    expect(rx.got.map((g) => g.body.type).sort()).toEqual(["deployment.created", "deployment.succeeded"]);
    for (const g of rx.got) {
      expect(verify(hook.secret, g.raw, g.headers["x-ferry-signature-256"])).toBe(true);
      expect(verify("whsec_forged", g.raw, g.headers["x-ferry-signature-256"])).toBe(false);
      expect(g.headers["x-ferry-event"]).toBe(g.body.type);
      expect(g.headers["x-ferry-delivery"]).toMatch(/^dlv_/);
      expect(g.body.payload.deployment).toMatchObject({ id: d.id, project: "hooked" });
    }
    expect(rx.got.find((g) => g.body.type === "deployment.succeeded")!.body.payload.deployment.state).toBe("READY");
    const recorded = await until("recorded deliveries", async () => {
      const list = await deliveries(hook.id);
      return list.length === 2 && list.every((x) => x.state === "delivered") ? list : undefined;
    });
    expect(recorded.map((x) => x.id).sort()).toEqual(rx.got.map((g) => g.headers["x-ferry-delivery"]).sort());
    for (const x of recorded) expect(x).toMatchObject({ status: 200, latencyMs: expect.any(Number), attempts: [expect.objectContaining({ status: 200 })] });
  });

  it("reports promotions, aliases and removals; only the events a webhook takes", async () => {
    const rx = await receiver(() => 204);
    receivers.push(rx);
    await addHook(rx.url, ["deployment.promoted", "alias.assigned", "deployment.removed"]);
    const files = await h.upload({ "index.html": "promoted" });
    const d = await (await h.call("POST", "/v1/deployments", { json: { name: "events", files } })).json();
    await h.waitFor(d.id);
    expect((await h.call("POST", `/v1/deployments/${d.id}/promote`)).status).toBe(200);
    expect((await h.call("POST", "/v1/aliases", { json: { alias: "events-extra", deployment: d.id } })).status).toBe(201);
    expect((await h.call("DELETE", "/v1/aliases/events-extra")).status).toBe(200);
    const other = await (await h.call("POST", "/v1/deployments", { json: { name: "events", files: await h.upload({ "index.html": "other" }) } })).json();
    await h.waitFor(other.id);
    expect((await h.call("DELETE", `/v1/deployments/${other.id}`)).status).toBe(200);
    await until("three events", () => rx.got.length >= 3 || undefined);
    const types = rx.got.map((g) => g.body.type);
    expect(types.sort()).toEqual(["alias.assigned", "deployment.promoted", "deployment.removed"]);
    expect(rx.got.find((g) => g.body.type === "alias.assigned")!.body.payload).toMatchObject({ alias: "events-extra", deployment: { id: d.id } });
    expect(rx.got.find((g) => g.body.type === "deployment.removed")!.body.payload.deployment.id).toBe(other.id);
  });

  it("retries a refusing receiver with backoff until it answers 2xx, recording every attempt", async () => {
    const rx = await receiver((n) => (n < 2 ? 503 : 200));
    receivers.push(rx);
    const hook = await addHook(rx.url, ["deployment.created"]);
    await h.call("POST", "/v1/deployments", { json: { name: "retried", files: await h.upload({ "index.html": "retry" }) } });
    const [dl] = await until("a delivered delivery", async () => {
      const list = await deliveries(hook.id);
      return list[0]?.state === "delivered" ? list : undefined;
    });
    expect(dl.attempts.map((a: { status: number }) => a.status)).toEqual([503, 503, 200]);
    const gaps = dl.attempts.slice(1).map((a: { at: number }, i: number) => a.at - dl.attempts[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(190);
    expect(gaps[1]).toBeGreaterThanOrEqual(390); // doubled
    expect(new Set(rx.got.map((g) => g.headers["x-ferry-delivery"])).size).toBe(1);
  });

  it("a hanging receiver does not slow a deployment; its attempt ends after 5 s and is recorded", async () => {
    const rx = await receiver(() => "hang");
    receivers.push(rx);
    const hook = await addHook(rx.url, ["deployment.created", "deployment.succeeded"]);
    const t0 = Date.now();
    const d = await (await h.call("POST", "/v1/deployments", { json: { name: "hanging", files: await h.upload({ "index.html": "hang" }) } })).json();
    expect((await h.waitFor(d.id)).state).toBe("READY");
    expect(Date.now() - t0).toBeLessThan(2000);
    const list = await until("a timed-out attempt", async () => {
      const l = await deliveries(hook.id);
      return l.some((x) => x.attempts.length && x.attempts[0].error) ? l : undefined;
    }, 20_000);
    const attempt = list.find((x) => x.attempts.length)!.attempts[0];
    expect(attempt.error).toMatch(/no answer within 5 s/);
    expect(attempt.latencyMs).toBeGreaterThanOrEqual(4900);
  }, 30_000);

  it("redelivers a past delivery as a new one", async () => {
    const rx = await receiver(() => 200);
    receivers.push(rx);
    const hook = await addHook(rx.url, ["deployment.created"]);
    await h.call("POST", "/v1/deployments", { json: { name: "again", files: await h.upload({ "index.html": "again" }) } });
    await until("the first delivery", () => rx.got.length >= 1 || undefined);
    const [first] = await deliveries(hook.id);
    const r = await h.call("POST", `/v1/webhooks/${hook.id}/deliveries/${first.id}/redeliver`);
    expect(r.status).toBe(201);
    await until("the redelivery", () => rx.got.length >= 2 || undefined);
    expect(rx.got[1]!.raw).toBe(rx.got[0]!.raw);
    expect(rx.got[1]!.headers["x-ferry-delivery"]).not.toBe(rx.got[0]!.headers["x-ferry-delivery"]);
  });

  it("needs the webhooks scope, refuses a bad URL, and keeps accounts apart", async () => {
    const deploysOnly = (await createToken(h.metadata, "acc_a", "d", ["deployments"])).token;
    expect((await h.call("GET", "/v1/webhooks", { token: deploysOnly })).status).toBe(403);
    const bad = await h.call("POST", "/v1/webhooks", { json: { url: "ftp://x", events: ["deployment.created"] } });
    expect(bad.status).toBe(400);
    expect((await h.call("POST", "/v1/webhooks", { json: { url: "http://127.0.0.1:1/x", events: ["deployment.exploded"] } })).status).toBe(400);
    const mine = (await (await h.call("GET", "/v1/webhooks")).json()).webhooks;
    expect(mine.length).toBeGreaterThan(0);
    expect((await (await h.call("GET", "/v1/webhooks", { token: h.tokenB })).json()).webhooks).toEqual([]);
    expect((await h.call("GET", `/v1/webhooks/${mine[0].id}/deliveries`, { token: h.tokenB })).status).toBe(404);
    expect((await h.call("DELETE", `/v1/webhooks/${mine[0].id}`, { token: h.tokenB })).status).toBe(404);
    expect(JSON.stringify(mine)).not.toContain("whsec_");
  });
});
