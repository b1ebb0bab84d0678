import { compileRoutes as normalizeRoutes, type RoutingKeys } from "../core/config/routing.ts";
import { compileMatcher, type Params } from "../core/config/patterns.ts";
import type { BuildOutput, BuiltFunction, RouteConfig, StaticFile } from "../core/types.ts";
import { compileRoutes, type CompiledRoutes } from "./engine/compile.ts";

type Matcher = (path: string) => Params | null;

export interface RouteTable {
  files: Map<string, StaticFile>;
  /** functions whose route has no parameters, by path */
  exactFunctions: Map<string, BuiltFunction>;
  /** the others, most specific first */
  dynamicFunctions: { fn: BuiltFunction; match: Matcher; wildcards: string[] }[];
  /** the deployment's routes, compiled; null when it has none (the engine is skipped) */
  routes: CompiledRoutes | null;
  /** `/about` finds `about.html` */
  cleanUrls: boolean;
  /** `//` in a path is redirected to `/` (trailingSlash or cleanUrls set, as serve-handler does) */
  collapseSlashes: boolean;
}

const tables = new WeakMap<BuildOutput, RouteTable>();

/** Compiles a deployment's routing once; outputs are immutable and cached by the resolver. */
export function routeTable(output: BuildOutput): RouteTable {
  let t = tables.get(output);
  if (!t) tables.set(output, (t = compile(output)));
  return t;
}

function compile(output: BuildOutput): RouteTable {
  const r = output.routes ?? {};
  const exactFunctions = new Map<string, BuiltFunction>();
  const dynamic: { fn: BuiltFunction; match: Matcher; wildcards: string[]; rank: number[] }[] = [];
  for (const fn of output.functions) {
    const route = catchAllIncludesRoot(fn.route);
    if (!/[:*{(]/.test(route)) exactFunctions.set(stripSlash(route), fn);
    else dynamic.push({ fn, match: compileMatcher(route), wildcards: [...route.matchAll(/\*([A-Za-z_$][\w$]*)/g)].map((m) => m[1]!), rank: rank(route) });
  }
  dynamic.sort((a, b) => compareRank(a.rank, b.rank));
  const routes = r.routes ?? legacyRoutes(r);
  return {
    files: new Map(output.static.map((f) => [f.path, f])),
    exactFunctions,
    dynamicFunctions: dynamic.map(({ fn, match, wildcards }) => ({ fn, match, wildcards })),
    routes: routes?.length ? compileRoutes(routes) : null,
    cleanUrls: r.cleanUrls === true,
    collapseSlashes: r.cleanUrls === true || r.trailingSlash !== undefined,
  };
}

/**
 * Outputs built before routes were compiled at build time carry the config's keys as written,
 * in the path-to-regexp v8 syntax Ferry documented then (`/*rest`, `{/:id}`): written the Vercel
 * way (`/:rest*`, `/:id?`) they compile as a new build's would.
 */
function legacyRoutes(r: RouteConfig) {
  if (!r.redirects && !r.rewrites && !r.headers && r.cleanUrls === undefined && r.trailingSlash === undefined) return null;
  const source = (s: string) => s.replace(/\{\/\*([A-Za-z_$][\w$]*)\}/g, "/:$1*").replace(/\/\*([A-Za-z_$][\w$]*)/g, "/:$1*").replace(/\{\/:([A-Za-z_$][\w$]*)\}/g, "/:$1?");
  const keys: RoutingKeys = {
    ...r,
    routes: undefined,
    redirects: r.redirects?.map((x) => ({ ...x, source: source(x.source), destination: source(x.destination) })),
    rewrites: r.rewrites?.map((x) => ({ ...x, source: source(x.source), destination: typeof x.destination === "string" ? source(x.destination) : x.destination })),
    headers: r.headers?.map((x) => ({ ...x, source: source(x.source) })),
  };
  try {
    return normalizeRoutes(keys);
  } catch (e) {
    // the deployment keeps serving its files and functions; its rules are what cannot be read
    console.error(`[router] routing rules of an older build cannot be compiled, serving without them: ${(e as Error).message}`);
    return null;
  }
}

/** The function serving `path` (raw, still encoded), with its params. */
export function matchFunction(t: RouteTable, path: string): { fn: BuiltFunction; params: Params | null } | null {
  const exact = t.exactFunctions.get(stripSlash(path));
  if (exact) return { fn: exact, params: null };
  for (const d of t.dynamicFunctions) {
    const params = d.match(path);
    if (!params) continue;
    // undecoded matching leaves a wildcard as one string; functions get its segments (`[...path]`)
    for (const w of d.wildcards) if (typeof params[w] === "string") params[w] = (params[w] as string).split("/");
    return { fn: d.fn, params };
  }
  return null;
}

const stripSlash = (p: string) => (p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p);

/** `/*path` (a server app) should serve `/` too; path-to-regexp's wildcard needs one character. */
function catchAllIncludesRoot(route: string): string {
  const m = /^\/\*([A-Za-z_$][\w$]*)$/.exec(route);
  return m ? `{/*${m[1]}}` : route;
}

/** Per segment: literal 3, `:param` 2, optional group 1, wildcard 0. Higher sorts first. */
function rank(route: string): number[] {
  return route
    .split("/")
    .filter(Boolean)
    .map((seg) => (seg.startsWith("{") ? 1 : seg.includes("*") ? 0 : seg.includes(":") ? 2 : 3));
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return b[i]! - a[i]!;
  // equal prefix: the longer, more constrained route first
  return b.length - a.length;
}
