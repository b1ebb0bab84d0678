import { readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import type { FerryConfig } from "../core/config/schema.ts";
import { sha256 } from "../core/ids.ts";
import type { FileEntry } from "../core/types.ts";
import { accountCacheDir, restoreDeps, saveDeps } from "./dep-cache.ts";
import { throwIfAborted, UserBuildError } from "./errors.ts";
import { runCommand, runShell, type RunResult } from "./exec.ts";
import { allDependencies, type PackageJson } from "./package-json.ts";

export interface KeyInput {
  accountId: string;
  pkg: PackageJson;
  config: FerryConfig;
  files: FileEntry[];
}

export interface InstallOptions extends KeyInput {
  workDir: string;
  cacheDir: string;
  env: Record<string, string>;
  log: (line: string) => void;
  signal?: AbortSignal;
}

const readOptional = (path: string) => readFile(path, "utf8").catch(() => null);

/** The app's lockfile text, if it has one. */
export const readLockfile = async (workDir: string) => (await readOptional(join(workDir, "package-lock.json"))) ?? (await readOptional(join(workDir, "npm-shrinkwrap.json")));

/** An uploaded `node_modules/` is used as is: no install, no cache. */
export const uploadsNodeModules = (files: FileEntry[]) => files.some((f) => f.file.startsWith("node_modules/"));

/**
 * Cache key: everything that decides what lands in node_modules. With a lockfile that is the
 * lockfile; without one, the declared ranges. `file:` dependencies are part of the upload, so
 * their files' shas count too (editing a local package must not restore a stale copy). The
 * account is part of it as well as of the folder: no build ever reads another account's installs.
 */
export function depsCacheKey(opts: KeyInput, lockfile: string | null): string {
  const deps = allDependencies(opts.pkg);
  const localDirs = Object.values(deps)
    .filter((spec) => spec.startsWith("file:") || spec.startsWith("link:"))
    .map((spec) => posix.normalize(spec.replace(/^(file|link):/, "")).replace(/\/$/, "") + "/");
  const local = opts.files.filter((f) => localDirs.some((d) => f.file.startsWith(d))).map((f) => `${f.file}:${f.sha}`);
  return sha256(
    JSON.stringify({
      account: opts.accountId,
      lockfile,
      deps: lockfile ? null : deps,
      local,
      node: process.version,
      installScripts: !!opts.config.installScripts,
      installCommand: opts.config.installCommand ?? null,
    }),
  );
}

/** npm's own error lines when it printed any, else the end of the output; paths shown relative to the app. */
function failureText(r: RunResult, workDir: string): string {
  const npmErrors = r.tail.filter((l) => /^npm (error|ERR!)/.test(l) && l.replace(/^npm (error|ERR!)\s*/, "").trim() && !/A complete log of this run/.test(l));
  return (npmErrors.length ? npmErrors : r.tail.slice(-20)).join("\n").replaceAll(`${workDir}/`, "");
}

export interface RunInstallOptions {
  workDir: string;
  config: FerryConfig;
  env: Record<string, string>;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** Runs `installCommand`, else `npm ci` (with a lockfile) or `npm install`, in `workDir`. No cache. */
export async function runInstall(opts: RunInstallOptions): Promise<void> {
  const { workDir, config, log } = opts;
  const lockfile = await readLockfile(workDir);
  throwIfAborted(opts.signal);
  const started = Date.now();
  const run = { cwd: workDir, env: opts.env, log, signal: opts.signal };
  let label: string;
  let r: RunResult;
  if (config.installCommand) {
    label = config.installCommand;
    log(`Installing dependencies: ${label}`);
    r = await runShell(config.installCommand, run);
  } else {
    const args = [lockfile ? "ci" : "install", "--no-audit", "--no-fund", "--no-update-notifier"];
    if (!config.installScripts) args.push("--ignore-scripts");
    label = `npm ${args.join(" ")}`;
    log(`Installing dependencies: ${label}`);
    r = await runCommand("npm", args, run);
  }
  if (r.code !== 0) {
    throw new UserBuildError(`dependency install failed (${label} exited with ${r.code === null ? `signal ${r.signal}` : `code ${r.code}`}):\n${failureText(r, workDir)}`);
  }
  log(`Installed dependencies in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

export const RESTORED_LINE = "Installing dependencies: dependencies restored from cache";
export const UPLOADED_LINE = "Using the uploaded node_modules (no install)";
export const SAVED_LINE = "Saved dependencies to the build cache";

/**
 * Installs dependencies into `workDir/node_modules` in this process, from the account's cache
 * when the same set was installed before (trusted code only; sandboxed builds: see child.ts).
 */
export async function installDependencies(opts: InstallOptions): Promise<void> {
  const { workDir, log } = opts;
  if (uploadsNodeModules(opts.files)) {
    log(UPLOADED_LINE);
    return;
  }
  const key = depsCacheKey(opts, await readLockfile(workDir));
  const cache = accountCacheDir(opts.cacheDir, opts.accountId);
  if (await restoreDeps(cache, key, workDir)) {
    log(RESTORED_LINE);
    return;
  }
  await runInstall(opts);
  if (await saveDeps(cache, key, workDir)) log(SAVED_LINE);
}
