import { FerryError } from "../core/errors.ts";
import type { Metadata } from "../core/metadata/repository.ts";
import { cronsOf } from "./production.ts";
import { nextRun } from "./schedule.ts";

export interface CronListing {
  path: string;
  schedule: string;
  /** the next run (ms, UTC); null when the schedule has none left */
  nextRunAt: number | null;
  lastRun: { at: number; status: number | null; durationMs: number; deploymentId: string; error?: string } | null;
  /** the last time a run was skipped because the previous one was still running */
  lastSkippedAt: number | null;
}

/**
 * The crons of a project's production deployment with their next and last runs: what
 * `ferry crons ls` shows. The last run is kept per (path, schedule), so it carries over to a new
 * production deployment that keeps the same entry.
 */
export async function listProjectCrons(metadata: Metadata, accountId: string, project: string, now = Date.now()) {
  const p = await metadata.getProject(accountId, project);
  if (!p) throw new FerryError("project_not_found", `no project ${JSON.stringify(project)}`, 404);
  const d = p.productionDeploymentId ? await metadata.getDeployment(p.productionDeploymentId) : null;
  if (!d) return { project, deploymentId: null, crons: [] as CronListing[] };
  const runs = await metadata.listCronRuns(accountId, project);
  const crons = cronsOf(d).map((c): CronListing => {
    const r = runs.get(c.key);
    return {
      path: c.path,
      schedule: c.schedule,
      nextRunAt: nextRun(c.schedule, now),
      lastRun: r?.lastRunAt !== undefined ? { at: r.lastRunAt, status: r.lastStatus ?? null, durationMs: r.lastDurationMs ?? 0, deploymentId: r.lastDeploymentId ?? "", ...(r.lastError ? { error: r.lastError } : {}) } : null,
      lastSkippedAt: r?.lastSkippedAt ?? null,
    };
  });
  return { project, deploymentId: d.id, crons };
}
