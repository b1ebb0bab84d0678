import { z } from "zod";
import { cleanUrlsConfig, headersConfig, redirectsConfig, rewritesConfig, routesConfig, routingIssues, trailingSlashConfig } from "./routing.ts";
import { FerryError } from "../errors.ts";
import { hostLabelProblem } from "./labels.ts";
import { cronScheduleProblem } from "./cron-schedule.ts";

// ferry.json: a subset of vercel.json semantics so people carry their knowledge over.

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name");
const envMap = z.record(envName, z.string());

/** Project names: they become host labels (`<project>` and `<project>-<suffix>`), so DNS-label
 * rules apply (see ./labels.ts), at most 48 characters so the suffixed label stays within 63. */
export const MAX_PROJECT_NAME = 48;
/** The character rule alone; `projectNameProblem` is the whole rule. */
export const PROJECT_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$/;

/** What is wrong with a project name, or null when it is one. */
export function projectNameProblem(name: string): string | null {
  return hostLabelProblem(name, MAX_PROJECT_NAME);
}

const STORE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const keyAttribute = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,254}$/, "must be a DynamoDB attribute name");
const storeSpec = z.strictObject({
  type: z.enum(["kv", "blob"]),
  /** preview deployments use the production store too (off: previews get their own) */
  production: z.boolean().optional(),
  /** kv only: the table's key attributes (strings); default `pk` + `sk` */
  keys: z.strictObject({ partition: keyAttribute, sort: keyAttribute.optional() }).optional(),
});

export const functionConfigSchema = z.strictObject({
  memory: z.number().int().min(128).max(10240).optional(),
  maxDuration: z.number().positive().max(900).optional(),
  maxConcurrency: z.number().int().min(1).max(1000).optional(),
  /** stream the request body to the function as it arrives (no payload limit, bounded by maxDuration) */
  streamingBody: z.boolean().optional(),
  /** glob (relative to the app root) of files shipped beside the function and readable at run time */
  includeFiles: z.string().min(1).optional(),
  /** glob of files left out of what tracing and includeFiles would ship */
  excludeFiles: z.string().min(1).optional(),
});

/** vercel.json `crons`: GET `path` on the production deployment on `schedule` (five-field cron, UTC). */
export const cronSchema = z.strictObject({
  path: z.string().startsWith("/", "must start with '/'").max(512),
  schedule: z.string().min(9).max(256).superRefine((s, ctx) => {
    const problem = cronScheduleProblem(s);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
});

export const ferryConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  /** vercel.json's config version; only 2 exists */
  version: z.literal(2).optional(),
  /** vercel.json: `null` means no framework preset, which is all Ferry does */
  framework: z.null().optional(),
  crons: z.array(cronSchema).max(100).optional(),
  name: z
    .string()
    .superRefine((s, ctx) => {
      const problem = projectNameProblem(s);
      if (problem) ctx.addIssue({ code: "custom", message: `project name ${JSON.stringify(s)} ${problem}` });
    })
    .optional(),
  alias: z.union([z.string(), z.array(z.string())]).optional(),
  env: envMap.optional(),
  build: z.strictObject({ env: envMap.optional() }).optional(),
  // routing: Vercel's schemas and rules (./routing.ts)
  rewrites: rewritesConfig.optional(),
  redirects: redirectsConfig.optional(),
  headers: headersConfig.optional(),
  cleanUrls: cleanUrlsConfig.optional(),
  trailingSlash: trailingSlashConfig.optional(),
  routes: routesConfig.optional(),
  functions: z.record(z.string(), functionConfigSchema).optional(),
  stores: z
    .record(z.string(), storeSpec)
    .superRefine((stores, ctx) => {
      for (const [name, spec] of Object.entries(stores)) {
        if (!STORE_NAME.test(name)) {
          ctx.addIssue({ code: "custom", path: [name], message: `invalid store name ${JSON.stringify(name)}: use 1-40 characters of a-z, 0-9 and '-', starting with a letter` });
        }
        if (spec.keys && spec.type !== "kv") ctx.addIssue({ code: "custom", path: [name, "keys"], message: "only kv stores have keys" });
      }
    })
    .optional(),
  installCommand: z.string().optional(),
  buildCommand: z.string().optional(),
  outputDirectory: z.string().optional(),
  /** run dependency lifecycle scripts (postinstall...) during install; off by default */
  installScripts: z.boolean().optional(),
}).superRefine((config, ctx) => {
  // what Vercel refuses across the routing keys (permanent with statusCode, a destination
  // param the source lacks, `routes` mixed with the newer keys)
  for (const issue of routingIssues(config)) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
});

export type FerryConfig = z.infer<typeof ferryConfigSchema>;

/** Renders zod's issue path as a JSON path: `rewrites[0].source`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out || "(root)";
}

/**
 * Parses ferry.json text or value; throws `invalid_config` naming the JSON path of the first
 * problem. `file` is the name errors give (vercel.json when that is what was read).
 */
export function parseFerryConfig(input: unknown, file = "ferry.json"): FerryConfig {
  let value = input;
  if (typeof input === "string" || Buffer.isBuffer(input)) {
    try {
      value = JSON.parse(input.toString());
    } catch (e) {
      throw new FerryError("invalid_config", `${file} is not valid JSON: ${(e as Error).message}`, 400);
    }
  }
  const r = ferryConfigSchema.safeParse(value ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) => {
      // name the offending key itself, not its parent object
      const keys = i.code === "unrecognized_keys" ? (i as { keys: string[] }).keys : [];
      return keys.length ? { path: jsonPath([...i.path, keys[0]!]), message: "unknown property" } : { path: jsonPath(i.path), message: i.message };
    });
    const first = issues[0]!;
    throw new FerryError("invalid_config", `${file}: ${first.path}: ${first.message}`, 400, { issues });
  }
  return r.data;
}
