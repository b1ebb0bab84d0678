import type { BuildOutput, BuildResult, RouteConfig } from "../core/types.ts";
import type { FerryConfig } from "../core/config/schema.ts";
import { compileRoutes } from "../core/config/routing.ts";
import { configLogLines } from "../core/config/source.ts";
import type { BlobStore } from "../core/blobs/port.ts";
import { bundleFunctions } from "./bundle.ts";
import { detectApiFunctions, detectServerEntry, mayHaveCode, type PlannedFunction } from "./detect.ts";
import { BuildCanceled, canceledResult, errorResult, throwIfAborted, UserBuildError } from "./errors.ts";
import { commandEnv, runShell } from "./exec.ts";
import { formatBytes, formatSeconds } from "./format.ts";
import { installDependencies } from "./install.ts";
import { DEFAULT_LIMITS, type BundleLimits } from "./limits.ts";
import { hasDependencies, readPackageJson, type PackageJson } from "./package-json.ts";
import type { BuildContext, Builder, BuildRequest } from "./port.ts";
import { collectStatic } from "./static-files.ts";
import { chooseStaticRoot, describeStaticRoot } from "./static-root.ts";
import { showWords } from "./shell-words.ts";
import { materialize } from "./workspace.ts";
import { claimWorkspace, keepWorkspace, type WorkspaceManifest } from "./workspace-cache.ts";

export interface BuilderOptions {
  /** per-function bundle limits (defaults: Lambda's 250 MB unzipped / 50 MB zipped) */
  limits?: Partial<BundleLimits>;
}

/** The routing part of ferry.json, as the normalized routes array the router executes (`{}`
 * when there are no rules, so the router skips its route engine); cleanUrls and trailingSlash
 * are kept beside it for the filesystem check and path normalization. */
export function routesOf(config: FerryConfig): RouteConfig {
  const routes = compileRoutes(config);
  if (!routes) return {};
  const { cleanUrls, trailingSlash } = config;
  return { routes, ...(cleanUrls ? { cleanUrls } : {}), ...(trailingSlash !== undefined ? { trailingSlash } : {}) };
}

/** What a build will do, decided from the upload alone (before the workspace exists). */
export interface BuildPlan {
  paths: string[];
  pkg: PackageJson | null;
  apiFunctions: PlannedFunction[];
  buildCommand: string | undefined;
  /** dependencies will be installed (or restored) */
  install: boolean;
  /**
   * no command will run, so only esbuild reads the workspace: it may share the stored files (hard
   * links), and the project's last workspace can be reused (only changed files linked again)
   */
  link: boolean;
}

export async function planBuild(req: BuildRequest, blobs: BlobStore): Promise<BuildPlan> {
  const paths = req.files.map((f) => f.file);
  const pkg = await readPackageJson(req.files, req.accountId, blobs);
  const apiFunctions = detectApiFunctions(paths);
  const buildCommand = req.config.buildCommand ?? (pkg?.scripts?.build ? "npm run build" : undefined);
  const install = !!pkg && hasDependencies(pkg) && (!!buildCommand || mayHaveCode(paths, pkg));
  return { paths, pkg, apiFunctions, buildCommand, install, link: !install && !buildCommand };
}

/** The first lines of a build's log: the config file read (and ignored keys), then the download. */
export const startLines = (req: BuildRequest) => [...configLogLines(req.configSource), downloadLine(req)];

export const downloadLine = (req: BuildRequest) => `Downloading ${req.files.length} files (${formatBytes(req.files.reduce((n, f) => n + f.size, 0))})`;

/** In link mode, the project's last workspace moved onto `workDir` (what it holds), else null. */
export const claimLastWorkspace = (req: BuildRequest, ctx: Pick<BuildContext, "workDir" | "cacheDir">, plan: BuildPlan): Promise<WorkspaceManifest | null> =>
  plan.link ? claimWorkspace(ctx.cacheDir, req.accountId, req.project, ctx.workDir) : Promise.resolve(null);

/** Writes the upload into `workDir`, reusing the project's last workspace in link mode (claimed
 * here unless the caller claimed it already: `previous`). */
export async function prepareWorkspace(req: BuildRequest, ctx: Pick<BuildContext, "blobs" | "workDir" | "cacheDir" | "signal">, plan: BuildPlan, previous?: WorkspaceManifest | null): Promise<void> {
  if (previous === undefined) previous = await claimLastWorkspace(req, ctx, plan);
  await materialize(req.files, req.accountId, ctx.blobs, ctx.workDir, { signal: ctx.signal, link: plan.link, previous });
}

/** After a link-mode build: the workspace is kept for the project's next build. */
export async function keepLinkedWorkspace(req: BuildRequest, workDir: string, cacheDir: string): Promise<void> {
  await keepWorkspace(cacheDir, req.accountId, req.project, workDir, Object.fromEntries(req.files.map((f) => [f.file, f.sha])));
}

