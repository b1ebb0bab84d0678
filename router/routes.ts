import { compileMatcher, fillDestination, type Params } from "../core/config/patterns.ts";
import type { BuildOutput, BuiltFunction, StaticFile } from "../core/types.ts";

type Matcher = (path: string) => Params | null;

export interface RouteTable {
  files: Map<string, StaticFile>;
  /** functions whose route has no parameters, by path */
  exactFunctions: Map<string, BuiltFunction>;
  /** the others, most specific first */
  dynamicFunctions: { fn: BuiltFunction; match: Matcher; wildcards: string[] }[];
  redirects: { match: Matcher; destination: string; status: number }[];
  rewrites: { match: Matcher; destination: string }[];
  headers: { match: Matcher; headers: [string, string][] }[];
  cleanUrls: boolean;
  trailingSlash: boolean | undefined;
  /** nothing but static files and functions: the rule steps can be skipped */
  plain: boolean;
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
  const table: RouteTable = {
    files: new Map(output.static.map((f) => [f.path, f])),
    exactFunctions,
    dynamicFunctions: dynamic.map(({ fn, match, wildcards }) => ({ fn, match, wildcards })),
    redirects: (r.redirects ?? []).map((x) => ({
      match: compileMatcher(x.source),
      destination: x.destination,
      status: x.statusCode ?? (x.permanent ? 308 : 307),
    })),
    rewrites: (r.rewrites ?? []).map((x) => ({ match: compileMatcher(x.source), destination: x.destination })),
    headers: (r.headers ?? []).map((x) => ({ match: compileMatcher(x.source), headers: x.headers.map((h) => [h.key, h.value] as [string, string]) })),
    cleanUrls: r.cleanUrls === true,
    trailingSlash: r.trailingSlash,
    plain: false,
  };
  table.plain = !table.redirects.length && !table.rewrites.length && !table.headers.length && !table.cleanUrls && table.trailingSlash === undefined;
  return table;
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

/** Fills a rule destination and splits it into path and query. */
export function destination(template: string, params: Params): { path: string; search: string; external: boolean } {
  const external = /^https?:\/\//i.test(template);
  // split before filling: `/:id?x=1` must not read as the optional-param form `:id?`
  const q = template.indexOf("?");
  let path = fillDestination(q < 0 ? template : template.slice(0, q), params);
  if (!external && !path.startsWith("/")) path = `/${path}`;
  return { path, search: q < 0 ? "" : `?${fillDestination(template.slice(q + 1), params)}`, external };
}

/** Joins two query strings (each "" or starting with "?"); the destination's come first. */
export function mergeSearch(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return `${a}&${b.slice(1)}`;
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
