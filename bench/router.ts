import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { ROOT, removeHome, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../test/helpers/platform-process.ts";
import { startTarget } from "./targets/spawn.ts";
import { load, type LoadResult } from "./load.ts";
import { fmt, median, type BenchResult } from "./stats.ts";
import { childCount, cpuMs, descendants } from "./procs.ts";

const BOOTSTRAP = join(ROOT, "runtime/local/bootstrap.mjs");
const HELLO = join(ROOT, "bench/targets/hello-server.mjs");
const PROXY = join(ROOT, "bench/targets/undici-proxy.mjs");

function findBundle(dir: string): string | null {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      const found = findBundle(p);
      if (found) return found;
    } else if (name === "index.mjs") return p;
  }
  return null;
}

async function deploy(platform: RunningPlatform, app: string, name: string) {
  const r = await runFerryProcess([join(ROOT, app), "--name", name, "--json"], { env: { FERRY_HOME: platform.home } });
  if (r.code !== 0) throw new Error(`deploy of ${app} failed: ${r.stderr}`);
  const d = JSON.parse(r.stdout) as { id: string; url: string };
  return { ...d, host: new URL(d.url).host };
}

const describe = (r: LoadResult) => `${fmt(r.rps, 0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.errors || r.non2xx ? `, ${r.errors} errors, ${r.non2xx} non-2xx` : ""}`;

/** Warm function through the router vs a minimal undici proxy vs bare node:http; static files too.
 * The proxy fronts one instance; the app's ferry.json lets one Ferry instance take all the load
 * too (maxConcurrency 100), so the ratio measures the routing layer, not the scale-out policy. */
