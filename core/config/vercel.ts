import { FerryError } from "../errors.ts";
import { jsonPath, parseFerryConfig, type FerryConfig } from "./schema.ts";
import type { ConfigFileName, ConfigSource } from "./source.ts";

export { configLogLines, type ConfigFileName, type ConfigSource } from "./source.ts";

/**
 * The project's config file: ferry.json, else vercel.json, so an app written for Vercel deploys
 * unchanged. Both are read the same way (ferry.json is vercel.json plus Ferry's own keys): keys
 * Vercel accepts that mean nothing here are dropped and named, the legacy `builds` is refused,
 * anything else unknown fails with its JSON path.
 */

export interface ProjectConfig {
  config: FerryConfig;
  source: ConfigSource;
}

/** Top-level vercel.json keys about Vercel's own infrastructure, dashboard or git integration. */
const IGNORED_KEYS = new Set([
  "regions", "functionFailoverRegions", "passiveRegions", "public", "github", "git", "images",
  "devCommand", "ignoreCommand", "scope", "bunVersion", "fluid", "relatedProjects", "wildcard",
]);
/** Keys of a `functions` entry that only mean something on Vercel. */
const IGNORED_FUNCTION_KEYS = new Set(["runtime", "regions", "functionFailoverRegions", "supportsCancellation", "experimentalTriggers"]);
/** vercel.json's "detect it yourself" value; the same as leaving the key out. */
const NULL_MEANS_DEFAULT = ["buildCommand", "installCommand", "outputDirectory"];
/** What Ferry adds to vercel.json: Vercel would refuse these, so they belong in ferry.json. */
const FERRY_KEYS = new Set(["stores", "installScripts"]);
const FERRY_FUNCTION_KEYS = new Set(["maxConcurrency", "streamingBody"]);

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

function configError(file: ConfigFileName, path: (string | number)[], message: string): FerryError {
  const at = jsonPath(path);
  return new FerryError("invalid_config", `${file}: ${at}: ${message}`, 400, { issues: [{ path: at, message }] });
}

/**
 * Parses ferry.json or vercel.json text (or value) into Ferry's config and the keys it ignored.
 * Throws `invalid_config` naming the file and the JSON path of the first problem.
 */
export function parseConfigFile(input: unknown, file: ConfigFileName): { config: FerryConfig; ignoredKeys: string[] } {
  let value = input;
  if (typeof input === "string" || Buffer.isBuffer(input)) {
    const text = input.toString("utf8").replace(/^\uFEFF/, "");
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new FerryError("invalid_config", `${file} is not valid JSON: ${(e as Error).message}`, 400);
    }
  }
  // anything but an object is left to the schema, which names what it expected
  if (!isObject(value)) return { config: parseFerryConfig(value, file), ignoredKeys: [] };

  const rest: Record<string, unknown> = { ...value };
  const ignoredKeys: string[] = [];
  if ("builds" in rest) {
    throw configError(file, ["builds"], "the legacy `builds` key is not supported: Ferry finds functions (api/**) and server apps itself; remove `builds` (and `routes` that point at what it built)");
  }
  for (const key of Object.keys(rest)) {
    if (file === "vercel.json" && FERRY_KEYS.has(key)) throw configError(file, [key], "is a Ferry setting, not a vercel.json one: put it in ferry.json (with the rest of this file; vercel.json is not read when ferry.json exists)");
    // `framework: null` (no preset) is what Ferry does; a named framework's preset is not applied
    if (IGNORED_KEYS.has(key) || (key === "framework" && rest[key] !== null)) {
      ignoredKeys.push(key);
      delete rest[key];
    }
  }
  for (const key of NULL_MEANS_DEFAULT) if (rest[key] === null) delete rest[key];

  if (isObject(rest.functions)) {
    const functions: Record<string, unknown> = {};
    for (const [glob, spec] of Object.entries(rest.functions)) {
      if (!isObject(spec)) {
        functions[glob] = spec;
        continue;
      }
      const kept: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(spec)) {
        if (file === "vercel.json" && FERRY_FUNCTION_KEYS.has(k)) throw configError(file, ["functions", glob, k], "is a Ferry setting, not a vercel.json one: put it in ferry.json");
        if (IGNORED_FUNCTION_KEYS.has(k)) ignoredKeys.push(jsonPath(["functions", glob, k]));
        else kept[k] = v;
      }
      functions[glob] = kept;
    }
    rest.functions = functions;
  }
  return { config: parseFerryConfig(rest, file), ignoredKeys };
}

/** Which config file an upload uses: ferry.json wins over vercel.json. */
export function chooseConfigFile(paths: Iterable<string>): { file: ConfigFileName | null; ignoredFiles: ConfigFileName[] } {
  const present = new Set(paths);
  if (present.has("ferry.json")) return { file: "ferry.json", ignoredFiles: present.has("vercel.json") ? ["vercel.json"] : [] };
  if (present.has("vercel.json")) return { file: "vercel.json", ignoredFiles: [] };
  return { file: null, ignoredFiles: [] };
}

/** Reads the project's config from an upload; `read` returns a root file's bytes. */
export async function readProjectConfig(paths: Iterable<string>, read: (file: ConfigFileName) => Promise<Buffer | string>): Promise<ProjectConfig> {
  const { file, ignoredFiles } = chooseConfigFile(paths);
  if (!file) return { config: {}, source: { file: null, ignoredFiles, ignoredKeys: [] } };
  const { config, ignoredKeys } = parseConfigFile(await read(file), file);
  return { config, source: { file, ignoredFiles, ignoredKeys } };
}
