import { S3Client } from "@aws-sdk/client-s3";
import { createFsBlobStore } from "./fs.ts";
import { createS3BlobStore } from "./s3.ts";
import type { BlobStore } from "./port.ts";

/**
 * Builds a blob store from a one-line spec, so child processes (builds) can reach the same store
 * as their parent: `fs:/abs/path` or `s3:bucket[?endpoint=http://127.0.0.1:4569]`.
 */
export function blobStoreFromSpec(spec: string): BlobStore {
  if (spec.startsWith("fs:")) return createFsBlobStore(spec.slice(3));
  if (spec.startsWith("s3:")) {
    const url = new URL(`s3://${spec.slice(3)}`);
    const endpoint = url.searchParams.get("endpoint") ?? undefined;
    const client = new S3Client({
      endpoint,
      forcePathStyle: !!endpoint,
      region: process.env.AWS_REGION ?? "us-east-1",
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      ...(endpoint ? { credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } } : {}),
    });
    return createS3BlobStore(client, url.hostname);
  }
  throw new Error(`unknown blob store spec ${JSON.stringify(spec)}`);
}
