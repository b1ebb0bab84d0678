import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blobKeys } from "../../core/blobs/port.ts";
import type { BuiltFunction } from "../../core/types.ts";
import { createRouter, type Router } from "../../router/index.ts";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { scratch, sleep } from "../runtime/helpers.ts";
import { fakeResolve, output, ready } from "./helpers.ts";

// A function whose instances can never become ready (here: a module that never finishes loading;
// in practice also a machine so starved that every start times out). Visitors must get a clear
// 502 quickly, and the host must not keep spawning replacements for them.
describe("router: functions that cannot start", () => {
  const dep = "dpl_never_ready";
  let s: Awaited<ReturnType<typeof scratch>>;
  let host: FunctionHost;
  let router: Router;
  const boots: number[] = [];

  beforeAll(async () => {
    s = await scratch();
    host = createLocalHost({
      blobs: s.blobs,
      cacheDir: s.cacheDir,
      startTimeoutMs: 300,
      maxInstancesPerFunction: 3,
      onLog: (e) => {
        if (e.stream === "stdout" && e.text === "booting") boots.push(Date.now());
      },
    });
    const name = "api/stuck";
    const prefix = blobKeys.artifactPrefix(dep, name);
    // keeps its event loop alive and never lets the import finish, so it never reports ready
    await s.blobs.put(`${prefix}/index.mjs`, Buffer.from('console.log("booting");\nsetInterval(() => {}, 1000);\nawait new Promise(() => {});\n'));
    const fn: BuiltFunction = {
      name,
      route: "/api/stuck",
      source: "api/stuck.mjs",
      handler: "function",
      artifact: { prefix, entry: "index.mjs", files: ["index.mjs"] },
      config: { memory: 128, maxDuration: 10, maxConcurrency: 2 },
    };
    router = createRouter({ domain: "localhost", resolve: fakeResolve({ app: ready(output([], [fn]), { id: dep }) }), host, blobs: s.blobs });
  });
  afterAll(async () => {
    await host.close();
    await s.cleanup();
  });

  const get = () => router.app.fetch(new Request("http://app.localhost/api/stuck", { headers: { accept: "application/json" } }));
  /** Every request's status and error code, or "no answer" for those still waiting at the deadline. */
  async function answers(n: number, withinMs: number): Promise<string[]> {
    const deadline = sleep(withinMs).then(() => "no answer");
    const one = async () => {
      const res = await get();
      return `${res.status} ${((await res.json()) as { error: { code: string } }).error.code}`;
    };
    return Promise.all(Array.from({ length: n }, () => Promise.race([one(), deadline])));
  }

  it("answers every waiting request with 502 function_start_timeout and stops spawning", async () => {
    // 8 requests, 2 per instance, at most 3 instances: more than the instances starting can take
    const started = Date.now();
    const got = await answers(8, 10_000);
    expect(got).toEqual(Array(8).fill("502 function_start_timeout"));
    expect(Date.now() - started).toBeLessThan(10_000);
    // one start per instance slot, no replacements
    expect(boots.length).toBeLessThanOrEqual(3);
    expect(host.stats().instances).toBe(0);
    const booted = boots.length;
    await sleep(1_000);
    expect(boots.length).toBe(booted);
    expect(host.stats().instances).toBe(0);
  });

  it("tries again for the next request, and fails it the same way", async () => {
    const before = boots.length;
    expect(await answers(1, 10_000)).toEqual(["502 function_start_timeout"]);
    expect(boots.length - before).toBeLessThanOrEqual(1);
    expect(host.stats().instances).toBe(0);
  });
});
