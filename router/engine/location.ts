/** An absolute URL or a protocol-relative one: a rule that says so may leave the host. */
export const isAbsolute = (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s) || /^[/\\]{2}/.test(s);

/** `http://` or `https://`: a rewrite to another site, which the router proxies. */
export const isExternal = (s: string) => /^https?:\/\//i.test(s);

/**
 * A Location (or rewrite destination) made from a template that named no other site stays on this
 * host whatever the request's path put into it: leading slashes, backslashes and the tabs and line
 * breaks browsers drop collapse to one `/`, so `//evil.example/page.html` under cleanUrls becomes
 * `/evil.example/page`, never `//evil.example/page`; a value that became absolute is made a path.
 */
export function sameHost(value: string): string {
  let v = value.replace(/^[/\\\t\n\r]+/, "/");
  if (/^[a-z][a-z0-9+.-]*:/i.test(v)) v = `/${v}`;
  return v;
}
