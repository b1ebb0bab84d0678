import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { FerryError } from "../errors.ts";
import type { Deployment, Project } from "../types.ts";
import type { HostRecord } from "./repository.ts";
import { strip } from "./table.ts";

/**
 * Promotion state, kept on the project item so that one conditional write can decide it:
 *
 *   promotionSeq   the number of the newest promotion ever claimed for the project (ADD, so two
 *                  claims never share one)
 *   promotion      the intent of promotion number `promotionSeq` while it is unfinished: the
 *                  deployment to make production and every label to move to it
 *   gsi1pk/gsi1sk  `PROMOTIONS#PENDING` / `<account>#<project>` while `promotion` is set, so the
 *                  start-time replay finds unfinished intents without a scan
 *
 * A promotion is: claim (one write) -> move each label, stamped with the sequence number (one
 * write each, idempotent, refused when a newer promotion already stamped the label) -> finish
 * (one write that sets the production pointer and clears the intent, only while the intent is
 * still this sequence number). A crash anywhere leaves either no claim, or a claim the replay
 * carries out again from the first label; a stale promotion can neither move a label a newer
 * one moved nor set the pointer once a newer one has claimed.
 */
export interface PromotionIntent {
  deploymentId: string;
  /** every label to point at the deployment: `<project>` and its ferry.json aliases */
  labels: string[];
  rollback?: boolean;
  at: number;
}

export interface ProjectRecord extends Project {
  promotionSeq?: number;
  promotion?: PromotionIntent;
}

/** A host record as a promotion writes it: which promotion of its project last moved it. */
export interface PromotedHostRecord extends HostRecord {
  promotionSeq?: number;
}

export type DeploymentRecord = Deployment & {
  /** set by a removal while it checks that nothing names the deployment; see `removalOf` */
  removingAt?: number;
};

const PENDING = "PROMOTIONS#PENDING";
/** a removal checks and commits in milliseconds; a mark older than this was left by a crash */
export const REMOVING_WINDOW_MS = 30_000;

/** `removed`, `removing` (a removal is deciding: nothing may start naming it), or null. */
export function removalOf(d: DeploymentRecord, now = Date.now()): "removed" | "removing" | null {
  if (d.removedAt) return "removed";
  if (d.removingAt && now - d.removingAt < REMOVING_WINDOW_MS) return "removing";
  return null;
}

const isConditionFail = (e: unknown) => (e as Error)?.name === "ConditionalCheckFailedException";

