import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { FerryError } from "../errors.ts";
import type { Account, Deployment, DeploymentState, Project, TokenRecord } from "../types.ts";
import { promotionMethods, type DeploymentRecord, type ProjectRecord } from "./promotions.ts";
import { webhookMethods } from "./webhooks.ts";
import { cronMethods } from "./crons.ts";
import { gitMethods } from "./git.ts";
import { strip } from "./table.ts";

export interface HostRecord {
  host: string;
  accountId: string;
  projectId: string;
  deploymentId: string;
  /** `deployment`: the deployment's own host; `alias`: a movable name */
  type: "deployment" | "alias";
  updatedAt: number;
}

export interface EnvVarRecord {
  accountId: string;
  project: string;
  environment: "production" | "preview";
  key: string;
  /** encrypted with the platform's Encryptor */
  valueCipher: string;
  /** sensitive values are never returned through the API after they are set */
  sensitive: boolean;
  updatedAt: number;
}

export interface StoreRecord {
  accountId: string;
  project: string;
  environment: "production" | "preview";
  name: string;
  type: "kv" | "blob";
  /** table or bucket name */
  resource: string;
  createdAt: number;
}

export interface ListOptions {
  project?: string;
  limit?: number;
  state?: DeploymentState;
}

/** Metadata repository over the DynamoDB document client: DynamoDB on AWS, dynalite embedded. */
export type Metadata = ReturnType<typeof createMetadata>;

const pad = (n: number) => n.toString().padStart(15, "0");
const isConditionFail = (e: unknown) => (e as Error)?.name === "ConditionalCheckFailedException";

