import type { Encryptor } from "../core/crypto/port.ts";
import type { Metadata } from "../core/metadata/repository.ts";
import type { FerryConfig } from "../core/config/schema.ts";
import type { Deployment } from "../core/types.ts";
import type { StoreCredentials } from "./credentials.ts";
import type { Authorize, Grant } from "./gateway/grants.ts";
import { bucketName, DEFAULT_NAME_PREFIX, envPrefix, storeEnvironment, tableName } from "./names.ts";

/**
 * What a deployment may reach through the store gateway (the embedded counterpart of a
 * per-project IAM role), and how its functions get the credentials to do so.
 */

/**
 * The gateway's `authorize` for deployment keys: the key names a deployment; a deployment that
 * is not READY, or was removed, has no grant. It is granted the tables and buckets of the
 * stores its ferry.json declares, under its own account, project and environment, as linked
 * into its env (`FERRY_STORE_<NAME>_TABLE` / `_BUCKET`). Both must agree: the env alone is not
 * trusted, since a name in it could have come from elsewhere than the linker.
 */
export function deploymentGrants(deps: { metadata: Pick<Metadata, "getDeployment">; encryptor: Encryptor; credentials: StoreCredentials; namePrefix?: string }): Authorize {
  const prefix = deps.namePrefix ?? DEFAULT_NAME_PREFIX;
  return async (accessKeyId): Promise<Grant | null> => {
    const id = deps.credentials.deploymentIdOf(accessKeyId);
    if (!id) return null;
    const d = await deps.metadata.getDeployment(id);
    if (!d || d.removedAt || d.state !== "READY") return null;
    const env = d.envCipher ? (JSON.parse(await deps.encryptor.decrypt(d.envCipher)) as Record<string, string>) : {};
    const resources = new Set<string>();
    for (const [name, spec] of Object.entries((d.config as FerryConfig).stores ?? {})) {
      const identity = { accountId: d.accountId, project: d.project, environment: storeEnvironment(d.target, spec), name };
      const [resource, variable] = spec.type === "kv" ? [tableName(identity, prefix), "TABLE"] : [bucketName(identity, prefix), "BUCKET"];
      if (env[`${envPrefix(name)}_${variable}`] === resource) resources.add(resource);
    }
    return { secret: deps.credentials.secretFor(accessKeyId), resources };
  };
}

/**
 * The router's `storeAccess` hook: a deployment with stores gets its own credentials and the
 * gateway's endpoints, whatever its stored env says. Deployments linked before the gateway
 * existed carry the emulators' fixed key pair and ports; this is what keeps them working.
 */
export function deploymentStoreEnv(credentials: StoreCredentials, endpoints: { dynamodbEndpoint: string; s3Endpoint: string; region?: string }) {
  return (d: Deployment, env: Record<string, string>): Record<string, string> => {
    const types = new Set(Object.entries(env).filter(([k]) => /^FERRY_STORE_[A-Z0-9_]+_TYPE$/.test(k)).map(([, v]) => v));
    if (!types.has("kv") && !types.has("blob")) return {};
    const accessKeyId = credentials.accessKeyIdFor(d.id);
    return {
      AWS_REGION: env.AWS_REGION ?? endpoints.region ?? "us-east-1",
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretFor(accessKeyId),
      ...(types.has("kv") ? { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint } : {}),
      ...(types.has("blob")
        ? {
            AWS_ENDPOINT_URL_S3: endpoints.s3Endpoint,
            AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
            AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
            FERRY_S3_FORCE_PATH_STYLE: "true",
          }
        : {}),
    };
  };
}
