import { randomBytes } from "node:crypto";
import { FerryError } from "../../core/errors.ts";
import { projectNameProblem } from "../../core/config/schema.ts";
import { randomId } from "../../core/ids.ts";
import type { GitSettings } from "../../core/metadata/git.ts";
import type { ApiDeps } from "../types.ts";
import type { AuthContext } from "./tokens.ts";
import { literalHostProblem } from "../../core/net/public-address.ts";

/** A branch name git itself would take (`git check-ref-format --branch`, roughly), at most 255 bytes. */
export function branchNameProblem(name: string): string | null {
  if (!name || Buffer.byteLength(name) > 255) return "must be 1-255 bytes";
  if (name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".") || name.endsWith(".lock")) return "is not a valid branch name";
  if (/[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\/|\/\./.test(name) || name === "@") return "is not a valid branch name";
  return null;
}

/** Clone URLs a project may be linked to: http(s) with no credentials in them, or git:// (tests, mirrors). */
export function cloneUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "is not a URL (use the repository's https:// clone URL)";
  }
  if (!["https:", "http:", "git:"].includes(u.protocol)) return "must be an https://, http:// or git:// URL";
  if (u.username || u.password) return "must not carry credentials";
  if (u.search || u.hash) return "must not have a query or fragment";
  return null;
}

/** A project's git settings: production branch, linked repository, provider webhook secret. */
export function gitSettingsService(deps: ApiDeps) {
  const { metadata } = deps;

  async function get(auth: AuthContext, project: string) {
    const p = await metadata.getProject(auth.accountId, project);
    if (!p) throw new FerryError("project_not_found", `no project ${JSON.stringify(project)}`, 404);
    const s = await metadata.getGitSettings(auth.accountId, project);
    return present(project, s);
  }

  /** Sets the production branch and/or the linked repository; linking makes a webhook secret, shown once. */
  async function update(auth: AuthContext, project: string, body: { productionBranch?: string; linkedUrl?: string | null }) {
    const problem = projectNameProblem(project);
    if (problem) throw new FerryError("invalid_name", `project name ${JSON.stringify(project)} ${problem}`, 400);
    if (body.productionBranch !== undefined) {
      const bp = branchNameProblem(body.productionBranch);
      if (bp) throw new FerryError("invalid_branch", `branch ${JSON.stringify(body.productionBranch)} ${bp}`, 400);
    }
    if (body.linkedUrl) {
      const up = cloneUrlProblem(body.linkedUrl);
      if (up) throw new FerryError("invalid_repo_url", `linkedUrl: repository URL ${JSON.stringify(body.linkedUrl)} ${up}`, 400, { field: "linkedUrl" });
      // names are checked again, resolved, each time the platform fetches (git/fetch.ts)
      const host = new URL(body.linkedUrl).hostname;
      const hp = deps.egress?.allowPrivateGit ? null : literalHostProblem(host);
      if (hp) throw new FerryError("non_public_address", `linkedUrl: repository URL ${JSON.stringify(body.linkedUrl)} is refused: its host ${host} ${hp} (linked repositories are fetched from public addresses only)`, 400, { field: "linkedUrl" });
    }
    const p = await metadata.ensureProject({ id: `prj_${randomId(12)}`, accountId: auth.accountId, name: project, createdAt: Date.now() });
    const current = await metadata.getGitSettings(auth.accountId, project);
    const next: GitSettings = { ...(current ?? {}), accountId: auth.accountId, project, projectId: p.id, updatedAt: Date.now() };
    if (body.productionBranch !== undefined) next.productionBranch = body.productionBranch;
    let secret: string | undefined;
    if (body.linkedUrl === null) {
      delete next.linkedUrl;
      delete next.webhookSecretCipher;
    } else if (body.linkedUrl !== undefined) {
      next.linkedUrl = body.linkedUrl;
      if (!next.webhookSecretCipher) {
        secret = randomBytes(24).toString("base64url");
        next.webhookSecretCipher = await deps.encryptor.encrypt(secret);
      }
    }
    await metadata.putGitSettings(next);
    return { ...present(project, next), ...(secret ? { webhookSecret: secret } : {}) };
  }

  const present = (project: string, s: GitSettings | null) => ({
    project,
    remotePath: `/git/${project}.git`,
    productionBranch: s?.productionBranch ?? "main",
    ...(s?.linkedUrl ? { linkedUrl: s.linkedUrl, webhookPath: `/v1/git/webhooks/${s.projectId}` } : {}),
  });

  return { get, update };
}
