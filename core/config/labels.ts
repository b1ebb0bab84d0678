/**
 * DNS host labels as Ferry prints them in URLs (`<project>-<suffix>.<domain>`, `<alias>.<domain>`).
 * Lower-case letters, digits and '-', not at either end, and never '-' in both positions 3 and 4:
 * such labels (`xn--...`) are punycode, which URL parsers decode and refuse when it is not valid,
 * and the other `??--` prefixes are reserved for the same use. Within these rules every label
 * parses with `new URL()` and comes back unchanged.
 */
export const MAX_LABEL = 63;

export function hostLabelProblem(label: string, max = MAX_LABEL): string | null {
  if (label.length === 0) return "is empty";
  if (label.length > max) return `is ${label.length} characters long, over the limit of ${max}`;
  if (!/^[a-z0-9-]+$/.test(label)) return "may contain only lower-case letters, digits and '-'";
  if (label.startsWith("-")) return "may not start with '-'";
  if (label.endsWith("-")) return "may not end with '-'";
  if (label.startsWith("xn--")) return "may not start with \"xn--\", which marks a punycode (internationalized) label";
  if (label.slice(2, 4) === "--") return "may not have '-' in both positions 3 and 4 (reserved for punycode-style labels like xn--)";
  return null;
}
