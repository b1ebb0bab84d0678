import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Readable } from "node:stream";
import { assertKey, type BlobStore } from "./port.ts";

/** Blob store on S3 (or s3rver). The client must be built with `forcePathStyle` for s3rver and
 * `requestChecksumCalculation: "WHEN_REQUIRED"` so bodies are not sent aws-chunked. */
export function createS3BlobStore(client: S3Client, bucket: string, prefix = ""): BlobStore {
  const k = (key: string) => {
    assertKey(key);
    return prefix + key;
  };
  return {
    async put(key, body) {
      const data = typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: k(key), Body: data, ContentLength: data.length }));
    },
    async get(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k(key) }));
        return Buffer.from(await r.Body!.transformToByteArray());
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
    },
    async getStream(key, range) {
      try {
        const r = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: k(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
        );
        return r.Body as Readable;
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
    },
    async head(key) {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: k(key) }));
        return { size: r.ContentLength ?? 0 };
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k(key) }));
    },
    async list(p) {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + p, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key.slice(prefix.length));
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return out.sort();
    },
  };
}

function isMissing(e: unknown) {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === "NoSuchKey" || err?.name === "NotFound" || err?.$metadata?.httpStatusCode === 404;
}
