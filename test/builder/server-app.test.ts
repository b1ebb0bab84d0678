import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { buildDir, cleanupTempDirs, example, expectSuccess, materializeFunction, tempDir } from "./helpers.ts";

afterAll(cleanupTempDirs);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** Runs a server bundle the way the runtime does (`node --enable-source-maps index.mjs`, PORT set) and fetches one path. */
async function fetchFromServer(entry: string, path: string, init?: RequestInit) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--enable-source-maps", entry], { env: { PATH: process.env.PATH ?? "", PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  try {
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
        return { status: res.status, body: await res.text() };
      } catch {
        if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`server did not answer: ${stderr}`);
  } finally {
    child.kill("SIGKILL");
  }
}

describe("server apps", () => {
  it("bundles an Express app installed from its lockfile, and restores dependencies from the cache next time", async () => {
    const cacheDir = await tempDir("ferry-cache-");
    const first = await buildDir(example("express-app"), { cacheDir });
    const out = expectSuccess(first);
    expect(first.logs).toContain("Installing dependencies: npm ci --no-audit --no-fund --no-update-notifier --ignore-scripts");
    expect(first.logs).toContain("Detected a server app: server.js serves every path");
    expect(out.functions).toHaveLength(1);
    expect(out.functions[0]).toMatchObject({ name: "server", route: "/*path", source: "server.js", handler: "server" });
    expect(out.static).toEqual([]);

    const entry = await materializeFunction(first.blobs, out.functions[0]!);
    expect(await fetchFromServer(entry, "/api/hello?name=ferry")).toEqual({ status: 200, body: '{"message":"hello, ferry"}' });
    expect(await fetchFromServer(entry, "/users/7")).toEqual({ status: 200, body: '{"id":"7"}' });

    const second = await buildDir(example("express-app"), { cacheDir });
    expectSuccess(second);
    expect(second.logs).toContain("Installing dependencies: dependencies restored from cache");
    expect(second.logs.some((l) => l.includes("npm ci"))).toBe(false);
  });
});
