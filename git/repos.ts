import { mkdir, realpath, stat } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { git } from "./run.ts";

/**
 * Bare repositories, one per project: `<root>/<account id>/<project>.git`. Account ids and
 * project names are both host-label-safe, so a path never leaves its account's folder.
 */
export const repoPath = (root: string, accountId: string, project: string) => join(root, accountId, `${project}.git`);

export async function repoExists(path: string): Promise<boolean> {
  return !!(await stat(join(path, "HEAD")).catch(() => null));
}

/** Creates the bare repository when missing; `git init` on an existing one changes nothing. */
export async function ensureRepo(path: string): Promise<void> {
  if (await repoExists(path)) return;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await git(["init", "--bare", "--quiet", "--initial-branch=main", path]);
}

/** What git plumbing needs to read a repository's objects (and, mid-push, the pushed ones). */
export type ObjectEnv = Record<string, string>;

export const repoEnv = (path: string): ObjectEnv => ({ GIT_DIR: path });

/**
 * During pre-receive, pushed objects sit in a quarantine folder inside the repository's
 * `objects/`. The hook reports where; it is accepted only when it really is such a folder of
 * this repository, so a caller can never point the platform's git at another place.
 */
export async function quarantineEnv(path: string, quarantine: string | null | undefined): Promise<ObjectEnv> {
  if (!quarantine) return repoEnv(path);
  const objects = await realpath(join(path, "objects"));
  const q = await realpath(quarantine).catch(() => null);
  if (!q || dirname(q) !== objects || !/^tmp_objdir-incoming-[A-Za-z0-9_-]+$/.test(q.slice(objects.length + sep.length))) {
    throw new Error(`the quarantine folder reported by the hook is not inside ${path}`);
  }
  return { GIT_DIR: path, GIT_OBJECT_DIRECTORY: q, GIT_ALTERNATE_OBJECT_DIRECTORIES: objects };
}

/** The commit a ref names in the repository itself (not the quarantine), or null. */
export async function refValue(path: string, ref: string): Promise<string | null> {
  try {
    return (await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { env: repoEnv(path) })).toString().trim() || null;
  } catch {
    return null;
  }
}
