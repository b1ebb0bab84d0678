// The build worker: one build per invocation, with Lambda's 15 minutes, up to 10 GB of memory and
// of /tmp. It streams its log back to the coordinator as NDJSON and ends with the result.
import { rm } from "node:fs/promises";
import { S3Client } from "@aws-sdk/client-s3";
import { build } from "../../builder/build.ts";
import type { BuildRequest } from "../../builder/port.ts";
import { createS3BlobStore } from "../../core/blobs/s3.ts";
import { need } from "./platform.ts";

declare const awslambda: { streamifyResponse(fn: (event: unknown, stream: NodeJS.WritableStream) => Promise<void>): unknown };

const blobs = createS3BlobStore(new S3Client({ region: need("AWS_REGION") }), need("FERRY_BUCKET"));

export const handler = awslambda.streamifyResponse(async (event, stream) => {
  const req = event as BuildRequest;
  const write = (msg: unknown) => stream.write(JSON.stringify(msg) + "\n");
  const workDir = `/tmp/build-${req.deploymentId}`;
  try {
    // a warm sandbox keeps /tmp/cache: dependency installs keyed by lockfile are reused
    const result = await build(req, { blobs, log: (line) => write({ log: line }), workDir, cacheDir: "/tmp/cache" });
    write({ result });
  } catch (e) {
    write({ result: { type: "error", errors: [{ message: `the build worker failed: ${(e as Error).message}` }] } });
  } finally {
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
    stream.end();
  }
});
