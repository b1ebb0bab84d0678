import { createRequire } from "node:module";
import { parse as parseQueryString, type ParsedUrlQuery } from "node:querystring";

/**
 * What an S3 request touches and whether an app may do it, read the way s3rver will read it:
 * Koa's query parser, the router's per-parameter `decodeURIComponent` (falling back to the raw
 * text), `decodeURI` for x-amz-copy-source, and s3rver's own XML parser for DeleteObjects. s3rver
 * maps bucket and key to paths on disk with `path.join`, so besides the bucket check every key,
 * upload id and part number that reaches it must be free of `.`/`..` segments.
 *
 * Apps use objects in their own buckets. Creating or deleting buckets and changing a bucket's
 * configuration is the platform's job; ListBuckets (GET /) is refused, as its answer would name
 * other projects' buckets.
 */

export interface S3Target {
  /** null for the service itself (`/`) */
  bucket: string | null;
  /** "" for the bucket itself */
  key: string;
  query: ParsedUrlQuery;
}

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function s3Target(rawPath: string, rawQuery: string): S3Target | null {
  if (!rawPath.startsWith("/")) return null;
  const rest = rawPath.slice(1);
  const query = parseQueryString(rawQuery);
  if (rest === "") return { bucket: null, key: "", query };
  const slash = rest.indexOf("/");
  const bucketRaw = slash === -1 ? rest : rest.slice(0, slash);
  const keyRaw = slash === -1 ? "" : rest.slice(slash + 1);
  if (bucketRaw === "") return null;
  return { bucket: safeDecode(bucketRaw), key: safeDecode(keyRaw), query };
}

const deny = (message: string): Refusal => ({ status: 403, code: "AccessDenied", message });
const invalid = (message: string): Refusal => ({ status: 400, code: "InvalidArgument", message });
const notOurs = (bucket: string) => deny(`Access Denied: bucket ${JSON.stringify(bucket)} is not one of this deployment's stores`);

/** `a/../b`, `./x`: keys whose segments s3rver's path.join would resolve outside their place. */
export const unsafeKey = (key: string) => key.split("/").some((s) => s === "." || s === "..");

/** Returns why the request is refused, or null when it may go on (DeleteObjects' body aside). */
export function authorizeS3(method: string, target: S3Target, headers: Record<string, string | string[] | undefined>, granted: ReadonlySet<string>): Refusal | null {
  if (target.bucket === null) {
    if (method === "GET" || method === "HEAD") return deny("ListBuckets is not allowed: a deployment reaches only its own buckets, named in FERRY_STORE_<NAME>_BUCKET");
    return deny("this operation is not allowed: the platform manages buckets");
  }
  if (!granted.has(target.bucket)) return notOurs(target.bucket);

  for (const name of ["uploadId", "partNumber"]) {
    const v = target.query[name];
    if (v === undefined) continue;
    if (typeof v !== "string") return invalid(`${name} may be given once`);
    if (name === "uploadId" ? !/^[0-9A-Za-z]{1,128}$/.test(v) : !/^\d{1,5}$/.test(v)) return invalid(`${name} is not valid`);
  }

  const copySource = headers["x-amz-copy-source"];
  if (copySource !== undefined) {
    if (typeof copySource !== "string") return invalid("x-amz-copy-source may be given once");
    let decoded: string;
    try {
      decoded = decodeURI(copySource);
    } catch {
      return invalid("x-amz-copy-source is not valid percent-encoding");
    }
    const [srcBucket = "", ...srcKey] = (decoded.startsWith("/") ? decoded.slice(1) : decoded).split("/");
    if (!granted.has(srcBucket)) return notOurs(srcBucket);
    if (unsafeKey(srcKey.join("/"))) return invalid("object keys with '.' or '..' path segments are not supported by the embedded store");
  }

  if (target.key === "") {
    if (method === "GET" || method === "HEAD") return null; // ListObjects, HeadBucket, GetBucketLocation, ...
    if (method === "POST" && "delete" in target.query) return null; // DeleteObjects: keys checked by deleteObjectsRefusal
    if (method === "PUT") return deny("CreateBucket and bucket configuration are not allowed: the platform manages buckets");
    if (method === "DELETE") return deny("DeleteBucket is not allowed: the platform manages buckets");
    return deny("this bucket operation is not allowed (browser-form POST uploads are not supported; use PutObject)");
  }
  if (unsafeKey(target.key)) return invalid("object keys with '.' or '..' path segments are not supported by the embedded store");
  if (["GET", "HEAD", "PUT", "DELETE", "POST"].includes(method)) return null;
  return deny(`${method} is not allowed on objects`);
}

/** DeleteObjects needs its body read: the keys it deletes are in the XML. */
export const isDeleteObjects = (method: string, target: S3Target) => method === "POST" && target.bucket !== null && target.key === "" && "delete" in target.query;

interface XmlParser {
  validate(xml: string): true | unknown;
  parse(xml: string, opts: Record<string, unknown>): unknown;
}
let xml: { parser: XmlParser; decode: (s: string) => string } | undefined;
/** s3rver's own copies of its XML parser and entity decoder, so both read a body the same way. */
function s3rverXml() {
  if (!xml) {
    const fromS3rver = createRequire(createRequire(import.meta.url).resolve("s3rver"));
    xml = { parser: fromS3rver("fast-xml-parser") as XmlParser, decode: (fromS3rver("he") as { decode: (s: string) => string }).decode };
  }
  return xml;
}

export function deleteObjectsRefusal(body: Buffer): Refusal | null {
  const { parser, decode } = s3rverXml();
  const text = body.toString("utf8");
  if (parser.validate(text) !== true) return { status: 400, code: "MalformedXML", message: "The XML you provided was not well-formed" };
  const doc = parser.parse(text, { tagValueProcessor: (a: string) => decode(a) }) as { Delete?: { Object?: unknown } } | undefined;
  const objects = doc?.Delete?.Object;
  if (objects === undefined) return { status: 400, code: "MalformedXML", message: "DeleteObjects needs <Delete><Object><Key>...</Key></Object></Delete>" };
  for (const o of ([] as unknown[]).concat(objects)) {
    const key = (o as { Key?: unknown } | null)?.Key;
    if (typeof key !== "string" && typeof key !== "number") return { status: 400, code: "MalformedXML", message: "every <Object> needs a <Key>" };
    if (unsafeKey(String(key))) return invalid("object keys with '.' or '..' path segments are not supported by the embedded store");
  }
  return null;
}
