/**
 * Which tables a DynamoDB operation names, and which operations an app may call at all.
 *
 * Apps read and write items of their own tables. They do not manage tables: creating, changing,
 * deleting or tagging a table is the platform's provisioner's job, and it talks to the emulator
 * directly, not through the gateway. Operations not listed here (PartiQL statements, backups,
 * exports, anything new) are refused, because the tables they touch cannot be read off their
 * parameters reliably.
 */

/** operations on the one table named by `TableName` */
const SINGLE_TABLE = new Set(["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups", "DescribeContributorInsights"]);
/** operations on the tables that are the keys of `RequestItems` */
const BATCH = new Set(["BatchGetItem", "BatchWriteItem"]);
/** operations on the tables named inside each `TransactItems` entry */
const TRANSACT = new Set(["TransactGetItems", "TransactWriteItems"]);

export type Decision =
  | { allow: true; tables: string[] }
  | { allow: false; message: string }
  /** ListTables: answered by the gateway, with the granted tables only */
  | { listTables: true };

export function decide(operation: string, body: Record<string, unknown>, granted: ReadonlySet<string>): Decision {
  if (operation === "ListTables") return { listTables: true };
  let tables: unknown[];
  if (SINGLE_TABLE.has(operation)) tables = [body.TableName];
  else if (BATCH.has(operation)) tables = isObject(body.RequestItems) ? Object.keys(body.RequestItems) : [];
  else if (TRANSACT.has(operation)) tables = Array.isArray(body.TransactItems) ? body.TransactItems.flatMap(transactTables) : [];
  else return { allow: false, message: `not authorized to perform dynamodb:${operation}: apps use their tables, the platform manages them` };

  if (tables.length === 0) return { allow: false, message: `dynamodb:${operation} names no table this deployment may use` };
  for (const t of tables) {
    if (typeof t !== "string") return { allow: false, message: `dynamodb:${operation} must name its tables by name` };
    if (!granted.has(t)) return { allow: false, message: `not authorized to perform dynamodb:${operation} on table ${JSON.stringify(t)}: it is not one of this deployment's stores` };
  }
  return { allow: true, tables: tables as string[] };
}

/** `{ Put: { TableName } }`, `{ ConditionCheck: { TableName } }`, ...: every member's table. */
function transactTables(entry: unknown): unknown[] {
  if (!isObject(entry)) return [undefined];
  const members = Object.values(entry);
  if (members.length === 0) return [undefined];
  return members.map((m) => (isObject(m) ? m.TableName : undefined));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
