import type { Metadata } from "../core/metadata/repository.ts";
import type { LogStore } from "../core/logs/port.ts";
import type { Deployment } from "../core/types.ts";
import { cronKey, type CronRun } from "../core/metadata/crons.ts";
import { nextRun, testSecondsField } from "./schedule.ts";
import { productionCrons, type CronEntry } from "./production.ts";

/** Timers the scheduler uses; tests pass a fake one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SchedulerDeps {
  metadata: Metadata;
  /** into the router: the request is served as any visitor's would be (routing rules, maxDuration) */
  fetch: (req: Request) => Promise<Response>;
  /** apps domain: a run requests `http://<deployment host>.<domain><path>` */
  domain: string;
  /** the deployment's CRON_SECRET, when its environment has one */
  cronSecret: (d: Deployment) => Promise<string | undefined>;
  /** the deployment's runtime log (what `ferry logs` reads) */
  logs?: Pick<LogStore, "append">;
  /** the platform's own log */
  log?: (line: string) => void;
  clock?: Clock;
  /** test-only seconds field (see schedule.ts); defaults to FERRY_TEST_CRON_SECONDS */
  secondsField?: string;
}

export type CronScheduler = ReturnType<typeof createCronScheduler>;

/** setTimeout takes at most 2^31-1 ms; a run further away is re-armed on the way */
const MAX_DELAY = 2 ** 31 - 1;
/** how long stop() waits for runs in flight before it lets the platform go on closing */
const STOP_GRACE_MS = 5_000;

interface Armed extends CronEntry {
  timer?: unknown;
  /** the instant the armed timer is for */
  due?: number;
}

/**
 * Calls each cron of every project's production deployment on its schedule, as Vercel does:
 * GET through the router, `user-agent: vercel-cron/1.0`, `Authorization: Bearer <CRON_SECRET>`
 * when the deployment's env has one. It learns the crons on `start` (every production project)
 * and from `productionChanged` (told by the promotion that moved production), and checks the
 * project's production pointer again before every run. Runs missed while the platform was down
 * are not replayed; two runs of one cron never overlap (the later one is skipped and logged).
 */
