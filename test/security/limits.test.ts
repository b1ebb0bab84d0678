import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeHome, requestVia, startPlatformProcess, type HttpResult, type RunningPlatform } from "../helpers/platform-process.ts";
import { instancesOf, killPids, processesOf, procsWithArg, rssKb, sleep, waitUntil } from "./helpers/host-procs.ts";
import { api, deploy, errorCodeOf, ferry, ndjson, stageApp, type Deployed } from "./helpers/stage.ts";

/**
 * Limits on tenant code, on one real embedded platform whose idle instances stop after 2 s:
 * memory counted for the whole process (Buffers too), a process limit, processes that try to
 * outlive their instance, and a cap on the instances one deployment may run. Each time a
 * well-behaved neighbour must keep answering.
 */

/** The most instances one deployment may run at once, all its functions together
 * (`maxInstancesPerDeployment` in runtime/local/README.md). The crowd app has 8 functions of 4
 * instances each at most (`maxInstancesPerFunction`), so only that cap keeps it under 32. */
const DEPLOYMENT_INSTANCE_CAP = 16;
const CROWD_FUNCTIONS = 8;
/** How much the platform's own resident memory may grow while a tenant hogs memory. */
const PLATFORM_RSS_GROWTH_LIMIT_KB = 300 * 1024;

const nonce = () => String(randomInt(100_000, 1_000_000));

