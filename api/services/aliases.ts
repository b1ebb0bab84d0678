import { FerryError } from "../../core/errors.ts";
import type { Deployment } from "../../core/types.ts";
import type { AuthContext } from "./tokens.ts";
import type { ApiDeps } from "../types.ts";
import type { deploymentService } from "./deployments.ts";
import { aliasLabel } from "./labels.ts";

const HISTORY = 20;

/**
 * Aliases are movable host labels. Each one is a single metadata item pointing at a deployment,
 * so moving it is one conditional write: the router sees the old or the new deployment, never none.
 */
export function aliasService(deps: ApiDeps, deployments: ReturnType<typeof deploymentService>) {
  const { metadata } = deps;

  const normalize = (alias: string) => aliasLabel(alias, deps.domain);

  async function point(auth: AuthContext, d: Deployment, alias: string) {
    const label = normalize(alias);
    await metadata.setAlias({ host: label, accountId: auth.accountId, projectId: d.projectId, deploymentId: d.id, type: "alias", updatedAt: Date.now() });
    deps.onHostsChanged?.([label]);
    return label;
  }

  async function set(auth: AuthContext, idOrHost: string, alias: string) {
    const d = await deployments.find(auth, idOrHost);
    if (d.state !== "READY") throw new FerryError("deployment_not_ready", `${d.id} is ${d.state}; only READY deployments can be aliased`, 409);
    if (d.removedAt) throw new FerryError("deployment_removed", `${d.id} was removed`, 409);
    const label = await point(auth, d, alias);
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
    const project = await metadata.getProject(auth.accountId, d.project);
    if (!project) throw new FerryError("project_not_found", `no project ${d.project}`, 404);
    const current = project.productionDeploymentId;
    const history = project.productionHistory ?? [];
    const nextHistory = opts.rollback ? history.slice(1) : current && current !== d.id ? [current, ...history].slice(0, HISTORY) : history;
    if (current !== d.id) await metadata.setProduction(auth.accountId, d.project, d.id, current, nextHistory);
    const labels = [d.project, ...configAliases(d)];
    for (const l of labels) await point(auth, d, l);
    if (d.target !== "production") await metadata.updateDeployment(d.id, { target: "production" });
    return { project: d.project, deploymentId: d.id, previous: current, aliases: labels.map((l) => deps.urlFor(normalize(l))) };
  }

  async function rollback(auth: AuthContext, projectName: string) {
    const project = await metadata.getProject(auth.accountId, projectName);
    if (!project) throw new FerryError("project_not_found", `no project ${JSON.stringify(projectName)}`, 404);
    const previous = project.productionHistory?.[0];
    if (!previous) throw new FerryError("no_previous_deployment", `${projectName} has no earlier production deployment to roll back to`, 409);
    const d = await deployments.find(auth, previous);
    return promote(auth, d, { rollback: true });
  }

  return { set, remove, list, promote, rollback, normalize };
}

function configAliases(d: Deployment): string[] {
  const a = (d.config as { alias?: string | string[] }).alias;
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
}