export function createCronScheduler(deps: SchedulerDeps) {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? (() => {});
  const seconds = "secondsField" in deps ? deps.secondsField : testSecondsField();
  /** project key (`<account>/<project>`) -> cron key -> armed entry */
  const projects = new Map<string, Map<string, Armed>>();
  /** crons with a run in flight, by `<account>/<project>/<cron key>`: survives a refresh */
  const running = new Map<string, Promise<void>>();
  /** refreshes of one project run one after another */
  const refreshing = new Map<string, Promise<void>>();
  let started = false;
  let stopped = false;

  const projectKey = (accountId: string, project: string) => `${accountId}/${project}`;

  function arm(e: Armed, after: number) {
    if (stopped) return;
    const due = nextRun(e.schedule, after, seconds);
    if (due === null) return;
    e.due = due;
    const wait = () => {
      const left = due - clock.now();
      e.timer = clock.setTimeout(left > MAX_DELAY ? wait : () => fire(e, due), Math.min(Math.max(left, 0), MAX_DELAY));
    };
    wait();
  }

  function disarm(e: Armed) {
    if (e.timer !== undefined) clock.clearTimeout(e.timer);
    e.timer = undefined;
  }

  function fire(e: Armed, due: number) {
    e.timer = undefined;
    if (stopped) return;
    // the next run is counted from the one just due, never from a clock that fired a little
    // early, so one instant never runs twice
    arm(e, Math.max(due, clock.now()));
    const key = `${projectKey(e.accountId, e.project)}/${e.key}`;
    if (running.has(key)) {
      log(`[cron] ${e.project} GET ${e.path} (${e.schedule}): skipped, the previous run is still running`);
      deps.logs?.append({ ts: clock.now(), deploymentId: e.deploymentId, stream: "request", method: "GET", path: e.path, text: `cron GET ${e.path} skipped: the previous run is still running` });
      void deps.metadata.markCronSkipped(e.accountId, e.project, e.path, e.schedule, clock.now()).catch((err) => log(`[cron] ${e.project}: recording a skipped run failed: ${(err as Error).message}`));
      return;
    }
    const run = runOnce(e).finally(() => running.delete(key));
    running.set(key, run);
  }

  async function runOnce(e: Armed) {
    let d: Deployment | null;
    try {
      d = await current(e);
    } catch (err) {
      log(`[cron] ${e.project} GET ${e.path}: could not read the production deployment: ${(err as Error).message}`);
      return;
    }
    // production moved to a deployment without this cron: the refresh has dropped it
    if (!d) return;
    const startedAt = clock.now();
    const result: CronRun = { startedAt, deploymentId: d.id, durationMs: 0 };
    try {
      const headers = new Headers({ "user-agent": "vercel-cron/1.0" });
      const secret = await deps.cronSecret(d);
      if (secret) headers.set("authorization", `Bearer ${secret}`);
      const res = await deps.fetch(new Request(`http://${d.host}.${deps.domain}${e.path}`, { method: "GET", headers }));
      result.status = res.status;
      // read to the end: the run lasts as long as the function's answer (bounded by its maxDuration)
      await drain(res);
    } catch (err) {
      result.error = (err as Error).message;
    }
    result.durationMs = clock.now() - startedAt;
    const outcome = result.status !== undefined ? String(result.status) : `failed (${result.error})`;
    log(`[cron] ${e.project} GET ${e.path} (${e.schedule}) -> ${outcome} in ${result.durationMs} ms (deployment ${d.id})`);
    deps.logs?.append({ ts: clock.now(), deploymentId: d.id, stream: "request", method: "GET", path: e.path, ...(result.status !== undefined ? { status: result.status } : {}), durationMs: result.durationMs, text: `cron GET ${e.path} ${outcome} ${result.durationMs}ms (${e.schedule})` });
    try {
      await deps.metadata.putCronRun(e.accountId, e.project, e.path, e.schedule, result);
    } catch (err) {
      log(`[cron] ${e.project} GET ${e.path}: recording the run failed: ${(err as Error).message}`);
    }
  }

  /**
   * The production deployment to run `e` on, read again now (one consistent read): a promotion
   * this process was not told about still takes effect before the run. Null when production no
   * longer has this cron.
   */
  async function current(e: Armed): Promise<Deployment | null> {
    const p = await deps.metadata.getProject(e.accountId, e.project);
    if (p?.productionDeploymentId === e.deploymentId) {
      const d = await deps.metadata.getDeployment(e.deploymentId);
      if (d) return d;
    }
    await refresh(e.accountId, e.project);
    const now = projects.get(projectKey(e.accountId, e.project))?.get(e.key);
    return now ? deps.metadata.getDeployment(now.deploymentId) : null;
  }

  /** Re-reads a project's production deployment and (re)arms exactly its crons. */
  function refresh(accountId: string, project: string): Promise<void> {
    const pk = projectKey(accountId, project);
    const next = (refreshing.get(pk) ?? Promise.resolve()).then(async () => {
      const entries = await productionCrons(deps.metadata, accountId, project);
      if (stopped) return;
      const armed = projects.get(pk) ?? new Map<string, Armed>();
      for (const [k, e] of armed) {
        if (!entries.some((n) => n.key === k)) (disarm(e), armed.delete(k));
      }
      for (const n of entries) {
        const had = armed.get(n.key);
        if (had) had.deploymentId = n.deploymentId;
        else {
          const e: Armed = { ...n };
          armed.set(n.key, e);
          arm(e, clock.now());
        }
      }
      if (armed.size) projects.set(pk, armed);
      else projects.delete(pk);
    });
    const settled = next.catch((err) => log(`[cron] reading the crons of ${project} failed: ${(err as Error).message}`));
    refreshing.set(pk, settled);
    void settled.then(() => {
      if (refreshing.get(pk) === settled) refreshing.delete(pk);
    });
    return settled;
  }

  return {
    /** Reads every production project's crons and arms them. Runs missed while the platform
     * was down are not replayed: each cron's first run is its next one from now. */
    async start() {
      if (started) return;
      started = true;
      const all = await deps.metadata.listProductionProjects();
      await Promise.all(all.map((p) => refresh(p.accountId, p.name)));
      const count = [...projects.values()].reduce((n, m) => n + m.size, 0);
      if (count) log(`[cron] ${count} cron job(s) scheduled across ${projects.size} project(s)`);
    },

    /** Told after a project's production deployment changed (promote, rollback, --prod deploy). */
    productionChanged(accountId: string, project: string): Promise<void> {
      if (!started || stopped) return Promise.resolve();
      return refresh(accountId, project);
    },

    /** When each armed cron of a project runs next, by cron key (for `ferry crons ls`). */
    nextRuns(accountId: string, project: string): Map<string, number> {
      const out = new Map<string, number>();
      for (const [k, e] of projects.get(projectKey(accountId, project)) ?? []) if (e.due !== undefined) out.set(k, e.due);
      return out;
    },

    /** Whether a run of this cron is in flight now. */
    isRunning: (accountId: string, project: string, path: string, schedule: string) => running.has(`${projectKey(accountId, project)}/${cronKey(path, schedule)}`),

    /** Disarms every cron and waits (briefly) for runs in flight to be recorded. */
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const m of projects.values()) for (const e of m.values()) disarm(e);
      projects.clear();
      const inFlight = Promise.allSettled([...running.values()]);
      await Promise.race([inFlight, new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
    },
  };
}

async function drain(res: Response) {
  if (!res.body) return;
  const reader = res.body.getReader();
  for (;;) if ((await reader.read()).done) return;
}
