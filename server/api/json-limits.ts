// Limits on JSON a client sends (HTTP bodies and socket messages): a size, and a nesting depth, since
// a prompt nested thousands deep overflows the stack of whatever walks it next (storing it, or a
// client reading /history) even though parsing it succeeds.
export const MAX_JSON_DEPTH = 64;
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** Why the parsed value is nested too deeply, or null. Walks without recursion, so any depth is safe to check. */
export function nestingProblem(value: unknown): string | null {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) {
      return `the JSON nests objects and lists more than ${MAX_JSON_DEPTH} levels deep; prompts and workflows need far fewer, so check what builds this request`;
    }
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return null;
}
