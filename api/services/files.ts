import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { FerryError } from "../../core/errors.ts";
import { blobKeys, type BlobStore } from "../../core/blobs/port.ts";

export const SHA1_RE = /^[0-9a-f]{40}$/;

/**
 * Stores one uploaded file under the account, content-addressed. The body is streamed to the
 * blob store (never held whole in memory) and hashed and counted as it goes: a body over the
 * limit (413) or whose bytes do not hash to the digest fails the stream before its end, so the
 * store keeps nothing of it.
 */
export async function storeUpload(opts: {
  blobs: BlobStore;
  accountId: string;
  digest: string | undefined;
  contentLength: string | undefined;
  body: ReadableStream<Uint8Array> | null;
  maxFileSize: number;
}): Promise<{ sha: string; size: number; existed: boolean }> {
  const digest = opts.digest?.toLowerCase();
  if (!digest || !SHA1_RE.test(digest)) {
    await opts.body?.cancel().catch(() => {});
    throw new FerryError("invalid_digest", "x-ferry-digest header must be the file's SHA-1 as 40 hex characters", 400);
  }
  const declared = opts.contentLength !== undefined ? Number(opts.contentLength) : undefined;
  if (declared !== undefined && declared > opts.maxFileSize) {
    await opts.body?.cancel().catch(() => {});
    throw tooLarge(opts.maxFileSize);
  }

  let size = 0;
  async function* verified(): AsyncGenerator<Uint8Array> {
    const hash = createHash("sha1");
    if (opts.body) {
      for await (const chunk of Readable.fromWeb(opts.body as WebReadableStream<Uint8Array>)) {
        size += (chunk as Buffer).byteLength;
        if (size > opts.maxFileSize) throw tooLarge(opts.maxFileSize);
        hash.update(chunk);
        yield chunk;
      }
    }
    const sha = hash.digest("hex");
    if (sha !== digest) {
      throw new FerryError("digest_mismatch", `uploaded bytes hash to ${sha}, not ${digest}; nothing was stored`, 400, { expected: digest, actual: sha });
    }
  }

  const key = blobKeys.file(opts.accountId, digest);
  if (await opts.blobs.head(key)) {
    // already stored: the bytes are still checked, so a wrong body is an error, not a 200
    for await (const _ of verified());
    return { sha: digest, size, existed: true };
  }
  await opts.blobs.putStream(key, Readable.from(verified(), { objectMode: false }));
  return { sha: digest, size, existed: false };
}

export const tooLarge = (max: number, details: Record<string, unknown> = {}) =>
  new FerryError("file_too_large", `${details.frame ? `frame ${details.frame}: ` : ""}file is larger than the upload limit of ${max} bytes`, 413, { limit: max, ...details });