export function promotionMethods(doc: DynamoDBDocumentClient, table: string) {
  const projectKey = (accountId: string, name: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `PROJECT#${name}` });
  const readProject = async (accountId: string, name: string): Promise<ProjectRecord | null> =>
    strip<ProjectRecord>((await doc.send(new GetCommand({ TableName: table, Key: projectKey(accountId, name), ConsistentRead: true }))).Item);

  return {
    /**
     * Records the intent to promote; returns its sequence number. A newer claim replaces an older
     * unfinished one (which then can no longer finish). With `ifSeq`, only while the newest claim
     * is still `ifSeq` (null otherwise): used to turn an intent that cannot be carried out into
     * another.
     */
    async claimPromotion(accountId: string, name: string, intent: PromotionIntent, ifSeq?: number): Promise<number | null> {
      try {
        const r = await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: projectKey(accountId, name),
            UpdateExpression: "SET promotion = :i, gsi1pk = :g, gsi1sk = :gs ADD promotionSeq :one",
            ConditionExpression: ifSeq === undefined ? "attribute_exists(pk)" : "promotionSeq = :if",
            ExpressionAttributeValues: { ":i": intent, ":g": PENDING, ":gs": `${accountId}#${name}`, ":one": 1, ...(ifSeq === undefined ? {} : { ":if": ifSeq }) },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        return Number(r.Attributes?.promotionSeq);
      } catch (e) {
        if (!isConditionFail(e)) throw e;
        if (ifSeq !== undefined) return null;
        throw new FerryError("project_not_found", `no project ${name}`, 404);
      }
    },

    /**
     * Makes promotion `seq` production and clears its intent, in one write. `superseded` when a
     * newer promotion has claimed since (it sets the pointer, not this one); `done` also when this
     * promotion was already finished (a replay that raced it). `history` gives the new
     * productionHistory from the record as it is just before the write.
     */
    async finishPromotion(accountId: string, name: string, seq: number, history: (p: ProjectRecord, intent: PromotionIntent) => string[]): Promise<{ outcome: "done" | "superseded"; previous?: string }> {
      for (;;) {
        const p = await readProject(accountId, name);
        if (!p) throw new FerryError("project_not_found", `no project ${name}`, 404);
        if ((p.promotionSeq ?? 0) !== seq) return { outcome: "superseded" };
        if (!p.promotion) return { outcome: "done", previous: p.productionHistory?.[0] };
        try {
          await doc.send(
            new UpdateCommand({
              TableName: table,
              Key: projectKey(accountId, name),
              UpdateExpression: "SET productionDeploymentId = :d, productionHistory = :h REMOVE promotion, gsi1pk, gsi1sk",
              ConditionExpression: "promotionSeq = :seq AND attribute_exists(promotion)",
              ExpressionAttributeValues: { ":d": p.promotion.deploymentId, ":h": history(p, p.promotion), ":seq": seq },
            }),
          );
          return { outcome: "done", previous: p.productionDeploymentId };
        } catch (e) {
          if (!isConditionFail(e)) throw e;
          // claimed or finished meanwhile: the next read says which
        }
      }
    },

    /** Drops the intent of promotion `seq` without moving the pointer (nothing left to promote). */
    async dropPromotion(accountId: string, name: string, seq: number): Promise<boolean> {
      try {
        await doc.send(
          new UpdateCommand({ TableName: table, Key: projectKey(accountId, name), UpdateExpression: "REMOVE promotion, gsi1pk, gsi1sk", ConditionExpression: "promotionSeq = :seq", ExpressionAttributeValues: { ":seq": seq } }),
        );
        return true;
      } catch (e) {
        if (isConditionFail(e)) return false;
        throw e;
      }
    },

    /** Every project with an unfinished promotion, across accounts (for the start-time replay). */
    async listPendingPromotions(): Promise<{ accountId: string; project: string }[]> {
      const out: { accountId: string; project: string }[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(new QueryCommand({ TableName: table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: { ":p": PENDING }, ExclusiveStartKey: start }));
        for (const i of r.Items ?? []) out.push({ accountId: String(i.accountId), project: String(i.name) });
        start = r.LastEvaluatedKey;
      } while (start);
      return out;
    },

    /**
     * Points a label at a deployment for promotion `seq` of the label's project. Idempotent; false
     * (nothing written) when a newer promotion of the same project already moved the label.
     * Refused, like `setAlias`, when the label is another account's or some deployment's own host.
     */
    async moveAlias(rec: HostRecord, seq: number): Promise<boolean> {
      const fields: Record<string, unknown> = { gsi1pk: `ACCOUNT#${rec.accountId}#HOSTS`, gsi1sk: rec.host, ...rec, type: "alias", promotionSeq: seq };
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ":alias": "alias" };
      const sets = Object.entries(fields).map(([k, v], i) => {
        names[`#f${i}`] = k;
        values[`:f${i}`] = v;
        return `#f${i} = :f${i}`;
      });
      Object.assign(names, { "#acc": "accountId", "#t": "type", "#prj": "projectId", "#seq": "promotionSeq" });
      Object.assign(values, { ":a": rec.accountId, ":p": rec.projectId, ":seq": seq });
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: `HOST#${rec.host}`, sk: "HOST" },
            UpdateExpression: `SET ${sets.join(", ")}`,
            ConditionExpression: "(attribute_not_exists(pk) OR (#acc = :a AND #t = :alias)) AND (attribute_not_exists(#seq) OR #prj <> :p OR #seq <= :seq)",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (e) {
        if (!isConditionFail(e)) throw e;
        const h = (await doc.send(new GetCommand({ TableName: table, Key: { pk: `HOST#${rec.host}`, sk: "HOST" }, ConsistentRead: true }))).Item as PromotedHostRecord | undefined;
        if (h && h.accountId === rec.accountId && h.type === "alias" && h.projectId === rec.projectId && (h.promotionSeq ?? 0) > seq) return false;
        throw new FerryError("alias_taken", `the name ${rec.host} is already in use`, 409);
      }
    },

    /** Marks a deployment as being removed (or clears the mark when a removal is refused). */
    async markRemoving(id: string, on: boolean) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: `DEPLOYMENT#${id}`, sk: "DEPLOYMENT" },
            UpdateExpression: on ? "SET removingAt = :t" : "REMOVE removingAt",
            ConditionExpression: "attribute_exists(pk)",
            ...(on ? { ExpressionAttributeValues: { ":t": Date.now() } } : {}),
          }),
        );
      } catch (e) {
        if (!isConditionFail(e)) throw e;
      }
    },
  };
}
