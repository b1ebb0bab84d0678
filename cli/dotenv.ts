/** Writes and reads the `.env` format `ferry env pull` produces: multi-line values stay intact. */
export function dotenvLine(key: string, value: string) {
  if (/^[A-Za-z0-9_./:@+,-]*$/.test(value)) return `${key}=${value}`;
  return `${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
}

export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2]!;
    out[m[1]!] = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2
      ? raw.slice(1, -1).replace(/\\(["\\nr])/g, (_, c: string) => ({ n: "\n", r: "\r" })[c as "n"] ?? c)
      : raw;
  }
  return out;
}
