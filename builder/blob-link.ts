import { join } from "node:path";
import type { BlobStore } from "../core/blobs/port.ts";

/**
 * The folder of a filesystem blob store, or null for any other store. With it, the workspace can
 * hard-link uploaded files instead of copying them: creating a thousand small files costs more
 * than bundling them, and content-addressed blobs never change.
 */
export async function localBlobRoot(blobs: BlobStore, sampleKey: string): Promise<string | null> {
  const path = blobs.localPath?.(sampleKey);
  if (!path) return null;
  const rel = join(...sampleKey.split("/"));
  return path.endsWith(rel) ? path.slice(0, path.length - rel.length) : null;
}
