import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * Single-table layout. dynalite has no transactions, TTL or streams, so every write is a
 * single-item conditional write and multi-item changes are ordered so that a crash between
 * steps leaves a state the next step (or a retry) can finish.
 *
 *   pk                         sk                 what
 *   ACCOUNT#<id>               ACCOUNT            account
 *   ACCOUNT#<id>               PROJECT#<name>     project, with its promotion state (promotions.ts)
 *                                                 gsi1: PROMOTIONS#PENDING while a promotion is unfinished
 *   ACCOUNT#<id>               CRON#<project>#<k> last run of one of the project's crons (crons.ts)
 *   TOKEN#<sha256>             TOKEN              API token (hash only)
 *   DEPLOYMENT#<id>            DEPLOYMENT         deployment   gsi1: account timeline, gsi2: project timeline
 *   HOST#<label>               HOST               host label -> deployment (own host or alias; a label a
 *                                                 promotion moved carries that promotion's number)
 *   CACHE#<account>#<hash>     CACHE              build cache: input hash -> READY deployment
 */
export const TABLE_GSIS = ["gsi1", "gsi2"] as const;

/** A stored item without its key and index attributes: the record itself (null when absent). */
export const strip = <T>(item: Record<string, unknown> | undefined): T | null => {
  if (!item) return null;
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...rest } = item;
  return rest as T;
};

export function createDocClient(config: DynamoDBClientConfig = {}) {
  const client = new DynamoDBClient(config);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** Creates the metadata table when it does not exist (embedded). On AWS the CDK stack owns it. */
export async function ensureTable(doc: DynamoDBDocumentClient, tableName: string): Promise<void> {
  try {
    await doc.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (e) {
    if ((e as Error).name !== "ResourceNotFoundException") throw e;
  }
  const attr = (n: string) => ({ AttributeName: n, AttributeType: "S" as const });
  try {
    await doc.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [attr("pk"), attr("sk"), attr("gsi1pk"), attr("gsi1sk"), attr("gsi2pk"), attr("gsi2sk")],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: TABLE_GSIS.map((g) => ({
          IndexName: g,
          KeySchema: [
            { AttributeName: `${g}pk`, KeyType: "HASH" as const },
            { AttributeName: `${g}sk`, KeyType: "RANGE" as const },
          ],
          Projection: { ProjectionType: "ALL" as const },
        })),
      }),
    );
  } catch (e) {
    if ((e as Error).name !== "ResourceInUseException") throw e;
  }
  for (let i = 0; i < 100; i++) {
    const d = await doc.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
