import { FerryError } from "../../core/errors.ts";
import { projectNameProblem } from "../../core/config/schema.ts";
import { randomId } from "../../core/ids.ts";
import type { EnvVarRecord } from "../../core/metadata/repository.ts";
import type { AuthContext } from "./tokens.ts";
import type { ApiDeps } from "../types.ts";

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENVIRONMENTS = ["production", "preview"] as const;
type Environment = (typeof ENVIRONMENTS)[number];
/** Names the platform sets itself; a project may not shadow them. */
const RESERVED = /^(FERRY_|AWS_LAMBDA_|_HANDLER$|LAMBDA_)/;

export function parseEnvironments(value: unknown): Environment[] {
  const list = value === undefined ? [...ENVIRONMENTS] : Array.isArray(value) ? value : [value];
  for (const e of list) {
    if (!ENVIRONMENTS.includes(e as Environment)) throw new FerryError("invalid_environment", `environment must be "production" or "preview", got ${JSON.stringify(e)}`, 400);
  }
  return list as Environment[];
}

export function validateEnvKey(key: unknown): string {
  if (typeof key !== "string" || !KEY_RE.test(key)) throw new FerryError("invalid_env_key", `env var name ${JSON.stringify(key)} must match [A-Za-z_][A-Za-z0-9_]*`, 400);
  if (RESERVED.test(key)) throw new FerryError("reserved_env_key", `env var name ${key} is reserved by the platform`, 400);
  return key;
}

/** Project env vars per environment; values encrypted at rest, sensitive ones write-only. */
export function envService(deps: ApiDeps) {
  const { metadata, encryptor } = deps;

  const project = async (auth: AuthContext, name: string) => {
    const problem = projectNameProblem(name);
    if (problem) throw new FerryError("invalid_name", `project name ${JSON.stringify(name)} ${problem}`, 400);
    return metadata.ensureProject({ id: `prj_${randomId(12)}`, accountId: auth.accountId, name, createdAt: Date.now() });
  };

  async function add(auth: AuthContext, projectName: string, body: { key?: unknown; value?: unknown; environment?: unknown; sensitive?: unknown }) {
    const key = validateEnvKey(body.key);
    if (typeof body.value !== "string") throw new FerryError("invalid_env_value", "value must be a string", 400);
    if (Buffer.byteLength(body.value) > 64 * 1024) throw new FerryError("invalid_env_value", `value of ${key} is over 64 KB`, 400);
    const environments = parseEnvironments(body.environment);
    await project(auth, projectName);
    const valueCipher = await encryptor.encrypt(body.value);
    for (const environment of environments) {
      await metadata.putEnvVar({ accountId: auth.accountId, project: projectName, environment, key, valueCipher, sensitive: body.sensitive === true, updatedAt: Date.now() });
    }
    return { key, environments, sensitive: body.sensitive === true };
  }

  /** Lists vars; with `decrypt`, includes values of non-sensitive ones (never of sensitive ones). */
  async function list(auth: AuthContext, projectName: string, opts: { environment?: string; decrypt?: boolean }) {
    const envFilter = opts.environment ? parseEnvironments(opts.environment)[0] : undefined;
    const vars = (await metadata.listEnvVars(auth.accountId, projectName)).filter((v) => !envFilter || v.environment === envFilter);
    return Promise.all(
      vars.map(async (v) => ({
        key: v.key,
        environment: v.environment,
        sensitive: v.sensitive,
        updatedAt: v.updatedAt,
        ...(opts.decrypt && !v.sensitive ? { value: await encryptor.decrypt(v.valueCipher) } : {}),
      })),
    );
  }

  async function remove(auth: AuthContext, projectName: string, key: string, environment?: string) {
    validateEnvKey(key);
    const environments = parseEnvironments(environment);
    let removed = 0;
    for (const e of environments) if (await metadata.deleteEnvVar(auth.accountId, projectName, e, key)) removed++;
    if (!removed) throw new FerryError("env_not_found", `no env var ${key} in ${environments.join(" or ")} of ${projectName}`, 404);
    return { key, environments, removed };
  }

  /** The project's plaintext env for one environment, for a new deployment (server side only). */
  async function resolve(accountId: string, projectName: string, environment: Environment) {
    const vars: EnvVarRecord[] = (await metadata.listEnvVars(accountId, projectName)).filter((v) => v.environment === environment);
    const out: Record<string, string> = {};
    for (const v of vars) out[v.key] = await encryptor.decrypt(v.valueCipher);
    return out;
  }

  return { add, list, remove, resolve };
}
