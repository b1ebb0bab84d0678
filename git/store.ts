import { blobKeys, type BlobStore } from "../core/blobs/port.ts";
import type { FileEntry } from "../core/types.ts";
import type { ObjectEnv } from "./repos.ts";
import { contentSha, readBlobs, type TreeFile } from "./tree.ts";

/** git blob id -> sha1 of the content: a pure function of the bytes, so safe to share. */
const contentShas = new Map<string, string>();
const MAX_REMEMBERED = 500_000;

/**
 * Puts a tree's files into the account's content-addressed store, the way `ferry` uploads them:
 * files are named by the sha1 of their content (git's blob id hashes a header too), and only
 * what the account does not hold yet is written. Blobs already seen are not read again.
 */
export async function storeTreeFiles(opts: { blobs: BlobStore; accountId: string; env: ObjectEnv; files: TreeFile[] }): Promise<{ files: FileEntry[]; stored: number; storedBytes: number }> {
  const { blobs, accountId } = opts;
  const toRead = new Set<string>();
  const shaOf = new Map<string, string>();
  await Promise.all(
    opts.files.map(async (f) => {
      const sha = contentShas.get(f.oid);
      if (sha && (await blobs.head(blobKeys.file(accountId, sha)))) shaOf.set(f.oid, sha);
      else toRead.add(f.oid);
    }),
  );
  let stored = 0;
  let storedBytes = 0;
  await readBlobs(opts.env, [...toRead], async (oid, content) => {
    const sha = contentSha(content);
    if (contentShas.size >= MAX_REMEMBERED) contentShas.clear();
    contentShas.set(oid, sha);
    shaOf.set(oid, sha);
    const key = blobKeys.file(accountId, sha);
    if (!(await blobs.head(key))) {
      await blobs.put(key, content);
      stored++;
      storedBytes += content.length;
    }
  });
  const files = opts.files.map((f) => ({ file: f.path, sha: shaOf.get(f.oid)!, size: f.size, mode: f.mode }));
  return { files, stored, storedBytes };
}