export async function benchRouter(opts: { seconds?: number; rounds?: number } = {}): Promise<BenchResult[]> {
  // many short rounds: the median of 15 shrugs off the noisy moments of a shared machine
  const seconds = opts.seconds ?? 1.5;
  const rounds = opts.rounds ?? 15;
  const platform = await startPlatformProcess();
  const targets: { stop: () => void }[] = [];
  try {
    const hello = await deploy(platform, "bench/apps/hello", "bench-hello");
    const site = await deploy(platform, "bench/apps/static", "bench-static");
    const routerUrl = platform.routerUrl;
    // warm the function and find its materialized bundle: the proxy baseline runs the same handler
    await request(`${routerUrl}/api/hello`, { headers: { host: hello.host } }).then((r) => r.body.text());
    const bundle = findBundle(join(platform.home, "cache/functions"));
    if (!bundle) throw new Error("no materialized function bundle found");
    // the same handler as Ferry runs it: same bootstrap, same bundle, same node flags
    const instance = await startTarget(BOOTSTRAP, [bundle], {}, ["--enable-source-maps", "--max-old-space-size=1024"]);
    targets.push(instance);
    const proxy = await startTarget(PROXY, [], { UPSTREAM: `http://127.0.0.1:${instance.port}` });
    targets.push(proxy);
    // Ferry reaches its instances over Unix sockets; the same proxy over one too, for comparison
    const socket = join(tmpdir(), `ferry-bench-${process.pid}.sock`);
    const unixInstance = await startTarget(BOOTSTRAP, [bundle, socket], {}, ["--enable-source-maps", "--max-old-space-size=1024"]);
    targets.push({ stop: () => (unixInstance.stop(), rmSync(socket, { force: true })) });
    const unixProxy = await startTarget(PROXY, [], { UPSTREAM_SOCKET: socket });
    targets.push(unixProxy);
    const bare = await startTarget(HELLO);
    targets.push(bare);

    /** A run, with the CPU time the serving processes spent per request. Each gets a warm-up of
     * its own: fresh connections, caches and JIT state after the other contenders ran, for all alike. */
    const measured = async (url: string, host: string | undefined, pids: () => number[]) => {
      await load(url, { host, seconds: 0.5 });
      const ps = pids();
      const before = ps.map(cpuMs);
      const r = await load(url, { host, seconds });
      return { ...r, cpuUs: ps.map((p, i) => ((cpuMs(p) - before[i]!) * 1000) / Math.max(r.total, 1)) };
    };
    const run = (url: string, host?: string) => measured(url, host, () => []);
    const proxyUrl = `http://127.0.0.1:${proxy.port}/api/hello`;
    const ferryUrl = `${routerUrl}/api/hello`;
    const contenders = {
      ferry: () => measured(ferryUrl, hello.host, () => [platform.proc.pid!, ...descendants(platform.proc.pid!)]),
      proxy: () => measured(proxyUrl, undefined, () => [proxy.proc.pid!, instance.proc.pid!]),
      unixProxy: () => measured(`http://127.0.0.1:${unixProxy.port}/api/hello`, undefined, () => [unixProxy.proc.pid!, unixInstance.proc.pid!]),
    };
    const names = Object.keys(contenders) as (keyof typeof contenders)[];
    for (const name of names) await contenders[name](); // warm-up: JIT, pools, caches
    const bareR = await run(`http://127.0.0.1:${bare.port}/`);
    // The machine is shared and its speed drifts by tens of percent within a minute. So the
    // contenders run in short back-to-back rounds (rotating who goes first), each round gives a
    // ratio, and the result is the median round: a slow moment hits a whole round alike.
    const all: Record<keyof typeof contenders, Measured>[] = [];
    for (let i = 0; i < rounds; i++) {
      const round = {} as Record<keyof typeof contenders, Measured>;
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        round[name] = await contenders[name]();
      }
      all.push(round);
    }
    const ratios = all.map((r) => r.ferry.rps / r.proxy.rps);
    const ratio = median(ratios);
    const mid = all[ratios.indexOf([...ratios].sort((a, b) => a - b)[rounds >> 1]!)]!;
    const unixRatios = all.map((r) => r.ferry.rps / r.unixProxy.rps);
    const cpu = (m: Measured, names: string[]) => m.cpuUs.map((us, i) => `${names[i] ?? "instance"} ${fmt(us, 0)}`).join(" + ") + " µs";

    const file = join(ROOT, "bench/apps/static/page.html");
    const bareFile = await startTarget(HELLO, [], { FILE: file });
    targets.push(bareFile);
    await run(`${routerUrl}/page.html`, site.host);
    const bareStatic = await run(`http://127.0.0.1:${bareFile.port}/`);
    const ferryStatic = await run(`${routerUrl}/page.html`, site.host);

    return [
      {
        name: "router: warm hello-world function",
        ratio,
        target: ">= 0.85x the minimal undici proxy",
        ok: ratio >= 0.85,
        details: {
          "bare node:http": describe(bareR),
          "undici proxy (median round)": describe(mid.proxy),
          "ferry router (median round)": describe(mid.ferry),
          "ratio per round": ratios.map((r) => fmt(r, 2)).join(", "),
          "CPU per request, ferry (median round)": cpu(mid.ferry, ["platform"]),
          "CPU per request, proxy (median round)": cpu(mid.proxy, ["proxy", "instance"]),
          "vs the same proxy over a Unix socket, as Ferry reaches its instances (median round)": `${fmt(median(unixRatios), 2)}x (${describe(mid.unixProxy)})`,
          "ferry / bare": fmt(mid.ferry.rps / bareR.rps, 2),
        },
      },
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

type Measured = LoadResult & { cpuUs: number[] };

/** Cold start: first response from zero instances vs spawning node and answering once. */
export async function benchColdStart(opts: { runs?: number } = {}): Promise<BenchResult> {
  const runs = opts.runs ?? 8;
  const idleMs = 200;
  const platform = await startPlatformProcess({ env: { FERRY_IDLE_TIMEOUT_MS: String(idleMs) } });
  try {
    const hello = await deploy(platform, "bench/apps/hello", "bench-cold");
    const once = async () => {
      const r = await request(`${platform.routerUrl}/api/hello`, { headers: { host: hello.host } });
      await r.body.text();
      if (r.statusCode !== 200) throw new Error(`cold start answered ${r.statusCode}`);
    };
    await once();
    const ferry: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < runs; i++) {
      await new Promise((r) => setTimeout(r, idleMs * 3 + 200)); // scaled to zero by now
      const children = childCount(platform.proc.pid!);
      let t0 = performance.now();
      await once();
      ferry.push(performance.now() - t0);
      if (children !== 0) throw new Error(`expected zero instances before a cold start, found ${children} processes`);

      t0 = performance.now();
      const t = await startTarget(HELLO);
      const r = await request(`http://127.0.0.1:${t.port}/`);
      await r.body.text();
      node.push(performance.now() - t0);
      t.stop();
    }
    const ratio = median(ferry) / median(node);
    return { name: "cold start: scaled to zero -> first response", ratio, target: "<= 2x spawning node and answering once", ok: ratio <= 2, details: { "ferry median ms": fmt(median(ferry)), "node spawn+answer median ms": fmt(median(node)), runs } };
  } finally {
    await platform.stop();
    await removeHome(platform.home);
  }
}
