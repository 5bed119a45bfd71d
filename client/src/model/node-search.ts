// The node search: a type matches by its id, its title or a ComfyUI name it answers to (KSampler finds
// the Sampler); exact matches first, then prefixes, then words that start with the query, then the rest.

export interface SearchEntry {
  type: string;
  title: string;
  aliases: readonly string[];
}

/** 0 exact, 1 prefix, 2 a word's prefix, 3 anywhere; undefined: no match. */
function matchRank(name: string, query: string): number | undefined {
  const lower = name.toLowerCase();
  if (lower === query) return 0;
  if (lower.startsWith(query)) return 1;
  const at = lower.indexOf(query);
  if (at < 0) return undefined;
  const before = name[at - 1];
  const wordStart = /[\s_\-/.]/.test(before) || (name[at] !== name[at].toLowerCase() && before === before.toLowerCase());
  return wordStart ? 2 : 3;
}

/** The types matching `query`, best first (all of them, in their order, for an empty query). */
export function searchNodeTypes(query: string, entries: readonly SearchEntry[]): string[] {
  const wanted = query.trim().toLowerCase();
  if (!wanted) return entries.map((e) => e.type);
  const ranked: { type: string; rank: number; index: number }[] = [];
  entries.forEach((entry, index) => {
    const ranks = [entry.type, entry.title, ...entry.aliases].map((name) => matchRank(name, wanted)).filter((r) => r !== undefined);
    if (ranks.length > 0) ranked.push({ type: entry.type, rank: Math.min(...ranks), index });
  });
  return ranked.sort((a, b) => a.rank - b.rank || a.index - b.index).map((r) => r.type);
}
