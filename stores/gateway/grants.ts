/** What one access key may do: the secret it signs with and the tables and buckets it reaches. */
export interface Grant {
  secret: string;
  /** table and bucket names, exactly */
  resources: ReadonlySet<string>;
}

/** Looks an access key id up; null for a key that does not exist (or no longer does). */
export type Authorize = (accessKeyId: string) => Promise<Grant | null>;

/** AWS's shape for access key ids; anything else is unknown without a lookup. */
export const ACCESS_KEY_ID_RE = /^[A-Z0-9]{16,128}$/;

export interface GrantCache {
  get(accessKeyId: string): Promise<Grant | null>;
  /** drops one key (its deployment was removed) or all */
  forget(accessKeyId?: string): void;
}

/**
 * Grants are looked up per request, so they are kept briefly: `ttlMs` for a grant, less for an
 * unknown key. Concurrent misses share one lookup; a failed lookup is not kept.
 */
export function grantCache(authorize: Authorize, opts: { ttlMs?: number; missTtlMs?: number; max?: number } = {}): GrantCache {
  const ttl = opts.ttlMs ?? 5_000;
  const missTtl = Math.min(opts.missTtlMs ?? 1_000, ttl);
  const max = opts.max ?? 10_000;
  interface Entry {
    at: number;
    value: Promise<Grant | null>;
    /** settled as an unknown key */
    miss?: boolean;
  }
  const entries = new Map<string, Entry>();

  return {
    get(accessKeyId) {
      if (!ACCESS_KEY_ID_RE.test(accessKeyId)) return Promise.resolve(null);
      const now = Date.now();
      const hit = entries.get(accessKeyId);
      if (hit) {
        if (now - hit.at < (hit.miss ? missTtl : ttl)) return hit.value;
        entries.delete(accessKeyId);
      }
      const entry: Entry = { at: now, value: Promise.resolve().then(() => authorize(accessKeyId)) };
      entries.set(accessKeyId, entry);
      entry.value.then(
        (g) => {
          if (!g) entry.miss = true;
        },
        () => {
          if (entries.get(accessKeyId) === entry) entries.delete(accessKeyId);
        },
      );
      if (entries.size > max) for (const [k, v] of entries) if (now - v.at >= ttl || entries.size > max) entries.delete(k);
      return entry.value;
    },
    forget(accessKeyId) {
      if (accessKeyId === undefined) entries.clear();
      else entries.delete(accessKeyId);
    },
  };
}
