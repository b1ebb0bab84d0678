import type { Metadata } from "../core/metadata/repository.ts";
import type { Deployment } from "../core/types.ts";
import { cronKey } from "../core/metadata/crons.ts";

/** One cron of a project's production deployment. */
export interface CronEntry {
  accountId: string;
  project: string;
  path: string;
  schedule: string;
  /** `cronKey(path, schedule)`: the same entry in the next deployment is the same cron */
  key: string;
  deploymentId: string;
}

/** The `crons` of a deployment's validated config, once each (a repeated entry runs once). */
export function cronsOf(d: Deployment): { path: string; schedule: string; key: string }[] {
  const raw = (d.config as { crons?: { path: string; schedule: string }[] }).crons ?? [];
  const seen = new Map<string, { path: string; schedule: string; key: string }>();
  for (const c of raw) {
    const key = cronKey(c.path, c.schedule);
    if (!seen.has(key)) seen.set(key, { path: c.path, schedule: c.schedule, key });
  }
  return [...seen.values()];
}

/** The crons of a project's production deployment as the metadata says now (none when the
 * project has no READY production deployment). */
export async function productionCrons(metadata: Metadata, accountId: string, project: string): Promise<CronEntry[]> {
  const p = await metadata.getProject(accountId, project);
  const d = p?.productionDeploymentId ? await metadata.getDeployment(p.productionDeploymentId) : null;
  if (!d || d.accountId !== accountId || d.state !== "READY" || d.removedAt) return [];
  return cronsOf(d).map((c) => ({ ...c, accountId, project, deploymentId: d.id }));
}
