// Vercel's routing behaviour as test vectors: inputs and expected outputs transcribed from Vercel's
// public tests (named in `source`), plus the cases Ferry must get right beyond them. Each one is a
// ferry.json (or vercel.json) routing config, one request, and what must come back.
//
// serve-handler's vectors are written in its glob syntax (`face/**`); here they are in vercel.json's
// (`/face/:path*`), and its default redirect status (301) is Vercel's (308). `{{UPSTREAM}}` is the
// origin of a second HTTP server on loopback, which echoes what it received as JSON.

export interface Vector {
  name: string;
  source: string;
  config: Record<string, unknown>;
  request: { path: string; method?: string; headers?: Record<string, string>; body?: string };
  expect: {
    status: number;
    /** exact Location; `null`: none */
    location?: string | null;
    body?: string;
    /** response headers (lower-case names); `null`: absent */
    headers?: Record<string, string | null>;
    /** the JSON answer (the echo function's, or the upstream's) contains this */
    json?: Record<string, unknown>;
    /** request headers the upstream must not have received */
    upstreamLacks?: string[];
  };
}

const SH = "vercel/serve-handler test/integration.test.js";
const DR = "vercel/vercel packages/cli/test/unit/util/dev/router.test.ts";
const RC = "vercel/vercel packages/cli/test/unit/util/dev/route-conditions.test.ts";
const VD = "Vercel docs (project configuration)";
const FERRY = "Ferry";

