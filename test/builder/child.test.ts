import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { runBuildInChild } from "../../builder/child.ts";
import { createSandbox, type Sandbox } from "../../sandbox/index.ts";
import { cleanupTempDirs, example, prepareChild } from "./helpers.ts";

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox();
});
afterAll(async () => {
  sandbox?.close();
  await cleanupTempDirs();
});

/** Host pids whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe("runBuildInChild", () => {
  it("builds in a sandboxed child process, streaming log lines, and uploads to the same store", async () => {
    const { req, blobs, opts } = await prepareChild(example("hello"));
    const logs: string[] = [];
    const result = await runBuildInChild(req, { ...opts, sandbox, onLog: (l) => logs.push(l) });
    expect(result.type).toBe("success");
    if (result.type !== "success") return;
    expect(result.output.functions.map((f) => f.name)).toEqual(["api/hi"]);
    expect(await blobs.get(`${result.output.functions[0]!.artifact.prefix}/index.mjs`)).not.toBeNull();
    expect(logs[0]).toMatch(/^Downloading \d+ files/);
    expect(logs).toContain("Detected 1 function in api/");
    expect(logs.at(-1)).toMatch(/^Build completed in/);
  });

  it("gives the build only PATH, HOME, npm's cache and the build env, never the platform's secrets", async () => {
    process.env.FERRY_TEST_PLATFORM_SECRET = "do-not-leak";
    try {
      const { req, blobs, opts } = await prepareChild({ "ferry.json": JSON.stringify({ buildCommand: "mkdir -p public && env > public/env.txt" }) }, { buildEnv: { STAGE: "beta" } });
      const result = await runBuildInChild(req, { ...opts, sandbox, onLog: () => {} });
      if (result.type !== "success") throw new Error(JSON.stringify(result.errors));
      const envFile = result.output.static.find((f) => f.path === "env.txt")!;
      const env = (await blobs.get(envFile.key))!.toString();
      expect(env).toContain("STAGE=beta");
      expect(env).toContain("npm_config_cache=/cache/npm");
      expect(env).not.toContain("do-not-leak");
      expect(env).not.toContain("FERRY_");
      expect(env).not.toContain("ESBUILD_BINARY_PATH");
    } finally {
      delete process.env.FERRY_TEST_PLATFORM_SECRET;
    }
  });

  it("cancel kills the build process and everything it started", async () => {
    const marker = `${Math.floor(Math.random() * 1e6)}.5`;
    const { req, opts } = await prepareChild({ "ferry.json": JSON.stringify({ buildCommand: `(sleep ${marker} &) ; exec sleep ${marker}` }) });
    const ac = new AbortController();
    const logs: string[] = [];
    const started = Date.now();
    const pending = runBuildInChild(req, {
      ...opts,
      sandbox,
      signal: ac.signal,
      onLog: (l) => {
        logs.push(l);
        if (l.startsWith("Running build command")) setTimeout(() => ac.abort(), 300);
      },
    });
    const seen = new Promise<number>((resolve) => {
      const poll = setInterval(() => {
        const n = processesWith(`sleep\0${marker}`).length;
        if (n >= 2) {
          clearInterval(poll);
          resolve(n);
        }
      }, 20);
      void pending.then(() => {
        clearInterval(poll);
        resolve(0);
      });
    });
    expect(await seen).toBe(2);
    const result = await pending;
    expect(result).toEqual({ type: "error", errors: [{ message: "build canceled" }] });
    expect(Date.now() - started).toBeLessThan(20_000);
    for (let i = 0; i < 50 && processesWith(`sleep\0${marker}`).length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(processesWith(`sleep\0${marker}`)).toEqual([]);
  });

  it("an already aborted signal returns canceled without starting", async () => {
    const { req, opts } = await prepareChild({ "index.html": "x" });
    const ac = new AbortController();
    ac.abort();
    expect(await runBuildInChild(req, { ...opts, sandbox, signal: ac.signal, onLog: () => {} })).toEqual({ type: "error", errors: [{ message: "build canceled" }] });
  });

  it("a static site's build process starts while its workspace is written; a file that cannot be written fails the build", async () => {
    const { req, blobs, opts } = await prepareChild({ "index.html": "home", "a/b.html": "b" });
    const ok = await runBuildInChild(req, { ...opts, sandbox, onLog: () => {} });
    expect(ok.type === "success" && ok.output.static.map((f) => f.path)).toEqual(["a/b.html", "index.html"]);
    // a file whose blob is gone: the workspace cannot be written, and the build process is stopped
    const missing = req.files.find((f) => f.file === "a/b.html")!;
    await blobs.delete(`files/${req.accountId}/${missing.sha}`);
    const again = { ...req, deploymentId: `${req.deploymentId}x`, files: req.files.map((f) => (f === missing ? { ...f, file: "c.html" } : f)) };
    const failed = await runBuildInChild(again, { ...opts, workDir: `${opts.workDir}x`, sandbox, onLog: () => {} });
    expect(failed).toEqual({ type: "error", errors: [{ message: `file c.html (${missing.sha}) was not uploaded` }] });
  });

  it("a build process that dies without a result is an error result", async () => {
    // the build command kills its parent, the build process, as an out-of-memory kill would
    const { req, opts } = await prepareChild({ "ferry.json": JSON.stringify({ buildCommand: "kill -9 $PPID; sleep 5" }) });
    const result = await runBuildInChild(req, { ...opts, sandbox, onLog: () => {} });
    expect(result).toEqual({ type: "error", errors: [{ message: "build process exited unexpectedly (code null / signal SIGKILL)" }] });
  });
});
