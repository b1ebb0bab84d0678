import { sha256, randomId } from "../core/ids.ts";
import type { Metadata } from "../core/metadata/repository.ts";
import { createToken } from "../api/services/tokens.ts";
import { readJsonFile, writeJsonFile, type Credentials } from "./home.ts";

/**
 * On first start: an account and an admin token, written to a 0600 credentials file beside
 * server.json. Later starts reuse it; if the metadata was wiped, the token record is restored
 * from the file so the CLI keeps working.
 */
export async function ensureAdmin(metadata: Metadata, credentialsPath: string): Promise<Credentials & { created: boolean }> {
  const existing = await readJsonFile<Credentials>(credentialsPath);
  if (existing) {
    if (!(await metadata.getTokenByHash(sha256(existing.token)))) {
      await metadata.putAccount({ id: existing.accountId, name: "admin", createdAt: Date.now() });
      await metadata.putToken({ hash: sha256(existing.token), id: `tok_${randomId(12)}`, accountId: existing.accountId, name: "admin", scopes: ["*"], createdAt: Date.now() });
    }
    return { ...existing, created: false };
  }
  const accountId = `acc_${randomId(12)}`;
  await metadata.putAccount({ id: accountId, name: "admin", createdAt: Date.now() });
  const { token } = await createToken(metadata, accountId, "admin", ["*"]);
  await writeJsonFile(credentialsPath, { token, accountId }, 0o600);
  return { token, accountId, created: true };
}
