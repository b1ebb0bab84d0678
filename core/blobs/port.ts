import type { Readable } from "node:stream";
import { FerryError } from "../errors.ts";

/**
 * Content storage: uploaded files (by account and sha), build artifacts, build logs.
 * Keys are slash-separated and never contain `..`; implementations map them to paths or object keys.
 */
export interface BlobStore {
  put(key: string, body: Buffer | Uint8Array | string): Promise<void>;
  /**
   * Writes a blob from a byte stream without holding it whole (uploads of up to the file size
   * limit). The blob appears under `key` only once the stream has ended without error; a stream
   * that errors (a client gone, a digest that does not match) leaves nothing new under the key,
   * and a blob already there stays as it was. The promise rejects with the stream's error.
   */
  putStream(key: string, body: Readable): Promise<void>;
  get(key: string): Promise<Buffer | null>;
  /** byte range is inclusive, like HTTP Range */
  getStream(key: string, range?: { start: number; end: number }): Promise<Readable | null>;
  head(key: string): Promise<{ size: number } | null>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** Where a blob lives on this machine's disk, for stores that are folders (else absent).
   * Content-addressed blobs never change, so the builder may hard-link them instead of copying. */
  localPath?(key: string): string;
}

const KEY_RE = /^[A-Za-z0-9._\-~%+=@ ]+(\/[A-Za-z0-9._\-~%+=@ ]+)*$/;

export function assertKey(key: string): void {
  if (!KEY_RE.test(key) || key.split("/").some((s) => s === "." || s === "..")) {
    throw new FerryError("invalid_blob_key", `invalid blob key ${JSON.stringify(key)}`, 500);
  }
}

/** Where things live in the blob store. */
export const blobKeys = {
  /** uploaded source file; scoped to the account so dedup never leaks across accounts */
  file: (accountId: string, sha: string) => `files/${accountId}/${sha}`,
  /** the deployment's file list (too large for a metadata item) */
  fileList: (deploymentId: string) => `deployments/${deploymentId}/files.json`,
  output: (deploymentId: string) => `deployments/${deploymentId}/output.json`,
  artifactPrefix: (deploymentId: string, fn: string) => `deployments/${deploymentId}/functions/${encodeURIComponent(fn)}`,
  buildLog: (deploymentId: string) => `deployments/${deploymentId}/build.log`,
};
