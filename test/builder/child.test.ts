import { afterAll, describe, expect, it } from "vitest";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runBuildInChild } from "../../builder/child.ts";
import type { BuildRequest } from "../../builder/port.ts";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import { parseFerryConfig } from "../../core/config/schema.ts";
import { ACCOUNT, cleanupTempDirs, example, tempDir, uploadDir } from "./helpers.ts";

afterAll(cleanupTempDirs);

/** An app folder written on the fly, uploaded to a fresh fs blob store. */
async function prepare(files: Record<string, string> | string, buildEnv: Record<string, string> = {}) {
  let dir: string;
  if (typeof files === "string") dir = files;
  else {
    dir = await tempDir("ferry-app-");
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, ".."), { recursive: true });
      await writeFile(join(dir, name), text);
    }
  }
  const blobRoot = await tempDir("ferry-blobs-");
  const blobs = createFsBlobStore(blobRoot);
  const uploaded = await uploadDir(dir, blobs);
  const configText = uploaded.some((f) => f.file === "ferry.json") ? await readFile(join(dir, "ferry.json"), "utf8") : "{}";
  const req: BuildRequest = { deploymentId: "dpl_child", accountId: ACCOUNT, project: "child", files: uploaded, config: parseFerryConfig(configText), buildEnv };
  const work = await tempDir("ferry-work-");
  return { req, blobs, opts: { blobSpec: `fs:${blobRoot}`, workDir: join(work, "app"), cacheDir: join(work, "cache") } };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("runBuildInChild", () => {
  it("builds in a child process, streaming log lines, and uploads to the same store", async () => {
    const { req, blobs, opts } = await prepare(example("hello"));
    const logs: string[] = [];
    const result = await runBuildInChild(req, { ...opts, onLog: (l) => logs.push(l) });
    expect(result.type).toBe("success");
    if (result.type !== "success") return;
    expect(result.output.functions.map((f) => f.name)).toEqual(["api/hi"]);
    expect(await blobs.get(`${result.output.functions[0]!.artifact.prefix}/index.mjs`)).not.toBeNull();
    expect(logs[0]).toMatch(/^Downloading \d+ files/);
    expect(logs).toContain("Detected 1 function in api/");
    expect(logs.at(-1)).toMatch(/^Build completed in/);
  });

  it("gives the build only PATH, HOME and the build env, never the platform's secrets", async () => {
    process.env.FERRY_TEST_PLATFORM_SECRET = "do-not-leak";
    try {
      const { req, blobs, opts } = await prepare({ "ferry.json": JSON.stringify({ buildCommand: "mkdir -p public && env > public/env.txt" }) }, { STAGE: "beta" });
      const result = await runBuildInChild(req, { ...opts, onLog: () => {} });
      if (result.type !== "success") throw new Error(JSON.stringify(result.errors));
      const envFile = result.output.static.find((f) => f.path === "env.txt")!;
      const env = (await blobs.get(envFile.key))!.toString();
      expect(env).toContain("STAGE=beta");
      expect(env).not.toContain("do-not-leak");
      expect(env).not.toContain("FERRY_BLOB_SPEC");
    } finally {
      delete process.env.FERRY_TEST_PLATFORM_SECRET;
    }
  });

  it("cancel kills the build process and what it started", async () => {
    const pidDir = await tempDir("ferry-pid-");
    const pidFile = join(pidDir, "pid");
    const { req, opts } = await prepare({ "ferry.json": JSON.stringify({ buildCommand: `echo $$ > ${pidFile}; exec sleep 60` }) });
    const ac = new AbortController();
    const logs: string[] = [];
    const started = Date.now();
    const pending = runBuildInChild(req, {
      ...opts,
      signal: ac.signal,
      onLog: (l) => {
        logs.push(l);
        if (l.startsWith("Running build command")) setTimeout(() => ac.abort(), 300);
      },
    });
    const result = await pending;
    expect(result).toEqual({ type: "error", errors: [{ message: "build canceled" }] });
    expect(Date.now() - started).toBeLessThan(20_000);
    const sleepPid = Number((await readFile(pidFile, "utf8")).trim());
    for (let i = 0; i < 50 && alive(sleepPid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(sleepPid)).toBe(false);
  });

  it("an already aborted signal returns canceled without starting", async () => {
    const { req, opts } = await prepare({ "index.html": "x" });
    const ac = new AbortController();
    ac.abort();
    expect(await runBuildInChild(req, { ...opts, signal: ac.signal, onLog: () => {} })).toEqual({ type: "error", errors: [{ message: "build canceled" }] });
  });

  it("a build process that dies without a result is an error result", async () => {
    // the build command kills its parent, the build process, as an out-of-memory kill would
    const { req, opts } = await prepare({ "ferry.json": JSON.stringify({ buildCommand: "kill -9 $PPID; sleep 5" }) });
    const result = await runBuildInChild(req, { ...opts, onLog: () => {} });
    expect(result).toEqual({ type: "error", errors: [{ message: "build process exited unexpectedly (code null / signal SIGKILL)" }] });
  });
});
