import {
  cleanUrlsSchema,
  getTransformedRoutes,
  headersSchema,
  redirectsSchema,
  rewritesSchema,
  routesSchema,
  trailingSlashSchema,
  type Header,
  type Redirect,
  type Rewrite,
  type Route,
  type RouteInput,
} from "@vercel/routing-utils";
import { z } from "zod";

// The routing keys of ferry.json and vercel.json (`redirects`, `rewrites`, `headers`, `cleanUrls`,
// `trailingSlash`, and the older `routes`) are validated and compiled by Vercel's own
// routing-utils, so their meaning cannot drift from Vercel's: its JSON schemas check the shape,
// `getTransformedRoutes` checks the meaning and produces the normalized routes array the router
// executes (router/engine/).

export type { Route } from "@vercel/routing-utils";

/** The routing keys as written in a config. */
export interface RoutingKeys {
  redirects?: Redirect[];
  rewrites?: Rewrite[];
  headers?: Header[];
  cleanUrls?: boolean;
  trailingSlash?: boolean;
  routes?: RouteInput[];
}

/** A JSON schema as zod, minus the `if`/`then` conditionals zod cannot express (they only
 * constrain `transforms`, which Ferry refuses anyway). */
function fromJsonSchema<T>(schema: unknown): z.ZodType<T> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (!v || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === "if" || k === "then" || k === "else") continue;
      out[k] = strip(x);
    }
    // an allOf whose members were only conditionals is now a list of empty schemas
    if (Array.isArray(out.allOf) && out.allOf.every((m) => m && typeof m === "object" && !Object.keys(m).length)) delete out.allOf;
    return out;
  };
  return z.fromJSONSchema(strip(schema) as Parameters<typeof z.fromJSONSchema>[0]) as unknown as z.ZodType<T>;
}

/** Keys Vercel accepts that need parts of its platform Ferry does not have. */
const UNSUPPORTED: Record<string, string> = {
  transforms: "request and response transforms are not supported",
  mitigate: "mitigations (challenge/deny) are not supported",
  env: "runtime environment substitution in routes is not supported",
  middlewarePath: "middleware is not supported",
  middlewareRawSrc: "middleware is not supported",
  middleware: "middleware is not supported",
  locale: "locale routing is not supported",
};

function refuseUnsupported(rules: unknown[] | undefined, ctx: z.RefinementCtx) {
  rules?.forEach((rule, i) => {
    if (!rule || typeof rule !== "object") return;
    for (const key of Object.keys(rule)) {
      const why = UNSUPPORTED[key];
      if (why) ctx.addIssue({ code: "custom", path: [i, key], message: why });
    }
    // a source without the leading slash compiles, but no request path can ever match it
    const source = (rule as { source?: unknown }).source;
    if (typeof source === "string" && !source.startsWith("/")) ctx.addIssue({ code: "custom", path: [i, "source"], message: "must start with '/'" });
    const dest = (rule as { destination?: unknown }).destination;
    if (dest !== undefined && typeof dest !== "string") ctx.addIssue({ code: "custom", path: [i, "destination"], message: "service destinations are not supported" });
  });
}

/** A header name once `:param` placeholders are filled: letters, digits and RFC 9110 token marks. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const redirectsConfig = fromJsonSchema<Redirect[]>(redirectsSchema).superRefine(refuseUnsupported);
export const rewritesConfig = fromJsonSchema<Rewrite[]>(rewritesSchema).superRefine(refuseUnsupported);
export const headersConfig = fromJsonSchema<Header[]>(headersSchema).superRefine((rules, ctx) => {
  refuseUnsupported(rules, ctx);
  rules.forEach((rule, i) =>
    rule.headers.forEach((h, j) => {
      // a response could not carry it: Node refuses to send such a header
      if (!HEADER_NAME.test(h.key.replace(/:[A-Za-z_]\w*/g, "x"))) ctx.addIssue({ code: "custom", path: [i, "headers", j, "key"], message: "invalid header name" });
    }),
  );
});
export const cleanUrlsConfig = fromJsonSchema<boolean>(cleanUrlsSchema);
export const trailingSlashConfig = fromJsonSchema<boolean>(trailingSlashSchema);
export const routesConfig = fromJsonSchema<RouteInput[]>(routesSchema).superRefine(refuseUnsupported);

const NEW_KEYS = ["rewrites", "redirects", "headers", "cleanUrls", "trailingSlash"] as const;

/** Which key a routing-utils message ("Redirect at index 2 ...") is about. */
const MESSAGE_KEYS: [RegExp, string][] = [
  [/^Redirect at index (\d+)/, "redirects"],
  [/^Rewrite at index (\d+)/, "rewrites"],
  [/^Header at index (\d+)/, "headers"],
  [/^Route at index (\d+)/, "routes"],
];

export interface RoutingIssue {
  /** zod-style path: `["redirects", 0]` */
  path: (string | number)[];
  message: string;
}

/** What Vercel would refuse in these routing keys (after their shape has been checked). */
export function routingIssues(config: RoutingKeys): RoutingIssue[] {
  if (config.routes !== undefined) {
    const mixed = NEW_KEYS.filter((k) => config[k] !== undefined);
    if (mixed.length) {
      return [{ path: ["routes"], message: `\`routes\` cannot be used together with ${mixed.map((k) => `\`${k}\``).join(", ")}: use \`routes\` alone, or move its rules into \`rewrites\`, \`redirects\` and \`headers\`` }];
    }
  }
  const { error } = getTransformedRoutes(config);
  if (!error) return [];
  const messages = error.errors?.length ? error.errors : [error.message];
  return messages.map((message) => {
    for (const [re, key] of MESSAGE_KEYS) {
      const m = re.exec(message);
      if (!m) continue;
      // name the field itself when the message says which one (`source`, `destination`...)
      const field = /has invalid `(\w+)`/.exec(message)?.[1];
      return { path: field ? [key, Number(m[1]), field] : [key, Number(m[1])], message };
    }
    return { path: [], message };
  });
}

/**
 * The normalized routes array for a config, or null when it has no routing rules (the router
 * then skips its route engine entirely). Throws on a config `routingIssues` refuses.
 * Routes made from `redirects`/`rewrites`/`headers`/`cleanUrls`/`trailingSlash` match paths
 * case-sensitively, as Vercel's do; legacy `routes` stay case-insensitive unless they say otherwise.
 */
export function compileRoutes(config: RoutingKeys): Route[] | null {
  const legacy = config.routes !== undefined;
  if (!legacy && NEW_KEYS.every((k) => config[k] === undefined || (Array.isArray(config[k]) && !(config[k] as unknown[]).length))) return null;
  const { routes, error } = getTransformedRoutes(config);
  if (error) throw new Error(error.message);
  if (!routes?.length) return null;
  return legacy ? routes : routes.map((r) => ("src" in r && r.src !== undefined && !("handle" in r) ? { ...r, caseSensitive: true } : r));
}
