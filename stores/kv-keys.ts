import { FerryError } from "../core/errors.ts";
import type { StoreSpec } from "./port.ts";

/** Attribute names of a kv table's primary key; both are strings. */
export interface KvKeys {
  partition: string;
  sort?: string;
}

/** Generic single-table default: any app can model its data with string `pk` + `sk`. */
export const DEFAULT_KV_KEYS: KvKeys = { partition: "pk", sort: "sk" };

/** A store spec that may also say how a kv table is keyed (ignored for blob stores). */
export type ProvisionSpec = StoreSpec & { keys?: KvKeys };

const ATTRIBUTE = /^[A-Za-z_][A-Za-z0-9_.-]{0,254}$/;

export function assertKvKeys(keys: KvKeys): void {
  for (const k of [keys.partition, keys.sort]) {
    if (k !== undefined && !ATTRIBUTE.test(k)) throw new FerryError("invalid_store_keys", `invalid key attribute name ${JSON.stringify(k)}`, 400);
  }
  if (keys.sort !== undefined && keys.sort === keys.partition) throw new FerryError("invalid_store_keys", "partition and sort keys must differ", 400);
}

/** Reads the key attributes back from a DescribeTable key schema. */
export function keysFromSchema(schema: { AttributeName?: string; KeyType?: string }[] | undefined): KvKeys | undefined {
  const partition = schema?.find((k) => k.KeyType === "HASH")?.AttributeName;
  if (!partition) return undefined;
  const sort = schema?.find((k) => k.KeyType === "RANGE")?.AttributeName;
  return sort ? { partition, sort } : { partition };
}

export const sameKeys = (a: KvKeys, b: KvKeys) => a.partition === b.partition && (a.sort ?? "") === (b.sort ?? "");
