import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { FerryError } from "../core/errors.ts";
import { keysFromSchema, sameKeys, type KvKeys } from "./kv-keys.ts";
import { pollUntil } from "./poll.ts";

// Creation and deletion take seconds on AWS; dynalite is instant.
const TABLE_TIMEOUT_MS = 5 * 60_000;

async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (e) {
    if ((e as Error).name === "ResourceNotFoundException") return undefined;
    throw e;
  }
}

async function create(client: DynamoDBClient, table: string, keys: KvKeys): Promise<void> {
  const attrs = [keys.partition, ...(keys.sort ? [keys.sort] : [])];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: attrs.map((a) => ({ AttributeName: a, AttributeType: "S" })),
        KeySchema: [
          { AttributeName: keys.partition, KeyType: "HASH" },
          ...(keys.sort ? [{ AttributeName: keys.sort, KeyType: "RANGE" as const }] : []),
        ],
      }),
    );
  } catch (e) {
    // a concurrent ensure created it, or an earlier one is still being deleted: the poll sorts it out
    if ((e as Error).name !== "ResourceInUseException") throw e;
  }
}

/**
 * Creates the table when missing and waits until it can be used. A table that is still being
 * deleted (destroy then ensure) is waited out and created again. An existing table keyed
 * differently is an error: silently using it would break every write.
 */
export async function ensureTable(client: DynamoDBClient, table: string, keys: KvKeys): Promise<{ createdAt: number }> {
  const ready = await pollUntil(TABLE_TIMEOUT_MS, async () => {
    const t = await describe(client, table);
    if (!t) await create(client, table, keys);
    // UPDATING tables serve reads and writes
    return t && (t.TableStatus === "ACTIVE" || t.TableStatus === "UPDATING") ? t : undefined;
  });
  if (!ready) throw new FerryError("store_timeout", `table ${table} did not become ACTIVE`, 503);
  const existing = keysFromSchema(ready.KeySchema);
  if (existing && !sameKeys(existing, keys))
    throw new FerryError(
      "store_keys_mismatch",
      `table ${table} is keyed by ${JSON.stringify(existing)}, not ${JSON.stringify(keys)}; destroy the store to change its keys`,
      409,
    );
  return { createdAt: ready.CreationDateTime?.getTime() ?? Date.now() };
}

/** Deletes the table and waits until it is gone, so an ensure right after creates a fresh one. */
export async function deleteTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: table }));
  } catch (e) {
    if ((e as Error).name === "ResourceNotFoundException") return;
    throw e;
  }
  const gone = await pollUntil(TABLE_TIMEOUT_MS, async () => ((await describe(client, table)) ? undefined : true));
  if (!gone) throw new FerryError("store_timeout", `table ${table} was not deleted in time`, 503);
}

/**
 * Counts items with a paginated COUNT scan: DescribeTable's ItemCount is refreshed only about
 * every six hours on AWS and never by dynalite. Byte size comes from DescribeTable (AWS's
 * estimate, 0 embedded), since measuring it exactly would mean reading every item.
 */
export async function tableUsage(client: DynamoDBClient, table: string): Promise<{ items: number; bytes: number }> {
  let items = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const r = await client.send(new ScanCommand({ TableName: table, Select: "COUNT", ExclusiveStartKey: start }));
    items += r.Count ?? 0;
    start = r.LastEvaluatedKey;
  } while (start);
  const t = await describe(client, table);
  return { items, bytes: t?.TableSizeBytes ?? 0 };
}
