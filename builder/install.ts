import { readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import type { FerryConfig } from "../core/config/schema.ts";
import { sha256 } from "../core/ids.ts";
import type { FileEntry } from "../core/types.ts";
import { restoreDeps, saveDeps } from "./dep-cache.ts";
import { throwIfAborted, UserBuildError } from "./errors.ts";
import { runCommand, runShell, type RunResult } from "./exec.ts";
import { allDependencies, type PackageJson } from "./package-json.ts";

export interface InstallOptions {
  workDir: string;
  cacheDir: string;
  pkg: PackageJson;
  config: FerryConfig;
  files: FileEntry[];
  env: Record<string, string>;
  log: (line: string) => void;
  signal?: AbortSignal;
}

const readOptional = (path: string) => readFile(path, "utf8").catch(() => null);

/**
 * Cache key: everything that decides what lands in node_modules. With a lockfile that is the
 * lockfile; without one, the declared ranges. `file:` dependencies are part of the upload, so
 * their files' shas count too (editing a local package must not restore a stale copy).
 */
function cacheKey(opts: InstallOptions, lockfile: string | null): string {
  const deps = allDependencies(opts.pkg);
  const localDirs = Object.values(deps)
    .filter((spec) => spec.startsWith("file:") || spec.startsWith("link:"))
    .map((spec) => posix.normalize(spec.replace(/^(file|link):/, "")).replace(/\/$/, "") + "/");
  const local = opts.files.filter((f) => localDirs.some((d) => f.file.startsWith(d))).map((f) => `${f.file}:${f.sha}`);
  return sha256(
    JSON.stringify({
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

/** Installs dependencies into `workDir/node_modules`, from the cache when the same set was installed before. */
export async function installDependencies(opts: InstallOptions): Promise<void> {
  const { workDir, config, log } = opts;
  if (opts.files.some((f) => f.file.startsWith("node_modules/"))) {
    log("Using the uploaded node_modules (no install)");
    return;
  }
  const lockfile = (await readOptional(join(workDir, "package-lock.json"))) ?? (await readOptional(join(workDir, "npm-shrinkwrap.json")));
  const key = cacheKey(opts, lockfile);
  if (await restoreDeps(opts.cacheDir, key, workDir)) {
    log("Installing dependencies: dependencies restored from cache");
    return;
  }
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
  if (await saveDeps(opts.cacheDir, key, workDir)) log("Saved dependencies to the build cache");
}
