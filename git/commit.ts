import { git } from "./run.ts";
import type { ObjectEnv } from "./repos.ts";

/** What a deployment records of the commit it was made from. */
export interface CommitInfo {
  sha: string;
  /** the subject line */
  message: string;
  /** `Name <email>` */
  author: string;
}

const MAX_MESSAGE = 500;

/** Reads a commit's subject and author with `git log` (plumbing-level: nothing is checked out). */
export async function readCommit(env: ObjectEnv, rev: string): Promise<CommitInfo> {
  const out = (await git(["log", "-1", "--no-walk", "--format=%H%x00%an <%ae>%x00%s", rev, "--"], { env })).toString("utf8").trim();
  const [sha, author, message] = out.split("\0");
  return { sha: sha!, author: (author ?? "").slice(0, 200), message: (message ?? "").slice(0, MAX_MESSAGE) };
}

/** Resolves a branch, tag or sha to a commit sha in the repository, or null. */
export async function resolveCommit(env: ObjectEnv, rev: string): Promise<string | null> {
  if (rev.startsWith("-")) return null;
  try {
    return (await git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], { env })).toString().trim() || null;
  } catch {
    return null;
  }
}
