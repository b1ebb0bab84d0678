import { FerryError } from "../../core/errors.ts";
import type { Deployment, GitMeta, Target } from "../../core/types.ts";
import { readTree } from "../../git/tree.ts";
import { storeTreeFiles } from "../../git/store.ts";
import { readCommit } from "../../git/commit.ts";
import { branchLabel } from "../../git/branch-label.ts";
import type { ObjectEnv } from "../../git/repos.ts";
import type { ApiDeps } from "../types.ts";
import type { AuthContext } from "./tokens.ts";
import type { deploymentService } from "./deployments.ts";
import type { aliasService } from "./aliases.ts";
import type { BuildEvent } from "./build-logs.ts";

const FINAL = new Set(["READY", "ERROR", "CANCELED"]);
const DEFAULT_PRODUCTION_BRANCH = "main";

export type Say = (line: string) => void;

export interface CommitDeployResult {
  ok: boolean;
  deployment?: Deployment;
  /** the stable alias of a preview branch, once READY */
  alias?: string;
}

/**
 * Turns a commit into a deployment: its tree goes through the same content-addressed store and
 * create call as `ferry` uploads (so dedup and the build cache apply), the build is followed to
 * its end, and a preview branch gets its stable `<project>-git-<branch>` alias.
 */
export function gitDeployService(deps: ApiDeps, deployments: ReturnType<typeof deploymentService>, aliases: ReturnType<typeof aliasService>) {
  const { metadata } = deps;

  async function productionBranch(accountId: string, project: string) {
    return (await metadata.getGitSettings(accountId, project))?.productionBranch ?? DEFAULT_PRODUCTION_BRANCH;
  }

  async function deployCommit(auth: AuthContext, opts: { project: string; env: ObjectEnv; sha: string; branch?: string; target: Target; repo?: string; alias?: string; onCreated?: (d: Deployment) => void }, say: Say): Promise<CommitDeployResult> {
    const tree = await readTree(opts.env, opts.sha);
    for (const s of tree.skipped.slice(0, 20)) say(`Skipping ${s.path} (${s.why}: a deployment holds regular files only)`);
    if (tree.skipped.length > 20) say(`... and ${tree.skipped.length - 20} more`);
    if (!tree.files.length) {
      say(`Error: commit ${opts.sha.slice(0, 7)} has no files to deploy`);
      return { ok: false };
    }
    if (tree.files.length > deps.limits.maxFiles) {
      say(`Error: commit ${opts.sha.slice(0, 7)} has ${tree.files.length} files; a deployment may have at most ${deps.limits.maxFiles}`);
      return { ok: false };
    }
    const big = tree.files.find((f) => f.size > deps.limits.maxFileSize);
    if (big) {
      say(`Error: ${big.path} is ${big.size} bytes, over the file limit of ${deps.limits.maxFileSize}`);
      return { ok: false };
    }
    const stored = await storeTreeFiles({ blobs: deps.blobs, accountId: auth.accountId, env: opts.env, files: tree.files });
    say(`Stored ${stored.stored} new of ${stored.files.length} files (${stored.storedBytes} bytes)`);
    const commit = await readCommit(opts.env, opts.sha);
    const git: GitMeta = { sha: commit.sha, ...(opts.branch ? { branch: opts.branch } : {}), message: commit.message, author: commit.author, ...(opts.repo ? { repo: opts.repo } : {}) };

    let d: Deployment;
    try {
      d = await deployments.create(auth, { name: opts.project, files: stored.files, target: opts.target, git });
    } catch (e) {
      if (!(e instanceof FerryError)) throw e;
      say(`Error: ${e.message}`);
      return { ok: false };
    }
    opts.onCreated?.(d);
    say(`Deploying ${commit.sha.slice(0, 7)} "${commit.message}" as ${d.id} (${opts.target})`);
    const final = await followBuild(d.id, say);
    if (final.state !== "READY") {
      say(`Error: deployment ${d.id} is ${final.state}${final.errorMessage ? `: ${final.errorMessage}` : ""}`);
      if (opts.target === "production") say("Production is unchanged.");
      return { ok: false, deployment: final };
    }
    let alias: string | undefined;
    const label = opts.alias ?? (opts.target === "preview" && opts.branch ? branchLabel(opts.project, opts.branch) : undefined);
    if (label) {
      try {
        alias = (await aliases.set(auth, d.id, label)).alias;
      } catch (e) {
        if (!(e instanceof FerryError)) throw e;
        say(`Warning: could not point ${deps.urlFor(label)} at it: ${e.message}`);
      }
    }
    say(`Deployment: ${deps.urlFor(final.host)}`);
    if (alias) say(`Preview:    ${deps.urlFor(alias)}`);
    if (opts.target === "production") say(`Production: ${deps.urlFor(opts.project)}`);
    return { ok: true, deployment: final, alias };
  }

  /** Relays a build's log lines until it ends; returns the deployment in its final state. */
  async function followBuild(id: string, say: Say): Promise<Deployment> {
    const pending: BuildEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = deps.buildLogs.subscribe(id, (e) => {
      pending.push(e);
      wake?.();
    });
    try {
      const past = await deps.buildLogs.read(id);
      const replayed = new Set(past);
      const queue = [...past, ...pending.splice(0).filter((e) => !replayed.has(e))];
      for (;;) {
        for (const e of queue.splice(0)) {
          if (e.type === "log") say(e.text);
          else if (FINAL.has(e.state)) return (await metadata.getDeployment(id))!;
        }
        const d = (await metadata.getDeployment(id))!;
        if (FINAL.has(d.state) && !deps.buildLogs.isLive(id)) return d;
        if (!pending.length) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 1000).unref();
          });
          wake = undefined;
        }
        queue.push(...pending.splice(0));
      }
    } finally {
      unsubscribe();
    }
  }

  /** A deleted preview branch takes its alias with it (the deployments stay, like every other). */
  async function removeBranchAlias(auth: AuthContext, project: string, branch: string, say: Say) {
    const label = branchLabel(project, branch);
    const h = await metadata.getHost(label);
    if (!h || h.type !== "alias" || h.accountId !== auth.accountId) return;
    await aliases.remove(auth, label);
    say(`Removed the preview alias ${deps.urlFor(label)}`);
  }

  return { deployCommit, followBuild, productionBranch, removeBranchAlias };
}
export type GitDeployService = ReturnType<typeof gitDeployService>;