/** Runs `fn` every `ms` until the returned stop() is called; stop() resolves when the last run ended. */
function every(ms: number, fn: () => Promise<void>) {
  let running = true;
  const loop = (async () => {
    while (running) {
      await fn().catch(() => {});
      await sleep(ms);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

describe("tenant limits on one embedded platform", () => {
  let platform: RunningPlatform;
  let work = "";
  const apps: Record<"steady" | "hog" | "bomb" | "crowd", { deployment: Deployed; host: string }> = {} as never;
  /** command-line fragments of every process a test asked a tenant to start */
  const fragments: string[] = [];

  /** Pings the well-behaved app every 250 ms; stop() returns the statuses it got. */
  const watchNeighbour = () => {
    const statuses: number[] = [];
    const stop = every(250, async () => {
      const r = await requestVia(platform.routerUrl, apps.steady.host, "/api/ping").catch(() => null);
      statuses.push(r && r.text === "pong" ? r.status : (r?.status ?? -1));
    });
    return async () => {
      await stop();
      return statuses;
    };
  };
  const expectNeighbourFine = async (statuses: number[]) => {
    expect(statuses.length, "the neighbour was never asked").toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200), `the neighbour's answers meanwhile: ${statuses.join(" ")}`).toEqual([]);
    const after = await requestVia(platform.routerUrl, apps.steady.host, "/api/ping");
    expect([after.status, after.text]).toEqual([200, "pong"]);
  };
  const leftovers = async (fragment: string) => (await procsWithArg(fragment)).map((p) => `${p.pid} ${p.cmdline.join(" ")}`);

  beforeAll(async () => {
    platform = await startPlatformProcess({ env: { FERRY_IDLE_TIMEOUT_MS: "2000" } });
    work = await mkdtemp(join(tmpdir(), "ferry-limits-"));
    const names = ["steady", "hog", "bomb", "crowd"] as const;
    const deployed = await Promise.all(names.map(async (n) => deploy(platform, await stageApp(`limits/${n}`, work))));
    names.forEach((n, i) => (apps[n] = { deployment: deployed[i]!.deployment, host: deployed[i]!.host }));
    const ping = await requestVia(platform.routerUrl, apps.steady.host, "/api/ping");
    if (ping.status !== 200) throw new Error(`the neighbour does not answer: ${ping.status} ${ping.text}`);
  }, 180_000);

  afterAll(async () => {
    for (const f of fragments) killPids((await procsWithArg(f).catch(() => [])).map((p) => p.pid));
    await platform?.stop();
    if (platform) await removeHome(platform.home);
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  it("stops a Buffer hog at its memory limit with a clear error, and the platform does not pay for it", async () => {
    const pid = platform.proc.pid!;
    const rssBefore = (await rssKb(pid))!;
    let rssMax = rssBefore;
    const stopRss = every(100, async () => {
      rssMax = Math.max(rssMax, (await rssKb(pid)) ?? 0);
    });
    const stopNeighbour = watchNeighbour();
    let hog: HttpResult;
    try {
      hog = await requestVia(platform.routerUrl, apps.hog.host, "/api/hog");
    } finally {
      await stopRss();
    }
    const neighbour = await stopNeighbour();

    expect([502, 503], `the hog got ${hog.status}: ${hog.text.slice(0, 300)}`).toContain(hog.status);
    expect(errorCodeOf(hog.text)).toMatch(/memory/);
    expect(rssMax - rssBefore, `the platform's RSS went from ${rssBefore} kB to ${rssMax} kB`).toBeLessThan(PLATFORM_RSS_GROWTH_LIMIT_KB);
    await expectNeighbourFine(neighbour);

    // the runtime log says which limit it was
    let lines: string[] = [];
    const named = await waitUntil(async () => {
      const logs = await api(platform, `/v1/deployments/${apps.hog.deployment.id}/logs`);
      lines = ndjson<{ text?: string; message?: string }>(logs.text).map((e) => e.text ?? e.message ?? JSON.stringify(e));
      return lines.some((l) => /memory/i.test(l) && /\b128\b/.test(l));
    }, 10_000);
    expect(named, `no runtime log line names the 128 MB memory limit:\n${lines.join("\n")}`).toBe(true);
    console.info(`[limits] hog: ${hog.status} ${errorCodeOf(hog.text)}; platform RSS +${rssMax - rssBefore} kB; log: ${lines.find((l) => /memory/i.test(l) && /\b128\b/.test(l))}`);
  }, 90_000);

  it("contains a fork bomb: starting processes fails at the limit, the neighbour answers, nothing of it remains", async () => {
    const n = nonce();
    fragments.push(`30.${n}`);
    const stopNeighbour = watchNeighbour();
    const r = await requestVia(platform.routerUrl, apps.bomb.host, `/api/bomb?nonce=${n}&count=500`);
    const neighbour = await stopNeighbour();
    console.info(`[limits] fork bomb: ${r.status} ${r.text.slice(0, 300)}; ${(await procsWithArg(`30.${n}`)).length} of its processes on the host`);

    if (r.status === 200) {
      const { tally } = JSON.parse(r.text) as { tally: Record<string, number> };
      expect(tally.EAGAIN ?? 0, `every start succeeded: ${JSON.stringify(tally)}`).toBeGreaterThan(0);
      expect(tally.spawned ?? 0).toBeLessThan(500);
    } else {
      expect(r.status, r.text).toBeGreaterThanOrEqual(500);
      expect(errorCodeOf(r.text)).toMatch(/process|pids/);
    }
    await expectNeighbourFine(neighbour);

    // once the request is over its instance goes idle and stops (2 s): nothing it started survives
    let left: string[] = [];
    const gone = await waitUntil(async () => (left = await leftovers(`30.${n}`)).length === 0, 20_000);
    expect(gone, `${left.length} processes of the fork bomb still run, e.g.:\n${left.slice(0, 5).join("\n")}`).toBe(true);
  }, 90_000);

  it("ends a process that outlives its request once the instance scales to zero", async () => {
    const n = nonce();
    fragments.push(`600.${n}`);
    const r = await requestVia(platform.routerUrl, apps.bomb.host, `/api/outlive?nonce=${n}`);
    expect(r.status, r.text).toBe(200);
    const { results } = JSON.parse(r.text) as { results: string[] };
    expect(results.filter((x) => x.startsWith("started")).length, `nothing was started: ${results.join("; ")}`).toBeGreaterThan(0);
    const seen = await waitUntil(async () => (await leftovers(`600.${n}`)).length > 0, 5_000);
    expect(seen, "the processes it started never showed on the host").toBe(true);

    let left: string[] = [];
    const gone = await waitUntil(async () => (left = await leftovers(`600.${n}`)).length === 0, 20_000);
    expect(gone, `still running after scale to zero:\n${left.join("\n")}`).toBe(true);
    expect(await instancesOf(apps.bomb.deployment.id)).toEqual([]);
  }, 60_000);

  it("ends a process that outlives its request once its deployment is removed", async () => {
    const n = nonce();
    fragments.push(`600.${n}`);
    // the request stays open, so the instance is busy and only the removal can stop it
    const held = requestVia(platform.routerUrl, apps.bomb.host, `/api/outlive?nonce=${n}&hold=40000`).catch((e: Error) => e);
    const seen = await waitUntil(async () => (await leftovers(`600.${n}`)).length > 0, 15_000);
    expect(seen, "the processes it started never showed on the host").toBe(true);

    const removed = await ferry(platform, ["rm", apps.bomb.deployment.id]);
    expect(removed.code, removed.stderr).toBe(0);
    let left: string[] = [];
    const gone = await waitUntil(async () => (left = [...(await leftovers(`600.${n}`)), ...(await processesOf(apps.bomb.deployment.id)).map((p) => `${p.pid} ${p.cmdline.join(" ")}`)]).length === 0, 10_000);
    expect(gone, `still running after ferry rm:\n${left.join("\n")}`).toBe(true);
    const outcome = await Promise.race([held, sleep(45_000).then(() => "still open")]);
    expect(outcome, "the held request never ended").not.toBe("still open");
  }, 90_000);

  it("caps the instances one deployment may run, keeps the neighbour answering, and scales them all to zero", async () => {
    const id = apps.crowd.deployment.id;
    let peak = 0;
    const stopCount = every(200, async () => {
      peak = Math.max(peak, (await instancesOf(id)).length);
    });
    const stopNeighbour = watchNeighbour();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => requestVia(platform.routerUrl, apps.crowd.host, `/api/slow${(i % CROWD_FUNCTIONS) + 1}?ms=3000`).catch((e: Error) => e)),
    );
    await stopCount();
    const neighbour = await stopNeighbour();

    const answered = results.filter((r): r is HttpResult => !(r instanceof Error));
    const statuses = answered.map((r) => r.status);
    const served = new Set(answered.filter((r) => r.status === 200).map((r) => (JSON.parse(r.text) as { instance: string }).instance));
    const codes = answered.filter((r) => r.status !== 200).map((r) => `${r.status} ${errorCodeOf(r.text)}`);
    console.info(`[limits] crowd: peak ${peak} instances on the host, ${served.size} distinct instances answered; statuses ${statuses.join(" ")}${codes.length ? `; errors: ${[...new Set(codes)].join(", ")}` : ""}`);
    expect(results.filter((r) => r instanceof Error).map(String)).toEqual([]);
    // a cap refuses with 503; a machine too busy to start a sandbox within the start timeout is
    // not what this test is about, anything else is
    expect(codes.filter((c) => !c.startsWith("503 ") && !c.endsWith(" function_start_timeout")), "answers other than 200 and a refusal").toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(served.size).toBeLessThanOrEqual(DEPLOYMENT_INSTANCE_CAP);
    expect(peak).toBeLessThanOrEqual(DEPLOYMENT_INSTANCE_CAP);
    await expectNeighbourFine(neighbour);

    let left: string[] = [];
    const gone = await waitUntil(async () => (left = (await processesOf(id)).map((p) => `${p.pid} ${p.cmdline.join(" ")}`)).length === 0, 20_000);
    expect(gone, `instances of the crowd still run after scale to zero:\n${left.join("\n")}`).toBe(true);
  }, 120_000);
});
