import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { removeHome, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/**
 * kill -9 of the platform while uploads and env changes stream in: every write the API answered
 * 2xx to is there after a restart. Writers run flat out until the kill, so the kill lands in the
 * middle of some of them; the ones that got no answer may or may not have happened.
 */
describe("end to end: kill -9 during uploads and env changes", () => {
  let platform: RunningPlatform | undefined;
  let home = "";
  afterAll(async () => {
    await platform?.stop();
    if (home) await removeHome(home);
  });

  it("loses no acknowledged upload or env write", { timeout: 180_000 }, async () => {
    platform = await startPlatformProcess();
    home = platform.home;
    const p = platform;
    const auth = { authorization: `Bearer ${p.token}` };
    const call = (method: string, path: string, body?: unknown) =>
      fetch(p.apiUrl + path, { method, headers: { ...auth, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

    const uploaded: { file: string; sha: string; size: number; mode: number }[] = [];
    const envSet = new Map<string, string>();
    const envRemoved = new Set<string>();
    let stop = false;

    const uploader = async (w: number) => {
      for (let i = 0; !stop; i++) {
        // mixed sizes, some large enough to be mid-stream when the kill lands
        const data = randomBytes(i % 5 === 0 ? 2_000_000 : 2_000);
        const sha = createHash("sha1").update(data).digest("hex");
        const r = await fetch(p.apiUrl + "/v1/files", { method: "POST", headers: { ...auth, "x-ferry-digest": sha, "content-type": "application/octet-stream" }, body: data }).catch(() => null);
        if (r?.ok) uploaded.push({ file: `public/w${w}-${i}.bin`, sha, size: data.length, mode: 0o100644 });
      }
    };
    const envWriter = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const key = `K_${w}_${i}`;
        const value = `v-${w}-${i}-${randomBytes(4).toString("hex")}`;
        const r = await call("POST", "/v1/projects/faulty/env", { key, value, environment: "production" }).catch(() => null);
        if (r?.ok) envSet.set(key, value);
        // every third one is removed again: an acknowledged removal must stay removed
        if (r?.ok && i % 3 === 0) {
          const d = await call("DELETE", `/v1/projects/faulty/env/${key}?environment=production`).catch(() => null);
          if (d?.ok) {
            envSet.delete(key);
            envRemoved.add(key);
          }
        }
      }
    };

    const writers = [0, 1, 2].map(uploader).concat([0, 1].map(envWriter));
    // kill once enough has been acknowledged, however slow the machine is today
    const deadline = Date.now() + 60_000;
    while ((uploaded.length < 12 || envSet.size < 12) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    p.proc.kill("SIGKILL");
    await new Promise((r) => p.proc.once("exit", r));
    stop = true;
    await Promise.all(writers);
    expect(uploaded.length).toBeGreaterThan(10);
    expect(envSet.size).toBeGreaterThan(10);

    platform = await startPlatformProcess({ home });
    const q = platform;
    const again = (method: string, path: string, body?: unknown) =>
      fetch(q.apiUrl + path, { method, headers: { authorization: `Bearer ${q.token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

    // every acknowledged upload is there: a deployment naming them all is accepted, none missing
    const d = await again("POST", "/v1/deployments", { name: "faulty", files: uploaded });
    const body = await d.json();
    expect(d.status, JSON.stringify(body).slice(0, 500)).toBe(201);

    const listed = (await (await again("GET", "/v1/projects/faulty/env?decrypt=1")).json()).env as { key: string; value?: string }[];
    const have = new Map(listed.map((v) => [v.key, v.value]));
    for (const [k, v] of envSet) expect(have.get(k), k).toBe(v);
    for (const k of envRemoved) expect(have.has(k), k).toBe(false);
  });
});
