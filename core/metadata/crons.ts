import { createHash } from "node:crypto";
import { QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * What is remembered of a project's cron between runs and restarts: one small item per
 * (project, path, schedule), under the account's partition so a project's crons are one query:
 *
 *   pk ACCOUNT#<id>   sk CRON#<project>#<cron key>
 *
 * The cron key is a hash of schedule and path: paths may hold any character, and the same path
 * on two schedules is two crons. Each write is a single-item update, as everything else here.
 */
export interface CronRunRecord {
  accountId: string;
  project: string;
  path: string;
  schedule: string;
  /** when the last run started (ms) */
  lastRunAt?: number;
  /** the response status of the last run; absent when it got none (see lastError) */
  lastStatus?: number;
  lastDurationMs?: number;
  lastDeploymentId?: string;
  /** why the last run got no response */
  lastError?: string;
  /** when a run was last skipped because the one before it was still running */
  lastSkippedAt?: number;
  runs?: number;
  updatedAt: number;
}

export interface CronRun {
  startedAt: number;
  deploymentId: string;
  status?: number;
  durationMs: number;
  error?: string;
}

/** The key of one cron of a project: stable across deployments that keep the same entry. */
export const cronKey = (path: string, schedule: string) => createHash("sha256").update(`${schedule}\n${path}`).digest("hex").slice(0, 20);

const itemKey = (accountId: string, project: string, path: string, schedule: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `CRON#${project}#${cronKey(path, schedule)}` });

export function cronMethods(doc: DynamoDBDocumentClient, table: string) {
  const base = (accountId: string, project: string, path: string, schedule: string) => ({ ":a": accountId, ":p": project, ":path": path, ":s": schedule, ":u": Date.now() });
  const BASE_SET = "accountId = :a, #project = :p, #path = :path, schedule = :s, updatedAt = :u";

  return {
    /** Records a finished run (a failed one included). */
    async putCronRun(accountId: string, project: string, path: string, schedule: string, run: CronRun) {
      const values: Record<string, unknown> = { ...base(accountId, project, path, schedule), ":t": run.startedAt, ":d": run.deploymentId, ":ms": run.durationMs, ":one": 1 };
      const sets = [BASE_SET, "lastRunAt = :t", "lastDeploymentId = :d", "lastDurationMs = :ms"];
      const removes: string[] = [];
      if (run.status !== undefined) (sets.push("lastStatus = :st"), (values[":st"] = run.status));
      else removes.push("lastStatus");
      if (run.error !== undefined) (sets.push("lastError = :e"), (values[":e"] = run.error));
      else removes.push("lastError");
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: itemKey(accountId, project, path, schedule),
          UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""} ADD runs :one`,
          ExpressionAttributeNames: { "#project": "project", "#path": "path" },
          ExpressionAttributeValues: values,
        }),
      );
    },

    /** Records that a run was skipped: the previous one was still running. */
    async markCronSkipped(accountId: string, project: string, path: string, schedule: string, at: number) {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: itemKey(accountId, project, path, schedule),
          UpdateExpression: `SET ${BASE_SET}, lastSkippedAt = :k`,
          ExpressionAttributeNames: { "#project": "project", "#path": "path" },
          ExpressionAttributeValues: { ...base(accountId, project, path, schedule), ":k": at },
        }),
      );
    },

    /** Every cron record of a project, keyed by `cronKey(path, schedule)`. */
    async listCronRuns(accountId: string, project: string): Promise<Map<string, CronRunRecord>> {
      const out = new Map<string, CronRunRecord>();
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(
          new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `ACCOUNT#${accountId}`, ":s": `CRON#${project}#` }, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        for (const { pk: _pk, sk: _sk, ...rec } of r.Items ?? []) out.set(cronKey(String(rec.path), String(rec.schedule)), rec as CronRunRecord);
        start = r.LastEvaluatedKey;
      } while (start);
      return out;
    },

    /** Every project with a production deployment, across accounts: read once when the cron
     * scheduler starts (afterwards promotions tell it what moved). */
    async listProductionProjects(): Promise<{ accountId: string; name: string; productionDeploymentId: string }[]> {
      const out: { accountId: string; name: string; productionDeploymentId: string }[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(
          new ScanCommand({
            TableName: table,
            FilterExpression: "begins_with(sk, :p) AND attribute_exists(productionDeploymentId)",
            ProjectionExpression: "accountId, #n, productionDeploymentId",
            ExpressionAttributeNames: { "#n": "name" },
            ExpressionAttributeValues: { ":p": "PROJECT#" },
            ExclusiveStartKey: start,
          }),
        );
        for (const i of r.Items ?? []) out.push({ accountId: String(i.accountId), name: String(i.name), productionDeploymentId: String(i.productionDeploymentId) });
        start = r.LastEvaluatedKey;
      } while (start);
      return out;
    },
  };
}
