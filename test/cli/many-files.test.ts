import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import type { BuildResult } from "../../core/types.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import { sha1 } from "../../core/ids.ts";
import { apiHarness } from "../helpers/api.ts";
import { hostOf, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

const KB = 1024;

/** A static app: `small` files of 1 KB in folders of 100, plus `large` files of 300 KB. */
async function writeApp(dir: string, small: number, large: number) {
  const files = new Map<string, Buffer>();
  for (let i = 0; i < small; i++) files.set(`d${Math.floor(i / 100)}/f${i}.txt`, randomBytes(KB));
  for (let i = 0; i < large; i++) files.set(`big/b${i}.bin`, randomBytes(300 * KB));
  for (const [file, bytes] of files) {
    await mkdir(join(dir, file, ".."), { recursive: true });
    await writeFile(join(dir, file), bytes);
  }
  return files;
}

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, { recursive: true, force: true });
});
const tempDir = async (prefix: string) => {
  const d = await mkdtemp(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};

describe("ferry deploys an app of 2,000 files", () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatformProcess();
  });
  afterAll(async () => {
    await platform?.stop();
    if (platform) await removeHome(platform.home);
  });

  it("uploads them all, builds and serves them, and a redeploy uploads nothing", async () => {
    const dir = await tempDir("ferry-many-");
    const files = await writeApp(dir, 2000, 2);
    const r = await runFerryProcess([dir, "--name", "many", "--json"], { env: { FERRY_HOME: platform.home } });
    expect(r.code, `${r.stderr}\n${platform.output().slice(-2000)}`).toBe(0);
    expect(r.stderr).toContain("Uploading 2002 files");
    const d = JSON.parse(r.stdout) as { url: string; state: string };
    expect(d.state).toBe("READY");
    for (const file of ["d0/f0.txt", "d7/f777.txt", "d19/f1999.txt", "big/b1.bin"]) {
      const got = await requestVia(platform.routerUrl, hostOf(d.url), `/${file}`);
      expect(got.status, file).toBe(200);
      expect(got.body.equals(files.get(file)!), file).toBe(true);
    }
    const again = await runFerryProcess([dir, "--name", "many", "--json"], { env: { FERRY_HOME: platform.home } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("Uploaded 0 B");
  });
});

describe("ferry batches small files", () => {
  const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let server: Server;
  let apiUrl: string;
  const requests: string[] = [];
  beforeAll(async () => {
    h = await apiHarness(async () => success, { maxFileSize: 10 * 1024 * KB, maxFiles: 5000 });
    server = createAdaptorServer({
      fetch: (req: Request) => {
        requests.push(`${req.method} ${new URL(req.url).pathname}`);
        return h.api.app.fetch(req);
      },
    }) as Server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await h.end();
  });

  it("sends 2,000 small files in a few batch requests and large ones one a request, every file stored whole", async () => {
    const dir = await tempDir("ferry-batched-");
    const files = await writeApp(dir, 2000, 3);
    const r = await runFerryProcess([dir, "--name", "batched", "--json"], { env: { FERRY_API_URL: apiUrl, FERRY_TOKEN: h.tokenA } });
    expect(r.code, r.stderr).toBe(0);
    const count = (what: string) => requests.filter((x) => x === what).length;
    // 2 MB of small files: batches of at most 500 files
    expect(count("POST /v1/files/batch")).toBe(4);
    expect(count("POST /v1/files")).toBe(3);
    for (const bytes of files.values()) {
      const stored = await h.blobs.get(blobKeys.file("acc_a", sha1(bytes)));
      expect(stored?.equals(bytes)).toBe(true);
    }
  });
});
