import { createHmac, timingSafeEqual } from "node:crypto";
import { FerryError } from "../../core/errors.ts";
import type { GitSettings } from "../../core/metadata/git.ts";
import type { Deployment } from "../../core/types.ts";
import { fetchLinked } from "../../git/fetch.ts";
import { repoEnv, repoPath } from "../../git/repos.ts";
import { resolveCommit } from "../../git/commit.ts";
import { branchLabel, branchOf } from "../../git/branch-label.ts";
import { SHA_RE, ZERO_SHA } from "../../git/run.ts";
import type { ApiDeps } from "../types.ts";
import type { AuthContext } from "./tokens.ts";
import type { GitDeployService } from "./git-deploy.ts";

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Whether a provider webhook is signed with the project's secret: GitHub's (and Gitea's)
 * `X-Hub-Signature-256: sha256=<hex HMAC>`, Gitea's `X-Gitea-Signature: <hex HMAC>`, or
 * GitLab's `X-Gitlab-Token: <secret>`. Every comparison is constant-time.
 */
export function verifyProviderSignature(secret: string, raw: Buffer, headers: Headers): boolean {
  const mac = createHmac("sha256", secret).update(raw).digest("hex");
  const hub = headers.get("x-hub-signature-256");
  if (hub) return same(hub.toLowerCase(), `sha256=${mac}`);
  const gitea = headers.get("x-gitea-signature");
  if (gitea) return same(gitea.toLowerCase(), mac);
  const gitlab = headers.get("x-gitlab-token");
  if (gitlab) return same(gitlab, secret);
  return false;
}

type Payload = Record<string, any>;

/**
 * Provider webhooks of linked projects (`POST /v1/git/webhooks/<project id>`): a verified
 * `push` fetches the branch from the linked URL (whatever URL the payload names) and deploys
 * it as a push would; a `pull_request` (or GitLab merge request) gets a preview at
 * `<project>-git-pr-<n>`, removed when it closes.
 */
export function gitProviderService(deps: ApiDeps, gitDeploy: GitDeployService) {
  const { metadata } = deps;
  const net = { allowPrivate: !!deps.egress?.allowPrivateGit, resolve: deps.egress?.resolve };

  /** Brings a branch of a linked project up to date from its linked repository. */
  async function syncBranch(accountId: string, project: string, branch: string) {
    const s = await metadata.getGitSettings(accountId, project);
    if (!s?.linkedUrl || !deps.git) return;
    await fetchLinked(repoPath(deps.git.root, accountId, project), s.linkedUrl, [`+refs/heads/${branch}:refs/heads/${branch}`], net);
  }

  async function receive(projectId: string, raw: Buffer, headers: Headers) {
    const s = deps.git ? await metadata.gitSettingsByProjectId(projectId) : null;
    if (!s?.linkedUrl || !s.webhookSecretCipher) throw new FerryError("project_not_found", "no linked project at this webhook URL", 404);
    if (!verifyProviderSignature(await deps.encryptor.decrypt(s.webhookSecretCipher), raw, headers)) {
      throw new FerryError("invalid_signature", "the webhook's signature does not match the project's secret", 401);
    }
    let payload: Payload;
    try {
      payload = JSON.parse(raw.toString("utf8")) as Payload;
    } catch {
      throw new FerryError("invalid_json", "the webhook body is not JSON (set the content type to application/json)", 400);
    }
    const event = (headers.get("x-github-event") ?? headers.get("x-gitea-event") ?? headers.get("x-gitlab-event") ?? "").toLowerCase();
    const auth: AuthContext = { accountId: s.accountId, tokenId: `git-webhook:${s.project}`, scopes: ["deployments", "aliases"] };
    if (event === "ping") return { ok: true, event };
    if (event === "push" || event === "push hook") return push(auth, s, payload);
    if (event === "pull_request" || event === "merge request hook") return pullRequest(auth, s, payload);
    return { ok: true, event, ignored: true };
  }

  async function push(auth: AuthContext, s: GitSettings, p: Payload) {
    const branch = typeof p.ref === "string" ? branchOf(p.ref) : null;
    const after = typeof p.after === "string" ? p.after : "";
    if (!branch || !SHA_RE.test(after)) return { ok: true, event: "push", ignored: true };
    if (after === ZERO_SHA) {
      if (branch !== (s.productionBranch ?? "main")) await gitDeploy.removeBranchAlias(auth, s.project, branch, () => {});
      return { ok: true, event: "push", deleted: branch };
    }
    await syncBranch(auth.accountId, s.project, branch);
    return deploy(auth, s, { ref: `refs/heads/${branch}`, want: after, branch });
  }

  async function pullRequest(auth: AuthContext, s: GitSettings, p: Payload) {
    // GitHub/Gitea: action + number; GitLab: object_attributes.{action, iid, state}
    const gitlab = p.object_attributes as Payload | undefined;
    const number = Number(gitlab ? gitlab.iid : (p.number ?? p.pull_request?.number));
    const action = String(gitlab ? gitlab.action : p.action);
    if (!Number.isSafeInteger(number) || number <= 0) return { ok: true, event: "pull_request", ignored: true };
    const label = branchLabel(s.project, `pr-${number}`);
    if (["closed", "close", "merge", "merged"].includes(action)) {
      const h = await metadata.getHost(label);
      if (h && h.type === "alias" && h.accountId === auth.accountId) await metadata.deleteHost(label, auth.accountId).then(() => deps.onHostsChanged?.([label]));
      return { ok: true, event: "pull_request", closed: number };
    }
    if (!["opened", "open", "reopened", "reopen", "synchronize", "synchronized", "update"].includes(action)) return { ok: true, event: "pull_request", ignored: true };
    const source = gitlab ? `refs/merge-requests/${number}/head` : `refs/pull/${number}/head`;
    const local = `refs/ferry/pr/${number}`;
    await fetchLinked(repoPath(deps.git!.root, auth.accountId, s.project), s.linkedUrl!, [`+${source}:${local}`], net);
    const want = String(gitlab ? gitlab.last_commit?.id : p.pull_request?.head?.sha);
    return deploy(auth, s, { ref: local, want, branch: String(gitlab ? gitlab.source_branch : (p.pull_request?.head?.ref ?? `pr-${number}`)), alias: label, preview: true });
  }

  /** Deploys what `ref` names now (the payload's commit when the fetch brought it); answers once the deployment exists. */
  async function deploy(auth: AuthContext, s: GitSettings, o: { ref: string; want: string; branch: string; alias?: string; preview?: boolean }) {
    const env = repoEnv(repoPath(deps.git!.root, auth.accountId, s.project));
    const sha = (SHA_RE.test(o.want) ? await resolveCommit(env, o.want) : null) ?? (await resolveCommit(env, o.ref));
    if (!sha) throw new FerryError("ref_not_found", `${o.ref} is not in ${s.linkedUrl}`, 409);
    const target = !o.preview && o.branch === (s.productionBranch ?? "main") ? "production" : "preview";
    const log: string[] = [];
    const d = await new Promise<Deployment>((resolve, reject) => {
      gitDeploy
        .deployCommit(auth, { project: s.project, env, sha, branch: o.branch, target, repo: s.linkedUrl, ...(o.alias ? { alias: o.alias } : {}), onCreated: resolve }, (l) => log.push(l))
        .then((r) => {
          if (!r.deployment) reject(new FerryError("deploy_failed", log.filter((l) => l.startsWith("Error")).join("; ") || "the deployment could not be created", 422));
        })
        .catch(reject);
    });
    return { ok: true, deployment: { id: d.id, state: d.state, target, sha } };
  }

  return { receive, syncBranch };
}
