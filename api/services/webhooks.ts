import { createHmac, randomBytes } from "node:crypto";
import { z } from "zod";
import { Agent, fetch as undiciFetch } from "undici";
import { FerryError } from "../../core/errors.ts";
import { randomId } from "../../core/ids.ts";
import type { DeliveryRecord, WebhookRecord } from "../../core/metadata/webhooks.ts";
import type { ApiDeps } from "../types.ts";
import type { AuthContext } from "./tokens.ts";
import type { Deployment } from "../../core/types.ts";
import { presentDeployment } from "./present.ts";
import { literalHostProblem, publicLookup } from "../../core/net/public-address.ts";

export const WEBHOOK_EVENTS = ["deployment.created", "deployment.succeeded", "deployment.error", "deployment.canceled", "deployment.promoted", "deployment.removed", "alias.assigned"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const webhookBodySchema = z.strictObject({
  url: z.string().max(2048),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
});

const ATTEMPT_TIMEOUT_MS = 5000;
const MAX_ATTEMPTS = 6;
/** first retry after this, doubling each time (10 s, 20 s, 40 s...); tests shorten it */
const retryBaseMs = () => Number(process.env.FERRY_WEBHOOK_RETRY_BASE_MS) || 10_000;
const PARALLEL = 8;

/** `sha256=<hex HMAC-SHA256(secret, body)>`, the `X-Ferry-Signature-256` header. */
export const signatureOf = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** A time-ordered id: deliveries list newest first by key alone. */
const timeId = (prefix: string) => `${prefix}_${Date.now().toString(36).padStart(9, "0")}${randomId(8)}`;

/**
 * Outgoing webhooks: an event becomes one durable delivery per subscribed webhook (written
 * before any attempt, so a restart loses none), sent by a dispatcher in the background: 5 s per
 * attempt, retried with exponential backoff up to a bounded number of attempts, each attempt
 * recorded with its status and latency. Emitting only writes records, so a receiver that hangs
 * or refuses never slows a deployment.
 */
export function webhookService(deps: ApiDeps) {
  const { metadata } = deps;
  // receivers are tenants' URLs: only public addresses, each connection to the address its own
  // lookup checked, unless the operator allows private networks (FERRY_ALLOW_PRIVATE_WEBHOOKS)
  const allowPrivate = !!deps.egress?.allowPrivateWebhooks;
  const dispatcher = new Agent({ connect: { lookup: publicLookup(deps.egress?.resolve, allowPrivate) } });
  const inFlight = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let scanning: Promise<void> | null = null;
  let rescan = false;

  function urlProblem(url: string): string | null {
    try {
      const u = new URL(url);
      if (u.protocol !== "https:" && u.protocol !== "http:") return "must be an http:// or https:// URL";
      if (u.username || u.password) return "must not carry credentials";
      return null;
    } catch {
      return "is not a URL";
    }
  }

  /** Why a receiver's host is refused before any lookup (an address literal is never looked up). */
  const hostProblem = (url: string) => {
    const host = new URL(url).hostname;
    const p = allowPrivate ? null : literalHostProblem(host);
    return p && `its host ${host} ${p} (webhooks are sent to public addresses only)`;
  };

  async function create(auth: AuthContext, body: z.infer<typeof webhookBodySchema>) {
    const problem = urlProblem(body.url);
    if (problem) throw new FerryError("invalid_url", `url: webhook URL ${JSON.stringify(body.url)} ${problem}`, 400, { field: "url" });
    const refused = hostProblem(body.url);
    if (refused) throw new FerryError("non_public_address", `url: webhook URL ${JSON.stringify(body.url)} is refused: ${refused}`, 400, { field: "url" });
    const secret = `whsec_${randomBytes(24).toString("base64url")}`;
    const rec: WebhookRecord = { id: `wh_${randomId(12)}`, accountId: auth.accountId, url: body.url, events: [...new Set(body.events)], secretCipher: await deps.encryptor.encrypt(secret), createdAt: Date.now() };
    await metadata.putWebhook(rec);
    return { ...present(rec), secret };
  }

  const present = (w: WebhookRecord) => ({ id: w.id, url: w.url, events: w.events, createdAt: w.createdAt });
  const presentDelivery = (d: DeliveryRecord) => ({
    id: d.id,
    event: d.event,
    state: d.state,
    createdAt: d.createdAt,
    attempts: d.attempts,
    ...(d.nextAttemptAt ? { nextAttemptAt: d.nextAttemptAt } : {}),
    ...(d.attempts.length ? { status: d.attempts.at(-1)!.status, latencyMs: d.attempts.at(-1)!.latencyMs } : {}),
  });

  async function mine(auth: AuthContext, id: string) {
    const w = await metadata.getWebhook(auth.accountId, id);
    if (!w) throw new FerryError("webhook_not_found", `no webhook ${JSON.stringify(id)}`, 404);
    return w;
  }

  async function list(auth: AuthContext) {
    return (await metadata.listWebhooks(auth.accountId)).map(present);
  }

  async function remove(auth: AuthContext, id: string) {
    if (!(await metadata.deleteWebhook(auth.accountId, id))) throw new FerryError("webhook_not_found", `no webhook ${JSON.stringify(id)}`, 404);
    return { id, removed: true };
  }

  async function deliveries(auth: AuthContext, id: string) {
    await mine(auth, id);
    return (await metadata.listDeliveries(id)).map(presentDelivery);
  }

  /** Sends a past delivery's event again, as a new delivery. */
  async function redeliver(auth: AuthContext, id: string, deliveryId: string) {
    await mine(auth, id);
    const old = await metadata.getDelivery(id, deliveryId);
    if (!old) throw new FerryError("delivery_not_found", `no delivery ${JSON.stringify(deliveryId)}`, 404);
    const now = Date.now();
    const d: DeliveryRecord = { ...old, id: timeId("dlv"), state: "pending", attempts: [], nextAttemptAt: now, createdAt: now };
    await metadata.putDelivery(d);
    kick();
    return presentDelivery(d);
  }

  /** Queues an event for every webhook of the account that takes it. Never throws. */
  async function emit(accountId: string, type: WebhookEvent, payload: Record<string, unknown>) {
    try {
      const hooks = (await metadata.listWebhooks(accountId)).filter((w) => w.events.includes(type));
      if (!hooks.length) return;
      const now = Date.now();
      const body = JSON.stringify({ id: timeId("evt"), type, createdAt: now, payload });
      for (const w of hooks) await metadata.putDelivery({ id: timeId("dlv"), webhookId: w.id, accountId, event: type, body, state: "pending", attempts: [], nextAttemptAt: now, createdAt: now });
      kick();
    } catch (e) {
      console.error(`[webhooks] could not queue ${type} for ${accountId}:`, e);
    }
  }

  /** Looks for due deliveries now (coalesced: one scan at a time, another after it if asked). */
  function kick() {
    if (stopped) return;
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = scan()
      .catch((e) => console.error("[webhooks] dispatch failed:", e))
      .finally(() => {
        scanning = null;
        if (rescan) {
          rescan = false;
          kick();
        } else void schedule();
      });
  }

  /** Starts an attempt for each due delivery while slots are free; each attempt, once over,
   * looks again, so a receiver that hangs holds one slot for 5 s and never the others. */
  async function scan() {
    if (stopped || inFlight.size >= PARALLEL) return;
    const due = (await metadata.dueDeliveries(Date.now(), PARALLEL * 2)).filter((d) => !inFlight.has(d.id));
    for (const d of due) {
      if (inFlight.size >= PARALLEL || stopped) break;
      void attempt(d)
        .catch((e) => console.error(`[webhooks] delivery ${d.id} failed:`, e))
        .finally(() => kick());
    }
  }

  /** Wakes up when the next retry is due (while attempts run, at most 4 times a second). */
  async function schedule() {
    if (stopped) return;
    const at = await metadata.nextDueAt().catch(() => null);
    if (at === null || stopped) return;
    clearTimeout(timer);
    timer = setTimeout(kick, Math.max(at - Date.now(), inFlight.size ? 250 : 0));
    timer.unref();
  }

  async function attempt(d: DeliveryRecord) {
    inFlight.add(d.id);
    try {
      const hook = await metadata.getWebhook(d.accountId, d.webhookId);
      const at = Date.now();
      if (!hook) {
        await metadata.saveAttempt({ ...d, state: "failed", attempts: [...d.attempts, { at, error: "the webhook was removed", latencyMs: 0 }] });
        return;
      }
      const secret = await deps.encryptor.decrypt(hook.secretCipher);
      let status: number | undefined;
      let error: string | undefined;
      // a webhook stored before its host was refused, or a name that now resolves to a private address
      let refused = hostProblem(hook.url);
      if (!refused) {
        try {
          const res = await undiciFetch(hook.url, {
            method: "POST",
            body: d.body,
            redirect: "manual",
            dispatcher,
            signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
            headers: { "content-type": "application/json", "user-agent": "Ferry-Webhooks/1", "x-ferry-event": d.event, "x-ferry-delivery": d.id, "x-ferry-signature-256": signatureOf(secret, d.body) },
          });
          status = res.status;
          await res.body?.cancel().catch(() => {});
        } catch (e) {
          const err = e as Error & { cause?: Error & { code?: string } };
          if (err.cause?.code === "ENOTPUBLIC") refused = `${err.cause.message} (webhooks are sent to public addresses only)`;
          else error = err.name === "TimeoutError" ? `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s` : (err.cause?.message ?? err.message);
        }
      }
      if (refused) error = `refused: ${refused}`;
      const attempts = [...d.attempts, { at, latencyMs: Date.now() - at, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}) }];
      const ok = status !== undefined && status >= 200 && status < 300;
      // a refusal is the platform's rule, not the receiver's trouble: retrying would change nothing
      const state = ok ? "delivered" : refused || attempts.length >= MAX_ATTEMPTS ? "failed" : "pending";
      await metadata.saveAttempt({ ...d, attempts, state, ...(state === "pending" ? { nextAttemptAt: Date.now() + retryBaseMs() * 2 ** (attempts.length - 1) } : {}) });
    } finally {
      inFlight.delete(d.id);
    }
  }

  return {
    create,
    list,
    remove,
    deliveries,
    redeliver,
    emit,
    /** after a start: deliveries a restart interrupted are sent */
    recover: () => kick(),
    stop() {
      stopped = true;
      clearTimeout(timer);
      void dispatcher.close().catch(() => {});
    },
  };
}
export type WebhookService = ReturnType<typeof webhookService>;

const STATE_EVENTS: Partial<Record<string, WebhookEvent>> = { READY: "deployment.succeeded", ERROR: "deployment.error", CANCELED: "deployment.canceled" };

/** The API's dependencies with every reportable event also queued as webhook deliveries. */
export function withWebhookEvents(deps: ApiDeps, webhooks: WebhookService): ApiDeps {
  const payload = (d: Deployment, extra?: Record<string, unknown>) => ({ deployment: presentDeployment(d, deps), ...extra });
  // build outcomes come from the build log, which sees every state change whoever makes it
  deps.buildLogs.onState((id, state) => {
    const type = STATE_EVENTS[state];
    if (!type) return;
    void deps.metadata
      .getDeployment(id)
      .then((d) => d && webhooks.emit(d.accountId, type, payload(d)))
      .catch((e) => console.error(`[webhooks] ${id} ${state}:`, e));
  });
  return {
    ...deps,
    onEvent: (type, d, extra) => {
      deps.onEvent?.(type, d, extra);
      void webhooks.emit(d.accountId, type, payload(d, extra));
    },
  };
}
