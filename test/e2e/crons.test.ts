import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, removeHome, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

const APP = join(ROOT, "test/fixtures/crons");
// test-only: a seconds field in front of every schedule, so `* * * * *` runs every 2 seconds
const FAST = { FERRY_TEST_CRON_SECONDS: "*/2" };

type Listing = {
  project: string;
  deploymentId: string | null;
  crons: { path: string; schedule: string; nextRunAt: number | null; lastRun: { at: number; status: number | null; durationMs: number; deploymentId: string } | null; lastSkippedAt: number | null }[];
};
/** the jobs that answer; /api/hang never does */
const ANSWERING = ["/api/cron", "/jobs/nightly"];

describe("end to end: vercel.json crons on the production deployment", () => {
  let platform: RunningPlatform;
  let home: string;
  const ferry = async (args: string[], expectOk = true) => {
    const r = await runFerryProcess(args, { env: { FERRY_HOME: home } });
    if (expectOk) expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const json = async <T>(args: string[]) => JSON.parse((await ferry([...args, "--json"])).stdout) as T;
  const crons = () => json<Listing>(["crons", "ls", "crons"]);
  /** polls `ferry crons ls` until the last run of every cron in `paths` satisfies `ok` */
  const waitForRuns = async (ok: (r: NonNullable<Listing["crons"][number]["lastRun"]>) => boolean, ms = 30_000, paths = ANSWERING) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const l = await crons();
      const these = l.crons.filter((c) => paths.includes(c.path));
      if (these.length === paths.length && these.every((c) => c.lastRun && ok(c.lastRun))) return l;
      if (Date.now() > deadline) throw new Error(`crons did not run as expected: ${JSON.stringify(l)}\n${platform.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  let v1: { id: string };
  const waitFor = async (what: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error(`timed out\n${platform.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  beforeAll(async () => {
    platform = await startPlatformProcess({ env: FAST });
    home = platform.home;
    // a preview deploy creates the project; previews run no crons
    await json([APP, "--name", "crons"]);
    await ferry(["env", "add", "CRON_SECRET", "s3cret-for-crons", "--environment", "production", "--sensitive", "--project", "crons"]);
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
    await removeHome(home);
  });

  it("runs nothing without a production deployment", async () => {
    const l = await crons();
    expect(l).toEqual({ project: "crons", deploymentId: null, crons: [] });
    await new Promise((r) => setTimeout(r, 2500));
    expect(platform.output()).not.toContain("[cron] crons GET");
  });

  it("calls each cron path through the router with the user agent and the bearer, and shows the last run", async () => {
    v1 = await json<{ id: string }>([APP, "--name", "crons", "--prod"]);
    const l = await waitForRuns((r) => r.status === 200 && r.deploymentId === v1.id);
    expect(l.deploymentId).toBe(v1.id);
    expect(l.crons.map((c) => c.path).sort()).toEqual(["/api/cron", "/api/hang", "/jobs/nightly"]);
    for (const c of l.crons.filter((c) => ANSWERING.includes(c.path))) {
      expect(c.schedule).toBe("* * * * *");
      expect(c.nextRunAt).toBeGreaterThan(c.lastRun!.at);
    }

    // the function's own record of the calls (it answers 401 without the bearer, 403 without the
    // user agent), and the platform's line per run, in the runtime log `ferry logs` reads
    const logs = (await ferry(["logs", "--project", "crons", "--json"])).stdout.trim().split("\n").map((l) => JSON.parse(l) as { stream: string; text: string; status?: number });
    const calls = logs.filter((e) => e.stream === "stdout" && e.text.startsWith("cron-call "));
    expect(calls.some((e) => e.text.includes('"job":"cron"') && e.text.includes('"userAgent":"vercel-cron/1.0"'))).toBe(true);
    // /jobs/nightly reached the function through the deployment's rewrite
    expect(calls.some((e) => e.text.includes('"job":"nightly"'))).toBe(true);
    expect(logs).toContainEqual(expect.objectContaining({ stream: "request", status: 200, text: expect.stringMatching(/^cron GET \/jobs\/nightly 200 \d+ms \(\* \* \* \* \*\)$/) }));
    expect(platform.output()).toMatch(/\[cron\] crons GET \/api\/cron \(\* \* \* \* \*\) -> 200 in \d+ ms/);

    const table = (await ferry(["crons", "ls", "crons"])).stdout;
    expect(table).toMatch(/\/api\/cron\s+\* \* \* \* \*\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+\d{4}-\d\d-\d\dT[\d:]+Z 200 \(\d+ ms\)/);
  });

  it("ends a hung run at the function's maxDuration and skips the runs that fall due meanwhile", async () => {
    // every 2 s, each run held for maxDuration (3 s): every other run is skipped
    const l = await waitForRuns((r) => r.status === 504, 30_000, ["/api/hang"]);
    const hang = l.crons.find((c) => c.path === "/api/hang")!;
    expect(hang.lastRun!.durationMs).toBeGreaterThanOrEqual(2900);
    expect(hang.lastRun!.durationMs).toBeLessThan(10_000);
    await waitFor(async () => (await crons()).crons.find((c) => c.path === "/api/hang")!.lastSkippedAt !== null);
    expect(platform.output()).toContain("[cron] crons GET /api/hang (* * * * *): skipped, the previous run is still running");
  });

  it("follows production at once: a new production deployment, then a rollback", async () => {
    const v2 = await json<{ id: string }>([APP, "--name", "crons", "--prod", "--env", "VERSION=2"]);
    await waitForRuns((r) => r.deploymentId === v2.id && r.status === 200);
    await ferry(["rollback", "crons"]);
    const l = await waitForRuns((r) => r.deploymentId === v1.id && r.status === 200, 10_000);
    expect(l.deploymentId).toBe(v1.id);
  });

  it("fails a deploy whose schedule Vercel would refuse, naming crons[0].schedule", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-crons-bad-"));
    try {
      await cp(APP, dir, { recursive: true });
      await writeFile(join(dir, "vercel.json"), JSON.stringify({ crons: [{ path: "/api/cron", schedule: "0 5 * * MON" }] }));
      const r = await ferry([dir, "--name", "crons", "--prod", "--json"], false);
      expect(r.code).not.toBe(0);
      const err = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
      expect(err.code).toBe("invalid_config");
      expect(err.message).toContain("crons[0].schedule");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps the last run across a restart and does not replay runs missed while down", async () => {
    const before = await waitForRuns(() => true);
    await platform.stop();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 4500));
    // at real speed now: `* * * * *` runs at the next minute boundary, not at start to make up
    // for the runs missed during the 4.5 s of downtime
    const restartAt = Date.now();
    platform = await startPlatformProcess({ home });
    const after = await crons();
    const firstMinute = Math.ceil(restartAt / 60_000) * 60_000;
    for (const c of after.crons.filter((c) => ANSWERING.includes(c.path))) {
      const was = before.crons.find((b) => b.path === c.path)!.lastRun!;
      expect(c.lastRun!.at).toBeGreaterThanOrEqual(was.at);
      // the run remembered from before the stop, or one at a minute boundary: never one at start
      expect(c.lastRun!.at < stoppedAt || c.lastRun!.at >= firstMinute).toBe(true);
      expect(c.nextRunAt! % 60_000).toBe(0);
    }
  }, 120_000);
});
