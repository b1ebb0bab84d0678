import { ReadStream } from "node:fs";
import { join } from "node:path";
import type { BlobStore } from "../core/blobs/port.ts";

/**
 * The folder of a filesystem blob store, or null for any other store. A filesystem store hands out
 * `fs.ReadStream`s, which know their file's path; the store's root is that path minus the key.
 * With it, the workspace can hard-link uploaded files instead of copying them: creating a thousand
 * small files costs more than bundling them, and content-addressed blobs never change.
 */
export async function localBlobRoot(blobs: BlobStore, sampleKey: string): Promise<string | null> {
  const stream = await blobs.getStream(sampleKey).catch(() => null);
  if (!stream) return null;
  stream.destroy();
  if (!(stream instanceof ReadStream) || typeof stream.path !== "string") return null;
  const rel = join(...sampleKey.split("/"));
  return stream.path.endsWith(rel) ? stream.path.slice(0, stream.path.length - rel.length) : null;
}
