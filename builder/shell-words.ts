import { parse } from "shell-quote";

/** How a server's arguments (BuiltFunction.args) say "PORT's value": the runtime fills it in. */
export const PORT_REF = "${PORT}";
const MARK = "\0PORT\0";

/**
 * The words of a command line as sh splits them (quotes and escapes honoured, a `#` comment
 * dropped), each `$PORT`/`${PORT}` kept as PORT_REF: the runtime sets PORT, so it is read then, not
 * at build time. Null for what only a shell could run, since Ferry starts the file itself:
 * operators (`|`, `;`, `&&`, `>`, `&`...), backticks, `$(...)`, other variables, unquoted globs.
 */
export function shellWords(command: string): string[] | null {
  // shell-quote keeps backticks as text and reads `$(` as an empty variable and an operator
  if (/[`\0]|\$\(/.test(command)) return null;
  let unknown = false;
  const tokens = parse(command, (name) => {
    if (name === "PORT") return MARK;
    // a lone `$` (`"$"`, `a$`) is literal in sh
    if (name === "") return "$";
    unknown = true;
    return "";
  });
  if (unknown) return null;
  const words: string[] = [];
  for (const t of tokens) {
    if (typeof t !== "string") {
      if ("comment" in t) break;
      return null;
    }
    // a quoted `${PORT}` would be filled in at run time all the same: refused rather than changed
    if (t.includes(PORT_REF)) return null;
    words.push(t.replaceAll(MARK, PORT_REF));
  }
  return words;
}

/** Words for a log line, quoted where a reader could not tell where one ends: `--name "a b"`. */
export function showWords(words: string[]): string {
  return words.map((w) => (/^[\w@%+=:,./${}-]+$/.test(w) ? w : JSON.stringify(w))).join(" ");
}
