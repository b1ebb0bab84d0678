import { envPrefix } from "./names.ts";
import type { KvKeys } from "./kv-keys.ts";

/**
 * Where functions on the embedded platform reach their stores: the store gateway's endpoints.
 * No credentials: each deployment gets its own at run time (see `deploymentStoreEnv`).
 */
export interface LocalEndpoints {
  dynamodbEndpoint: string;
  s3Endpoint: string;
  region: string;
}

/** What tells app code which table it owns and how its items are keyed. */
export function kvEnv(name: string, table: string, keys: KvKeys): Record<string, string> {
  const p = envPrefix(name);
  return {
    [`${p}_TYPE`]: "kv",
    [`${p}_TABLE`]: table,
    [`${p}_PARTITION_KEY`]: keys.partition,
    ...(keys.sort ? { [`${p}_SORT_KEY`]: keys.sort } : {}),
  };
}

export function blobEnv(name: string, bucket: string): Record<string, string> {
  const p = envPrefix(name);
  return { [`${p}_TYPE`]: "blob", [`${p}_BUCKET`]: bucket };
}

/**
 * Variables that point the plain AWS SDK v3 at the embedded store gateway with no code change:
 * the SDK reads `AWS_ENDPOINT_URL_<SERVICE>` and the two checksum settings itself. s3rver
 * predates the SDK's default request checksums (sent as aws-chunked bodies), hence
 * `WHEN_REQUIRED`. The SDK has no variable for path-style addressing, which s3rver needs
 * (`<bucket>.127.0.0.1` does not resolve), so app code reads `FERRY_S3_FORCE_PATH_STYLE`.
 * The deployment's own key pair is added when its functions run (the router's `storeAccess`).
 * On AWS none of these are set: the function's role, region and default endpoints apply.
 */
export function localEnv(local: LocalEndpoints, type: "kv" | "blob"): Record<string, string> {
  const common = { AWS_REGION: local.region };
  if (type === "kv") return { ...common, AWS_ENDPOINT_URL_DYNAMODB: local.dynamodbEndpoint };
  return {
    ...common,
    AWS_ENDPOINT_URL_S3: local.s3Endpoint,
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    FERRY_S3_FORCE_PATH_STYLE: "true",
  };
}
