import { FerryError } from "../../core/errors.ts";
import type { Deployment } from "../../core/types.ts";
import { removalOf, type ProjectRecord, type PromotionIntent } from "../../core/metadata/promotions.ts";
import type { AuthContext } from "./tokens.ts";
import type { ApiDeps } from "../types.ts";
import type { deploymentService } from "./deployments.ts";
import { aliasLabel } from "./labels.ts";

const HISTORY = 20;

type Outcome = { outcome: "done" | "superseded" | "abandoned"; deploymentId?: string; previous?: string };

/**
 * Aliases are movable host labels. Each one is a single metadata item pointing at a deployment,
 * so moving it is one conditional write: the router sees the old or the new deployment, never none.
 *
 * A promotion moves many labels, so it is written down first and carried out in idempotent steps
 * (core/metadata/promotions.ts): claim -> each label -> finish. `recover()`, run at start before
 * anything is served, carries out every intent a crash left unfinished, so afterwards every
 * production label of a project names the deployment its record names.
 */
export function aliasService(deps: ApiDeps, deployments: ReturnType<typeof deploymentService>) {
  const { metadata } = deps;

  const normalize = (alias: string) => aliasLabel(alias, deps.domain);
  const productionLabels = (d: Deployment) => [...new Set([d.project, ...configAliases(d)].map(normalize))];

  async function set(auth: AuthContext, idOrHost: string, alias: string) {
    const d = await deployments.find(auth, idOrHost);
    if (d.state !== "READY") throw new FerryError("deployment_not_ready", `${d.id} is ${d.state}; only READY deployments can be aliased`, 409);
    if (removalOf(d)) throw new FerryError("deployment_removed", `${d.id} was removed`, 409);
    const label = normalize(alias);
    const previous = await metadata.setAlias({ host: label, accountId: auth.accountId, projectId: d.projectId, deploymentId: d.id, type: "alias", updatedAt: Date.now() });
    deps.onHostsChanged?.([label]);
    // a removal that was deciding meanwhile did not see this alias: give the name back
    const now = await metadata.getDeployment(d.id);
    if (!now || removalOf(now)) {
      await metadata.restoreHost(label, d.id, previous);
      deps.onHostsChanged?.([label]);
      throw new FerryError("deployment_removed", `${d.id} is being removed`, 409);
    }
    deps.onEvent?.("alias.assigned", d, { alias: label, url: deps.urlFor(label) });
    return { alias: label, url: deps.urlFor(label), deploymentId: d.id };
  }

  async function remove(auth: AuthContext, alias: string) {
    const label = normalize(alias);
    const h = await metadata.getHost(label);
    if (!h || h.accountId !== auth.accountId || h.type !== "alias") throw new FerryError("alias_not_found", `no alias ${JSON.stringify(alias)}`, 404);
    await metadata.deleteHost(label, auth.accountId);
    deps.onHostsChanged?.([label]);
    return { alias: label, removed: true };
  }

  async function list(auth: AuthContext) {
    const hosts = await metadata.listHosts(auth.accountId);
    return hosts
      .filter((h) => h.type === "alias")
      .map((h) => ({ alias: h.host, url: deps.urlFor(h.host), deploymentId: h.deploymentId, updatedAt: h.updatedAt }));
  }

  /** Makes a READY deployment its project's production: moves `<project>` and the ferry.json aliases. */
  async function promote(auth: AuthContext, d: Deployment, opts: { rollback?: boolean } = {}) {
    if (d.state !== "READY") throw new FerryError("deployment_not_ready", `${d.id} is ${d.state}; only READY deployments can be promoted`, 409);
    if (removalOf(d)) throw new FerryError("deployment_removed", `${d.id} was removed`, 409);
    const labels = productionLabels(d);
    const seq = (await metadata.claimPromotion(auth.accountId, d.project, { deploymentId: d.id, labels, rollback: !!opts.rollback, at: Date.now() }))!;
    const r = await carryOut(auth.accountId, d.project, seq);
    if (r.outcome === "abandoned") throw new FerryError("deployment_removed", `${d.id} is being removed; it was not promoted`, 409);
    if (r.outcome === "superseded") throw new FerryError("conflict", `a newer promotion of ${d.project} started while this one ran; the newer one wins`, 409);
    return { project: d.project, deploymentId: d.id, previous: r.previous, aliases: labels.map((l) => deps.urlFor(l)) };
  }

  /**
   * Carries out promotion `seq` of a project from its recorded intent: every label, then the
   * pointer. Safe to run again after a crash at any point, and beside a newer promotion (the
   * newer one wins). An intent whose deployment is gone or being removed is turned into one for
   * the current production, which puts back any label it had already moved.
   */
  async function carryOut(accountId: string, projectName: string, seq: number, depth = 0): Promise<Outcome> {
    const project = await metadata.getProject(accountId, projectName);
    if (!project || (project.promotionSeq ?? 0) !== seq) return { outcome: "superseded" };
    const intent = project.promotion;
    if (!intent) return { outcome: "done", deploymentId: project.productionDeploymentId };
    const d = await metadata.getDeployment(intent.deploymentId);
    if (!d || d.accountId !== accountId || removalOf(d) || d.state !== "READY") {
      await fallBack(accountId, project, seq, intent, depth);
      return { outcome: "abandoned" };
    }
    for (const label of intent.labels) {
      await stepDelay();
      const moved = await metadata.moveAlias({ host: label, accountId, projectId: d.projectId, deploymentId: d.id, type: "alias", updatedAt: Date.now() }, seq);
      deps.onHostsChanged?.([label]);
      // a newer promotion already holds this label: it will finish (or be replayed), not this one
      if (!moved) return { outcome: "superseded" };
    }
    const r = await metadata.finishPromotion(accountId, projectName, seq, nextHistory);
    if (r.outcome === "done" && d.target !== "production") await metadata.updateDeployment(d.id, { target: "production" });
    if (r.outcome === "done") deps.onProductionChanged?.(accountId, projectName);
    if (r.outcome === "done") deps.onEvent?.("deployment.promoted", { ...d, target: "production" }, { previous: r.previous, aliases: intent.labels.map((l) => deps.urlFor(l)) });
    return { ...r, deploymentId: d.id };
  }

  async function fallBack(accountId: string, project: ProjectRecord, seq: number, failed: PromotionIntent, depth: number) {
    const current = project.productionDeploymentId && project.productionDeploymentId !== failed.deploymentId ? await metadata.getDeployment(project.productionDeploymentId) : null;
    if (!current || removalOf(current) || depth > 0) {
      await metadata.dropPromotion(accountId, project.name, seq);
      return;
    }
    const labels = [...new Set([...productionLabels(current), ...failed.labels])];
    const next = await metadata.claimPromotion(accountId, project.name, { deploymentId: current.id, labels, at: Date.now() }, seq);
    if (next !== null) await carryOut(accountId, project.name, next, depth + 1);
  }

  /** Finishes promotions a crash interrupted: run at start, before the router serves. */
  async function recover(log: (line: string) => void = () => {}): Promise<{ project: string; deploymentId?: string }[]> {
    const finished: { project: string; deploymentId?: string }[] = [];
    for (const { accountId, project } of await metadata.listPendingPromotions()) {
      try {
        const p = await metadata.getProject(accountId, project);
        if (!p?.promotion || p.promotionSeq === undefined) continue;
        const r = await carryOut(accountId, project, p.promotionSeq);
        finished.push({ project, deploymentId: r.outcome === "done" ? r.deploymentId : (await metadata.getProject(accountId, project))?.productionDeploymentId });
      } catch (e) {
        // one project's trouble (a label another account took meanwhile) must not keep the
        // platform from starting; its intent stays for the next start
        log(`Could not finish the interrupted promotion of ${project}: ${(e as Error).message}`);
      }
    }
    return finished;
  }

  async function rollback(auth: AuthContext, projectName: string) {
    const project = await metadata.getProject(auth.accountId, projectName);
    if (!project) throw new FerryError("project_not_found", `no project ${JSON.stringify(projectName)}`, 404);
    const previous = project.productionHistory?.[0];
    if (!previous) throw new FerryError("no_previous_deployment", `${projectName} has no earlier production deployment to roll back to`, 409);
    const d = await deployments.find(auth, previous);
    return promote(auth, d, { rollback: true });
  }

  return { set, remove, list, promote, rollback, normalize, recover };
}

/** productionHistory once `intent` is production: newest first; a rollback takes its target off. */
function nextHistory(p: ProjectRecord, intent: PromotionIntent): string[] {
  const current = p.productionDeploymentId;
  const history = p.productionHistory ?? [];
  if (intent.rollback && history[0] === intent.deploymentId) return history.slice(1);
  return current && current !== intent.deploymentId ? [current, ...history].slice(0, HISTORY) : history;
}

/** Test-only: FERRY_TEST_PROMOTE_STEP_DELAY_MS makes each label move of a promotion wait that
 * long, so an end-to-end test can kill the platform in the middle of one. Unset in production. */
const stepDelay = () => {
  const ms = Number(process.env.FERRY_TEST_PROMOTE_STEP_DELAY_MS) || 0;
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
};

function configAliases(d: Deployment): string[] {
  const a = (d.config as { alias?: string | string[] }).alias;
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
}
