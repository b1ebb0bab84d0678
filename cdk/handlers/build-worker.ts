// The build worker: one build per invocation, with Lambda's 15 minutes, up to 10 GB of memory and
// of /tmp. It streams its log back to the coordinator as NDJSON and ends with the result.
//
// It runs tenant code (install scripts, the build command) with its own rights, so it holds as
// little as it can: its role reaches nothing in the bucket; each build brings credentials the
// coordinator minted for that build alone (runtime/lambda/build-credentials.ts); and nothing one
// build leaves (processes, files) reaches a build of another account (runtime/lambda/build-scratch.ts).
import { mkdir, rm } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { stop as stopEsbuild } from "esbuild";
import { build } from "../../builder/build.ts";
import type { BuildRequest } from "../../builder/port.ts";
import { createS3BlobStore } from "../../core/blobs/s3.ts";
import type { BuildCredentials } from "../../runtime/lambda/build-credentials.ts";
import { createScratch, reapStrays } from "../../runtime/lambda/build-scratch.ts";
import { localS3, need } from "./platform.ts";

declare const awslambda: { streamifyResponse(fn: (event: unknown, stream: NodeJS.WritableStream) => Promise<void>): unknown };

/** What the coordinator sends: the build, and the credentials it may use for it. */
export interface WorkerEvent {
  request: BuildRequest;
  credentials: BuildCredentials;
}

// npm ships in the asset (cdk/bundle.ts); Lambda's file system is read-only but for /tmp, where
// npm's cache and the builds go (FERRY_BUILD_DIR moves them, for running the asset elsewhere)
const base = process.env.FERRY_BUILD_DIR || "/tmp";
process.env.PATH = [join(dirname(fileURLToPath(import.meta.url)), "tools", "bin"), process.env.PATH].filter(Boolean).join(delimiter);
process.env.HOME ||= join(base, "home");
const scratch = createScratch(base);
// only where the sandbox is the worker's alone: elsewhere (tests) it would kill the machine's processes
const ownSandbox = (process.env.AWS_EXECUTION_ENV ?? "").startsWith("AWS_Lambda_") || process.env.FERRY_BUILD_REAP === "1";

/** Stops what an earlier build left running (esbuild's service too: it restarts on next use). */
async function reap(): Promise<number> {
  if (!ownSandbox) return 0;
  await stopEsbuild();
  return reapStrays();
}

export const handler = awslambda.streamifyResponse(async (event, stream) => {
  const write = (msg: unknown) => stream.write(JSON.stringify(msg) + "\n");
  const { request: req, credentials } = event as WorkerEvent;
  const fail = (message: string) => write({ result: { type: "error", errors: [{ message: `the build worker failed: ${message}` }] } });
  if (!req?.deploymentId || !credentials?.sessionToken) {
    fail("the event carries no build or no credentials for it (the coordinator mints them per build)");
    return void stream.end();
  }
  const workDir = join(base, `build-${req.deploymentId}`);
  try {
    const stray = await reap();
    if (stray) console.warn(`[build-worker] stopped ${stray} processes an earlier build left running`);
    // a warm sandbox keeps the cache for the same account: installs keyed by lockfile are reused
    if (await scratch.claim(req.accountId)) console.log(`[build-worker] cleared /tmp: the last build here was another account's`);
    await mkdir(process.env.HOME!, { recursive: true });
    const { accessKeyId, secretAccessKey, sessionToken } = credentials;
    const s3 = new S3Client({ region: need("AWS_REGION"), credentials: { accessKeyId, secretAccessKey, sessionToken }, ...localS3() });
    const blobs = createS3BlobStore(s3, need("FERRY_BUCKET"));
    const result = await build(req, { blobs, log: (line) => write({ log: line }), workDir, cacheDir: join(base, "cache") });
    write({ result });
  } catch (e) {
    fail((e as Error).message);
  } finally {
    await reap().catch(() => 0);
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
    stream.end();
  }
});
