import { pathExists } from "../core/fs.ts";
import { execFile } from "node:child_process";
import { cp, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomId, sha256 } from "../core/ids.ts";

const execFileP = promisify(execFile);

// Installed node_modules folders, keyed by what decides their content (lockfile, node version,
// install flags): `<account cache>/deps/<key>/node_modules`. Entries are written under a temp name
// and renamed into place, so a concurrent build never restores a half-copied tree.

/**
 * The folder of one account's build caches: `<cacheDir>/accounts/<sha256(account) prefix>`. Its
 * `deps/` holds installed node_modules (see sealed-deps.ts for sandboxed builds); its `sandbox/`
 * is the only part a build's sandbox sees (as /cache: npm's download cache).
 */
export const accountCacheDir = (cacheDir: string, accountId: string) => join(cacheDir, "accounts", sha256(`account:${accountId}`).slice(0, 32));

export const entryDir = (accountCache: string, key: string) => join(accountCache, "deps", key);

/**
 * Copies a tree as hard links when the filesystem allows (near-instant, no extra space), else as
 * a plain copy. Symlinks are kept as they are (npm links `file:` deps and `.bin` entries).
 */
async function linkTree(src: string, dst: string): Promise<void> {
  try {
    await execFileP("cp", ["-al", src, dst]);
  } catch {
    await rm(dst, { recursive: true, force: true });
    await cp(src, dst, { recursive: true, verbatimSymlinks: true });
  }
}

/** Restores `node_modules` into `workDir` from the cache; false on a miss. */
export async function restoreDeps(accountCache: string, key: string, workDir: string): Promise<boolean> {
  const cached = join(entryDir(accountCache, key), "node_modules");
  if (!(await pathExists(cached))) return false;
  await rm(join(workDir, "node_modules"), { recursive: true, force: true });
  await linkTree(cached, join(workDir, "node_modules"));
  return true;
}

/** Saves `workDir/node_modules` under `key`. Best effort: a failed save only costs a future install. */
export async function saveDeps(accountCache: string, key: string, workDir: string): Promise<boolean> {
  const src = join(workDir, "node_modules");
  const final = entryDir(accountCache, key);
  if (!(await pathExists(src)) || (await pathExists(final))) return false;
  const tmp = `${final}.tmp-${randomId(8)}`;
  try {
    await mkdir(tmp, { recursive: true });
    await linkTree(src, join(tmp, "node_modules"));
    await rename(tmp, final);
    return true;
  } catch {
    // another build saved the same key first, or the cache disk is unusable
    await rm(tmp, { recursive: true, force: true });
    return false;
  }
}
