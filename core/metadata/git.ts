import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { strip } from "./table.ts";

/**
 * A project's git settings, one item beside the project (`ACCOUNT#<id>` / `GIT#<project>`):
 * which branch is production, and the external repository it is linked to, if any.
 */
export interface GitSettings {
  accountId: string;
  project: string;
  /** the branch whose pushes deploy to production; `main` when unset */
  productionBranch?: string;
  /** clone URL of the linked external repository (`ferry git link`) */
  linkedUrl?: string;
  /** the secret provider webhooks are signed with, encrypted with the platform's Encryptor */
  webhookSecretCipher?: string;
  /** the project's id: its provider webhook URL names it, and finds these settings by it (gsi1) */
  projectId?: string;
  updatedAt: number;
}

/** A deploy hook: a secret URL that deploys `ref`. Found by the sha256 of its secret (gsi1). */
export interface DeployHookRecord {
  id: string;
  accountId: string;
  project: string;
  name: string;
  ref: string;
  /** sha256 of the URL's secret; the secret itself is never stored */
  secretHash: string;
  createdAt: number;
}

export function gitMethods(doc: DynamoDBDocumentClient, table: string) {
  const settingsKey = (accountId: string, project: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `GIT#${project}` });
  return {
    async getGitSettings(accountId: string, project: string): Promise<GitSettings | null> {
      return strip<GitSettings>((await doc.send(new GetCommand({ TableName: table, Key: settingsKey(accountId, project), ConsistentRead: true }))).Item);
    },
    async putGitSettings(s: GitSettings) {
      const index = s.linkedUrl && s.projectId ? { gsi1pk: `GITLINK#${s.projectId}`, gsi1sk: "GIT" } : {};
      await doc.send(new PutCommand({ TableName: table, Item: { ...settingsKey(s.accountId, s.project), ...index, ...s } }));
    },
    /** The linked settings whose provider webhook URL names `projectId`. */
    async gitSettingsByProjectId(projectId: string): Promise<GitSettings | null> {
      const r = await doc.send(new QueryCommand({ TableName: table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: { ":p": `GITLINK#${projectId}` } }));
      return strip<GitSettings>(r.Items?.[0]);
    },

    async putDeployHook(h: DeployHookRecord) {
      await doc.send(
        new PutCommand({ TableName: table, Item: { pk: `ACCOUNT#${h.accountId}`, sk: `DEPLOYHOOK#${h.project}#${h.id}`, gsi1pk: `DEPLOYHOOK#${h.secretHash}`, gsi1sk: "DEPLOYHOOK", ...h }, ConditionExpression: "attribute_not_exists(pk)" }),
      );
    },
    async listDeployHooks(accountId: string, project: string) {
      const r = await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `ACCOUNT#${accountId}`, ":s": `DEPLOYHOOK#${project}#` } }));
      return (r.Items ?? []).map((i) => strip<DeployHookRecord>(i)!);
    },
    async deleteDeployHook(accountId: string, project: string, id: string) {
      const r = await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `ACCOUNT#${accountId}`, sk: `DEPLOYHOOK#${project}#${id}` }, ReturnValues: "ALL_OLD" }));
      return !!r.Attributes;
    },
    async deployHookBySecretHash(secretHash: string): Promise<DeployHookRecord | null> {
      const r = await doc.send(new QueryCommand({ TableName: table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: { ":p": `DEPLOYHOOK#${secretHash}` } }));
      return strip<DeployHookRecord>(r.Items?.[0]);
    },
  };
}
