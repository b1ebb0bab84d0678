import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Readable } from "node:stream";
import { assertKey, type BlobStore } from "./port.ts";

/** Part size of streamed writes: one part is buffered per write in progress (S3 wants 5 MiB or
 * more for every part but the last). */
export const S3_PART_SIZE = 8 * 1024 * 1024;

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
    /** A stream shorter than one part is one PutObject; a longer one a multipart upload, completed
     * only after the stream ended cleanly and aborted otherwise, so nothing appears under the key. */
    async putStream(key, body) {
      let Key: string;
      try {
        Key = k(key);
      } catch (e) {
        body.destroy();
        throw e;
      }
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let uploadId: string | undefined;
      const parts: CompletedPart[] = [];
      const take = () => {
        const data = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        return data;
      };
      const sendPart = async () => {
        const data = take();
        uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }))).UploadId!;
        const PartNumber = parts.length + 1;
        const r = await client.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId: uploadId, PartNumber, Body: data, ContentLength: data.length }));
        parts.push({ ETag: r.ETag, PartNumber });
      };
      try {
        for await (const chunk of body) {
          const b = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          pending.push(b);
          pendingBytes += b.length;
          if (pendingBytes >= S3_PART_SIZE) await sendPart();
        }
        if (!uploadId) {
          const data = take();
          await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: data, ContentLength: data.length }));
          return;
        }
        if (pendingBytes > 0) await sendPart();
        await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      } catch (e) {
        body.destroy();
        if (uploadId) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId: uploadId })).catch(() => {});
        throw e;
      }
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
