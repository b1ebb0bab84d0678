import { readFile, stat } from "node:fs/promises";
import { posix } from "node:path";
import { UserBuildError } from "./errors.ts";
import { compareRoutes, functionName, isFunctionSource, routeFor } from "./fs-routes.ts";
import { startScriptEntry, type PackageJson, type ServerCommand } from "./package-json.ts";
import { procfileEntry, procfileWebCommand } from "./procfile.ts";
import { workPath } from "./workspace.ts";

/** A function to bundle, before bundling. */
export interface PlannedFunction {
  name: string;
  route: string;
  source: string;
  handler: "function" | "server";
  /** how a server entry was found, for the build log (`Procfile web: node app.js`) */
  via?: string;
  /** a server's arguments after its file (BuiltFunction.args) */
  args?: string[];
}

const CODE_EXTS = ["ts", "mts", "js", "mjs", "cjs"];
const SERVER_ROUTE = "/*path";

/**
 * `api/**` functions, sorted most specific route first. Two files that would serve the same route
 * (`api/a.ts` + `api/a.js`, `api/users.ts` + `api/users/index.ts`) are an error, not a coin toss.
 */
export function detectApiFunctions(files: string[]): PlannedFunction[] {
  const byRoute = new Map<string, string>();
  const out: PlannedFunction[] = [];
  for (const source of files.filter(isFunctionSource).sort()) {
    const route = routeFor(source);
    const other = byRoute.get(route);
    if (other) throw new UserBuildError([{ message: `${source} and ${other} both serve the route ${route}; remove one`, file: source }]);
    byRoute.set(route, source);
    out.push({ name: functionName(source), route, source, handler: "function" });
  }
  return out.sort((a, b) => compareRoutes(a.route, b.route));
}

async function isFile(workDir: string, rel: string): Promise<boolean> {
  try {
    return (await stat(workPath(workDir, rel))).isFile();
  } catch {
    return false;
  }
}

/** `file` as written, or with a code extension added (tsx and bundlers accept `node server`). */
async function resolveEntry(workDir: string, file: string): Promise<string | null> {
  const rel = posix.normalize(file).replace(/^\.\//, "");
  if (rel.startsWith("../") || rel.startsWith("/")) return null;
  if (await isFile(workDir, rel)) return rel;
  for (const ext of CODE_EXTS) if (await isFile(workDir, `${rel}.${ext}`)) return `${rel}.${ext}`;
  for (const ext of CODE_EXTS) if (await isFile(workDir, `${rel}/index.${ext}`)) return `${rel}/index.${ext}`;
  return null;
}

/**
 * A Procfile's `web:` process, as Heroku runs it in preference to `npm start`. A web command
 * that names no runnable file fails the build: deploying such an app as a static site would
 * publish its source.
 */
async function procfileServer(workDir: string, pkg: PackageJson | null): Promise<PlannedFunction | null> {
  const text = await readFile(workPath(workDir, "Procfile"), "utf8").catch(() => null);
  const command = text === null ? null : procfileWebCommand(text);
  if (!command) return null;
  const via = `Procfile web: ${command}`;
  const entry = procfileEntry(command, pkg);
  if ("problem" in entry) throw new UserBuildError([{ message: `${via}: the command ${entry.problem}`, file: "Procfile" }]);
  const source = await resolveEntry(workDir, entry.file);
  if (!source) throw new UserBuildError([{ message: `${via}: ${entry.file} was not found`, file: "Procfile" }]);
  return { name: "server", route: SERVER_ROUTE, source, handler: "server", via, ...withArgs(entry.args) };
}

const withArgs = (args: string[]) => (args.length ? { args } : {});

/**
 * The entry of a server app (an app that listens on PORT), looked up on disk so a build command
 * may produce it: a Procfile's `web:` command, then `scripts.start` (`node <file>`), then `main`,
 * then `server.*`, then `index.*`. Beside a root `index.html`, `main` and `index.*` do not count:
 * a static site with a script for the browser (and an `npm init` package.json saying
 * `"main": "index.js"`) stays a static site.
 */
export async function detectServerEntry(workDir: string, pkg: PackageJson | null, files: string[]): Promise<PlannedFunction | null> {
  const fromProcfile = await procfileServer(workDir, pkg);
  if (fromProcfile) return fromProcfile;
  const candidates: ServerCommand[] = [];
  const start = startScriptEntry(pkg?.scripts?.start);
  if (start) candidates.push(start);
  const file = (f: string) => candidates.push({ file: f, args: [] });
  const staticIndex = files.includes("index.html");
  if (pkg?.main && !staticIndex) file(pkg.main);
  for (const ext of CODE_EXTS) file(`server.${ext}`);
  if (!staticIndex) for (const ext of CODE_EXTS) file(`index.${ext}`);
  for (const c of candidates) {
    const source = await resolveEntry(workDir, c.file);
    if (source) return { name: "server", route: SERVER_ROUTE, source, handler: "server", ...withArgs(c.args) };
  }
  return null;
}

/** Cheap pre-install guess: could this app have code to bundle? (Static sites skip `npm install`.) */
export function mayHaveCode(files: string[], pkg: PackageJson | null): boolean {
  if (files.some(isFunctionSource) || startScriptEntry(pkg?.scripts?.start) || files.includes("Procfile")) return true;
  if (files.some((f) => /^server\.(ts|mts|js|mjs|cjs)$/.test(f))) return true;
  return !files.includes("index.html") && (!!pkg?.main || files.some((f) => /^index\.(ts|mts|js|mjs|cjs)$/.test(f)));
}
