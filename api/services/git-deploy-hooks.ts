import { randomBytes } from "node:crypto";
import { FerryError } from "../../core/errors.ts";
import { randomId, sha256 } from "../../core/ids.ts";
import type { Deployment } from "../../core/types.ts";
import { repoEnv, repoExists, repoPath } from "../../git/repos.ts";
import { resolveCommit } from "../../git/commit.ts";
import type { ApiDeps } from "../types.ts";
import type { AuthContext } from "./tokens.ts";
import type { GitDeployService } from "./git-deploy.ts";
import { branchNameProblem } from "./git-settings.ts";

/**
 * Deploy hooks: secret URLs (`POST <API>/v1/deploy-hooks/<secret>`, no token) that deploy the
 * latest commit of a branch of the project's repository, for CI and CMS rebuilds. Only the
 * secret's sha256 is stored; the URL is shown once, when the hook is made.
 */
export function deployHookService(deps: ApiDeps, gitDeploy: GitDeployService, opts: { sync?: (accountId: string, project: string, ref: string) => Promise<void> } = {}) {
  const { metadata } = deps;

  async function create(auth: AuthContext, project: string, body: { name: string; ref: string }, origin: string) {
    if (!(await metadata.getProject(auth.accountId, project))) throw new FerryError("project_not_found", `no project ${JSON.stringify(project)}`, 404);
    const problem = branchNameProblem(body.ref);
    if (problem) throw new FerryError("invalid_branch", `ref ${JSON.stringify(body.ref)} ${problem}`, 400);
    const secret = randomBytes(32).toString("base64url");
    const hook = { id: `hook_${randomId(12)}`, accountId: auth.accountId, project, name: body.name, ref: body.ref, secretHash: sha256(secret), createdAt: Date.now() };
    await metadata.putDeployHook(hook);
    return { id: hook.id, name: hook.name, ref: hook.ref, project, createdAt: hook.createdAt, url: `${origin}/v1/deploy-hooks/${secret}` };
  }

  async function list(auth: AuthContext, project: string) {
    return (await metadata.listDeployHooks(auth.accountId, project)).map((h) => ({ id: h.id, name: h.name, ref: h.ref, project: h.project, createdAt: h.createdAt }));
  }

  async function remove(auth: AuthContext, project: string, id: string) {
    if (!(await metadata.deleteDeployHook(auth.accountId, project, id))) throw new FerryError("deploy_hook_not_found", `no deploy hook ${JSON.stringify(id)} in ${project}`, 404);
    return { id, removed: true };
  }

  /**
   * Runs a hook: answers once the deployment exists (its build goes on in the background and
   * its branch alias or production follows as for a push).
   */
  async function trigger(secret: string): Promise<{ job: { id: string; state: string; deploymentId: string; createdAt: number } }> {
    const hook = secret.length >= 20 ? await metadata.deployHookBySecretHash(sha256(secret)) : null;
    if (!hook || !deps.git) throw new FerryError("deploy_hook_not_found", "no such deploy hook", 404);
    const auth: AuthContext = { accountId: hook.accountId, tokenId: `deploy-hook:${hook.id}`, scopes: ["deployments", "aliases"] };
    await opts.sync?.(hook.accountId, hook.project, hook.ref);
    const repo = repoPath(deps.git.root, hook.accountId, hook.project);
    const env = repoEnv(repo);
    const sha = (await repoExists(repo)) ? await resolveCommit(env, `refs/heads/${hook.ref}`) : null;
    if (!sha) throw new FerryError("ref_not_found", `branch ${JSON.stringify(hook.ref)} of ${hook.project} has not been pushed`, 409);
    const production = await gitDeploy.productionBranch(hook.accountId, hook.project);
    const log: string[] = [];
    const created = new Promise<Deployment>((resolve, reject) => {
      gitDeploy
        .deployCommit(auth, { project: hook.project, env, sha, branch: hook.ref, target: hook.ref === production ? "production" : "preview", onCreated: resolve }, (line) => log.push(line))
        .then((r) => {
          if (!r.deployment) reject(new FerryError("deploy_failed", log.filter((l) => l.startsWith("Error")).join("; ") || "the deployment could not be created", 422));
        })
        .catch(reject);
    });
    const d = await created;
    return { job: { id: d.id, deploymentId: d.id, state: d.state, createdAt: d.createdAt } };
  }

  return { create, list, remove, trigger };
}
