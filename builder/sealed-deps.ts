import { chmodSync, lchownSync } from "node:fs";
import { lstat, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathExists } from "../core/fs.ts";
import { randomId } from "../core/ids.ts";
import { entryDir } from "./dep-cache.ts";
import { mirrorTree, TreeTooLarge, type Owner } from "./tree.ts";

// The dependency cache of sandboxed builds. It lives in the account's cache folder but outside
// what a sandbox sees, and only the platform writes it:
// - after an install (its sandbox has ended), every file of the workspace's node_modules is
//   sealed (owned by the platform, no write bits, no set-id bits) and hard-linked into
//   `deps/<key>/node_modules`;
// - a later build of the same account restores it as hard links again, before its sandbox starts.
// A build can still add, remove or rename entries of its own node_modules (its folders are its
// own), but cannot change the bytes of a cached file: no build poisons the cache for the next.
// (Without a separate sandbox identity, when the platform is not root, the seal is only the mode
// bits; the cache then stays per account, but one build of an account could unseal its files.)

/** a node_modules larger than this is not cached (sealing it would hold the platform too long) */
const MAX_CACHED_ENTRIES = 300_000;

/** Restores `node_modules` into `workDir` from the account's sealed cache; false on a miss. */
export async function restoreSealedDeps(accountCache: string, key: string, workDir: string, owner: Owner | null): Promise<boolean> {
  const cached = join(entryDir(accountCache, key), "node_modules");
  if (!(await pathExists(cached))) return false;
  const target = join(workDir, "node_modules");
  await rm(target, { recursive: true, force: true });
  try {
    await mirrorTree(cached, target, { dirOwner: owner });
    return true;
  } catch (e) {
    await rm(target, { recursive: true, force: true });
    throw e;
  }
}

export type SaveOutcome = "saved" | "exists" | "nothing" | "too-large";

/**
 * Seals `workDir/node_modules` and saves it under `key`. Call only after the sandbox that wrote
 * it has ended. Best effort beyond the seal: a failed save only costs a future install.
 */
export async function sealAndSaveDeps(accountCache: string, key: string, workDir: string, sealed: boolean): Promise<SaveOutcome> {
  const src = join(workDir, "node_modules");
  const final = entryDir(accountCache, key);
  // a real folder only: the build may have left a symlink in its place
  if (!(await lstat(src).catch(() => null))?.isDirectory()) return "nothing";
  if (await pathExists(final)) return "exists";
  const tmp = `${final}.tmp-${randomId(8)}`;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  try {
    await mkdir(tmp, { recursive: true, mode: 0o755 });
    await mirrorTree(src, join(tmp, "node_modules"), {
      maxEntries: MAX_CACHED_ENTRIES,
      beforeLink(abs, st) {
        if (sealed) lchownSync(abs, uid, gid);
        chmodSync(abs, st.mode & 0o555);
      },
    });
    await rename(tmp, final);
    return "saved";
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (e instanceof TreeTooLarge) return "too-large";
    // another build saved the same key first
    if (await pathExists(final)) return "exists";
    throw e;
  }
}
