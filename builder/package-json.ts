import { blobKeys, type BlobStore } from "../core/blobs/port.ts";
import type { FileEntry } from "../core/types.ts";
import { UserBuildError } from "./errors.ts";
import { shellWords } from "./shell-words.ts";

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
/** a leading `VAR=value` of a command line */
export const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** A server app's command line: the file node runs and the arguments after it (`${PORT}` in them: see shell-words.ts). */
export interface ServerCommand {
  file: string;
  args: string[];
}

const LAUNCHERS = ["node", "tsx", "ts-node", "ts-node-esm", "nodemon"];

/**
 * The file a `start` script runs and its arguments, for `node <file>`-like scripts (also tsx,
 * ts-node, nodemon), split as sh splits them, skipping leading `VAR=value` assignments and the
 * launcher's own flags (not passed on: the runtime starts node with its own). Null for anything
 * else, shell syntax included (shell-words.ts).
 */
export function startScriptEntry(start: string | undefined): ServerCommand | null {
  const words = start ? shellWords(start) : null;
  return words ? launchedFile(words) : null;
}

/** `[VAR=x ...] node [flags] <file> [args...]`, as words. */
export function launchedFile(words: string[]): ServerCommand | null {
  let i = 0;
  while (i < words.length && ASSIGNMENT.test(words[i]!)) i++;
  const launcher = words[i++];
  if (!launcher || !LAUNCHERS.includes(launcher)) return null;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (FLAGS_WITH_VALUE.has(w)) {
      i++;
      continue;
    }
    if (w.startsWith("-")) continue;
    return { file: w.replace(/^\.\//, ""), args: words.slice(i + 1) };
  }
  return null;
}