export interface WorkspaceStepContext {
  workDir: string;
  blobs: BlobStore;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** the environment of install and build commands (`commandEnv`) */
  env: Record<string, string>;
}

/**
 * Everything after the install: the build command, detection, bundling, static files. This is
 * what runs inside the build sandbox; `blobs` there is the parent's gate (see blob-gate.ts).
 */
export async function buildInWorkspace(req: BuildRequest, ctx: WorkspaceStepContext, limits: BundleLimits, plan: BuildPlan): Promise<BuildOutput> {
  const { workDir, log, signal, env } = ctx;
  const { paths, pkg, apiFunctions, buildCommand } = plan;
  throwIfAborted(signal);
  if (buildCommand) {
    log(`Running build command: ${buildCommand}`);
    const r = await runShell(buildCommand, { cwd: workDir, env, log, signal });
    if (r.code !== 0) {
      const how = r.code === null ? `signal ${r.signal}` : `code ${r.code}`;
      throw new UserBuildError(`build command "${buildCommand}" failed (exited with ${how}):\n${r.tail.slice(-20).join("\n")}`);
    }
  }

  const server = apiFunctions.length ? null : await detectServerEntry(workDir, pkg, paths);
  const planned = server ? [server] : apiFunctions;
  if (server) log(`Detected a server app: ${server.source}${server.via ? ` (${server.via})` : ""} serves every path${server.args ? `, started with the arguments ${showWords(server.args)}` : ""}`);
  else if (apiFunctions.length) log(`Detected ${apiFunctions.length} function${apiFunctions.length === 1 ? "" : "s"} in api/`);
  else log("Detected a static site (no functions)");

  const bundled = await bundleFunctions({ workDir, deploymentId: req.deploymentId, functions: planned, config: req.config, blobs: ctx.blobs, accountId: req.accountId, files: req.files, fromDisk: !plan.link, limits, log, signal });
  throwIfAborted(signal);

  const root = await chooseStaticRoot({ workDir, config: req.config, files: paths, buildRan: !!buildCommand, hasFunctions: apiFunctions.length > 0, server });
  const staticFiles = await collectStatic(root, { workDir, accountId: req.accountId, files: req.files, blobs: ctx.blobs, bundled: bundled.inputs });
  if (staticFiles.length) log(`Static files: ${staticFiles.length} from ${describeStaticRoot(root)} (${formatBytes(staticFiles.reduce((n, f) => n + f.size, 0))})`);
  else log("No static files");
  return { version: 1, functions: bundled.functions, static: staticFiles, routes: routesOf(req.config) };
}

/**
 * Runs a build's steps and turns the outcome into a result, with the closing log lines: the
 * app's mistakes (UserBuildError) and a cancel become results; faults of the platform are thrown.
 */
export async function asBuildResult(log: (line: string) => void, signal: AbortSignal | undefined, steps: () => Promise<BuildOutput>): Promise<BuildResult> {
  const started = Date.now();
  try {
    throwIfAborted(signal);
    const output = await steps();
    log(`Build completed in ${formatSeconds(Date.now() - started)}`);
    return { type: "success", output };
  } catch (e) {
    if (e instanceof BuildCanceled || signal?.aborted) {
      log("Build canceled");
      return canceledResult();
    }
    if (e instanceof UserBuildError) {
      for (const err of e.errors) log(`Error: ${err.message}`);
      log(`Build failed after ${formatSeconds(Date.now() - started)}`);
      return errorResult(e.errors);
    }
    throw e;
  }
}

/**
 * A builder with custom limits (tests use small ones). It runs everything in this process with
 * this process's rights: for trusted code only (tests, benchmarks). The platform builds with
 * `runBuildInChild`, which runs the same steps in a sandbox.
 */
export function createBuilder(options: BuilderOptions = {}): Builder {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  return (req, ctx): Promise<BuildResult> =>
    asBuildResult(ctx.log, ctx.signal, async () => {
      const plan = await planBuild(req, ctx.blobs);
      for (const line of startLines(req)) ctx.log(line);
      await prepareWorkspace(req, ctx, plan);
      const env = commandEnv(ctx.workDir, req.buildEnv);
      if (plan.install) {
        await installDependencies({ workDir: ctx.workDir, cacheDir: ctx.cacheDir, accountId: req.accountId, pkg: plan.pkg!, config: req.config, files: req.files, env, log: ctx.log, signal: ctx.signal });
      }
      const output = await buildInWorkspace(req, { ...ctx, env }, limits, plan);
      if (plan.link) await keepLinkedWorkspace(req, ctx.workDir, ctx.cacheDir);
      return output;
    });
}

/** Builds a deployment in this process: workspace, shape detection, install, build command, bundles, static manifest. */
export const build: Builder = createBuilder();