export function createMetadata(doc: DynamoDBDocumentClient, table: string) {
  const get = async <T>(pk: string, sk: string) => strip<T>((await doc.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true }))).Item);

  const deploymentKeys = (d: Pick<Deployment, "id" | "accountId" | "projectId" | "createdAt">) => ({
    pk: `DEPLOYMENT#${d.id}`,
    sk: "DEPLOYMENT",
    gsi1pk: `ACCOUNT#${d.accountId}#DEPLOYMENTS`,
    gsi1sk: `${pad(d.createdAt)}#${d.id}`,
    gsi2pk: `PROJECT#${d.projectId}#DEPLOYMENTS`,
    gsi2sk: `${pad(d.createdAt)}#${d.id}`,
  });

  return {
    // ---- promotions: claim, label moves, finish (see promotions.ts)
    ...promotionMethods(doc, table),
    // ---- cron runs: last run per project cron (see crons.ts)
    ...cronMethods(doc, table),
    // ---- git settings and deploy hooks (see git.ts)
    ...gitMethods(doc, table),
    // ---- outgoing webhooks and their deliveries (see webhooks.ts)
    ...webhookMethods(doc, table),

    // ---- accounts
    async putAccount(account: Account) {
      await doc.send(new PutCommand({ TableName: table, Item: { pk: `ACCOUNT#${account.id}`, sk: "ACCOUNT", ...account } }));
    },
    getAccount: (id: string) => get<Account>(`ACCOUNT#${id}`, "ACCOUNT"),

    // ---- tokens
    async putToken(token: TokenRecord) {
      await doc.send(
        new PutCommand({ TableName: table, Item: { pk: `TOKEN#${token.hash}`, sk: "TOKEN", gsi1pk: `ACCOUNT#${token.accountId}#TOKENS`, gsi1sk: token.id, ...token }, ConditionExpression: "attribute_not_exists(pk)" }),
      );
    },
    getTokenByHash: (hash: string) => get<TokenRecord>(`TOKEN#${hash}`, "TOKEN"),
    async listTokens(accountId: string) {
      const r = await doc.send(new QueryCommand({ TableName: table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: { ":p": `ACCOUNT#${accountId}#TOKENS` } }));
      return (r.Items ?? []).map((i) => strip<TokenRecord>(i)!);
    },
    async deleteToken(hash: string) {
      await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `TOKEN#${hash}`, sk: "TOKEN" } }));
    },

    // ---- projects
    /** The project, with its promotion state (`promotions.ts`). */
    getProject: (accountId: string, name: string) => get<ProjectRecord>(`ACCOUNT#${accountId}`, `PROJECT#${name}`),
    /** Creates the project if missing; returns the stored one either way (idempotent under races). */
    async ensureProject(project: Project): Promise<Project> {
      try {
        await doc.send(new PutCommand({ TableName: table, Item: { pk: `ACCOUNT#${project.accountId}`, sk: `PROJECT#${project.name}`, ...project }, ConditionExpression: "attribute_not_exists(pk)" }));
        return project;
      } catch (e) {
        if (!isConditionFail(e)) throw e;
        return (await get<Project>(`ACCOUNT#${project.accountId}`, `PROJECT#${project.name}`))!;
      }
    },
    async listProjects(accountId: string) {
      const r = await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `ACCOUNT#${accountId}`, ":s": "PROJECT#" } }));
      return (r.Items ?? []).map((i) => strip<Project>(i)!);
    },
    /** Sets the production deployment; `expected` guards against a concurrent promote. */
    async setProduction(accountId: string, name: string, deploymentId: string, expected: string | undefined, history: string[]) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: `ACCOUNT#${accountId}`, sk: `PROJECT#${name}` },
            UpdateExpression: "SET productionDeploymentId = :d, productionHistory = :h",
            ConditionExpression: expected ? "productionDeploymentId = :e" : "attribute_not_exists(productionDeploymentId)",
            ExpressionAttributeValues: { ":d": deploymentId, ":h": history, ...(expected ? { ":e": expected } : {}) },
          }),
        );
      } catch (e) {
        if (isConditionFail(e)) throw new FerryError("conflict", `production deployment of ${name} changed concurrently; retry`, 409);
        throw e;
      }
    },

    // ---- deployments
    async createDeployment(d: Deployment) {
      await doc.send(new PutCommand({ TableName: table, Item: { ...deploymentKeys(d), ...d }, ConditionExpression: "attribute_not_exists(pk)" }));
    },
    getDeployment: (id: string) => get<DeploymentRecord>(`DEPLOYMENT#${id}`, "DEPLOYMENT"),
    /**
     * Applies a patch; with `fromStates`, only when the current state is one of them (so a build
     * finishing after a cancel cannot flip CANCELED back to READY). Returns the updated deployment,
     * or null when the condition did not hold.
     */
    async updateDeployment(id: string, patch: Partial<Deployment>, fromStates?: DeploymentState[]): Promise<Deployment | null> {
      const entries = Object.entries({ ...patch, updatedAt: patch.updatedAt ?? Date.now() }).filter(([, v]) => v !== undefined);
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets = entries.map(([k, v], i) => {
        names[`#k${i}`] = k;
        values[`:v${i}`] = v;
        return `#k${i} = :v${i}`;
      });
      let condition = "attribute_exists(pk)";
      if (fromStates?.length) {
        names["#state"] = "state";
        condition += ` AND #state IN (${fromStates.map((s, i) => { values[`:s${i}`] = s; return `:s${i}`; }).join(", ")})`;
      }
      try {
        const r = await doc.send(
          new UpdateCommand({ TableName: table, Key: { pk: `DEPLOYMENT#${id}`, sk: "DEPLOYMENT" }, UpdateExpression: `SET ${sets.join(", ")}`, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values, ReturnValues: "ALL_NEW" }),
        );
        return strip<Deployment>(r.Attributes);
      } catch (e) {
        if (isConditionFail(e)) return null;
        throw e;
      }
    },
    async deleteDeployment(id: string) {
      await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `DEPLOYMENT#${id}`, sk: "DEPLOYMENT" } }));
    },
    async listDeployments(accountId: string, opts: ListOptions & { projectId?: string } = {}) {
      const limit = opts.limit ?? 20;
      const byProject = opts.projectId !== undefined;
      const out: Deployment[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(
          new QueryCommand({
            TableName: table,
            IndexName: byProject ? "gsi2" : "gsi1",
            KeyConditionExpression: `${byProject ? "gsi2pk" : "gsi1pk"} = :p`,
            ExpressionAttributeValues: { ":p": byProject ? `PROJECT#${opts.projectId}#DEPLOYMENTS` : `ACCOUNT#${accountId}#DEPLOYMENTS` },
            ScanIndexForward: false,
            ExclusiveStartKey: start,
          }),
        );
        for (const i of r.Items ?? []) {
          const d = strip<Deployment>(i)!;
          if (d.accountId !== accountId) continue;
          if (opts.state && d.state !== opts.state) continue;
          out.push(d);
          if (out.length >= limit) return out;
        }
        start = r.LastEvaluatedKey;
      } while (start);
      return out;
    },
    /** Every deployment in one of `states`, across accounts: used at startup to finish interrupted builds. */
    async deploymentsInStates(states: DeploymentState[]) {
      const out: Deployment[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const values: Record<string, unknown> = { ":sk": "DEPLOYMENT" };
        states.forEach((s, i) => (values[`:s${i}`] = s));
        const r = await doc.send(
          new ScanCommand({ TableName: table, FilterExpression: `sk = :sk AND #state IN (${states.map((_, i) => `:s${i}`).join(", ")})`, ExpressionAttributeNames: { "#state": "state" }, ExpressionAttributeValues: values, ExclusiveStartKey: start }),
        );
        out.push(...(r.Items ?? []).map((i) => strip<Deployment>(i)!));
        start = r.LastEvaluatedKey;
      } while (start);
      return out;
    },

    // ---- hosts and aliases
    /** Claims a host label that must be new (a deployment's own host). */
    async claimHost(rec: HostRecord) {
      try {
        await doc.send(new PutCommand({ TableName: table, Item: { pk: `HOST#${rec.host}`, sk: "HOST", gsi1pk: `ACCOUNT#${rec.accountId}#HOSTS`, gsi1sk: rec.host, ...rec }, ConditionExpression: "attribute_not_exists(pk)" }));
        return true;
      } catch (e) {
        if (isConditionFail(e)) return false;
        throw e;
      }
    },
    /** Points an alias at a deployment in one conditional write: the router sees old or new, never neither.
     * Fails when the label belongs to another account or is some deployment's own host. Returns
     * the record it replaced (null when the label was new), for `restoreHost`. */
    async setAlias(rec: HostRecord): Promise<HostRecord | null> {
      try {
        const r = await doc.send(
          new PutCommand({
            TableName: table,
            Item: { pk: `HOST#${rec.host}`, sk: "HOST", gsi1pk: `ACCOUNT#${rec.accountId}#HOSTS`, gsi1sk: rec.host, ...rec, type: "alias" },
            ConditionExpression: "attribute_not_exists(pk) OR (accountId = :a AND #t = :alias)",
            ExpressionAttributeNames: { "#t": "type" },
            ExpressionAttributeValues: { ":a": rec.accountId, ":alias": "alias" },
            ReturnValues: "ALL_OLD",
          }),
        );
        return strip<HostRecord>(r.Attributes);
      } catch (e) {
        if (isConditionFail(e)) throw new FerryError("alias_taken", `the name ${rec.host} is already in use`, 409);
        throw e;
      }
    },
    /** Undoes a `setAlias` to `deploymentId`: puts back what it replaced (or removes the label),
     * only while the label still names `deploymentId`. */
    async restoreHost(host: string, deploymentId: string, previous: HostRecord | null) {
      const cond = { ConditionExpression: "deploymentId = :d", ExpressionAttributeValues: { ":d": deploymentId } };
      try {
        if (previous) await doc.send(new PutCommand({ TableName: table, Item: { pk: `HOST#${host}`, sk: "HOST", gsi1pk: `ACCOUNT#${previous.accountId}#HOSTS`, gsi1sk: host, ...previous }, ...cond }));
        else await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `HOST#${host}`, sk: "HOST" }, ...cond }));
      } catch (e) {
        if (!isConditionFail(e)) throw e;
      }
    },
    getHost: (host: string) => get<HostRecord>(`HOST#${host}`, "HOST"),
    async deleteHost(host: string, accountId: string) {
      try {
        await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `HOST#${host}`, sk: "HOST" }, ConditionExpression: "accountId = :a", ExpressionAttributeValues: { ":a": accountId } }));
        return true;
      } catch (e) {
        if (isConditionFail(e)) return false;
        throw e;
      }
    },
    async listHosts(accountId: string) {
      const out: HostRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(new QueryCommand({ TableName: table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: { ":p": `ACCOUNT#${accountId}#HOSTS` }, ExclusiveStartKey: start }));
        out.push(...(r.Items ?? []).map((i) => strip<HostRecord>(i)!));
        start = r.LastEvaluatedKey;
      } while (start);
      return out;
    },

    // ---- project env vars (values arrive encrypted)
    async putEnvVar(v: EnvVarRecord) {
      await doc.send(new PutCommand({ TableName: table, Item: { pk: `ACCOUNT#${v.accountId}`, sk: `ENV#${v.project}#${v.environment}#${v.key}`, ...v } }));
    },
    async listEnvVars(accountId: string, project: string) {
      const out: EnvVarRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `ACCOUNT#${accountId}`, ":s": `ENV#${project}#` }, ExclusiveStartKey: start }));
        out.push(...(r.Items ?? []).map((i) => strip<EnvVarRecord>(i)!));
        start = r.LastEvaluatedKey;
      } while (start);
      return out;
    },
    async deleteEnvVar(accountId: string, project: string, environment: string, key: string) {
      const r = await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `ACCOUNT#${accountId}`, sk: `ENV#${project}#${environment}#${key}` }, ReturnValues: "ALL_OLD" }));
      return !!r.Attributes;
    },

    // ---- provisioned data stores
    async putStore(st: StoreRecord) {
      await doc.send(new PutCommand({ TableName: table, Item: { pk: `ACCOUNT#${st.accountId}`, sk: `STORE#${st.project}#${st.environment}#${st.name}`, ...st } }));
    },
    async listStores(accountId: string, project?: string) {
      const r = await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `ACCOUNT#${accountId}`, ":s": project ? `STORE#${project}#` : "STORE#" } }));
      return (r.Items ?? []).map((i) => strip<StoreRecord>(i)!);
    },
    async deleteStore(accountId: string, project: string, environment: string, name: string) {
      await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `ACCOUNT#${accountId}`, sk: `STORE#${project}#${environment}#${name}` } }));
    },

    // ---- build cache
    async putBuildCache(accountId: string, inputHash: string, deploymentId: string, outputKey: string) {
      await doc.send(new PutCommand({ TableName: table, Item: { pk: `CACHE#${accountId}#${inputHash}`, sk: "CACHE", deploymentId, outputKey, createdAt: Date.now() } }));
    },
    getBuildCache: (accountId: string, inputHash: string) => get<{ deploymentId: string; outputKey: string }>(`CACHE#${accountId}#${inputHash}`, "CACHE"),
  };
}
