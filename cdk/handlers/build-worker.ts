// The build worker: one build per invocation, with Lambda's 15 minutes, up to 10 GB of memory and
// of /tmp. It streams its log back to the coordinator as NDJSON and ends with the result.
import { rm } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { build } from "../../builder/build.ts";
import type { BuildRequest } from "../../builder/port.ts";
import { createS3BlobStore } from "../../core/blobs/s3.ts";
import { localS3, need } from "./platform.ts";

declare const awslambda: { streamifyResponse(fn: (event: unknown, stream: NodeJS.WritableStream) => Promise<void>): unknown };

const blobs = createS3BlobStore(new S3Client({ region: need("AWS_REGION"), ...localS3() }), need("FERRY_BUCKET"));
// npm ships in the asset (cdk/bundle.ts); Lambda's file system is read-only but for /tmp, where
// npm's cache and the builds go (FERRY_BUILD_DIR moves them, for running the asset elsewhere)
process.env.PATH = [join(dirname(fileURLToPath(import.meta.url)), "tools", "bin"), process.env.PATH].filter(Boolean).join(delimiter);
process.env.HOME ||= "/tmp";
const base = process.env.FERRY_BUILD_DIR || "/tmp";

export const handler = awslambda.streamifyResponse(async (event, stream) => {
  const req = event as BuildRequest;
  const write = (msg: unknown) => stream.write(JSON.stringify(msg) + "\n");
  const workDir = join(base, `build-${req.deploymentId}`);
  try {
    // a warm sandbox keeps the cache: dependency installs keyed by lockfile are reused
    const result = await build(req, { blobs, log: (line) => write({ log: line }), workDir, cacheDir: join(base, "cache") });
    write({ result });
  } catch (e) {
    write({ result: { type: "error", errors: [{ message: `the build worker failed: ${(e as Error).message}` }] } });
  } finally {
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
    stream.end();
  }
});
