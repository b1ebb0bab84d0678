import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobStore } from "../../core/blobs/port.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import type { BuiltFunction, FunctionConfig, HandlerKind } from "../../core/types.ts";
import type { FunctionTarget } from "../../runtime/port.ts";

const FIXTURES = new URL("../fixtures/runtime/", import.meta.url);

/** A scratch folder with a blob store in it; `cleanup` removes both. */
export async function scratch() {
  const dir = await mkdtemp(join(tmpdir(), "ferry-rt-"));
  const blobs = createFsBlobStore(join(dir, "blobs"));
  return { dir, blobs, cacheDir: join(dir, "cache"), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Stores a fixture module as a function artifact, the way the builder would have. */
export async function fixtureFunction(
  blobs: BlobStore,
  deploymentId: string,
  fixture: string,
  opts: { name?: string; route?: string; handler?: HandlerKind; config?: Partial<FunctionConfig> } = {},
): Promise<BuiltFunction> {
  const name = opts.name ?? fixture.replace(/\.mjs$/, "");
  const prefix = blobKeys.artifactPrefix(deploymentId, name);
  await blobs.put(`${prefix}/index.mjs`, await readFile(new URL(fixture, FIXTURES)));
  return {
    name,
    route: opts.route ?? `/${name}`,
    source: `api/${fixture}`,
    handler: opts.handler ?? "function",
    artifact: { prefix, entry: "index.mjs", files: ["index.mjs"] },
    config: { memory: 256, maxDuration: 10, maxConcurrency: 10, ...opts.config },
  };
}

export const targetOf = (deploymentId: string, fn: BuiltFunction, env: Record<string, string> = {}): FunctionTarget => ({
  deploymentId,
  project: "test",
  fn,
  env,
});

let seq = 0;
export const request = (path: string, init?: RequestInit) => new Request(`http://app.localhost${path}`, init);
export const ctx = (params?: Record<string, string>) => ({ requestId: `req_${++seq}`, params });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds or `ms` pass. */
export async function eventually(check: () => boolean, ms = 5_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(20);
  }
}

/** Host pids of processes whose command line contains `text` (instances' own pids are those of
 * their pid namespace, so tests find them from the host's side). */
export function hostPidsWith(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      const env = readFileSync(`/proc/${name}/environ`, "utf8");
      if (cmd.includes(text) || env.split("\0").includes(text)) out.push(Number(name));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}
