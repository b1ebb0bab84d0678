import { branchLabel } from "../git/branch-label.ts";
import type { Deployment } from "./types.ts";

const MAX_MESSAGE = 200;

const PROVIDERS: [RegExp, string][] = [
  [/(^|\.)github\.com$/, "github"],
  [/(^|\.)gitlab\.com$/, "gitlab"],
  [/(^|\.)bitbucket\.org$/, "bitbucket"],
];

/**
 * The system variables Vercel sets for builds and functions, so code written for Vercel finds
 * them: VERCEL=1, VERCEL_ENV, VERCEL_URL (the deployment's own host, no scheme),
 * VERCEL_PROJECT_PRODUCTION_URL, VERCEL_BRANCH_URL for a preview branch (whose stable alias is
 * `<project>-git-<branch>`), and VERCEL_GIT_* for what is known of the commit.
 */
export function vercelEnv(d: Deployment, domain?: string): Record<string, string> {
  const host = (label: string) => (domain ? `${label}.${domain}` : label);
  const env = d.target === "production" ? "production" : "preview";
  const out: Record<string, string> = {
    VERCEL: "1",
    VERCEL_ENV: env,
    VERCEL_TARGET_ENV: env,
    VERCEL_URL: host(d.host),
    VERCEL_PROJECT_PRODUCTION_URL: host(d.project),
    VERCEL_DEPLOYMENT_ID: d.id,
  };
  const git = d.git;
  if (!git?.sha) return out;
  out.VERCEL_GIT_COMMIT_SHA = git.sha;
  if (git.branch) {
    out.VERCEL_GIT_COMMIT_REF = git.branch;
    // production-branch pushes go to production and get no branch alias
    if (env === "preview") out.VERCEL_BRANCH_URL = host(branchLabel(d.project, git.branch));
  }
  // bounded: on AWS these variables share Lambda's 4 KB environment with the app's own
  if (git.message) out.VERCEL_GIT_COMMIT_MESSAGE = git.message.split("\n")[0]!.slice(0, MAX_MESSAGE);
  const name = git.author?.replace(/\s*<[^>]*>\s*$/, "").trim();
  if (name) out.VERCEL_GIT_COMMIT_AUTHOR_NAME = name;
  const repo = git.repo ? parseRepo(git.repo) : null;
  if (repo) {
    out.VERCEL_GIT_PROVIDER = repo.provider;
    out.VERCEL_GIT_REPO_OWNER = repo.owner;
    out.VERCEL_GIT_REPO_SLUG = repo.slug;
  }
  return out;
}

/** `https://github.com/o/r(.git)` or `git@github.com:o/r.git` -> provider, owner, slug; null for
 * hosts Vercel has no provider name for (Ferry's own git remote among them). */
function parseRepo(repo: string): { provider: string; owner: string; slug: string } | null {
  const m = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[/:](.+?)(?:\.git)?\/?$/i.exec(repo.trim());
  if (!m) return null;
  const provider = PROVIDERS.find(([re]) => re.test(m[1]!.toLowerCase()))?.[1];
  const parts = m[2]!.split("/").filter(Boolean);
  if (!provider || parts.length < 2) return null;
  return { provider, owner: parts.slice(0, -1).join("/"), slug: parts[parts.length - 1]! };
}
