import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { FerryError } from "../../core/errors.ts";
import { ctx, fixtureFunction, request, scratch, targetOf } from "./helpers.ts";

// A function's hang, crash or memory blow-up is its own problem: it gets a clear error and a
// fresh instance, and nothing else notices.
describe("local host: failures", () => {
  let s: Awaited<ReturnType<typeof scratch>>;
  let host: FunctionHost;

  beforeAll(async () => {
    s = await scratch();
    host = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir, startTimeoutMs: 3_000 });
  });
  afterAll(async () => {
    await host.close();
    await s.cleanup();
  });
  const pidOf = async (res: Response) => ((await res.json()) as { pid: number }).pid;
  const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("expected a failure"); }, (e: unknown) => e as FerryError);

  it("answers 504 past maxDuration, kills the hung instance and recovers", async () => {
    const fn = await fixtureFunction(s.blobs, "dpl_hang", "hang.mjs", { config: { maxDuration: 2 } });
    const t = targetOf("dpl_hang", fn);
    const before = await pidOf(await host.invoke(t, request("/ok"), ctx()));
    const started = Date.now();
    const err = await failure(host.invoke(t, request("/hang"), ctx()));
    expect(err).toBeInstanceOf(FerryError);
    expect(err).toMatchObject({ status: 504, code: "function_timeout" });
    expect(err.message).toContain("dpl_hang");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_950);
    const after = await pidOf(await host.invoke(t, request("/ok"), ctx()));
    expect(after).not.toBe(before);
  });

  it("answers 502 naming the exit and last stderr line when the function crashes, then serves again", async () => {
    const fn = await fixtureFunction(s.blobs, "dpl_crash", "crash.mjs");
    const t = targetOf("dpl_crash", fn);
    const err = await failure(host.invoke(t, request("/crash"), ctx()));
    expect(err).toMatchObject({ status: 502, code: "function_crashed" });
    expect(err.message).toContain("exit code 3");
    expect(err.message).toContain("about to crash: boom");
    const res = await host.invoke(t, request("/fine"), ctx());
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it("a memory hog dies at its heap limit with 502; another deployment is unaffected", async () => {
    const hog = await fixtureFunction(s.blobs, "dpl_hog", "memory-hog.mjs", { config: { memory: 128 } });
    const other = await fixtureFunction(s.blobs, "dpl_bystander", "slow.mjs");
    const otherPid = await pidOf(await host.invoke(targetOf("dpl_bystander", other), request("/"), ctx()));
    const err = await failure(host.invoke(targetOf("dpl_hog", hog), request("/hog"), ctx()));
    expect(err).toMatchObject({ status: 502, code: "function_out_of_memory" });
    expect(err.message).toMatch(/out of memory|heap/i);
    expect(await pidOf(await host.invoke(targetOf("dpl_bystander", other), request("/"), ctx()))).toBe(otherPid);
    const res = await host.invoke(targetOf("dpl_hog", hog), request("/small"), ctx());
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }, 30_000);

  it("fails fast with 502 when the bundle cannot load", async () => {
    const fn = await fixtureFunction(s.blobs, "dpl_broken", "broken.mjs");
    const err = await failure(host.invoke(targetOf("dpl_broken", fn), request("/"), ctx()));
    expect(err).toMatchObject({ status: 502, code: "function_load_failed" });
    expect(err.message).toContain("this module cannot load");
    expect(host.stats().byDeployment.dpl_broken).toBeUndefined();
  });

  it("names the deployment when a server app never listens, or exits instead", async () => {
    const deaf = await fixtureFunction(s.blobs, "dpl_deaf", "deaf-server.mjs", { handler: "server", name: "server" });
    const quits = await fixtureFunction(s.blobs, "dpl_quits", "slow.mjs", { handler: "server", name: "server" });
    const fast = createLocalHost({ blobs: s.blobs, cacheDir: s.cacheDir, startTimeoutMs: 2_000 });
    try {
      const err = await failure(fast.invoke(targetOf("dpl_deaf", deaf), request("/"), ctx()));
      expect(err).toMatchObject({ status: 502, code: "function_start_timeout" });
      expect(err.message).toContain("dpl_deaf");
      expect(err.message).toContain("PORT");
      const quit = await failure(fast.invoke(targetOf("dpl_quits", quits), request("/"), ctx()));
      expect(quit).toMatchObject({ status: 502, code: "function_crashed" });
      expect(quit.message).toContain("dpl_quits");
      expect(quit.message).toContain("exit code 0");
      expect(fast.stats().instances).toBe(0);
    } finally {
      await fast.close();
    }
  });

  it("fails with 502 when a bundle file is missing from the blob store", async () => {
    const fn = await fixtureFunction(s.blobs, "dpl_missing", "slow.mjs");
    fn.artifact.files.push("chunk-missing.mjs");
    const err = await failure(host.invoke(targetOf("dpl_missing", fn), request("/"), ctx()));
    expect(err).toMatchObject({ status: 502, code: "artifact_missing" });
  });
});
