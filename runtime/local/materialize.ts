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

/**
 * Writes a function's artifact files to disk once and returns the folder. The files go to a
 * temp folder renamed into place, so a half-written bundle is never run; concurrent first
 * requests in this process share one promise, and a race with another process loses to
 * whichever rename landed first (artifacts are immutable, so both are identical).
 */
export function createMaterializer(blobs: BlobStore, cacheDir: string) {
  const pending = new Map<string, Promise<string>>();

  async function write(deploymentId: string, fn: BuiltFunction, dir: string): Promise<string> {
    if (await pathExists(dir)) return dir;
    const tmp = join(cacheDir, deploymentId, `.tmp-${randomId(10)}`);
    try {
      await Promise.all(
        fn.artifact.files.map(async (file) => {
          const rel = confinePath(file);
          const key = `${fn.artifact.prefix}/${rel}`;
          const bytes = await blobs.get(key);
          if (!bytes) throw new FerryError("artifact_missing", `artifact file ${key} of ${deploymentId} is missing`, 502);
          const target = join(tmp, ...rel.split("/"));
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, bytes);
        }),
      );
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

