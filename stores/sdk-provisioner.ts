import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { FerryError } from "../core/errors.ts";
import { blobEnv, kvEnv, localEnv, type LocalEndpoints } from "./env.ts";
import { bucketName, DEFAULT_NAME_PREFIX, assertNamePrefix, tableName } from "./names.ts";
import { assertKvKeys, DEFAULT_KV_KEYS, type KvKeys, type ProvisionSpec } from "./kv-keys.ts";
import { deleteTable, ensureTable, tableUsage } from "./kv-table.ts";
import { bucketUsage, deleteBucket, ensureBucket } from "./blob-bucket.ts";
import type { LinkedStore, StoreProvisioner } from "./port.ts";

export interface SdkProvisionerOptions {
  /** client settings for DynamoDB (on AWS: region, the platform's credentials) */
  dynamodb?: DynamoDBClientConfig;
  s3?: S3ClientConfig;
  /**
   * Set on the embedded platform: the endpoints handed to functions (the store gateway's). The
   * provisioner's own clients talk to the emulators directly, as `dynamodb`/`s3` configure them;
   * with `local` its S3 client also uses path-style addressing and no default checksums.
   */
  local?: LocalEndpoints;
  /** key schema of new kv tables when the spec names none; default `pk` + `sk` (strings) */
  kvKeySchema?: KvKeys;
  /** first part of every resource name, one per installation; default `ferry` */
  namePrefix?: string;
}

/** The provisioner plus what only this implementation has: key schemas and closing its clients. */
export interface SdkStoreProvisioner extends StoreProvisioner {
  ensure(spec: ProvisionSpec): Promise<LinkedStore>;
  /** the resource name a store gets, without creating anything */
  resourceName(spec: ProvisionSpec): string;
  close(): void;
}

/**
 * Provisions kv stores as DynamoDB tables and blob stores as S3 buckets, through the AWS SDK:
 * the same code runs against AWS and against the embedded dynalite and s3rver.
 */
export function createSdkProvisioner(opts: SdkProvisionerOptions): SdkStoreProvisioner {
  const prefix = opts.namePrefix ?? DEFAULT_NAME_PREFIX;
  assertNamePrefix(prefix);
  const defaultKeys = opts.kvKeySchema ?? DEFAULT_KV_KEYS;
  assertKvKeys(defaultKeys);
  const local = opts.local;

  const dynamodb = new DynamoDBClient({ ...opts.dynamodb });
  const s3 = new S3Client({
    // s3rver: `<bucket>.localhost` is not path-style, and it cannot read aws-chunked bodies
    ...(local ? { forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
    ...opts.s3,
  });

  const resourceName = (spec: ProvisionSpec) => (spec.type === "kv" ? tableName(spec, prefix) : bucketName(spec, prefix));

  /** A LinkedStore may come back from stored metadata: never act on a resource that is not its own. */
  const ownResource = (store: LinkedStore) => {
    const expected = resourceName(store);
    if (store.resource !== expected)
      throw new FerryError("store_mismatch", `store ${store.name} maps to ${expected}, not ${store.resource}`, 400);
    return expected;
  };

  return {
    resourceName,

    async ensure(spec) {
      const resource = resourceName(spec);
      const base = { accountId: spec.accountId, project: spec.project, environment: spec.environment, name: spec.name, type: spec.type };
      if (spec.type === "kv") {
        const keys = spec.keys ?? defaultKeys;
        assertKvKeys(keys);
        const { createdAt } = await ensureTable(dynamodb, resource, keys);
        return { ...base, resource, createdAt, env: { ...kvEnv(spec.name, resource, keys), ...(local ? localEnv(local, "kv") : {}) } };
      }
      const { createdAt } = await ensureBucket(s3, resource);
      return { ...base, resource, createdAt, env: { ...blobEnv(spec.name, resource), ...(local ? localEnv(local, "blob") : {}) } };
    },

    async destroy(store) {
      const resource = ownResource(store);
      if (store.type === "kv") await deleteTable(dynamodb, resource);
      else await deleteBucket(s3, resource);
    },

    async usage(store) {
      const resource = ownResource(store);
      try {
        return store.type === "kv" ? await tableUsage(dynamodb, resource) : await bucketUsage(s3, resource);
      } catch (e) {
        const name = (e as Error).name;
        if (name === "ResourceNotFoundException" || name === "NoSuchBucket")
          throw new FerryError("store_not_found", `store ${store.name} (${resource}) does not exist`, 404);
        throw e;
      }
    },

    close() {
      dynamodb.destroy();
      s3.destroy();
    },
  };
}
