import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dynaliteMetadata } from "../helpers/metadata.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { LogEntry } from "../../core/logs/port.ts";
import type { Deployment } from "../../core/types.ts";
import { createCronScheduler, type Clock, type CronScheduler } from "../../crons/scheduler.ts";
import { listProjectCrons } from "../../crons/list.ts";

/** Timers that fire only when the test moves the clock. */
function fakeClock(start: number) {
  let now = start;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock & { advanceTo(t: number): void; pending(): number } = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.add(t);
      return t;
    },
    clearTimeout: (t) => void timers.delete(t as { at: number; fn: () => void }),
    advanceTo(target) {
      for (;;) {
        const due = [...timers].filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers.delete(due);
        now = Math.max(now, due.at);
        due.fn();
      }
      now = target;
    },
    pending: () => timers.size,
  };
  return clock;
}

type Seen = { path: string; host: string; headers: IncomingHttpHeaders };

const T0 = Date.UTC(2026, 0, 1, 4, 59, 0);
const MIN = 60_000;

describe("cron scheduler (real dynalite, a real loopback server as the router)", () => {
  let db: Awaited<ReturnType<typeof dynaliteMetadata>>;
  let metadata: Metadata;
  let server: Server;
  let port: number;
  const seen: Seen[] = [];
  /** requests held open until the test releases them */
  const held: ServerResponse[] = [];
  let down = false;
  let schedulers: CronScheduler[] = [];
  const secrets = new Map<string, string>();
  let logs: LogEntry[] = [];
  let lines: string[] = [];
  let n = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url!, host: String(req.headers["x-cron-host"]), headers: req.headers });
      if (req.url!.startsWith("/slow")) return void held.push(res);
      res.writeHead(req.url!.startsWith("/fail") ? 500 : 200, { "content-type": "text/plain" }).end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  // a fresh metadata store per test: start() reads every production project there is
  beforeEach(async () => {
    db = await dynaliteMetadata();
    metadata = db.metadata;
    seen.length = 0;
    logs = [];
    lines = [];
    down = false;
  });
  afterEach(async () => {
    for (const r of held.splice(0)) r.end();
    await Promise.all(schedulers.map((s) => s.stop()));
    schedulers = [];
    await db.end();
  });

  const scheduler = (clock: Clock) => {
    const s = createCronScheduler({
      metadata,
      domain: "localhost",
      clock,
      secondsField: undefined,
      cronSecret: async (d) => secrets.get(d.id),
      logs: { append: (e) => void logs.push(e) },
      log: (l) => void lines.push(l),
      // the loopback server stands in for the router; the Host it would route on travels in a header
      fetch: async (req) => {
        if (down) throw new Error("connect ECONNREFUSED");
        const u = new URL(req.url);
        const headers = new Headers(req.headers);
        headers.set("x-cron-host", u.host);
        return fetch(`http://127.0.0.1:${port}${u.pathname}${u.search}`, { method: req.method, headers });
      },
    });
    schedulers.push(s);
    return s;
  };

  /** A project whose production deployment has these crons; returns the deployment. */
  async function production(project: string, crons: { path: string; schedule: string }[], opts: { previous?: Deployment } = {}) {
    const p = await metadata.ensureProject({ id: `prj_${project}`, accountId: "acc_1", name: project, createdAt: T0 });
    const d: Deployment = {
      id: `dpl_${project}_${++n}`, accountId: "acc_1", projectId: p.id, project, host: `${project}-h${n}`, state: "READY", target: "production",
      fileCount: 1, config: { crons }, inputHash: "x", createdAt: T0, updatedAt: T0,
    };
    await metadata.createDeployment(d);
    await metadata.setProduction("acc_1", project, d.id, opts.previous?.id, opts.previous ? [opts.previous.id] : []);
    return d;
  }

  const until = async (what: () => boolean | Promise<boolean>, ms = 5000) => {
    const end = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > end) throw new Error("timed out waiting");
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const lastRun = async (project: string, path: string) => (await listProjectCrons(metadata, "acc_1", project)).crons.find((c) => c.path === path)?.lastRun ?? null;

  it("calls the path on schedule through the deployment's host, with the cron user agent and the bearer, and records the run", async () => {
    const d = await production("daily", [{ path: "/api/cron?x=1", schedule: "0 5 * * *" }]);
    secrets.set(d.id, "top-secret");
    const clock = fakeClock(T0);
    const s = scheduler(clock);
    await s.start();
    expect([...s.nextRuns("acc_1", "daily").values()]).toEqual([Date.UTC(2026, 0, 1, 5, 0)]);

    clock.advanceTo(T0 + 30_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);

    clock.advanceTo(Date.UTC(2026, 0, 1, 5, 0));
    await until(async () => (await lastRun("daily", "/api/cron?x=1")) !== null);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ path: "/api/cron?x=1", host: `${d.host}.localhost` });
    expect(seen[0]!.headers["user-agent"]).toBe("vercel-cron/1.0");
    expect(seen[0]!.headers.authorization).toBe("Bearer top-secret");
    expect(await lastRun("daily", "/api/cron?x=1")).toMatchObject({ at: Date.UTC(2026, 0, 1, 5, 0), status: 200, deploymentId: d.id });
    expect((await listProjectCrons(metadata, "acc_1", "daily", clock.now())).crons[0]!.nextRunAt).toBe(Date.UTC(2026, 0, 2, 5, 0));
    expect(logs).toContainEqual(expect.objectContaining({ deploymentId: d.id, stream: "request", method: "GET", path: "/api/cron?x=1", status: 200, text: expect.stringMatching(/^cron GET \/api\/cron\?x=1 200 \d+ms \(0 5 \* \* \*\)$/) }));
    expect(lines.some((l) => l.startsWith("[cron] daily GET /api/cron?x=1 (0 5 * * *) -> 200 in "))).toBe(true);
    // armed for tomorrow, and only once
    expect([...s.nextRuns("acc_1", "daily").values()]).toEqual([Date.UTC(2026, 0, 2, 5, 0)]);
    expect(clock.pending()).toBe(1);
  });

  it("sends no Authorization header when the deployment has no CRON_SECRET, and records error statuses", async () => {
    await production("nosecret", [{ path: "/fail", schedule: "* * * * *" }]);
    const clock = fakeClock(T0);
    await scheduler(clock).start();
    clock.advanceTo(T0 + MIN);
    await until(async () => (await lastRun("nosecret", "/fail")) !== null);
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(await lastRun("nosecret", "/fail")).toMatchObject({ status: 500 });
  });

  it("records a run that got no response", async () => {
    await production("unreachable", [{ path: "/api/cron", schedule: "* * * * *" }]);
    down = true;
    const clock = fakeClock(T0);
    await scheduler(clock).start();
    clock.advanceTo(T0 + MIN);
    await until(async () => (await lastRun("unreachable", "/api/cron")) !== null);
    expect(await lastRun("unreachable", "/api/cron")).toMatchObject({ status: null, error: "connect ECONNREFUSED" });
    expect(logs.some((e) => e.text.startsWith("cron GET /api/cron failed (connect ECONNREFUSED)"))).toBe(true);
  });

  it("never overlaps two runs of one cron: the later one is skipped and logged", async () => {
    await production("overlap", [{ path: "/slow", schedule: "* * * * *" }]);
    const clock = fakeClock(T0);
    const s = scheduler(clock);
    await s.start();
    clock.advanceTo(T0 + MIN);
    await until(() => held.length === 1);
    expect(s.isRunning("acc_1", "overlap", "/slow", "* * * * *")).toBe(true);

    clock.advanceTo(T0 + 2 * MIN);
    await until(async () => (await listProjectCrons(metadata, "acc_1", "overlap")).crons[0]!.lastSkippedAt !== null);
    expect((await listProjectCrons(metadata, "acc_1", "overlap")).crons[0]!.lastSkippedAt).toBe(T0 + 2 * MIN);
    expect(lines.some((l) => l.includes("overlap GET /slow (* * * * *): skipped, the previous run is still running"))).toBe(true);
    expect(logs.some((e) => e.text === "cron GET /slow skipped: the previous run is still running")).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(1);

    clock.advanceTo(T0 + 2 * MIN + 1500);
    held.shift()!.end("done");
    await until(async () => (await lastRun("overlap", "/slow")) !== null);
    // the run started at the first minute and lasted (on the test clock) until it was released
    expect(await lastRun("overlap", "/slow")).toMatchObject({ at: T0 + MIN, status: 200, durationMs: MIN + 1500 });
    expect(s.isRunning("acc_1", "overlap", "/slow", "* * * * *")).toBe(false);

    // the next tick runs again
    clock.advanceTo(T0 + 3 * MIN);
    await until(() => seen.length === 2);
  });

  it("follows production when told: the new deployment's crons replace the old ones at once", async () => {
    const d1 = await production("moving", [{ path: "/old", schedule: "* * * * *" }, { path: "/kept", schedule: "* * * * *" }]);
    const clock = fakeClock(T0);
    const s = scheduler(clock);
    await s.start();
    expect(s.nextRuns("acc_1", "moving").size).toBe(2);

    const d2 = await production("moving", [{ path: "/kept", schedule: "* * * * *" }, { path: "/new", schedule: "*/5 * * * *" }], { previous: d1 });
    await s.productionChanged("acc_1", "moving");
    expect(s.nextRuns("acc_1", "moving").size).toBe(2);
    expect(clock.pending()).toBe(2);

    clock.advanceTo(Date.UTC(2026, 0, 1, 5, 0));
    await until(() => seen.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((r) => `${r.host}${r.path}`).sort()).toEqual([`${d2.host}.localhost/kept`, `${d2.host}.localhost/new`]);
  });

  it("checks the production pointer before each run, even when nobody told it production moved", async () => {
    const d1 = await production("untold", [{ path: "/a", schedule: "* * * * *" }, { path: "/b", schedule: "* * * * *" }]);
    const clock = fakeClock(T0);
    await scheduler(clock).start();
    // a promotion this scheduler never hears about: /a stays, /b is gone
    const d2 = await production("untold", [{ path: "/a", schedule: "* * * * *" }], { previous: d1 });
    clock.advanceTo(T0 + MIN);
    await until(async () => (await lastRun("untold", "/a")) !== null);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((r) => `${r.host}${r.path}`)).toEqual([`${d2.host}.localhost/a`]);
    expect(clock.pending()).toBe(1);
  });

  it("does not run crons of projects without a production deployment, nor after stop", async () => {
    const clock = fakeClock(T0);
    const s = scheduler(clock);
    await s.start();
    const before = clock.pending();
    await production("late", [{ path: "/api/cron", schedule: "* * * * *" }]);
    await s.productionChanged("acc_1", "late");
    expect(clock.pending()).toBe(before + 1);
    await s.stop();
    expect(clock.pending()).toBe(0);
    clock.advanceTo(T0 + 10 * MIN);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
  });

  it("keeps the last run across a restart and does not replay the runs missed while stopped", async () => {
    await production("restart", [{ path: "/api/cron", schedule: "*/10 * * * *" }]);
    const clock = fakeClock(Date.UTC(2026, 0, 1, 5, 9));
    const first = scheduler(clock);
    await first.start();
    clock.advanceTo(Date.UTC(2026, 0, 1, 5, 10));
    await until(async () => (await lastRun("restart", "/api/cron")) !== null);
    await first.stop();

    // down for three hours: 18 runs missed
    clock.advanceTo(Date.UTC(2026, 0, 1, 8, 14));
    const second = scheduler(clock);
    await second.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(1);
    expect(await lastRun("restart", "/api/cron")).toMatchObject({ at: Date.UTC(2026, 0, 1, 5, 10), status: 200 });
    expect([...second.nextRuns("acc_1", "restart").values()]).toEqual([Date.UTC(2026, 0, 1, 8, 20)]);
    clock.advanceTo(Date.UTC(2026, 0, 1, 8, 20));
    await until(() => seen.length === 2);
  });
});