export const VECTORS: Vector[] = [
  // --- serve-handler: trailingSlash, cleanUrls, rewrites, redirects, headers, errors
  { name: "trailingSlash true adds the slash", source: `${SH}: set \`trailingSlash\` config property to \`true\``, config: { trailingSlash: true }, request: { path: "/test" }, expect: { status: 308, location: "/test/" } },
  { name: "trailingSlash collapses repeated slashes", source: `${SH}: set \`trailingSlash\` config property to any boolean and remove multiple slashes`, config: { trailingSlash: true }, request: { path: "/test///////" }, expect: { status: 308, location: "/test/" } },
  { name: "trailingSlash false removes the slash", source: `${SH}: set \`trailingSlash\` config property to \`false\``, config: { trailingSlash: false }, request: { path: "/test/" }, expect: { status: 308, location: "/test" } },
  { name: "cleanUrls prevents open redirects", source: `${SH}: set \`cleanUrls\` config property should prevent open redirects`, config: { cleanUrls: true }, request: { path: "//haveibeenpwned.com/index" }, expect: { status: 308, location: "/haveibeenpwned.com" } },
  { name: "rewrite of a wildcard path", source: `${SH}: set \`rewrites\` config property to wildcard path`, config: { rewrites: [{ source: "/face/:path*", destination: "/.dotfile" }] }, request: { path: "/face/delete" }, expect: { status: 200, body: "dotfile" } },
  { name: "rewrite that does not match serves 404.html", source: `${SH}: set \`rewrites\` config property to non-matching path`, config: { rewrites: [{ source: "/face/:path*", destination: "/.dotfile" }] }, request: { path: "/mask/delete" }, expect: { status: 404, body: "custom 404" } },
  { name: "rewrite of a one-segment wildcard", source: `${SH}: set \`rewrites\` config property to one-star wildcard path`, config: { rewrites: [{ source: "/face/:any/mask", destination: "/.dotfile" }] }, request: { path: "/face/delete/mask" }, expect: { status: 200, body: "dotfile" } },
  { name: "rewrite of a path segment", source: `${SH}: set \`rewrites\` config property to path segment`, config: { rewrites: [{ source: "/face/:id", destination: "/:id.json" }] }, request: { path: "/face/object" }, expect: { status: 200, json: { a: 1 } } },
  { name: "redirect of a wildcard path", source: `${SH}: set \`redirects\` config property to wildcard path`, config: { redirects: [{ source: "/face/:path*", destination: "/testing" }] }, request: { path: "/face/mask" }, expect: { status: 308, location: "/testing" } },
  { name: "redirect of a negated path matches others", source: `${SH}: set \`redirects\` config property to a negated wildcard path`, config: { redirects: [{ source: "/((?!face/).*)", destination: "/testing" }] }, request: { path: "/test/mask" }, expect: { status: 308, location: "/testing" } },
  { name: "redirect of a negated path skips the negated one", source: `${SH}: set \`redirects\` config property to a negated wildcard path`, config: { redirects: [{ source: "/((?!face/).*)", destination: "/testing" }] }, request: { path: "/face/mask" }, expect: { status: 404, location: null } },
  { name: "redirect of a wildcard path that does not match", source: `${SH}: set \`redirects\` config property to wildcard path and do not match`, config: { redirects: [{ source: "/face/:path*", destination: "/testing" }] }, request: { path: "/test/mask" }, expect: { status: 404, location: null } },
  { name: "redirect of a one-segment wildcard", source: `${SH}: set \`redirects\` config property to one-star wildcard path`, config: { redirects: [{ source: "/face/:any/ideal", destination: "/testing" }] }, request: { path: "/face/mask/ideal" }, expect: { status: 308, location: "/testing" } },
  { name: "redirect of an alternation", source: `${SH}: set \`redirects\` config property to extglob wildcard path`, config: { redirects: [{ source: "/face/(mask1|mask2)/ideal", destination: "/testing" }] }, request: { path: "/face/mask1/ideal" }, expect: { status: 308, location: "/testing" } },
  { name: "redirect of a path segment", source: `${SH}: set \`redirects\` config property to path segment`, config: { redirects: [{ source: "/face/:segment", destination: "/mask/:segment" }] }, request: { path: "/face/me" }, expect: { status: 308, location: "/mask/me" } },
  { name: "trailingSlash true comes before redirects", source: `${SH}: set \`redirects\` config property to wildcard path and \`trailingSlash\` to \`true\``, config: { trailingSlash: true, redirects: [{ source: "/face/:path*", destination: "/testing" }] }, request: { path: "/face/mask" }, expect: { status: 308, location: "/face/mask/" } },
  { name: "trailingSlash false comes before redirects", source: `${SH}: set \`redirects\` config property to wildcard path and \`trailingSlash\` to \`false\``, config: { trailingSlash: false, redirects: [{ source: "/face/:path*", destination: "/testing" }] }, request: { path: "/face/mask/" }, expect: { status: 308, location: "/face/mask" } },
  { name: "headers on a wildcard source", source: `${SH}: set \`headers\` to wildcard headers`, config: { headers: [{ source: "/(.*)\\.md", headers: [{ key: "Cache-Control", value: "max-age=7200" }] }] }, request: { path: "/docs.md" }, expect: { status: 200, headers: { "cache-control": "max-age=7200" } } },
  { name: "headers on a fixed source keep the content type", source: `${SH}: set \`headers\` to fixed headers and check default headers`, config: { headers: [{ source: "/object.json", headers: [{ key: "Cache-Control", value: "max-age=7200" }] }] }, request: { path: "/object.json" }, expect: { status: 200, headers: { "cache-control": "max-age=7200", "content-type": "application/json; charset=utf-8" } } },
  { name: "custom 404.html", source: `${SH}: receive custom \`404.html\` error page`, config: { cleanUrls: true }, request: { path: "/not-existing" }, expect: { status: 404, body: "custom 404" } },
  { name: "cleanUrls serves a directory's index", source: `${SH}: set \`cleanUrls\` config property to \`true\``, config: { cleanUrls: true }, request: { path: "/directory" }, expect: { status: 200, body: "directory index" } },
  { name: "cleanUrls redirects a .html file", source: `${SH}: set \`cleanUrls\` config property to \`true\` and try with file`, config: { cleanUrls: true }, request: { path: "/directory/clean-file.html" }, expect: { status: 308, location: "/directory/clean-file" } },
  { name: "cleanUrls serves the file without .html", source: `${SH}: set \`cleanUrls\` config property to \`true\` and try with file`, config: { cleanUrls: true }, request: { path: "/directory/clean-file" }, expect: { status: 200, body: "clean file" } },
  { name: "cleanUrls redirects /index to /", source: `${SH}: correctly handle requests to /index if \`cleanUrls\` is enabled`, config: { cleanUrls: true }, request: { path: "/index" }, expect: { status: 308, location: "/" } },
  { name: "malformed URI is a 400", source: `${SH}: error for request with malformed URI`, config: { cleanUrls: true }, request: { path: "/%E0%A4%A" }, expect: { status: 400 } },
  { name: "error responses get custom headers", source: `${SH}: error responses get custom headers`, config: { headers: [{ source: "/(.*)", headers: [{ key: "who", value: "me" }] }] }, request: { path: "/non-existing" }, expect: { status: 404, headers: { who: "me" } } },

  // --- Vercel's route execution (legacy `routes`)
  { name: "301 redirection", source: `${DR}: should handle 301 redirection`, config: { routes: [{ src: "/redirect", status: 301, headers: { Location: "https://vercel.com" } }] }, request: { path: "/redirect" }, expect: { status: 301, location: "https://vercel.com" } },
  { name: "captured groups", source: `${DR}: should match captured groups`, config: { routes: [{ src: "/api/(.*)", dest: "/endpoints/$1.js" }] }, request: { path: "/api/user" }, expect: { status: 200, body: "endpoint user" } },
  { name: "named groups", source: `${DR}: should match named groups`, config: { routes: [{ src: "/user/(?<id>.+)", dest: "/user.js?id=$id" }] }, request: { path: "/user/123" }, expect: { status: 200, json: { fn: "user.js", path: "/user.js?id=123" } } },
  { name: "optional named groups", source: `${DR}: should match optional named groups`, config: { routes: [{ src: "/api/hello(/(?<name>[^/]+))?", dest: "/api/functions/hello/index.js?name=$name" }] }, request: { path: "/api/hello" }, expect: { status: 200, json: { fn: "hello", path: "/api/functions/hello/index.js?name=" } } },
  { name: "proxy_pass", source: `${DR}: should match proxy_pass`, config: { routes: [{ src: "/proxy", dest: "{{UPSTREAM}}" }] }, request: { path: "/proxy" }, expect: { status: 200, json: { method: "GET", url: "/" }, headers: { "x-upstream": "yes" } } },
  { name: "methods (GET)", source: `${DR}: should match \`methods\``, config: { routes: [{ src: "/.*", methods: ["POST"], dest: "/post" }, { src: "/.*", methods: ["GET"], dest: "/get" }] }, request: { path: "/" }, expect: { status: 200, json: { fn: "get" } } },
  { name: "methods (POST)", source: `${DR}: should match \`methods\``, config: { routes: [{ src: "/.*", methods: ["POST"], dest: "/post" }, { src: "/.*", methods: ["GET"], dest: "/get" }] }, request: { path: "/", method: "POST", body: "x" }, expect: { status: 200, json: { fn: "post" } } },
  { name: "without prefix slash", source: `${DR}: should match without prefix slash`, config: { routes: [{ src: "api/(.*)", dest: "endpoints/$1.js" }] }, request: { path: "/api/user" }, expect: { status: 200, body: "endpoint user" } },
  { name: "with needed prefixed slash", source: `${DR}: should match with needed prefixed slash`, config: { routes: [{ src: "^\\/([^\\/]+?)\\/comments(?:\\/)?$", dest: "/some/dest" }] }, request: { path: "/post-1/comments" }, expect: { status: 200, json: { fn: "some/dest" } } },
  { name: "continue: true with fallthrough", source: `${DR}: should match \`continue: true\` with fallthrough`, config: { routes: [{ src: "/_next/static/(?:[^/]+/pages|chunks|runtime)/.+", continue: true, headers: { "cache-control": "immutable,max-age=31536000" } }] }, request: { path: "/_next/static/chunks/0.js" }, expect: { status: 200, body: "chunk", headers: { "cache-control": "immutable,max-age=31536000" } } },
  { name: "continue: true with match", source: `${DR}: should match \`continue: true\` with match`, config: { routes: [{ src: "/_next/static/(?:[^/]+/pages|chunks|runtime)/.+", continue: true, headers: { "cache-control": "immutable,max-age=31536000" } }, { src: "/(.*)", dest: "/hi" }] }, request: { path: "/_next/static/chunks/0.js" }, expect: { status: 200, json: { fn: "hi" }, headers: { "cache-control": "immutable,max-age=31536000" } } },
  { name: "catch-all with prefix slash", source: `${DR}: should match with catch-all with prefix slash`, config: { routes: [{ src: "/(.*)", dest: "/www/$1" }] }, request: { path: "/" }, expect: { status: 200, body: "www home" } },
  { name: "catch-all with no prefix slash", source: `${DR}: should match with catch-all with no prefix slash`, config: { routes: [{ src: "(.*)", dest: "/www$1" }] }, request: { path: "/" }, expect: { status: 200, body: "www home" } },
  { name: "continue: true with dest", source: `${DR}: should match \`continue: true\` with \`dest\``, config: { routes: [{ src: "/(.*)", dest: "/www/$1", continue: true }, { src: "^/www/(a\\/([^\\/]+?)(?:\\/)?)$", dest: "{{UPSTREAM}}/$1" }] }, request: { path: "/a/foo" }, expect: { status: 200, json: { url: "/a/foo" } } },

  // --- has / missing conditions
  { name: "has header presence (present)", source: `${RC}: matches \`has\` header presence case-insensitively`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", has: [{ type: "header", key: "X-Rewrite-Me" }] }] }, request: { path: "/cond", headers: { "x-rewrite-me": "1" } }, expect: { status: 200, json: { fn: "api/echo" } } },
  { name: "has header presence (absent)", source: `${RC}: matches \`has\` header presence case-insensitively`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", has: [{ type: "header", key: "x-rewrite-me" }] }] }, request: { path: "/cond" }, expect: { status: 404 } },
  { name: "has header value regex with a named group", source: `${RC}: matches \`has\` header value as regex with named groups`, config: { rewrites: [{ source: "/cond", destination: "/api/echo?id=:id", has: [{ type: "header", key: "x-id", value: "(?<id>[0-9]+)" }] }] }, request: { path: "/cond", headers: { "x-id": "abc123" } }, expect: { status: 200, json: { path: "/api/echo?id=123" } } },
  { name: "has header value regex that does not match", source: `${RC}: matches \`has\` header value as regex with named groups`, config: { rewrites: [{ source: "/cond", destination: "/api/echo?id=:id", has: [{ type: "header", key: "x-id", value: "(?<id>[0-9]+)" }] }] }, request: { path: "/cond", headers: { "x-id": "nope" } }, expect: { status: 404 } },
  { name: "has with an invalid regex never matches", source: `${RC}: treats an invalid regex as no match instead of throwing`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", has: [{ type: "header", key: "x-id", value: "(?<oops" }] }] }, request: { path: "/cond", headers: { "x-id": "1" } }, expect: { status: 404 } },
  { name: "has cookie, its value in the destination", source: `${RC}: matches \`has\` cookie`, config: { rewrites: [{ source: "/cond", destination: "/api/users/:session", has: [{ type: "cookie", key: "session" }] }] }, request: { path: "/cond", headers: { cookie: "a=1; session=xyz" } }, expect: { status: 200, json: { fn: "api/users/[id]", params: { id: "xyz" } } } },
  { name: "has cookie absent", source: `${RC}: matches \`has\` cookie`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", has: [{ type: "cookie", key: "session" }] }] }, request: { path: "/cond", headers: { cookie: "a=1" } }, expect: { status: 404 } },
  { name: "has query, valueless", source: `${RC}: matches \`has\` query, including valueless params`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", has: [{ type: "query", key: "id" }] }] }, request: { path: "/cond?id" }, expect: { status: 200, json: { fn: "api/echo" } } },
  { name: "has host", source: `${RC}: matches \`has\` host and strips the dev port`, config: { redirects: [{ source: "/cond", destination: "https://elsewhere.example/", has: [{ type: "host", value: "^v\\d+\\.localhost$" }] }] }, request: { path: "/cond" }, expect: { status: 308, location: "https://elsewhere.example/" } },
  { name: "has host that differs", source: `${RC}: matches \`has\` host and strips the dev port`, config: { redirects: [{ source: "/cond", destination: "https://elsewhere.example/", has: [{ type: "host", value: "^other\\.com$" }] }] }, request: { path: "/cond" }, expect: { status: 404 } },
  { name: "every has condition must match", source: `${RC}: requires every \`has\` condition to match`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", has: [{ type: "header", key: "x-a" }, { type: "query", key: "b", value: "^yes$" }] }] }, request: { path: "/cond?b=no", headers: { "x-a": "1" } }, expect: { status: 404 } },
  { name: "missing header absent", source: `${RC}: matches \`missing\` when the key is absent`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", missing: [{ type: "header", key: "x-preview" }] }] }, request: { path: "/cond" }, expect: { status: 200, json: { fn: "api/echo" } } },
  { name: "missing header present", source: `${RC}: matches \`missing\` when the key is absent`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", missing: [{ type: "header", key: "x-preview" }] }] }, request: { path: "/cond", headers: { "x-preview": "1" } }, expect: { status: 404 } },
  { name: "missing query with a value that differs", source: `${RC}: matches \`missing\` with value when it is absent or different`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", missing: [{ type: "query", key: "mode", value: "^preview$" }] }] }, request: { path: "/cond?mode=live" }, expect: { status: 200, json: { fn: "api/echo" } } },
  { name: "missing query with the value", source: `${RC}: matches \`missing\` with value when it is absent or different`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", missing: [{ type: "query", key: "mode", value: "^preview$" }] }] }, request: { path: "/cond?mode=preview" }, expect: { status: 404 } },
  { name: "object matcher pre + suf", source: `${RC}: requires all matchers in one object to hold`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", has: [{ type: "query", key: "q", value: { pre: "a", suf: "z" } }] }] }, request: { path: "/cond?q=abz" }, expect: { status: 200, json: { fn: "api/echo" } } },
  { name: "object matcher gt on a non-number", source: `${RC}: matches object matcher non-numeric`, config: { rewrites: [{ source: "/cond", destination: "/api/echo", has: [{ type: "query", key: "q", value: { gt: 2 } }] }] }, request: { path: "/cond?q=abc" }, expect: { status: 404 } },
  { name: "object matcher re captures", source: `${RC}: captures named groups from \`re\` matcher`, config: { rewrites: [{ source: "/cond", destination: "/api/echo?v=:v", has: [{ type: "header", key: "x-v", value: { re: "(?<v>[0-9]+)" } }] }] }, request: { path: "/cond", headers: { "x-v": "v42" } }, expect: { status: 200, json: { path: "/api/echo?v=42" } } },

  // --- the bullets Ferry got wrong before, and its own guarantees
  { name: "a redirect without permanent is 308", source: VD, config: { redirects: [{ source: "/old", destination: "/new" }] }, request: { path: "/old" }, expect: { status: 308, location: "/new" } },
  { name: "permanent: false is 307", source: VD, config: { redirects: [{ source: "/old", destination: "/new", permanent: false }] }, request: { path: "/old" }, expect: { status: 307, location: "/new" } },
  { name: "statusCode is used as given", source: VD, config: { redirects: [{ source: "/old", destination: "/new", statusCode: 302 }] }, request: { path: "/old" }, expect: { status: 302, location: "/new" } },
  { name: "the request's query is kept on a redirect", source: VD, config: { redirects: [{ source: "/old/:slug", destination: "/new/:slug?from=old" }] }, request: { path: "/old/x?utm=1" }, expect: { status: 308, location: "/new/x?from=old&utm=1" } },
  { name: "redirect sources are case-sensitive", source: VD, config: { redirects: [{ source: "/About.html", destination: "/new" }] }, request: { path: "/about.html" }, expect: { status: 200, body: "about", location: null } },
  { name: "rewrite sources are case-sensitive", source: VD, config: { rewrites: [{ source: "/Team", destination: "/api/echo" }] }, request: { path: "/team" }, expect: { status: 404 } },
  { name: "header sources are case-sensitive", source: VD, config: { headers: [{ source: "/App.js", headers: [{ key: "x-hit", value: "1" }] }] }, request: { path: "/app.js" }, expect: { status: 200, headers: { "x-hit": null } } },
  { name: "legacy routes are case-insensitive", source: VD, config: { routes: [{ src: "/About", status: 308, headers: { Location: "/x" } }] }, request: { path: "/about" }, expect: { status: 308, location: "/x" } },
  { name: "optional param present", source: VD, config: { redirects: [{ source: "/a/:id?", destination: "/b/:id" }] }, request: { path: "/a/5" }, expect: { status: 308, location: "/b/5" } },
  { name: "optional param absent", source: VD, config: { redirects: [{ source: "/a/:id?", destination: "/b/:id" }] }, request: { path: "/a" }, expect: { status: 308, location: "/b/" } },
  { name: "{:param} in a destination", source: VD, config: { rewrites: [{ source: "/blog/:slug", destination: "/api/users/{:slug}-x" }] }, request: { path: "/blog/hello" }, expect: { status: 200, json: { params: { id: "hello-x" } } } },
  { name: "params in header keys and values", source: VD, config: { headers: [{ source: "/:lang/docs", headers: [{ key: "x-lang-:lang", value: "lang=:lang" }] }] }, request: { path: "/en/docs" }, expect: { status: 404, headers: { "x-lang-en": "lang=en" } } },
  { name: "route params are appended to a rewrite's query", source: VD, config: { rewrites: [{ source: "/team/:id", destination: "/api/echo" }] }, request: { path: "/team/9?x=2" }, expect: { status: 200, json: { path: "/api/echo?id=9&x=2" } } },
  { name: "a rewrite's own query comes first", source: VD, config: { rewrites: [{ source: "/team/:id", destination: "/api/users/:id?from=team" }] }, request: { path: "/team/9?x=2" }, expect: { status: 200, json: { params: { id: "9" }, path: "/api/users/9?from=team&x=2" } } },
  { name: "regex group in a source matches", source: VD, config: { redirects: [{ source: "/post/:id(\\d+)", destination: "/p/:id" }] }, request: { path: "/post/123" }, expect: { status: 308, location: "/p/123" } },
  { name: "regex group in a source does not match", source: VD, config: { redirects: [{ source: "/post/:id(\\d+)", destination: "/p/:id" }] }, request: { path: "/post/abc" }, expect: { status: 404 } },
  { name: "negative lookahead SPA fallback", source: VD, config: { rewrites: [{ source: "/((?!api/).*)", destination: "/index.html" }] }, request: { path: "/deep/link" }, expect: { status: 200, body: "home" } },
  { name: "negative lookahead leaves api alone", source: VD, config: { rewrites: [{ source: "/((?!api/).*)", destination: "/index.html" }] }, request: { path: "/api/nothing" }, expect: { status: 404 } },
  { name: "files win over rewrites", source: VD, config: { rewrites: [{ source: "/app.js", destination: "/index.html" }] }, request: { path: "/app.js" }, expect: { status: 200, body: "js" } },
  { name: "cleanUrls comes before user redirects", source: VD, config: { cleanUrls: true, redirects: [{ source: "/about.html", destination: "/elsewhere" }] }, request: { path: "/about.html" }, expect: { status: 308, location: "/about" } },
  { name: "user redirects come before the filesystem", source: VD, config: { redirects: [{ source: "/about", destination: "/elsewhere" }] }, request: { path: "/about" }, expect: { status: 308, location: "/elsewhere" } },
  { name: "cleanUrls: /about.html/ is normalized", source: VD, config: { cleanUrls: true }, request: { path: "/about.html/" }, expect: { status: 308, location: "/about" } },
  { name: "cleanUrls: /docs/index is normalized", source: VD, config: { cleanUrls: true }, request: { path: "/docs/index" }, expect: { status: 308, location: "/docs" } },
  { name: "cleanUrls + trailingSlash: one redirect", source: VD, config: { cleanUrls: true, trailingSlash: true }, request: { path: "/about.html" }, expect: { status: 308, location: "/about/" } },
  { name: "cleanUrls + trailingSlash serves the file", source: VD, config: { cleanUrls: true, trailingSlash: true }, request: { path: "/about/" }, expect: { status: 200, body: "about" } },
  { name: "trailingSlash true leaves files with an extension", source: VD, config: { trailingSlash: true }, request: { path: "/app.js" }, expect: { status: 200, body: "js" } },
  { name: "trailingSlash true removes a slash after a file", source: VD, config: { trailingSlash: true }, request: { path: "/app.js/" }, expect: { status: 308, location: "/app.js" } },
  { name: "trailingSlash true leaves /.well-known alone", source: VD, config: { trailingSlash: true }, request: { path: "/.well-known/security" }, expect: { status: 200, body: "security" } },
  { name: "trailingSlash keeps the query", source: VD, config: { trailingSlash: true }, request: { path: "/docs?q=1" }, expect: { status: 308, location: "/docs/?q=1" } },
  { name: "open redirect: //host/page.html under cleanUrls", source: FERRY, config: { cleanUrls: true }, request: { path: "//evil.example/page.html" }, expect: { status: 308, location: "/evil.example/page" } },
  { name: "open redirect: //host/page under trailingSlash", source: FERRY, config: { trailingSlash: true }, request: { path: "//evil.example/page" }, expect: { status: 308, location: "/evil.example/page/" } },
  { name: "open redirect: //host/ under trailingSlash false", source: FERRY, config: { trailingSlash: false }, request: { path: "//evil.example/" }, expect: { status: 308, location: "/evil.example" } },
  { name: "open redirect: a user redirect fed //host", source: FERRY, config: { redirects: [{ source: "/go/(.*)", destination: "/$1" }] }, request: { path: "/go//evil.example" }, expect: { status: 308, location: "/evil.example" } },
  { name: "open redirect: a legacy route fed a URL", source: FERRY, config: { routes: [{ src: "/go/(.*)", status: 302, headers: { Location: "$1" } }] }, request: { path: "/go/https://evil.example" }, expect: { status: 302, location: "/https://evil.example" } },
  { name: "open redirect: /\\host is refused", source: FERRY, config: { cleanUrls: true }, request: { path: "/\\evil.example" }, expect: { status: 400, location: null } },
  { name: "open redirect: %2F%2Fhost is refused", source: FERRY, config: { cleanUrls: true }, request: { path: "/%2F%2Fevil.example/page.html" }, expect: { status: 400, location: null } },
  { name: "open redirect: %5Chost is refused", source: FERRY, config: { trailingSlash: true }, request: { path: "/%5Cevil.example" }, expect: { status: 400, location: null } },
  { name: "an absolute destination does leave the host", source: VD, config: { redirects: [{ source: "/out", destination: "https://example.com/x" }] }, request: { path: "/out?a=b" }, expect: { status: 308, location: "https://example.com/x?a=b" } },

  // --- external rewrites: proxied
  { name: "external rewrite: method, body, query, Host", source: VD, config: { rewrites: [{ source: "/ext/:path*", destination: "{{UPSTREAM}}/up/:path*" }] }, request: { path: "/ext/a/b?q=1", method: "POST", body: "hello", headers: { "x-ferry-secret": "s", "x-forwarded-for": "6.6.6.6", "x-visitor": "v" } }, expect: { status: 201, json: { method: "POST", url: "/up/a/b?q=1", body: "hello", headers: { "x-visitor": "v" } }, headers: { "x-upstream": "yes" }, upstreamLacks: ["x-ferry-secret", "x-ferry-request-id"] } },
  { name: "external rewrite: Host is the destination's", source: FERRY, config: { rewrites: [{ source: "/ext", destination: "{{UPSTREAM}}/" }] }, request: { path: "/ext" }, expect: { status: 200, json: { hostIsUpstream: true } } },
  { name: "external rewrite: unreachable is 502", source: FERRY, config: { rewrites: [{ source: "/ext", destination: "http://127.0.0.1:9/" }] }, request: { path: "/ext" }, expect: { status: 502, json: { error: { code: "external_rewrite_failed" } } } },
  { name: "external rewrite: too slow is 504", source: FERRY, config: { rewrites: [{ source: "/ext", destination: "{{UPSTREAM}}/slow" }] }, request: { path: "/ext" }, expect: { status: 504, json: { error: { code: "external_rewrite_timeout" } } } },

  // --- legacy routes phases
  { name: "routes: a status route with nothing to serve", source: VD, config: { routes: [{ src: "/gone", status: 410 }] }, request: { path: "/gone" }, expect: { status: 410 } },
  { name: "routes: SPA fallback after the filesystem", source: VD, config: { routes: [{ handle: "filesystem" }, { src: "/(.*)", dest: "/index.html" }] }, request: { path: "/some/page" }, expect: { status: 200, body: "home" } },
  { name: "routes: the filesystem first", source: VD, config: { routes: [{ handle: "filesystem" }, { src: "/(.*)", dest: "/index.html" }] }, request: { path: "/about.html" }, expect: { status: 200, body: "about" } },
  { name: "routes: a check rewrite that misses falls through", source: VD, config: { routes: [{ handle: "filesystem" }, { src: "/x/(.*)", dest: "/missing/$1", check: true }, { src: "/missing/(.*)", dest: "/api/users/$1" }] }, request: { path: "/x/7" }, expect: { status: 200, json: { params: { id: "7" } } } },
  { name: "routes: error phase serves a page with its status", source: VD, config: { routes: [{ handle: "filesystem" }, { handle: "error" }, { src: "/(.*)", status: 404, dest: "/directory/clean-file.html" }] }, request: { path: "/nothing" }, expect: { status: 404, body: "clean file" } },
  { name: "routes: hit phase adds headers to what was found", source: VD, config: { routes: [{ handle: "filesystem" }, { handle: "hit" }, { src: "/(.*)\\.js", headers: { "x-hit": "yes" }, continue: true }] }, request: { path: "/app.js" }, expect: { status: 200, body: "js", headers: { "x-hit": "yes" } } },
];
