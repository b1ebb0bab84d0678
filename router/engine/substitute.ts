/**
 * Fills `$1`, `$name` in a route's `dest` or header: a named group of `src` first, then a value
 * captured by a `has` condition, then a numbered group. Unknown references become empty, as in
 * Vercel's router (`$name` that nothing captured leaves nothing behind).
 */
export function substitute(template: string, match: RegExpExecArray, names: readonly string[], extra: Record<string, string> | null): string {
  if (!template.includes("$")) return template;
  return template.replace(/\$([1-9a-zA-Z]+)/g, (_, ref: string) => {
    if (names.includes(ref)) return match.groups?.[ref] ?? "";
    if (extra && Object.prototype.hasOwnProperty.call(extra, ref)) return extra[ref]!;
    // like Vercel's: the leading digits name a group (`$1x` is group 1)
    return match[parseInt(ref, 10)] ?? "";
  });
}
