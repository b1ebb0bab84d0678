import { randomBytes, timingSafeEqual } from "node:crypto";
import { FerryError } from "../../core/errors.ts";
import { randomId, sha256 } from "../../core/ids.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { TokenRecord } from "../../core/types.ts";

export const ALL_SCOPES = ["deployments", "aliases", "env", "stores", "tokens", "logs", "webhooks"] as const;
export type Scope = (typeof ALL_SCOPES)[number];
const TOKEN_PREFIX = "fry_";

export interface AuthContext {
  accountId: string;
  tokenId: string;
  scopes: string[];
}

/** Creates a token; only its hash is stored, so the secret is returned exactly once. */
export async function createToken(metadata: Metadata, accountId: string, name: string, scopes: string[] = ["*"]) {
  const token = TOKEN_PREFIX + randomBytes(24).toString("base64url");
  const record: TokenRecord = { hash: sha256(token), id: `tok_${randomId(12)}`, accountId, name, scopes, createdAt: Date.now() };
  await metadata.putToken(record);
  return { token, record };
}

/** Looks a bearer token up by hash and compares in constant time; throws 401 on anything off. */
export async function verifyToken(metadata: Metadata, header: string | undefined): Promise<AuthContext> {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!match) throw new FerryError("unauthorized", "missing bearer token: pass --token or set FERRY_TOKEN", 401);
  const hash = sha256(match[1]!);
  const record = await metadata.getTokenByHash(hash);
  if (!record || !timingSafeEqual(Buffer.from(record.hash), Buffer.from(hash))) {
    throw new FerryError("unauthorized", "invalid token", 401);
  }
  return { accountId: record.accountId, tokenId: record.id, scopes: record.scopes };
}

/**
 * Whether a token holding `held` may hand out, see or revoke a token of `wanted`: every wanted
 * scope must be held, and `*` (which includes scopes added later) only by `*`.
 */
export function covers(held: readonly string[], wanted: readonly string[]): boolean {
  if (held.includes("*")) return true;
  return wanted.every((s) => s !== "*" && held.includes(s));
}

export function requireScope(auth: AuthContext, scope: string) {
  if (!auth.scopes.includes("*") && !auth.scopes.includes(scope)) {
    throw new FerryError("forbidden", `this token lacks the "${scope}" scope`, 403);
  }
}
