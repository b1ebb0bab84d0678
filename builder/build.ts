import type { BuildOutput, BuildResult, RouteConfig } from "../core/types.ts";
import type { FerryConfig } from "../core/config/schema.ts";
import { bundleFunctions } from "./bundle.ts";
import { detectApiFunctions, detectServerEntry, mayHaveCode } from "./detect.ts";
import { BuildCanceled, canceledResult, errorResult, throwIfAborted, UserBuildError } from "./errors.ts";
import { commandEnv, runShell } from "./exec.ts";
import { formatBytes, formatSeconds } from "./format.ts";
import { installDependencies } from "./install.ts";
import { DEFAULT_LIMITS, type BundleLimits } from "./limits.ts";
import { hasDependencies, readPackageJson } from "./package-json.ts";
import type { BuildContext, Builder, BuildRequest } from "./port.ts";
import { collectStatic } from "./static-files.ts";
import { chooseStaticRoot, describeStaticRoot } from "./static-root.ts";
import { materialize } from "./workspace.ts";
import { claimWorkspace, keepWorkspace } from "./workspace-cache.ts";

export interface BuilderOptions {
  /** per-function bundle limits (defaults: Lambda's 250 MB unzipped / 50 MB zipped) */
  limits?: Partial<BundleLimits>;
}

/** The routing part of ferry.json, carried into the build output for the router. */
function routesOf(config: FerryConfig): RouteConfig {
  const { redirects, rewrites, headers, cleanUrls, trailingSlash } = config;
  return Object.fromEntries(Object.entries({ redirects, rewrites, headers, cleanUrls, trailingSlash }).filter(([, v]) => v !== undefined));
}

async function runBuild(req: BuildRequest, ctx: BuildContext, limits: BundleLimits): Promise<BuildOutput> {
  const { workDir, log, signal } = ctx;
  const paths = req.files.map((f) => f.file);
  const pkg = await readPackageJson(req.files, req.accountId, ctx.blobs);
  const apiFunctions = detectApiFunctions(paths);
  const buildCommand = req.config.buildCommand ?? (pkg?.scripts?.build ? "npm run build" : undefined);
  const install = !!pkg && hasDependencies(pkg) && (!!buildCommand || mayHaveCode(paths, pkg));
  const env = commandEnv(workDir, req.buildEnv);

  log(`Downloading ${req.files.length} files (${formatBytes(req.files.reduce((n, f) => n + f.size, 0))})`);
  // with no command to run, only esbuild reads the workspace, so it may share the stored files,
  // and the project's last workspace can be reused: only changed files are linked again
  const link = !install && !buildCommand;
  const previous = link ? await claimWorkspace(ctx.cacheDir, req.accountId, req.project, workDir) : null;
  await materialize(req.files, req.accountId, ctx.blobs, workDir, { signal, link, previous });
  const output = await buildInWorkspace(req, ctx, limits, { paths, pkg, apiFunctions, buildCommand, install, env });
  if (link) await keepWorkspace(ctx.cacheDir, req.accountId, req.project, workDir, Object.fromEntries(req.files.map((f) => [f.file, f.sha])));
  return output;
}

async function buildInWorkspace(
  req: BuildRequest,
  ctx: BuildContext,
  limits: BundleLimits,
  s: { paths: string[]; pkg: Awaited<ReturnType<typeof readPackageJson>>; apiFunctions: ReturnType<typeof detectApiFunctions>; buildCommand: string | undefined; install: boolean; env: ReturnType<typeof commandEnv> },
): Promise<BuildOutput> {
  const { workDir, log, signal } = ctx;
  const { paths, pkg, apiFunctions, buildCommand, install, env } = s;

  if (install) {
    await installDependencies({ workDir, cacheDir: ctx.cacheDir, pkg: pkg!, config: req.config, files: req.files, env, log, signal });
  }
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
  if (server) log(`Detected a server app: ${server.source} serves every path`);
  else if (apiFunctions.length) log(`Detected ${apiFunctions.length} function${apiFunctions.length === 1 ? "" : "s"} in api/`);
  else log("Detected a static site (no functions)");

  const bundled = await bundleFunctions({ workDir, deploymentId: req.deploymentId, functions: planned, config: req.config, blobs: ctx.blobs, limits, log, signal });
  throwIfAborted(signal);

  const root = await chooseStaticRoot({ workDir, config: req.config, files: paths, buildRan: !!buildCommand, hasFunctions: apiFunctions.length > 0, server });
  const staticFiles = await collectStatic(root, { workDir, accountId: req.accountId, files: req.files, blobs: ctx.blobs, bundled: bundled.inputs });
  if (staticFiles.length) log(`Static files: ${staticFiles.length} from ${describeStaticRoot(root)} (${formatBytes(staticFiles.reduce((n, f) => n + f.size, 0))})`);
  else log("No static files");
  return { version: 1, functions: bundled.functions, static: staticFiles, routes: routesOf(req.config) };
}

/** A builder with custom limits (tests use small ones). */
export function createBuilder(options: BuilderOptions = {}): Builder {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  return async (req, ctx): Promise<BuildResult> => {
    const started = Date.now();
    try {
      throwIfAborted(ctx.signal);
      const output = await runBuild(req, ctx, limits);
      ctx.log(`Build completed in ${formatSeconds(Date.now() - started)}`);
      return { type: "success", output };
    } catch (e) {
      if (e instanceof BuildCanceled || ctx.signal?.aborted) {
        ctx.log("Build canceled");
        return canceledResult();
      }
      if (e instanceof UserBuildError) {
        for (const err of e.errors) ctx.log(`Error: ${err.message}`);
        ctx.log(`Build failed after ${formatSeconds(Date.now() - started)}`);
        return errorResult(e.errors);
      }
      throw e;
    }
  };
}

/** Builds a deployment: workspace, shape detection, install, build command, bundles, static manifest. */
export const build: Builder = createBuilder();
