import { randomBytes, createHash } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Lower-case base36 id; safe in hostnames and DynamoDB keys. */
export function randomId(length = 12): string {
  const bytes = randomBytes(length);
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! % ALPHABET.length];
  return out;
}

export const deploymentId = () => `dpl_${randomId(16)}`;
export const hostSuffix = () => randomId(8);

export const sha1 = (data: Buffer | string) => createHash("sha1").update(data).digest("hex");
export const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
