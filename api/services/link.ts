import { FerryError } from "../../core/errors.ts";
import type { Encryptor } from "../../core/crypto/port.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { Deployment } from "../../core/types.ts";
import type { FerryConfig } from "../../core/config/schema.ts";
import type { StoreProvisioner } from "../../stores/port.ts";
import { storeEnvironment } from "../../stores/names.ts";

/** Lambda's limit on a function's whole environment (keys + values). */
export const LAMBDA_ENV_LIMIT = 4 * 1024;
/**
 * Room kept for the FERRY_* and VERCEL_* facts added to the environment after linking (fixed in
 * the Lambda's env at deploy time). Measured with envOf: a preview deployment with git metadata
 * at its bounds (48-character project, 100-character branch, a 200-character subject of 2-byte
 * characters, GitHub's longest owner and repository names) has 1,497 bytes of them; a typical
 * one about 600.
 */
const FACTS_RESERVE = 1536;

export const envSize = (env: Record<string, string>) => Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

/**
 * The last step before READY: provision the app's stores (idempotent) and fix the function
 * environment: user env plus each store's variables. Fails with a clear error when the result
 * would not fit in a Lambda environment.
 */
export async function linkDeployment(deps: { metadata: Metadata; encryptor: Encryptor; stores?: StoreProvisioner }, d: Deployment, log: (line: string) => void): Promise<Pick<Deployment, "envCipher" | "envKeys">> {
  const config = d.config as FerryConfig;
  const env = JSON.parse(d.envCipher ? await deps.encryptor.decrypt(d.envCipher) : "{}") as Record<string, string>;
  const stores = Object.entries(config.stores ?? {});
  if (stores.length && !deps.stores) throw new FerryError("stores_unavailable", "this platform has no data store provisioner configured", 400);
  for (const [name, spec] of stores) {
    const environment = storeEnvironment(d.target, spec);
    const linked = await deps.stores!.ensure({ accountId: d.accountId, project: d.project, environment, name, type: spec.type, ...(spec.keys ? { keys: spec.keys } : {}) });
    await deps.metadata.putStore({ accountId: d.accountId, project: d.project, environment, name, type: spec.type, resource: linked.resource, createdAt: linked.createdAt });
    Object.assign(env, linked.env);
    log(`Linked ${spec.type} store "${name}" (${environment}): ${linked.resource}`);
  }
  const size = envSize(env);
  if (size + FACTS_RESERVE > LAMBDA_ENV_LIMIT) {
    const biggest = Object.entries(env).sort((a, b) => b[1].length - a[1].length).slice(0, 3).map(([k, v]) => `${k} (${Buffer.byteLength(v)} B)`);
    throw new FerryError(
      "env_too_large",
      `the function environment is ${size} bytes; with Ferry's own variables it must stay under ${LAMBDA_ENV_LIMIT - FACTS_RESERVE} bytes (AWS Lambda's 4 KB limit). Largest: ${biggest.join(", ")}. Keep large values in a blob store instead.`,
      400,
    );
  }
  return { envCipher: await deps.encryptor.encrypt(JSON.stringify(env)), envKeys: Object.keys(env).sort() };
}
