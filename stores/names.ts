import { createHash } from "node:crypto";
import type { StoreSpec } from "./port.ts";

/** What a resource name is derived from: the store's identity, nothing else. */
export type StoreIdentity = Pick<StoreSpec, "accountId" | "project" | "environment" | "name">;

export const DEFAULT_NAME_PREFIX = "ferry";

const TABLE_MAX = 255;
const BUCKET_MAX = 63;
const HASH_LENGTH = 8;

/**
 * DynamoDB table name: `ferry-<account>-<project>-<env>-<store>-<hash>`.
 * The hash covers the exact, un-normalized identity, so two stores never share a name even when
 * normalization, truncation or a `-` inside a part make their readable forms alike.
 */
export function tableName(id: StoreIdentity, prefix = DEFAULT_NAME_PREFIX): string {
  return resourceName(id, prefix, TABLE_MAX);
}

/**
 * S3 bucket name, same scheme, kept within S3's rules: 3-63 chars of `a-z0-9-`, starting and
 * ending with a letter or digit, no dots (so never IP-like and always valid in a TLS host name).
 * Bucket names are global across AWS: the random account id and the hash keep them unclaimed.
 */
export function bucketName(id: StoreIdentity, prefix = DEFAULT_NAME_PREFIX): string {
  return resourceName(id, prefix, BUCKET_MAX);
}

/** `todos` -> `FERRY_STORE_TODOS`, `my-files` -> `FERRY_STORE_MY_FILES` (store names have no `_`, so this is one-to-one). */
export function envPrefix(name: string): string {
  return `FERRY_STORE_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** Which environment's store a deployment uses: preview deployments share production's only when the store says `production: true`. */
export const storeEnvironment = (target: "production" | "preview", spec: { production?: boolean }): StoreSpec["environment"] =>
  target === "production" || spec.production ? "production" : "preview";

/** Short form of the environment, to leave room for the parts people read. */
export const environmentLabel = (environment: StoreSpec["environment"]) => (environment === "production" ? "prod" : "preview");

/** Checks a custom prefix (one per installation): it must keep every derived name valid. */
export function assertNamePrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/.test(prefix) || prefix.includes("--") || prefix.startsWith("xn-") || prefix.startsWith("sthree"))
    throw new Error(`invalid store name prefix ${JSON.stringify(prefix)}: 2-16 chars of a-z, 0-9 and single '-'`);
}

function resourceName(id: StoreIdentity, prefix: string, max: number): string {
  assertNamePrefix(prefix);
  const hash = createHash("sha256")
    .update(JSON.stringify([id.accountId, id.project, id.environment, id.name]))
    .digest("hex")
    .slice(0, HASH_LENGTH);
  const parts = [id.accountId, id.project, environmentLabel(id.environment), id.name].map(normalize);
  // prefix + one `-` before each part and before the hash
  const budget = max - prefix.length - HASH_LENGTH - (parts.length + 1);
  return [prefix, ...fit(parts, budget), hash].join("-");
}

/** Lower-case letters and digits, single `-` between runs; empty parts become `x` so none vanish. */
function normalize(part: string): string {
  const s = part
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return s || "x";
}

/**
 * Shortens the longest part one character at a time until all fit, so a long project name does
 * not push the store name out, and the result is the same for the same input.
 */
function fit(parts: string[], budget: number): string[] {
  const out = [...parts];
  let total = out.reduce((n, p) => n + p.length, 0);
  while (total > budget) {
    let longest = 0;
    for (let i = 1; i < out.length; i++) if (out[i]!.length > out[longest]!.length) longest = i;
    if (out[longest]!.length <= 1) break;
    out[longest] = out[longest]!.slice(0, -1);
    total--;
  }
  // a cut can leave a trailing `-`, which would make `--` with the separator
  return out.map((p) => p.replace(/-+$/, "") || "x");
}
