import type { HookCall } from "../../git/hook-server.ts";
import type { PushSession } from "../../git/remote.ts";
import { createLocks } from "../../git/locks.ts";
import { branchOf } from "../../git/branch-label.ts";
import { quarantineEnv, refValue } from "../../git/repos.ts";
import { SHA_RE, ZERO_SHA } from "../../git/run.ts";
import type { AuthContext } from "./tokens.ts";
import type { GitDeployService, Say } from "./git-deploy.ts";

/**
 * What a `git push` does, from its pre-receive hook: each updated branch becomes a deployment
 * (production for the production branch, a preview with a branch alias otherwise), its build is
 * streamed back as `remote:` lines, and the push is refused (the refs stay where they were)
 * when any build fails. Pushes to one branch are serialized: a later push waits until the
 * earlier one's request is over, refs updated, and is refused if the branch moved meanwhile,
 * as git itself would refuse it.
 */
export function gitPushService(gitDeploy: GitDeployService) {
  const locks = createLocks();

  function startPush(auth: AuthContext, project: string, repo: string): PushSession {
    const held: (() => void)[] = [];
    const handler = async (call: HookCall, say: Say): Promise<boolean> => {
      const env = await quarantineEnv(repo, call.quarantine);
      const updates = call.updates.filter((u) => SHA_RE.test(u.oldSha) && SHA_RE.test(u.newSha) && u.ref.startsWith("refs/"));
      const branches = [...new Set(updates.map((u) => branchOf(u.ref)).filter((b): b is string => !!b))].sort();
      for (const b of branches) {
        const release = await locks.acquire(`${auth.accountId}\0${project}\0${b}`);
        held.push(release);
      }
      const production = await gitDeploy.productionBranch(auth.accountId, project);
      for (const u of updates) {
        const branch = branchOf(u.ref);
        if (!branch) {
          say(`${u.ref}: kept, not deployed (only branches deploy)`);
          continue;
        }
        if (((await refValue(repo, u.ref)) ?? ZERO_SHA) !== u.oldSha) {
          say(`Error: ${branch} moved while this push waited for another push to it; fetch and push again`);
          return false;
        }
        if (u.newSha === ZERO_SHA) {
          if (branch === production) say(`Deleted the production branch ${branch}; production keeps serving what it serves`);
          else await gitDeploy.removeBranchAlias(auth, project, branch, say);
          continue;
        }
        const target = branch === production ? "production" : "preview";
        say(`Ferry: deploying ${branch} of ${project} (${target})`);
        const r = await gitDeploy.deployCommit(auth, { project, env, sha: u.newSha, branch, target }, say);
        if (!r.ok) {
          say(`Push rejected: ${branch} did not deploy, so the branch was not updated`);
          return false;
        }
      }
      return true;
    };
    return { handler, finished: () => held.splice(0).forEach((release) => release()) };
  }

  return { startPush };
}
