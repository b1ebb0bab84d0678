import { execFile } from "node:child_process";
import type { GitMeta } from "../core/types.ts";

/** Runs git in `cwd`; null when git is missing or the command fails (not a work tree, no commits). */
export function gitIn(cwd: string, args: string[], input?: string): Promise<string | null> {
  return new Promise((resolve) => {
    const child = execFile("git", args, { cwd, timeout: 10_000, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" } }, (err, stdout) => resolve(err ? null : stdout));
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A remote URL fit to record: any user name or password in it is dropped. */
export function publicRepoUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    // scp-like `git@host:owner/repo.git` carries no secret
    return url.replace(/^[^@/]+:[^@/]*@/, "");
  }
}

/**
 * The commit a folder inside a git work tree is at, for the deployment to record: sha, branch,
 * subject, author, whether the folder has uncommitted changes, and the `origin` URL. Undefined
 * outside a work tree or before the first commit.
 */
export async function workTreeGit(dir: string): Promise<GitMeta | undefined> {
  const [sha, branch, log, status, origin] = await Promise.all([
    gitIn(dir, ["rev-parse", "--verify", "-q", "HEAD"]),
    gitIn(dir, ["symbolic-ref", "--short", "-q", "HEAD"]),
    gitIn(dir, ["log", "-1", "--format=%s%x00%an <%ae>"]),
    gitIn(dir, ["status", "--porcelain", "--", "."]),
    gitIn(dir, ["remote", "get-url", "origin"]),
  ]);
  if (!sha || !/^[0-9a-f]{40}$/.test(sha.trim())) return undefined;
  const [message, author] = (log ?? "").trim().split("\0");
  return {
    sha: sha.trim(),
    ...(branch?.trim() ? { branch: branch.trim().slice(0, 255) } : {}),
    ...(message ? { message: message.slice(0, 500) } : {}),
    ...(author ? { author: author.slice(0, 200) } : {}),
    dirty: !!status?.trim(),
    ...(origin?.trim() ? { repo: publicRepoUrl(origin.trim()).slice(0, 1024) } : {}),
  };
}
