import { afterEach, describe, expect, it } from "vitest";
import { readdir } from "node:fs/promises";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { ctx, eventually, fixtureFunction, hostPidsWith, request, scratch, targetOf } from "./helpers.ts";

// Instances are processes reused across requests, scaled out under load and to zero when idle.
describe("local host: pooling", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function setup(opts: { idleTimeoutMs?: number; maxInstancesPerFunction?: number } = {}) {
    const s = await scratch();
    const host: FunctionHost = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir, ...opts });
    cleanups.push(s.cleanup, () => host.close());
    return { s, host };
  }
  const pidOf = async (res: Response) => ((await res.json()) as { pid: number }).pid;

  it("reuses one instance across sequential requests", async () => {
    const { s, host } = await setup();
    const fn = await fixtureFunction(s.blobs, "dpl_reuse", "slow.mjs");
    const t = targetOf("dpl_reuse", fn);
    const pids = new Set<number>();
    for (let i = 0; i < 5; i++) pids.add(await pidOf(await host.invoke(t, request("/slow"), ctx())));
    expect(pids.size).toBe(1);
    expect(host.stats()).toEqual({ instances: 1, byDeployment: { dpl_reuse: 1 } });
  });

  it("materializes a bundle once even when first requests race", async () => {
    const { s, host } = await setup();
    const fn = await fixtureFunction(s.blobs, "dpl_race", "slow.mjs", { config: { maxConcurrency: 50 } });
    const t = targetOf("dpl_race", fn);
    const res = await Promise.all(Array.from({ length: 20 }, () => host.invoke(t, request("/slow"), ctx())));
    expect(new Set(await Promise.all(res.map(pidOf))).size).toBe(1);
    const entries = await readdir(`${s.cacheDir}/dpl_race`);
    expect(entries.filter((e) => !e.startsWith("."))).toHaveLength(1);
    expect(entries.filter((e) => e.startsWith(".tmp"))).toHaveLength(0);
  });

  it("scales out when instances are busy, up to the limit, then back to zero when idle", async () => {
    const { s, host } = await setup({ idleTimeoutMs: 400, maxInstancesPerFunction: 3 });
    const fn = await fixtureFunction(s.blobs, "dpl_scale", "slow.mjs", { config: { maxConcurrency: 2 } });
    const t = targetOf("dpl_scale", fn);
    // 9 requests of 300 ms with 2 slots per instance: 3 instances, never more
    const res = await Promise.all(Array.from({ length: 9 }, () => host.invoke(t, request("/slow?ms=300"), ctx())));
    const pids = new Set(await Promise.all(res.map(pidOf)));
    expect(pids.size).toBe(3);
    expect(host.stats().instances).toBe(3);
    await eventually(() => host.stats().instances === 0, 3_000);
    expect(host.stats()).toEqual({ instances: 0, byDeployment: {} });
    // and it comes back on demand, as a new process
    const again = await pidOf(await host.invoke(t, request("/slow"), ctx()));
    expect(pids.has(again)).toBe(false);
  });

  it("queues requests beyond capacity instead of failing them", async () => {
    const { s, host } = await setup({ maxInstancesPerFunction: 1 });
    const fn = await fixtureFunction(s.blobs, "dpl_queue", "slow.mjs", { config: { maxConcurrency: 1 } });
    const t = targetOf("dpl_queue", fn);
    const started = Date.now();
    const res = await Promise.all(Array.from({ length: 4 }, () => host.invoke(t, request("/slow?ms=100"), ctx())));
    expect(res.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(await Promise.all(res.map(pidOf))).size).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it("stops everything an instance started, even a detached helper of a server app", async () => {
    const { s, host } = await setup();
    const fn = await fixtureFunction(s.blobs, "dpl_group", "spawner-server.mjs", { name: "server", handler: "server" });
    const marker = String(Date.now());
    const res = await host.invoke(targetOf("dpl_group", fn, { MARKER: marker }), request("/"), ctx());
    await res.arrayBuffer();
    expect(hostPidsWith(`sleep 600.${marker}`)).toHaveLength(1);
    expect(hostPidsWith(`MARKER=${marker}`).length).toBeGreaterThan(0);
    await host.evict("dpl_group");
    await eventually(() => !hostPidsWith(`sleep 600.${marker}`).length && !hostPidsWith(`MARKER=${marker}`).length, 2_000);
  });

  it("evict stops a deployment's instances and close stops the rest", async () => {
    const { s, host } = await setup();
    const a = await fixtureFunction(s.blobs, "dpl_a", "slow.mjs");
    const b = await fixtureFunction(s.blobs, "dpl_b", "slow.mjs");
    const markA = `MARKER=a${Date.now()}`;
    const markB = `MARKER=b${Date.now()}`;
    await pidOf(await host.invoke(targetOf("dpl_a", a, { MARKER: markA.slice(7) }), request("/"), ctx()));
    await pidOf(await host.invoke(targetOf("dpl_b", b, { MARKER: markB.slice(7) }), request("/"), ctx()));
    expect(hostPidsWith(markA).length).toBeGreaterThan(0);
    await host.evict("dpl_a");
    expect(host.stats()).toEqual({ instances: 1, byDeployment: { dpl_b: 1 } });
    expect(hostPidsWith(markA)).toEqual([]);
    expect(hostPidsWith(markB).length).toBeGreaterThan(0);
    await host.close();
    expect(hostPidsWith(markB)).toEqual([]);
    await expect(host.invoke(targetOf("dpl_b", b), request("/"), ctx())).rejects.toMatchObject({ code: "host_closed" });
  });
});
