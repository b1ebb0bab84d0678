import { createHmac } from "node:crypto";
import { join } from "node:path";
import { loadOrCreateKey } from "../core/crypto/local.ts";

/**
 * Per-deployment credentials for the store gateway, derived rather than stored:
 *
 * - the access key id is `FERRY` + the deployment id in base32 (RFC 4648, upper case, no
 *   padding), so it looks like an AWS key id (`[A-Z0-9]`, 16-128 characters) and names its
 *   deployment without a lookup table;
 * - the secret is an HMAC-SHA256 of the key id under the gateway key (`<home>/store-gateway.key`,
 *   32 random bytes, 0600, made on first start). Only the platform holds that key, so only it
 *   can tell a deployment its secret; rotating the key file revokes every secret at once.
 */

export const storeGatewayKeyPath = (home: string) => join(home, "store-gateway.key");

export interface StoreCredentials {
  accessKeyIdFor(deploymentId: string): string;
  /** the deployment an access key id names, or null when it is not one of ours */
  deploymentIdOf(accessKeyId: string): string | null;
  secretFor(accessKeyId: string): string;
}

const PREFIX = "FERRY";
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/** deployment ids are `dpl_` + base36; 8-72 bytes give key ids of 18-121 characters */
const DEPLOYMENT_ID_RE = /^[a-z0-9_-]{8,72}$/;

export function createStoreCredentials(key: Buffer): StoreCredentials {
  if (key.length !== 32) throw new Error("the store gateway key must be 32 bytes");
  const accessKeyIdFor = (deploymentId: string) => {
    if (!DEPLOYMENT_ID_RE.test(deploymentId)) throw new Error(`not a deployment id: ${JSON.stringify(deploymentId)}`);
    return PREFIX + base32(Buffer.from(deploymentId, "utf8"));
  };
  return {
    accessKeyIdFor,
    deploymentIdOf(accessKeyId) {
      if (!accessKeyId.startsWith(PREFIX)) return null;
      const bytes = unbase32(accessKeyId.slice(PREFIX.length));
      if (!bytes) return null;
      const id = bytes.toString("utf8");
      // only the canonical spelling of an id is its key id
      return DEPLOYMENT_ID_RE.test(id) && accessKeyIdFor(id) === accessKeyId ? id : null;
    },
    secretFor: (accessKeyId) => createHmac("sha256", key).update(`ferry-store-gateway/v1\n${accessKeyId}`).digest("base64url"),
  };
}

export async function loadStoreCredentials(home: string): Promise<StoreCredentials> {
  return createStoreCredentials(await loadOrCreateKey(storeGatewayKeyPath(home)));
}

function base32(bytes: Buffer): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(s: string): Buffer | null {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of s) {
    const i = ALPHABET.indexOf(c);
    if (i === -1) return null;
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
