import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { strip } from "./table.ts";

/** An account's outgoing webhook (`ACCOUNT#<id>` / `WEBHOOK#<id>`); the secret is stored encrypted. */
export interface WebhookRecord {
  id: string;
  accountId: string;
  url: string;
  events: string[];
  secretCipher: string;
  createdAt: number;
}

export interface DeliveryAttempt {
  at: number;
  status?: number;
  error?: string;
  latencyMs: number;
}

/**
 * One event for one webhook (`WEBHOOK#<id>` / `DELIVERY#<id>`, ids sort by time). While it is
 * pending it is also in gsi1 under `DELIVERIES#PENDING`, ordered by when it is next due, so a
 * restart finds every delivery still owed.
 */
export interface DeliveryRecord {
  id: string;
  webhookId: string;
  accountId: string;
  event: string;
  /** the exact bytes sent and signed */
  body: string;
  state: "pending" | "delivered" | "failed";
  attempts: DeliveryAttempt[];
  nextAttemptAt?: number;
  createdAt: number;
}

const PENDING = "DELIVERIES#PENDING";
const pad = (n: number) => n.toString().padStart(15, "0");
export function webhookMethods(doc: DynamoDBDocumentClient, table: string) {
  const deliveryKey = (webhookId: string, id: string) => ({ pk: `WEBHOOK#${webhookId}`, sk: `DELIVERY#${id}` });
  return {
    async putWebhook(w: WebhookRecord) {
      await doc.send(new PutCommand({ TableName: table, Item: { pk: `ACCOUNT#${w.accountId}`, sk: `WEBHOOK#${w.id}`, ...w } }));
    },
    async getWebhook(accountId: string, id: string) {
      return strip<WebhookRecord>((await doc.send(new GetCommand({ TableName: table, Key: { pk: `ACCOUNT#${accountId}`, sk: `WEBHOOK#${id}` }, ConsistentRead: true }))).Item);
    },
    async listWebhooks(accountId: string) {
      const r = await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `ACCOUNT#${accountId}`, ":s": "WEBHOOK#" } }));
      return (r.Items ?? []).map((i) => strip<WebhookRecord>(i)!);
    },
    async deleteWebhook(accountId: string, id: string) {
      const r = await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `ACCOUNT#${accountId}`, sk: `WEBHOOK#${id}` }, ReturnValues: "ALL_OLD" }));
      return !!r.Attributes;
    },

    /** Records a delivery; a pending one is indexed by when it is due. */
    async putDelivery(d: DeliveryRecord) {
      const index = d.state === "pending" ? { gsi1pk: PENDING, gsi1sk: `${pad(d.nextAttemptAt ?? d.createdAt)}#${d.id}` } : {};
      await doc.send(new PutCommand({ TableName: table, Item: { ...deliveryKey(d.webhookId, d.id), ...index, ...d } }));
    },
    /** Replaces a delivery after an attempt; leaves the pending index once it is final. */
    async saveAttempt(d: DeliveryRecord) {
      const pending = d.state === "pending";
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: deliveryKey(d.webhookId, d.id),
          UpdateExpression: pending ? "SET #s = :s, attempts = :a, nextAttemptAt = :n, gsi1pk = :g, gsi1sk = :gs" : "SET #s = :s, attempts = :a REMOVE nextAttemptAt, gsi1pk, gsi1sk",
          ExpressionAttributeNames: { "#s": "state" },
          ExpressionAttributeValues: { ":s": d.state, ":a": d.attempts, ...(pending ? { ":n": d.nextAttemptAt, ":g": PENDING, ":gs": `${pad(d.nextAttemptAt!)}#${d.id}` } : {}) },
        }),
      );
    },
    async getDelivery(webhookId: string, id: string) {
      return strip<DeliveryRecord>((await doc.send(new GetCommand({ TableName: table, Key: deliveryKey(webhookId, id), ConsistentRead: true }))).Item);
    },
    /** Newest first. */
    async listDeliveries(webhookId: string, limit = 50) {
      const r = await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `WEBHOOK#${webhookId}`, ":s": "DELIVERY#" }, ScanIndexForward: false, Limit: limit }));
      return (r.Items ?? []).map((i) => strip<DeliveryRecord>(i)!);
    },
    /** Pending deliveries due by `until`, soonest first. */
    async dueDeliveries(until: number, limit = 100) {
      const r = await doc.send(
        new QueryCommand({ TableName: table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p AND gsi1sk <= :u", ExpressionAttributeValues: { ":p": PENDING, ":u": `${pad(until)}#~` }, Limit: limit }),
      );
      return (r.Items ?? []).map((i) => strip<DeliveryRecord>(i)!);
    },
    /** When the next pending delivery is due, if any. */
    async nextDueAt(): Promise<number | null> {
      const r = await doc.send(new QueryCommand({ TableName: table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: { ":p": PENDING }, Limit: 1 }));
      const d = strip<DeliveryRecord>(r.Items?.[0]);
      return d ? (d.nextAttemptAt ?? d.createdAt) : null;
    },
  };
}
