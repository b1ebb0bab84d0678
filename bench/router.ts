import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { ROOT, removeHome, startPlatformProcess, type RunningPlatform } from "../test/helpers/platform-process.ts";
import { startTarget } from "./targets/spawn.ts";
import { deploy, describe, describeCpu, ferryProcesses, measured, medianRound, pairedRounds, sandboxOf, startPlatformPair, warmUp } from "./contenders.ts";
import { fmt, median, type BenchResult } from "./stats.ts";
import { childCount, startedProcesses } from "./procs.ts";

const HELLO = join(ROOT, "bench/targets/hello-server.mjs");
const PROXY = join(ROOT, "bench/targets/undici-proxy.mjs");

/**
 * A warm hello-world function through the whole platform (router, host, sandboxed instance), a
 * Web handler and a Node `(req, res)` one, against a minimal undici reverse proxy in front of a
 * bare node:http server answering the same bytes: what any proxy in front of any server costs.
 * The app's ferry.json lets one Ferry instance take all the load (maxConcurrency 100), so the
 * ratio measures the data plane, not the scale-out policy. Static files too.
 */
export async function benchRouter(opts: { seconds?: number; rounds?: number } = {}): Promise<BenchResult[]> {
  // many short rounds: the median of 15 shrugs off the noisy moments of a shared machine
  const seconds = opts.seconds ?? 1.5;
  const rounds = opts.rounds ?? 15;
  const platform = await startPlatformProcess({ compiled: true });
  const targets: { stop: () => void }[] = [];
  try {
    const hello = await deploy(platform, "bench/apps/hello", "bench-hello");
    const site = await deploy(platform, "bench/apps/static", "bench-static");
    const routerUrl = platform.routerUrl;
    const bare = await startTarget(HELLO);
    targets.push(bare);
    const proxy = await startTarget(PROXY, [], { UPSTREAM: `http://127.0.0.1:${bare.port}` });
    targets.push(proxy);
    const run = (url: string, host?: string) => measured(url, host, () => ({}), seconds);
    const contenders = {
      web: () => measured(`${routerUrl}/api/hello`, hello.host, () => ferryProcesses(platform), seconds),
      node: () => measured(`${routerUrl}/api/node`, hello.host, () => ferryProcesses(platform), seconds),
      proxy: () => measured(`http://127.0.0.1:${proxy.port}/`, undefined, () => ({ proxy: [proxy.proc.pid!], server: [bare.proc.pid!] }), seconds),
    };
    // both functions answer exactly what the bare server does
    for (const path of ["/api/hello", "/api/node"]) {
      const r = await request(`${routerUrl}${path}`, { headers: { host: hello.host } });
      const text = await r.body.text();
      if (r.statusCode !== 200 || text !== "hello world") throw new Error(`${path} answered ${r.statusCode} ${JSON.stringify(text)}`);
    }
    await warmUp(contenders);
    const bareR = await run(`http://127.0.0.1:${bare.port}/`);
    const all = await pairedRounds(contenders, rounds);

    const file = join(ROOT, "bench/apps/static/page.html");
    const bareFile = await startTarget(HELLO, [], { FILE: file });
    targets.push(bareFile);
    await run(`${routerUrl}/page.html`, site.host);
    const bareStatic = await run(`http://127.0.0.1:${bareFile.port}/`);
    const ferryStatic = await run(`${routerUrl}/page.html`, site.host);

    const handlerResult = (kind: "web" | "node", what: string): BenchResult => {
      const { ratio, ratios, mid } = medianRound(all, (r) => r[kind].rps / r.proxy.rps);
      const p99 = median(all.map((r) => r[kind].p99 / Math.max(r.proxy.p99, 1)));
      return {
        name: `router: warm hello-world ${what} through the platform`,
        ratio,
        target: ">= 0.85x the requests/s of an undici proxy in front of bare node:http, p99 <= 1.5x",
        ok: ratio >= 0.85 && p99 <= 1.5,
        details: {
          "bare node:http": describe(bareR),
          "undici proxy -> bare node:http (median round)": describe(mid.proxy),
          "ferry (median round)": describe(mid[kind]),
          "ratio per round": ratios.map((r) => fmt(r, 2)).join(", "),
          "p99 / proxy's p99 (median of rounds)": `${fmt(p99, 2)}x`,
          "CPU per request, ferry (median round)": describeCpu(mid[kind]),
          "CPU per request, proxy (median round)": describeCpu(mid.proxy),
          "ferry / bare": fmt(mid[kind].rps / bareR.rps, 2),
          "ferry's sandbox": sandboxOf(platform),
        },
      };
    };
    return [
      handlerResult("web", "Web handler"),
      handlerResult("node", "Node (req, res) handler"),
      {
        name: `router: static file (${readFileSync(file).length} B)`,
        ratio: ferryStatic.rps / bareStatic.rps,
        target: "reported against bare node:http from memory",
        ok: true,
        details: { "bare node:http": describe(bareStatic), "ferry router": describe(ferryStatic) },
      },
    ];
  } finally {
    for (const t of targets) t.stop();
    await platform.stop();
    await removeHome(platform.home);
  }
}

