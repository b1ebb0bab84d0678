import { request } from "undici";
import { cpuTotal, deploy, describe, describeCpu, ferryProcesses, measured, medianRound, pairedRounds, startPlatformPair, warmUp } from "./contenders.ts";
import { fmt, median, type BenchResult } from "./stats.ts";

/**
 * What the sandbox costs a warm function: the same hello-world function through the default
 * (sandboxed) platform and through one started with FERRY_UNSANDBOXED=1, in short back-to-back
 * rounds, with the CPU each side's platform and instance spent per request. About a minute.
 */
export async function benchSandboxWarm(opts: { seconds?: number; rounds?: number } = {}): Promise<BenchResult> {
  const seconds = opts.seconds ?? 1.5;
  const rounds = opts.rounds ?? 13;
  const pair = await startPlatformPair();
  try {
    const [hs, hu] = await Promise.all([deploy(pair.sandboxed, "bench/apps/hello", "bench-hello"), deploy(pair.unsandboxed, "bench/apps/hello", "bench-hello")]);
    for (const [p, h] of [[pair.sandboxed, hs], [pair.unsandboxed, hu]] as const) {
      await request(`${p.routerUrl}/api/hello`, { headers: { host: h.host } }).then((r) => r.body.text());
    }
    const contenders = {
      sandboxed: () => measured(`${pair.sandboxed.routerUrl}/api/hello`, hs.host, () => ferryProcesses(pair.sandboxed), seconds),
      unsandboxed: () => measured(`${pair.unsandboxed.routerUrl}/api/hello`, hu.host, () => ferryProcesses(pair.unsandboxed), seconds),
    };
    await warmUp(contenders);
    const all = await pairedRounds(contenders, rounds);
    const { ratio, ratios, mid } = medianRound(all, (r) => r.sandboxed.rps / r.unsandboxed.rps);
    const diff = (part: (m: (typeof all)[number]["sandboxed"]) => number) => median(all.map((r) => part(r.sandboxed) - part(r.unsandboxed)));
    const us = (n: number) => `${n >= 0 ? "+" : ""}${fmt(n)} µs`;
    return {
      name: "sandbox cost, warm hello-world function",
      ratio,
      target: ">= 0.9x the same platform unsandboxed",
      ok: ratio >= 0.9,
      details: {
        "sandboxed (median round)": describe(mid.sandboxed),
        "unsandboxed (median round)": describe(mid.unsandboxed),
        "ratio per round": ratios.map((r) => fmt(r, 2)).join(", "),
        "CPU per request, sandboxed (median round)": describeCpu(mid.sandboxed),
        "CPU per request, unsandboxed (median round)": describeCpu(mid.unsandboxed),
        "sandbox's CPU per request (median of per-round differences)": `${us(diff(cpuTotal))} (platform ${us(diff((m) => m.cpuUs.platform!))}, instance ${us(diff((m) => m.cpuUs.instance!))})`,
        "sandbox's latency per request (median of per-round p50 differences)": `${fmt(diff((m) => m.p50), 2)} ms`,
        sandbox: pair.modes.sandboxed,
        rounds: `${rounds} x ${seconds} s each`,
      },
    };
  } finally {
    await pair.stop();
  }
}
