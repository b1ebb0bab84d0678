import { createHash } from "node:crypto";
import { FerryError } from "../../core/errors.ts";
import { blobKeys, type BlobStore } from "../../core/blobs/port.ts";

export const SHA1_RE = /^[0-9a-f]{40}$/;

/**
 * Stores one uploaded file under the account, content-addressed. The body is hashed while it is
 * read; a digest mismatch or a body over the limit stores nothing.
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
    throw new FerryError("invalid_digest", "x-ferry-digest header must be the file's SHA-1 as 40 hex characters", 400);
  }
  const declared = opts.contentLength !== undefined ? Number(opts.contentLength) : undefined;
  if (declared !== undefined && declared > opts.maxFileSize) throw tooLarge(opts.maxFileSize);

  const hash = createHash("sha1");
  const chunks: Buffer[] = [];
  let size = 0;
  if (opts.body) {
    const reader = opts.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > opts.maxFileSize) {
        await reader.cancel().catch(() => {});
        throw tooLarge(opts.maxFileSize);
      }
      hash.update(value);
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  }
  const sha = hash.digest("hex");
  if (sha !== digest) {
    throw new FerryError("digest_mismatch", `uploaded bytes hash to ${sha}, not ${digest}; nothing was stored`, 400, { expected: digest, actual: sha });
  }
  const key = blobKeys.file(opts.accountId, sha);
  const existing = await opts.blobs.head(key);
  if (existing) return { sha, size, existed: true };
  await opts.blobs.put(key, Buffer.concat(chunks, size));
  return { sha, size, existed: false };
}

const tooLarge = (max: number) => new FerryError("file_too_large", `file is larger than the upload limit of ${max} bytes`, 413, { limit: max });
