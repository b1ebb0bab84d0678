import { blobKeys, type BlobStore } from "../../core/blobs/port.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { BuildResult, Deployment, FileEntry } from "../../core/types.ts";
import type { FerryConfig } from "../../core/config/schema.ts";
import type { BuildRequest } from "../../builder/port.ts";
import type { BuildLogs } from "./build-logs.ts";
import { FerryError } from "../../core/errors.ts";
import { randomId } from "../../core/ids.ts";
import { vercelEnv } from "../../core/vercel-env.ts";

/** Runs one build somewhere (a child process here, a Lambda on AWS). */
export type ExecuteBuild = (req: BuildRequest, opts: { onLog: (line: string) => void; signal: AbortSignal }) => Promise<BuildResult>;

export interface BuildRunner {
  enqueue(d: Deployment): void;
  /** finishes a deployment with an earlier build's output instead of building */
  reuse(d: Deployment, cached: { deploymentId: string; outputKey: string }): Promise<Deployment>;
  cancel(id: string): Promise<void>;
  /** after a restart: interrupted builds end in ERROR, queued ones run */
  recover(): Promise<void>;
  whenIdle(): Promise<void>;
  /** platform shutdown: running builds stop and end in ERROR; queued ones wait for the next start */
  shutdown(): Promise<void>;
}

/**
 * What a deployment may say about an exception nobody expected: its message can hold platform
 * paths (the build folder, FERRY_HOME) or internals, so it goes to the platform log under a
 * reference and the deployment gets only the reference.
 */
export function unexpectedBuildError(deploymentId: string, what: string, e: unknown): string {
  const ref = `ref_${randomId(12)}`;
  console.error(`[builds] ${deploymentId} ${ref}: ${what}:`, e);
  return `${what}: internal error (reference ${ref}; the platform log has the details)`;
}

export function formatBuildErrors(result: Extract<BuildResult, { type: "error" }>): string {
  return result.errors.map((e) => (e.file && !e.message.startsWith(e.file) ? `${e.file}${e.line ? `:${e.line}${e.column !== undefined ? `:${e.column}` : ""}` : ""}: ${e.message}` : e.message)).join("\n");
}

/**
 * The build queue: builds one (or `concurrency`) deployment at a time, moves it through
 * QUEUED -> BUILDING -> READY | ERROR | CANCELED with conditional writes, so a cancel that lands
 * mid-build wins over the build's late result.
 */
