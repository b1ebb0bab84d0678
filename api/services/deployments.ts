import { FerryError } from "../../core/errors.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import { projectNameProblem, type FerryConfig } from "../../core/config/schema.ts";
import { readProjectConfig, type ConfigFileName } from "../../core/config/vercel.ts";
import { deploymentId, hostSuffix, randomId, sha256 } from "../../core/ids.ts";
import type { Deployment } from "../../core/types.ts";
import type { AuthContext } from "./tokens.ts";
import { parseDeployRequest } from "./deploy-request.ts";
import type { ApiDeps } from "../types.ts";
import { envService, validateEnvKey } from "./env.ts";
import { hostLabelProblem, labelOf } from "./labels.ts";

/**
 * The deployment service: Now's upload protocol. A create names its files by sha; any the account
 * has not uploaded come back as `missing_files`, the client uploads them and creates again.
 */
export function deploymentService(deps: ApiDeps) {
  const { metadata, blobs } = deps;
  const envs = envService(deps);

  async function create(auth: AuthContext, body: unknown): Promise<Deployment> {
    const req = parseDeployRequest(body, deps.limits);

    // 1. every file's bytes must be present for this account, at the declared size
    const missing = new Set<string>();
    const sizes = new Map<string, number | null>();
    await Promise.all(
      [...new Set(req.files.map((f) => f.sha))].map(async (sha) => {
        const h = await blobs.head(blobKeys.file(auth.accountId, sha));
        sizes.set(sha, h?.size ?? null);
        if (!h) missing.add(sha);
      }),
    );
    if (missing.size) {
      throw new FerryError("missing_files", `${missing.size} file(s) must be uploaded first`, 400, { missing: [...missing] });
    }
    for (const f of req.files) {
      if (sizes.get(f.sha) !== f.size) {
        throw new FerryError("size_mismatch", `file ${JSON.stringify(f.file)} is declared as ${f.size} bytes but its upload is ${sizes.get(f.sha)} bytes`, 400, { file: f.file });
      }
    }

    // 2. ferry.json (else vercel.json), validated at deploy time with the JSON path of any problem
    const shaOf = new Map(req.files.map((f) => [f.file, f.sha]));
    const { config, source: configSource } = await readProjectConfig(shaOf.keys(), async (file) => (await blobs.get(blobKeys.file(auth.accountId, shaOf.get(file)!)))!);

    const name = req.name ?? config.name;
    if (!name) throw new FerryError("missing_name", `the deployment needs a project name (\`name\` in the request or in ${configSource.file ?? "ferry.json"})`, 400);
    const nameProblem = projectNameProblem(name);
    if (nameProblem) throw new FerryError("invalid_name", `project name ${JSON.stringify(name)} ${nameProblem}`, 400);
    const target = req.target ?? "preview";
    const productionLabels = [name, ...configAliasLabels(config, configSource.file ?? "ferry.json")];
    // a production deploy whose aliases cannot be pointed at it would end READY without them
    if (target === "production") await assertProductionLabelsFree(auth, name, productionLabels);

    const project = await metadata.ensureProject({ id: `prj_${randomId(12)}`, accountId: auth.accountId, name, createdAt: Date.now() });

    // identical files + config + build env -> identical build output (runtime env is applied at run time)
    const sortedFiles = [...req.files].sort((a, b) => (a.file < b.file ? -1 : 1)).map((f) => [f.file, f.sha, f.mode]);
    const buildEnv = { ...(config.build?.env ?? {}), ...(req.buildEnv ?? {}) };
    const inputHash = sha256(JSON.stringify({ v: 1, files: sortedFiles, config, buildEnv }));

    for (const k of Object.keys(req.env ?? {})) validateEnvKey(k);
    // precedence: --env flags > project env for the target environment > ferry.json env
    const env = { ...(config.env ?? {}), ...(await envs.resolve(auth.accountId, name, target)), ...(req.env ?? {}) };

    const now = Date.now();
    const id = deploymentId();
    let host = "";
    for (let i = 0; i < 5 && !host; i++) {
      const label = `${name}-${hostSuffix()}`;
      if (await metadata.claimHost({ host: label, accountId: auth.accountId, projectId: project.id, deploymentId: id, type: "deployment", updatedAt: now })) host = label;
    }
    if (!host) throw new FerryError("internal_error", "could not allocate a host name", 500);

    const deployment: Deployment = {
      id,
      accountId: auth.accountId,
      projectId: project.id,
      project: name,
      host,
      state: "QUEUED",
      target,
      fileCount: req.files.length,
      config: config as Record<string, unknown>,
      configSource,
      envCipher: await deps.encryptor.encrypt(JSON.stringify(env)),
      envKeys: Object.keys(env).sort(),
      buildEnvCipher: await deps.encryptor.encrypt(JSON.stringify(buildEnv)),
      inputHash,
      ...(req.git ? { git: req.git } : {}),
      createdAt: now,
      updatedAt: now,
    };
    // the file list goes first: a deployment item never points at a list that is not there
    await blobs.put(blobKeys.fileList(id), JSON.stringify(req.files));
    await metadata.createDeployment(deployment);
    deps.onEvent?.("deployment.created", deployment);

    const cached = req.force ? null : await metadata.getBuildCache(auth.accountId, inputHash);
    if (cached && (await blobs.head(cached.outputKey))) {
      return deps.builds.reuse(deployment, cached);
    }
    deps.builds.enqueue(deployment);
    return deployment;
  }

  /** ferry.json (or vercel.json) `alias` entries as host labels; any that is not one fails the deploy now. */
  function configAliasLabels(config: FerryConfig, file: ConfigFileName): string[] {
    const raw = config.alias === undefined ? [] : Array.isArray(config.alias) ? config.alias : [config.alias];
    return raw.map((alias, i) => {
      const label = labelOf(alias, deps.domain);
      const problem = hostLabelProblem(label);
      if (problem) {
        const at = Array.isArray(config.alias) ? `alias[${i}]` : "alias";
        throw new FerryError("invalid_config", `${file}: ${at}: ${JSON.stringify(alias)} must be a host label or <label>.${deps.domain}: ${JSON.stringify(label)} ${problem}`, 400, { issues: [{ path: at, message: problem }] });
      }
      return label;
    });
  }

  /**
   * The labels a production deploy will point at it must be free or already this account's
   * aliases: never another deployment's own host, never another account's name.
   */
  async function assertProductionLabelsFree(auth: AuthContext, project: string, labels: string[]) {
    for (const label of new Set(labels)) {
      const h = await metadata.getHost(label);
      if (!h || (h.accountId === auth.accountId && h.type === "alias")) continue;
      const what = label === project ? `the production alias of project ${JSON.stringify(project)}` : `the ferry.json alias ${JSON.stringify(label)}`;
      const why = h.accountId === auth.accountId ? `is the host of deployment ${h.deploymentId}` : "is in use by another account";
      throw new FerryError("production_alias_taken", `${what} would be ${label}.${deps.domain}, which ${why}; choose another project name or alias`, 409, { alias: label });
    }
  }

  /** Looks a deployment up by id, host label, or URL; only within the account. */
  async function find(auth: AuthContext, idOrHost: string): Promise<Deployment> {
    let d: Deployment | null = null;
    if (idOrHost.startsWith("dpl_")) d = await metadata.getDeployment(idOrHost);
    else {
      const h = await metadata.getHost(labelOf(idOrHost, deps.domain));
      if (h) d = await metadata.getDeployment(h.deploymentId);
    }
    if (!d || d.accountId !== auth.accountId) throw new FerryError("deployment_not_found", `no deployment ${JSON.stringify(idOrHost)}`, 404);
    return d;
  }

  async function aliasesOf(auth: AuthContext, ids: string[]) {
    const hosts = await metadata.listHosts(auth.accountId);
    const by = new Map<string, string[]>();
    for (const h of hosts) if (h.type === "alias" && ids.includes(h.deploymentId)) by.set(h.deploymentId, [...(by.get(h.deploymentId) ?? []), h.host]);
    return by;
  }

  async function list(auth: AuthContext, opts: { project?: string; limit?: number }) {
    let projectId: string | undefined;
    if (opts.project) {
      const p = await metadata.getProject(auth.accountId, opts.project);
      if (!p) return [];
      projectId = p.id;
    }
    return metadata.listDeployments(auth.accountId, { projectId, limit: opts.limit });
  }

  /**
   * Cancels a build in progress, or removes a finished deployment (its host stops serving).
   * Refused while anything still sends visitors to it: an alias (the production `<project>` label
   * included), the project's production record, or an unfinished promotion to it. The removal
   * marks the deployment first and looks second, and a promotion or alias set looks at the mark
   * after it writes, so one started meanwhile is seen by one side or the other, never by neither.
   */
  async function remove(auth: AuthContext, idOrHost: string) {
    const d = await find(auth, idOrHost);
    if (d.state === "QUEUED" || d.state === "BUILDING") await deps.builds.cancel(d.id);
    await metadata.markRemoving(d.id, true);
    try {
      await assertUnused(auth, d);
    } catch (e) {
      await metadata.markRemoving(d.id, false);
      throw e;
    }
    await metadata.deleteHost(d.host, auth.accountId);
    await metadata.updateDeployment(d.id, { removedAt: Date.now() });
    deps.onHostsChanged?.([d.host]);
    deps.onDeploymentRemoved?.(d.id);
    deps.onEvent?.("deployment.removed", { ...d, removedAt: Date.now() });
    return { id: d.id, removed: true, aliases: [] as string[] };
  }

  async function assertUnused(auth: AuthContext, d: Deployment) {
    const aliases = ((await aliasesOf(auth, [d.id])).get(d.id) ?? []).sort((a, b) => (a === d.project ? -1 : b === d.project ? 1 : a < b ? -1 : 1));
    if (aliases.length) {
      const shown = aliases.slice(0, 10).join(", ") + (aliases.length > 10 ? ` and ${aliases.length - 10} more` : "");
      throw new FerryError(
        "deployment_in_use",
        `${d.id} still serves ${aliases.length === 1 ? "the alias" : `${aliases.length} aliases`} ${shown}; promote another deployment (ferry promote <deployment>) or remove the aliases (ferry alias rm <alias>) first`,
        409,
        { aliases },
      );
    }
    const project = await metadata.getProject(auth.accountId, d.project);
    if (project?.promotion?.deploymentId === d.id) {
      throw new FerryError("deployment_in_use", `${d.id} is being promoted to production of ${d.project}; promote another deployment first`, 409, { aliases: project.promotion.labels });
    }
    if (project?.productionDeploymentId === d.id) {
      throw new FerryError("deployment_in_production", `${d.id} is the production deployment of ${d.project}; promote another one first`, 409);
    }
  }

  return { create, find, list, remove, aliasesOf };
}
