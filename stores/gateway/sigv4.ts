import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/**
 * AWS Signature Version 4, the server side: parse what a client sent (an `Authorization` header
 * or presigned query parameters), rebuild the canonical request the way the AWS SDK does, and
 * compare signatures in constant time. The SDK's signer is the reference; these rules follow it:
 *
 * - canonical URI: S3 signs the path exactly as sent (already URI-encoded once); every other
 *   service normalizes `.`/`..`/empty segments and encodes the encoded path once more.
 * - canonical query: each name and value decoded, then RFC 3986-encoded, sorted by name then
 *   value; `X-Amz-Signature` itself is left out.
 * - canonical headers: the names in SignedHeaders, in that order, values trimmed and runs of
 *   whitespace folded to one space.
 */

export const ALGORITHM = "AWS4-HMAC-SHA256";
/** how far a request's X-Amz-Date may be from now */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** S3's ceiling for presigned URLs: one week */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

export interface SigV4Auth {
  kind: "header" | "query";
  accessKeyId: string;
  /** the credential scope: `<date>/<region>/<service>/aws4_request` */
  scope: string;
  region: string;
  service: string;
  /** `YYYYMMDDTHHMMSSZ` */
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  /** presigned only: X-Amz-Content-Sha256 from the query, when there */
  queryPayloadHash?: string;
}

/** missing: not signed at all; malformed: unusable auth; skewed: X-Amz-Date too far from now; expired: a presigned URL past its time */
export interface AuthFailure {
  reason: "missing" | "malformed" | "skewed" | "expired";
  message: string;
}

export type ParsedAuth = { ok: true; auth: SigV4Auth } | ({ ok: false } & AuthFailure);

/** A request as received: the path and query before any decoding. */
export interface RawRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
}