export function createBuildRunner(opts: {
  metadata: Metadata;
  blobs: BlobStore;
  logs: BuildLogs;
  execute: ExecuteBuild;
  concurrency?: number;
  /** decrypts the build env, which is stored encrypted */
  decrypt: (cipher: string) => Promise<string>;
  /** the apps domain, for the VERCEL_* variables builds see */
  domain?: string;
  /** last step before READY (stores, final env); a thrown FerryError fails the deployment */
  link: (d: Deployment, log: (line: string) => void) => Promise<Partial<Deployment>>;
  onReady: (d: Deployment) => Promise<void>;
}): BuildRunner {
  const { metadata, blobs, logs } = opts;
  const queue: Deployment[] = [];
  const running = new Map<string, AbortController>();
  const idleWaiters: (() => void)[] = [];
  const concurrency = opts.concurrency ?? 1;

  const pump = () => {
    while (running.size < concurrency && queue.length) {
      const d = queue.shift()!;
      const ac = new AbortController();
      running.set(d.id, ac);
      void run(d, ac.signal)
        .catch((e) => console.error(`[builds] ${d.id} failed unexpectedly:`, e))
        .finally(() => {
          running.delete(d.id);
          pump();
        });
    }
    if (!running.size && !queue.length) idleWaiters.splice(0).forEach((w) => w());
  };

  async function fail(d: Deployment, code: string, message: string) {
    const updated = await metadata.updateDeployment(d.id, { state: "ERROR", errorCode: code, errorMessage: message }, ["QUEUED", "BUILDING"]);
    if (updated) {
      logs.log(d.id, `Error: ${message}`);
      await logs.state(d.id, "ERROR", message);
    }
  }

  /** the deployment's build env plus the VERCEL_* variables Vercel's builds see */
  async function buildEnvOf(d: Deployment): Promise<Record<string, string>> {
    const own = d.buildEnvCipher ? (JSON.parse(await opts.decrypt(d.buildEnvCipher)) as Record<string, string>) : {};
    return { ...own, ...vercelEnv(d, opts.domain) };
  }

  async function run(d: Deployment, signal: AbortSignal) {
    const started = await metadata.updateDeployment(d.id, { state: "BUILDING", buildingAt: Date.now() }, ["QUEUED"]);
    if (!started) return; // canceled while queued
    await logs.state(d.id, "BUILDING");
    logs.log(d.id, `Building ${d.project} (${d.fileCount} files, deployment ${d.id})`);
    const t0 = Date.now();
    let result: BuildResult;
    try {
      const files = JSON.parse((await blobs.get(blobKeys.fileList(d.id)))!.toString()) as FileEntry[];
      result = await opts.execute(
        { deploymentId: d.id, accountId: d.accountId, project: d.project, files, config: d.config as FerryConfig, configSource: d.configSource, buildEnv: await buildEnvOf(d) },
        { onLog: (line) => logs.log(d.id, line), signal },
      );
    } catch (e) {
      result = { type: "error", errors: [{ message: unexpectedBuildError(d.id, "build failed", e) }] };
    }
    if (signal.aborted) return; // cancel() already recorded CANCELED
    if (result.type === "error") return fail(d, "build_failed", formatBuildErrors(result));

    const outputKey = blobKeys.output(d.id);
    await blobs.put(outputKey, JSON.stringify(result.output));
    // the output is reusable by later identical deploys even if linking this one fails
    await metadata.putBuildCache(d.accountId, d.inputHash, d.id, outputKey);
    const linked = await linkOrFail(d);
    if (!linked) return;
    const ready = await metadata.updateDeployment(d.id, { ...linked, state: "READY", outputKey, readyAt: Date.now() }, ["BUILDING"]);
    if (!ready) return;
    logs.log(d.id, `Deployment ready ${((Date.now() - t0) / 1000).toFixed(1)}s after the build started`);
    await finishReady(ready);
  }

  async function linkOrFail(d: Deployment): Promise<Partial<Deployment> | null> {
    try {
      return await opts.link(d, (line) => logs.log(d.id, line));
    } catch (e) {
      if (e instanceof FerryError) await fail(d, e.code, e.message);
      else await fail(d, "link_failed", unexpectedBuildError(d.id, "linking the deployment failed", e));
      return null;
    }
  }

  async function finishReady(d: Deployment) {
    try {
      await opts.onReady(d);
    } catch (e) {
      logs.log(d.id, `Warning: could not assign aliases: ${(e as Error).message}`);
    }
    await logs.state(d.id, "READY");
  }

  return {
    enqueue(d) {
      void logs.state(d.id, "QUEUED");
      queue.push(d);
      pump();
    },
    async reuse(d, cached) {
      logs.log(d.id, `No changes since ${cached.deploymentId}: reusing its build output (deploy with --force to rebuild)`);
      const linked = await linkOrFail(d);
      if (!linked) return (await metadata.getDeployment(d.id))!;
      const ready = await metadata.updateDeployment(d.id, { ...linked, state: "READY", outputKey: cached.outputKey, reusedFrom: cached.deploymentId, readyAt: Date.now() }, ["QUEUED"]);
      if (!ready) return d;
      await finishReady(ready);
      return ready;
    },
    async cancel(id) {
      const i = queue.findIndex((q) => q.id === id);
      if (i >= 0) queue.splice(i, 1);
      const updated = await metadata.updateDeployment(id, { state: "CANCELED", errorCode: "canceled", errorMessage: "the build was canceled" }, ["QUEUED", "BUILDING"]);
      running.get(id)?.abort();
      if (updated) {
        logs.log(id, "Build canceled");
        await logs.state(id, "CANCELED");
      }
      pump();
    },
    async recover() {
      for (const d of await metadata.deploymentsInStates(["BUILDING"])) {
        await fail(d, "build_interrupted", "the build was interrupted by a platform restart; deploy again");
      }
      for (const d of await metadata.deploymentsInStates(["QUEUED"])) {
        queue.push(d);
      }
      pump();
    },
    async shutdown() {
      queue.length = 0;
      const ids = [...running.keys()];
      for (const id of ids) {
        const d = await metadata.getDeployment(id);
        if (d) await fail(d, "build_interrupted", "the platform stopped during the build; deploy again");
        running.get(id)?.abort();
      }
    },
    whenIdle() {
      if (!running.size && !queue.length) return Promise.resolve();
      return new Promise((r) => idleWaiters.push(r));
    },
  };
}
