import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, removeHome, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../test/helpers/platform-process.ts";
import { load, type LoadResult } from "./load.ts";
import { cpuMs, descendants } from "./procs.ts";
import { fmt, median } from "./stats.ts";

/** Deploys `app` (a folder under the repo) to `platform` with the real CLI. */
export async function deploy(platform: RunningPlatform, app: string, name: string) {
  const r = await runFerryProcess([join(ROOT, app), "--name", name, "--json"], { env: { FERRY_HOME: platform.home } });
  if (r.code !== 0) throw new Error(`deploy of ${app} failed: ${r.stderr}\nplatform output:\n${platform.output().slice(-3000)}`);
  const d = JSON.parse(r.stdout) as { id: string; url: string };
  return { ...d, host: new URL(d.url).host };
}

/** How a running platform sandboxes tenant code, as its server.json says: `bwrap ...` or `none`. */
export function sandboxOf(platform: RunningPlatform): string {
  const info = JSON.parse(readFileSync(join(platform.home, "server.json"), "utf8")) as { sandbox?: { mode: string; identity?: string; cgroup?: string | null } };
  const sb = info.sandbox;
  if (!sb) return "unknown (server.json has no sandbox status)";
  return sb.mode === "none" ? "none" : `${sb.mode}, ${sb.identity}, cgroup ${sb.cgroup ?? "none"}`;
}

/**
 * Two platform processes alike but for the sandbox: the default (sandboxed) one, and one started
 * with FERRY_UNSANDBOXED=1. Throws unless they really differ so, since the comparison would
 * mean nothing. `stop()` ends both and removes their homes.
 */
export async function startPlatformPair(env: Record<string, string> = {}) {
  const started: RunningPlatform[] = [];
  const stop = async () => {
    await Promise.all(started.map(async (p) => (await p.stop(), await removeHome(p.home))));
  };
  // both start at once; neither is measured yet
  const [a, b] = await Promise.allSettled([
    startPlatformProcess({ compiled: true, env: { ...env, FERRY_UNSANDBOXED: "" } }).then((p) => (started.push(p), p)),
    startPlatformProcess({ compiled: true, env: { ...env, FERRY_UNSANDBOXED: "1" } }).then((p) => (started.push(p), p)),
  ]);
  if (a.status === "rejected" || b.status === "rejected") {
    await stop();
    throw a.status === "rejected" ? a.reason : (b as PromiseRejectedResult).reason;
  }
  const [sandboxed, unsandboxed] = [a.value, b.value];
  const modes = { sandboxed: sandboxOf(sandboxed), unsandboxed: sandboxOf(unsandboxed) };
  if (modes.sandboxed.startsWith("none") || modes.unsandboxed !== "none") {
    await stop();
    throw new Error(`expected one sandboxed and one unsandboxed platform, got ${JSON.stringify(modes)}`);
  }
  return { sandboxed, unsandboxed, modes, stop };
}

/** A load run plus the CPU time each named group of processes spent per request, in µs. */
export type Measured = LoadResult & { cpuUs: Record<string, number> };

export const describe = (r: LoadResult) => `${fmt(r.rps, 0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.errors || r.non2xx ? `, ${r.errors} errors, ${r.non2xx} non-2xx` : ""}`;

/** `platform 52 + instance 31 = 83 µs` */
export const describeCpu = (m: Measured) => {
  const parts = Object.entries(m.cpuUs);
  const sum = cpuTotal(m);
  return parts.map(([name, us]) => `${name} ${fmt(us, 0)}`).join(" + ") + (parts.length > 1 ? ` = ${fmt(sum, 0)}` : "") + " µs";
};

export const cpuTotal = (m: Measured) => Object.values(m.cpuUs).reduce((a, b) => a + b, 0);

/** The processes that serve a Ferry platform's requests: the platform, and its function instances
 * (all of each one's processes, sandboxed or not). */
export const ferryProcesses = (platform: RunningPlatform) => ({ platform: [platform.proc.pid!], instance: descendants(platform.proc.pid!) });

/**
 * One measured load run against `url`, with the CPU time the serving processes (`groups()`, read
 * right before the run) spent per request. Each gets a warm-up of its own: fresh connections,
 * caches and JIT state after the other contenders ran, for all alike.
 */
export async function measured(url: string, host: string | undefined, groups: () => Record<string, number[]>, seconds: number): Promise<Measured> {
  await load(url, { host, seconds: 0.5 });
  const g = Object.entries(groups());
  const before = g.map(([, pids]) => pids.map(cpuMs));
  const r = await load(url, { host, seconds });
  const cpuUs: Record<string, number> = {};
  g.forEach(([name, pids], i) => {
    const ms = pids.reduce((sum, p, j) => sum + cpuMs(p) - before[i]![j]!, 0);
    cpuUs[name] = (ms * 1000) / Math.max(r.total, 1);
  });
  return { ...r, cpuUs };
}

/**
 * The machine is shared and its speed drifts by tens of percent within a minute. So contenders
 * run in short back-to-back rounds (rotating who goes first), each round gives a ratio, and the
 * result is the median round: a slow moment hits a whole round alike. Run `warmUp` first.
 */
export async function pairedRounds<K extends string>(contenders: Record<K, () => Promise<Measured>>, rounds: number): Promise<Record<K, Measured>[]> {
  const names = Object.keys(contenders) as K[];
  const all: Record<K, Measured>[] = [];
  for (let i = 0; i < rounds; i++) {
    const round = {} as Record<K, Measured>;
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      round[name] = await contenders[name]();
    }
    all.push(round);
  }
  return all;
}

/** Each contender once, unmeasured: JIT, pools, caches. */
export async function warmUp(contenders: Record<string, () => Promise<unknown>>) {
  for (const run of Object.values(contenders)) await run();
}

/** Each round's ratio, their median, and the round that gave it. */
export function medianRound<R>(all: R[], ratioOf: (round: R) => number) {
  const ratios = all.map(ratioOf);
  const ratio = median(ratios);
  const mid = all[ratios.indexOf([...ratios].sort((a, b) => a - b)[all.length >> 1]!)]!;
  return { ratio, ratios, mid };
}
