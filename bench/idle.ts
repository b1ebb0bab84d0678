import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { request } from "undici";
import { ROOT, removeHome, startPlatformProcess } from "../test/helpers/platform-process.ts";
import { childCount, rssMb } from "./procs.ts";
import { fmt, type BenchResult } from "./stats.ts";

/** 200 deployed apps, all idle: they should hold no instances (so no processes), and the
 * platform's memory stays flat. A sandboxed instance is several processes as the host sees it;
 * `childCount` counts instances. */
export async function benchIdleApps(opts: { apps?: number; touched?: number } = {}): Promise<BenchResult> {
  const apps = opts.apps ?? 200;
  const touched = opts.touched ?? 20;
  const idleMs = 3000;
  const platform = await startPlatformProcess({ compiled: true, env: { FERRY_IDLE_TIMEOUT_MS: String(idleMs) } });
  const api = (path: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) =>
    request(`${platform.apiUrl}${path}`, { method: (init.method ?? "GET") as "GET", body: init.body, headers: { authorization: `Bearer ${platform.token}`, ...init.headers } });
  try {
    const pid = platform.proc.pid!;
    const before = rssMb(pid);
    const source = await readFile(join(ROOT, "bench/apps/hello/api/hello.ts"));
    const sha = createHash("sha1").update(source).digest("hex");
    await (await api("/v1/files", { method: "POST", body: source, headers: { "x-ferry-digest": sha } })).body.text();
    const files = [{ file: "api/hello.ts", sha, size: source.length, mode: 0o100644 }];
    const hosts: string[] = [];
    for (let i = 0; i < apps; i++) {
      const r = await api("/v1/deployments", { method: "POST", body: JSON.stringify({ name: `idle-${i}`, files }), headers: { "content-type": "application/json" } });
      const d = (await r.body.json()) as { url: string; id: string; state: string };
      hosts.push(new URL(d.url).host);
    }
    // the first one builds; the rest reuse its output: wait until all are READY
    for (let i = 0; i < 600; i++) {
      const r = (await (await api("/v1/deployments?limit=100")).body.json()) as { deployments: { state: string }[] };
      if (r.deployments.every((d) => d.state === "READY")) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const idleProcs = childCount(pid);
    const afterDeploy = rssMb(pid);
    await Promise.all(
      hosts.slice(0, touched).map(async (host) => {
        const r = await request(`${platform.routerUrl}/api/hello`, { headers: { host } });
        await r.body.text();
      }),
    );
    const busyProcs = childCount(pid);
    await new Promise((res) => setTimeout(res, idleMs * 4 + 500));
    const afterIdle = childCount(pid);
    return {
      name: `idle apps: ${apps} deployed, ${touched} touched then left idle`,
      ratio: afterIdle,
      unit: "instances",
      target: "0 instances once idle (scale to zero)",
      ok: afterIdle === 0 && idleProcs === 0,
      details: {
        "instances with all apps idle": idleProcs,
        [`instances right after touching ${touched}`]: busyProcs,
        "instances after the idle timeout": afterIdle,
        "platform RSS at start (MB)": fmt(before),
        [`platform RSS with ${apps} apps (MB)`]: fmt(afterDeploy),
        "platform RSS at the end (MB)": fmt(rssMb(pid)),
      },
    };
  } finally {
    await platform.stop();
    await removeHome(platform.home);
  }
}