/**
 * Cold start: first response from zero instances vs spawning node and answering once, for the
 * platform as it runs by default (sandboxed) and for the same one started with FERRY_UNSANDBOXED=1,
 * so the sandbox's own cost per cold start shows. The three take turns (rotating who goes
 * first), each after a pause in which both platforms scale to zero and settle.
 */
export async function benchColdStart(opts: { runs?: number } = {}): Promise<BenchResult> {
  const runs = opts.runs ?? 10;
  const idleMs = 200;
  const pair = await startPlatformPair({ FERRY_IDLE_TIMEOUT_MS: String(idleMs) });
  try {
    const coldStart = async (platform: RunningPlatform, name: string) => {
      const hello = await deploy(platform, "bench/apps/hello", name);
      const once = async () => {
        const r = await request(`${platform.routerUrl}/api/hello`, { headers: { host: hello.host } });
        await r.body.text();
        if (r.statusCode !== 200) throw new Error(`cold start answered ${r.statusCode}`);
      };
      await once(); // the first visit also materializes the bundle: not a cold start to measure
      return async () => {
        // nothing of the last instance may be left: not its program, nor a sandbox still ending
        const left = startedProcesses(platform.proc.pid!);
        const t0 = performance.now();
        await once();
        const ms = performance.now() - t0;
        if (left.length) throw new Error(`expected zero instances before a cold start, found ${left.length} processes:\n${left.join("\n")}`);
        if (childCount(platform.proc.pid!) !== 1) throw new Error(`expected one instance after a cold start, found ${childCount(platform.proc.pid!)}`);
        return ms;
      };
    };
    const [sandboxed, unsandboxed] = await Promise.all([coldStart(pair.sandboxed, "bench-cold"), coldStart(pair.unsandboxed, "bench-cold")]);
    const contenders: Record<"sandboxed" | "unsandboxed" | "node", () => Promise<number>> = {
      sandboxed,
      unsandboxed,
      node: async () => {
        const t0 = performance.now();
        const t = await startTarget(HELLO);
        const r = await request(`http://127.0.0.1:${t.port}/`);
        await r.body.text();
        const ms = performance.now() - t0;
        t.stop();
        return ms;
      },
    };
    const names = Object.keys(contenders) as (keyof typeof contenders)[];
    const ms = { sandboxed: [] as number[], unsandboxed: [] as number[], node: [] as number[] };
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        await new Promise((r) => setTimeout(r, idleMs * 3 + 200)); // scaled to zero by now
        ms[name].push(await contenders[name]());
      }
    }
    const m = { sandboxed: median(ms.sandboxed), unsandboxed: median(ms.unsandboxed), node: median(ms.node) };
    const ratio = m.sandboxed / m.node;
    const samples = (xs: number[]) => xs.map((x) => fmt(x, 0)).join(", ");
    return {
      name: "cold start: scaled to zero -> first response (sandboxed)",
      ratio,
      target: "<= 2x spawning node and answering once",
      ok: ratio <= 2,
      details: {
        "ferry (sandboxed) median ms": fmt(m.sandboxed),
        "ferry unsandboxed median ms": fmt(m.unsandboxed),
        "node spawn+answer median ms": fmt(m.node),
        "unsandboxed / node": `${fmt(m.unsandboxed / m.node, 2)}x`,
        "sandbox cost per cold start (sandboxed - unsandboxed median), ms": fmt(m.sandboxed - m.unsandboxed),
        "sandbox cost per cold start (median of per-run differences), ms": fmt(median(ms.sandboxed.map((x, i) => x - ms.unsandboxed[i]!))),
        "samples ms, sandboxed": samples(ms.sandboxed),
        "samples ms, unsandboxed": samples(ms.unsandboxed),
        "samples ms, node": samples(ms.node),
        sandbox: pair.modes.sandboxed,
        runs,
      },
    };
  } finally {
    await pair.stop();
  }
}
