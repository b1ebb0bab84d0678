import { lchown, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { blobStoreFromSpec } from "../core/blobs/from-env.ts";
import type { BlobStore } from "../core/blobs/port.ts";
import type { BuildResult } from "../core/types.ts";
import { defaultSandbox } from "../sandbox/default.ts";
import type { Sandbox } from "../sandbox/port.ts";
import { createBlobGate } from "./blob-gate.ts";
import { asBuildResult, claimLastWorkspace, keepLinkedWorkspace, planBuild, prepareWorkspace, startLines } from "./build.ts";
import { DEFAULT_BUILD_LIMITS, type BuildLimits } from "./build-limits.ts";
import { accountCacheDir } from "./dep-cache.ts";
import { canceledResult, errorResult } from "./errors.ts";
import { depsCacheKey, readLockfile, RESTORED_LINE, SAVED_LINE, UPLOADED_LINE, uploadsNodeModules } from "./install.ts";
import { DEFAULT_LIMITS, type BundleLimits } from "./limits.ts";
import type { BuildRequest } from "./port.ts";
import { diskUsageMb } from "./disk-usage.ts";
import { runPhase, WorkerFault } from "./sandbox-phase.ts";
import { restoreSealedDeps, sealAndSaveDeps } from "./sealed-deps.ts";
import { chownTree } from "./tree.ts";
import { INSIDE } from "./worker-protocol.ts";

export interface ChildBuildOptions {
  /** the platform's blob store; the build process never holds it (every request is checked here) */
  blobs?: BlobStore;
  /** or where to open it (`blobStoreFromSpec`): `fs:/abs/path` or `s3:bucket?...` */
  blobSpec?: string;
  /** scratch space for this build (the workspace); removed afterwards by the caller */
  workDir: string;
  /** persistent cache folder; each account gets its own folder in it */
  cacheDir: string;
  onLog: (line: string) => void;
  signal?: AbortSignal;
  /** where tenant code runs; default: the platform's shared sandbox (`defaultSandbox()`) */
  sandbox?: Sandbox;
  limits?: Partial<BuildLimits>;
  bundleLimits?: Partial<BundleLimits>;
}

const MB = 1024 * 1024;

/**
 * Runs one build with its tenant code contained. The platform side (this process) plans the
 * build, materializes the workspace from the blob store and restores cached dependencies; the
 * install and everything after it (build command, esbuild, static files) run in a sandboxed
 * build process (see sandbox-phase.ts) that sees only the workspace, its account's cache folder
 * and the bundled worker, and reaches the blob store only through the checks of blob-gate.ts.
 * An install runs in a sandbox of its own, so that what it installed can be sealed into the
 * account's dependency cache once nothing runs (sealed-deps.ts). Limits: see build-limits.ts.
 */
export async function runBuildInChild(req: BuildRequest, opts: ChildBuildOptions): Promise<BuildResult> {
  if (opts.signal?.aborted) return canceledResult();
  const { workDir, cacheDir, signal } = opts;
  const limits: BuildLimits = { ...DEFAULT_BUILD_LIMITS, ...opts.limits };
  const bundleLimits: BundleLimits = { ...DEFAULT_LIMITS, ...opts.bundleLimits };
  const log = opts.onLog;
  const deadline = Date.now() + limits.timeoutMs;
  try {
    const blobs = opts.blobs ?? blobStoreFromSpec(opts.blobSpec ?? "");
    const sandbox = opts.sandbox ?? defaultSandbox();
    return await asBuildResult(log, signal, async () => {
      const plan = await planBuild(req, blobs);
      for (const line of startLines(req)) log(line);
      await mkdir(workDir, { recursive: true });
      // link mode runs nothing before the build phase: its process starts (node's start-up) while
      // the workspace is written, and is told to begin once it is. The last workspace is claimed
      // first: the sandbox sees the folder that is there when it starts.
      let ready: Promise<void> | undefined;
      if (plan.link) {
        const previous = await claimLastWorkspace(req, { workDir, cacheDir }, plan);
        ready = prepareWorkspace(req, { blobs, workDir, cacheDir, signal }, plan, previous);
        ready.catch(() => {}); // handled by runPhase
      } else await prepareWorkspace(req, { blobs, workDir, cacheDir, signal }, plan);

      // something will write into the workspace: it becomes the sandbox user's, as does the
      // account's cache folder the sandbox sees
      const owner = plan.link ? null : sandbox.owner;
      const account = accountCacheDir(cacheDir, req.accountId);
      const tenantCache = plan.link ? null : join(account, "sandbox");
      if (tenantCache) await mkdir(tenantCache, { recursive: true });
      if (owner) {
        await chownTree(workDir, owner);
        await lchown(tenantCache!, owner.uid, owner.gid);
      }

      const gate = createBlobGate(req, blobs, { maxBytes: limits.diskMb * MB });
      const cacheBaseMb = tenantCache ? await diskUsageMb([tenantCache]) : 0;
      const phase = (name: "install" | "build") => runPhase({ phase: name, req, plan, sandbox, gate, workDir, tenantCache, limits, bundleLimits, deadline, cacheBaseMb, log, signal, ...(name === "build" && ready ? { ready } : {}) });

      if (plan.install) {
        if (uploadsNodeModules(req.files)) log(UPLOADED_LINE);
        else {
          // the lockfile as uploaded: nothing of the build has run yet
          const key = depsCacheKey({ accountId: req.accountId, pkg: plan.pkg!, config: req.config, files: req.files }, await readLockfile(workDir));
          if (await restoreSealedDeps(account, key, workDir, owner)) log(RESTORED_LINE);
          else {
            await phase("install");
            const saved = await sealAndSaveDeps(account, key, workDir, !!owner);
            if (saved === "saved") log(SAVED_LINE);
            else if (saved === "too-large") log("Dependencies not cached: node_modules holds too many files");
          }
        }
      }
      const output = (await phase("build"))!;
      if (plan.link) await keepLinkedWorkspace(req, workDir, cacheDir);
      return output;
    });
  } catch (e) {
    // a fault of the platform (blob store unreachable, no sandbox on this host, a refused request)
    const message = hideHostPaths((e as Error).message ?? String(e), opts);
    log(`Internal build error: ${e instanceof WorkerFault && e.detail ? e.detail : message}`);
    return errorResult([{ message: `internal build error: ${message}` }]);
  }
}

/** Build logs show the workspace as the build sees it, and no other folder of the platform. */
function hideHostPaths(text: string, opts: ChildBuildOptions): string {
  return text.replaceAll(opts.workDir, INSIDE.workspace).replaceAll(opts.cacheDir, "<build cache>");
}
