// Filesystem routing for `api/`: one function per file, the path is the route.
//   api/hello.ts          -> /api/hello
//   api/users/index.ts    -> /api/users
//   api/users/[id].ts     -> /api/users/:id
//   api/files/[...p].ts   -> /api/files/*p        (one or more segments)
//   api/docs/[[...p]].ts  -> /api/docs{/*p}       (zero or more segments)

const FUNCTION_EXT = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** True for files under `api/` that become functions: not `_`/`.`-prefixed (helpers, dotfiles), not `.d.ts`. */
export function isFunctionSource(file: string): boolean {
  if (!file.startsWith("api/")) return false;
  if (!FUNCTION_EXT.test(file) || /\.d\.[mc]?ts$/.test(file)) return false;
  return !file.split("/").some((seg) => seg.startsWith("_") || seg.startsWith("."));
}

/** Function name: the source path without its extension, e.g. `api/users/[id]`. */
export const functionName = (file: string) => file.replace(FUNCTION_EXT, "");

const IDENT = /^[A-Za-z_$][\w$]*$/;
/** path-to-regexp parameter names must be identifiers, or quoted. */
const param = (name: string) => (IDENT.test(name) ? name : JSON.stringify(name));
/** Characters path-to-regexp v8 treats as syntax in a literal segment. */
const escapeLiteral = (seg: string) => seg.replace(/[{}()[\]+?!:*\\]/g, "\\$&");

/** path-to-regexp (v8) route for a function source file. */
export function routeFor(file: string): string {
  const segs = functionName(file).split("/");
  if (segs[segs.length - 1] === "index") segs.pop();
  let route = "";
  for (const seg of segs) {
    let m: RegExpMatchArray | null;
    if ((m = seg.match(/^\[\[\.\.\.(.+)\]\]$/))) route += `{/*${param(m[1]!)}}`;
    else if ((m = seg.match(/^\[\.\.\.(.+)\]$/))) route += `/*${param(m[1]!)}`;
    else if ((m = seg.match(/^\[(.+)\]$/))) route += `/:${param(m[1]!)}`;
    else route += `/${escapeLiteral(seg)}`;
  }
  return route || "/";
}

/** Specificity for ordering: static segments before params before catch-alls, segment by segment; a stable, readable order for the output. */
export function routeRank(route: string): number[] {
  return route
    .split("/")
    .slice(1)
    .map((s) => (s.startsWith("*") || s.startsWith("{") ? 2 : s.startsWith(":") ? 1 : 0));
}

export function compareRoutes(a: string, b: string): number {
  const ra = routeRank(a);
  const rb = routeRank(b);
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
