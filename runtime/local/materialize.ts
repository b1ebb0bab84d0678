import { pathExists } from "../../core/fs.ts";
import { createHash } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import type { BlobStore } from "../../core/blobs/port.ts";
import { FerryError } from "../../core/errors.ts";
import { randomId } from "../../core/ids.ts";
import { confinePath } from "../../core/paths.ts";
import type { BuiltFunction } from "../../core/types.ts";

const SAFE_ID = /^[A-Za-z0-9_-]+$/;

/** Folder holding one function's bundle: `<cacheDir>/<deploymentId>/<hash of fn name>`. */
export function functionDir(cacheDir: string, deploymentId: string, fnName: string): string {
  if (!SAFE_ID.test(deploymentId)) throw new FerryError("invalid_deployment_id", `invalid deployment id ${JSON.stringify(deploymentId)}`, 500);
  return join(cacheDir, deploymentId, createHash("sha1").update(fnName).digest("hex").slice(0, 16));
}

/** The entry's path in the function's folder (its bundle sits in its source's folder). */
export const entryPath = (fn: BuiltFunction) => (fn.artifact.dir ? `${confinePath(fn.artifact.dir)}/${fn.artifact.entry}` : fn.artifact.entry);

/**
 * Writes a function's folder to disk once and returns it: its bundle files (in `artifact.dir`)
 * and the app files shipped beside them (`artifact.assets`), each at its path from the app root,
 * so the folder is the function's app root at run time. The files go to a temp folder renamed into place, so a
 * half-written folder is never run; concurrent first requests in this process share one promise,
 * and a race with another process loses to whichever rename landed first (artifacts are
 * immutable, so both are identical).
 */
export function createMaterializer(blobs: BlobStore, cacheDir: string) {
  const pending = new Map<string, Promise<string>>();

  async function write(deploymentId: string, fn: BuiltFunction, dir: string): Promise<string> {
    if (await pathExists(dir)) return dir;
    const tmp = join(cacheDir, deploymentId, `.tmp-${randomId(10)}`);
    const bundleDir = fn.artifact.dir ? `${confinePath(fn.artifact.dir)}/` : "";
    const bundle = fn.artifact.files.map((file) => {
      const rel = confinePath(file);
      return { rel: `${bundleDir}${rel}`, key: `${fn.artifact.prefix}/${rel}`, mode: 0o644 };
    });
    const taken = new Set(bundle.map((b) => b.rel));
    const assets = (fn.artifact.assets ?? []).map((a) => ({ rel: confinePath(a.path), key: a.key, mode: a.executable ? 0o755 : 0o644 })).filter((a) => !taken.has(a.rel));
    try {
      await eachLimit([...bundle, ...assets], 16, async ({ rel, key, mode }) => {
        const bytes = await blobs.get(key);
        if (!bytes) throw new FerryError("artifact_missing", `artifact file ${key} of ${deploymentId} is missing`, 502);
        const target = join(tmp, ...rel.split("/"));
        await mkdir(dirname(target), { recursive: true });
        // `wx`: a path that is a folder prefix of another (a broken output) fails instead of being overwritten
        await writeFile(target, bytes, { mode, flag: "wx" });
      });
      try {
        await rename(tmp, dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
      }
      return dir;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Runs `work` over `items`, at most `limit` at a time (thousands of shipped files must not open thousands of files at once). */
  async function eachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const run = async () => {
      while (next < items.length) await work(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  }

  return {
    ensure(deploymentId: string, fn: BuiltFunction): Promise<string> {
      const dir = functionDir(cacheDir, deploymentId, fn.name);
      let p = pending.get(dir);
      if (!p) {
        p = write(deploymentId, fn, dir);
        pending.set(dir, p);
        // keep successes memoized; let a failure be retried by the next request
        p.catch(() => pending.delete(dir));
      }
      return p;
    },
    /** Forgets and removes a deployment's folders (deployment removed). */
    async remove(deploymentId: string) {
      if (!SAFE_ID.test(deploymentId)) return;
      const root = join(cacheDir, deploymentId);
      for (const k of pending.keys()) if (k.startsWith(root + sep)) pending.delete(k);
      await rm(root, { recursive: true, force: true });
    },
  };
}