/** `/a%20b?x=1` -> path and query, untouched. */
export function splitTarget(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf("?");
  return q === -1 ? { rawPath: url, rawQuery: "" } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

/** Query pairs, decoded (`+` stays `+`, as the SDK never sends it for a space); null if not decodable. */
export function decodeQuery(rawQuery: string): [string, string][] | null {
  const pairs: [string, string][] = [];
  if (!rawQuery) return pairs;
  try {
    for (const part of rawQuery.split("&")) {
      if (!part) continue;
      const eq = part.indexOf("=");
      const k = eq === -1 ? part : part.slice(0, eq);
      const v = eq === -1 ? "" : part.slice(eq + 1);
      pairs.push([decodeURIComponent(k), decodeURIComponent(v)]);
    }
  } catch {
    return null;
  }
  return pairs;
}

const AUTH_QUERY = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"];
/** The presigned-URL parameters that carry authentication (not the request's own parameters). */
export const isAuthQueryParam = (name: string) => AUTH_QUERY.some((a) => a.toLowerCase() === name.toLowerCase());

/**
 * Reads the client's SigV4 authentication and checks everything that needs no secret: the
 * algorithm, the credential scope (service `service`, `aws4_request`, date matching X-Amz-Date),
 * `host` among the signed headers, the clock (15 minutes either way) and a presigned URL's expiry.
 */
export function parseAuth(req: RawRequest, query: [string, string][], service: string, now = Date.now()): ParsedAuth {
  const header = single(req.headers.authorization);
  const q = new Map(query.map(([k, v]) => [k, v]));
  const presigned = q.has("X-Amz-Algorithm") || q.has("X-Amz-Credential") || q.has("X-Amz-Signature");
  if (header !== undefined && presigned) return fail("malformed", "only one authentication mechanism is allowed: the Authorization header or presigned query parameters");
  if (header === undefined && !presigned) return fail("missing", "the request is not signed");

  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  let amzDate: string | undefined;
  let expires: string | undefined;
  if (header !== undefined) {
    const space = header.indexOf(" ");
    const algorithm = space === -1 ? header : header.slice(0, space);
    if (algorithm !== ALGORITHM) return fail("malformed", `unsupported authorization algorithm; only ${ALGORITHM} (Signature Version 4) is accepted`);
    for (const part of header.slice(space + 1).split(",")) {
      const kv = part.trim();
      const eq = kv.indexOf("=");
      if (eq === -1) continue;
      const k = kv.slice(0, eq);
      const v = kv.slice(eq + 1);
      if (k === "Credential") credential = v;
      else if (k === "SignedHeaders") signedHeaders = v;
      else if (k === "Signature") signature = v;
    }
    amzDate = single(req.headers["x-amz-date"]);
    if (!credential || signedHeaders === undefined || !signature) return fail("malformed", "the Authorization header needs Credential, SignedHeaders and Signature");
    if (!amzDate) return fail("malformed", "a signed request needs an X-Amz-Date header");
  } else {
    if (q.get("X-Amz-Algorithm") !== ALGORITHM) return fail("malformed", `X-Amz-Algorithm must be ${ALGORITHM}`);
    credential = q.get("X-Amz-Credential");
    signedHeaders = q.get("X-Amz-SignedHeaders");
    signature = q.get("X-Amz-Signature");
    amzDate = q.get("X-Amz-Date");
    expires = q.get("X-Amz-Expires");
    if (!credential || signedHeaders === undefined || !signature || !amzDate || expires === undefined)
      return fail("malformed", "a presigned URL needs X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature");
  }

  const parts = credential.split("/");
  if (parts.length < 5) return fail("malformed", "the credential must be <access key id>/<date>/<region>/<service>/aws4_request");
  const [date, region, scopeService, terminator] = parts.slice(-4) as [string, string, string, string];
  const accessKeyId = parts.slice(0, -4).join("/");
  const time = parseAmzDate(amzDate);
  if (time === null) return fail("malformed", "X-Amz-Date must be YYYYMMDDTHHMMSSZ");
  if (terminator !== "aws4_request") return fail("malformed", "the credential scope must end with aws4_request");
  if (scopeService !== service) return fail("malformed", `the credential is scoped to service "${scopeService}"; this endpoint serves "${service}"`);
  if (date !== amzDate.slice(0, 8)) return fail("malformed", "the date in the credential scope does not match X-Amz-Date");
  if (!region || !accessKeyId) return fail("malformed", "the credential names no access key id or region");
  const names = signedHeaders.split(";");
  if (!names.includes("host")) return fail("malformed", "host must be a signed header");
  if (names.some((n) => !n || n !== n.toLowerCase())) return fail("malformed", "SignedHeaders must be lower-case names separated by ';'");

  if (expires !== undefined) {
    if (!/^\d{1,7}$/.test(expires) || Number(expires) < 1 || Number(expires) > MAX_PRESIGN_SECONDS)
      return fail("malformed", `X-Amz-Expires must be between 1 and ${MAX_PRESIGN_SECONDS} seconds`);
    if (now < time - MAX_SKEW_MS) return fail("skewed", "the presigned URL is not valid yet");
    if (now > time + Number(expires) * 1000) return fail("expired", "Request has expired");
  } else if (Math.abs(now - time) > MAX_SKEW_MS) {
    return fail("skewed", `Signature expired: ${amzDate} is more than 15 minutes from the server's time`);
  }

  return {
    ok: true,
    auth: {
      kind: header !== undefined ? "header" : "query",
      accessKeyId,
      scope: parts.slice(-4).join("/"),
      region,
      service,
      amzDate,
      signedHeaders: names,
      signature,
      ...(presigned && q.has("X-Amz-Content-Sha256") ? { queryPayloadHash: q.get("X-Amz-Content-Sha256")! } : {}),
    },
  };
}

/** RFC 3986 encoding, as the SDK's signer does it (encodeURIComponent plus `!'()*`). */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function canonicalUri(rawPath: string, service: string): string {
  if (service === "s3") return rawPath;
  const segments: string[] = [];
  for (const seg of rawPath.split("/")) {
    if (!seg || seg === ".") continue;
    if (seg === "..") segments.pop();
    else segments.push(seg);
  }
  const normalized = `${rawPath.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && rawPath.endsWith("/") ? "/" : ""}`;
  return escapeUri(normalized).replace(/%2F/g, "/");
}

export function canonicalQuery(query: [string, string][]): string {
  return query
    .filter(([k]) => k.toLowerCase() !== "x-amz-signature")
    .map(([k, v]) => [escapeUri(k), escapeUri(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export function canonicalRequest(req: RawRequest, query: [string, string][], auth: SigV4Auth, payloadHash: string): string {
  const headers = auth.signedHeaders.map((name) => {
    const raw = req.headers[name];
    const value = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
    return `${name}:${String(value).trim().replace(/\s+/g, " ")}`;
  });
  return [req.method, canonicalUri(req.rawPath, auth.service), canonicalQuery(query), headers.join("\n"), "", auth.signedHeaders.join(";"), payloadHash].join("\n");
}

const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();
export const sha256Hex = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

export function expectedSignature(secret: string, auth: SigV4Auth, canonical: string): string {
  const [date, region, service] = auth.scope.split("/") as [string, string, string];
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  const stringToSign = [ALGORITHM, auth.amzDate, auth.scope, sha256Hex(canonical)].join("\n");
  return createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
}

/** True when the signature the client sent is the one `secret` gives; constant time in its value. */
export function signatureMatches(secret: string, auth: SigV4Auth, canonical: string): boolean {
  const expected = Buffer.from(expectedSignature(secret, auth, canonical), "utf8");
  const given = Buffer.from(auth.signature, "utf8");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function parseAmzDate(s: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, se!);
  return Number.isNaN(t) ? null : t;
}

const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const fail = (reason: AuthFailure["reason"], message: string) => ({ ok: false as const, reason, message });
