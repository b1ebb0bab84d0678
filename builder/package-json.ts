import { blobKeys, type BlobStore } from "../core/blobs/port.ts";
import type { FileEntry } from "../core/types.ts";
import { UserBuildError } from "./errors.ts";

export interface PackageJson {
  name?: string;
  type?: string;
  main?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The app's package.json, read from the upload (before the workspace exists: it decides how the
 * workspace is made), or null when there is none. Invalid JSON is the user's to fix.
 */
export async function readPackageJson(files: FileEntry[], accountId: string, blobs: BlobStore): Promise<PackageJson | null> {
  const entry = files.find((f) => f.file === "package.json");
  if (!entry) return null;
  const bytes = await blobs.get(blobKeys.file(accountId, entry.sha));
  if (!bytes) throw new UserBuildError(`file package.json (${entry.sha}) was not uploaded`);
  const text = bytes.toString("utf8").replace(/^\uFEFF/, "");
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("expected an object");
    return value as PackageJson;
  } catch (e) {
    throw new UserBuildError([{ message: `package.json: invalid JSON: ${(e as Error).message}`, file: "package.json" }]);
  }
}

export const allDependencies = (pkg: PackageJson | null): Record<string, string> => ({
  ...pkg?.optionalDependencies,
  ...pkg?.devDependencies,
  ...pkg?.dependencies,
});

export const hasDependencies = (pkg: PackageJson | null) => Object.keys(allDependencies(pkg)).length > 0;

/** Flags of node-like launchers that take a value (`node -r dotenv/config server.js`). */
const FLAGS_WITH_VALUE = new Set(["-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file", "--tsconfig"]);

/**
 * The file a `start` script runs, for `node <file>`-like scripts (also tsx, ts-node, nodemon),
 * skipping leading `VAR=value` assignments and launcher flags. Null for anything else.
 */
export function startScriptEntry(start: string | undefined): string | null {
  if (!start || /[|;&<>`$()]/.test(start)) return null;
  const words = start.trim().split(/\s+/);
  while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
  const launcher = words.shift();
  if (!launcher || !["node", "tsx", "ts-node", "ts-node-esm", "nodemon"].includes(launcher)) return null;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (FLAGS_WITH_VALUE.has(w)) {
      i++;
      continue;
    }
    if (w.startsWith("-")) continue;
    return w.replace(/^\.\//, "");
  }
  return null;
}
