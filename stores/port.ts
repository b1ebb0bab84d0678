/** A data store an app declares in ferry.json (`"stores": { "todos": { "type": "kv" } }`). */
export interface StoreSpec {
  accountId: string;
  project: string;
  /** `production` or `preview`: preview deployments get their own stores unless configured otherwise */
  environment: "production" | "preview";
  /** the name in ferry.json, e.g. `todos` */
  name: string;
  type: "kv" | "blob";
  /** kv only: key attributes of the table (default `pk` + `sk`) */
  keys?: { partition: string; sort?: string };
}

/** A provisioned store and what a function needs in its environment to reach it. */
export interface LinkedStore extends StoreSpec {
  /** the DynamoDB table or S3 bucket name */
  resource: string;
  /** variables merged into the function's environment */
  env: Record<string, string>;
  createdAt: number;
}

/**
 * Provisions app data stores. One implementation over the AWS SDK, pointed at DynamoDB/S3 on AWS
 * or at dynalite/s3rver embedded; every call is idempotent.
 */
export interface StoreProvisioner {
  ensure(spec: StoreSpec): Promise<LinkedStore>;
  /** deletes the table or bucket and everything in it */
  destroy(store: LinkedStore): Promise<void>;
  /** approximate size: item count (kv) or object count and bytes (blob) */
  usage(store: LinkedStore): Promise<{ items: number; bytes: number }>;
}
