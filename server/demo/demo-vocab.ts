// The demo model's CLIP-style vocabulary: the 256 byte symbols and their word-final forms (as CLIP's
// vocab.json starts), merges that make each listed word a single token, then BOS and EOS last (EOS has the
// highest id, as in CLIP, so the text encoder finds it with ArgMax).

/** Colour words and the RGB shift (in −1…1 units) the demo model applies where they are attended. */
export const COLOUR_WORDS: Readonly<Record<string, readonly [number, number, number]>> = {
  red: [0.8, -0.4, -0.4],
  crimson: [0.7, -0.55, -0.35],
  orange: [0.75, 0.1, -0.75],
  golden: [0.6, 0.3, -0.75],
  gold: [0.6, 0.3, -0.75],
  yellow: [0.5, 0.5, -0.8],
  green: [-0.45, 0.75, -0.45],
  teal: [-0.65, 0.35, 0.25],
  cyan: [-0.75, 0.4, 0.5],
  blue: [-0.45, -0.35, 0.8],
  purple: [0.35, -0.65, 0.55],
  violet: [0.3, -0.6, 0.65],
  magenta: [0.6, -0.7, 0.55],
  pink: [0.7, -0.3, 0.3],
  brown: [0.3, -0.1, -0.5],
  white: [0.6, 0.6, 0.6],
  black: [-0.6, -0.6, -0.6],
};

const OTHER_WORDS = `a an the of in on at with and or to from by for as is are this that it its
photo photograph picture image portrait painting drawing render shot film still frame video scene view
man woman person people girl boy child face hair eyes dress shirt jacket coat hat
car house door window wall room street road city building bridge tower roof floor
tree trees forest flower flowers field grass garden leaf leaves mountain hill river lake sea ocean water beach sand
sky cloud clouds sun sunset sunrise moon star stars night day light lights shadow fire smoke rain snow
dog cat bird horse fish animal
background foreground center left right top bottom
high quality detailed sharp soft bright dark glowing neon vivid pale warm cold beautiful cinematic
style art lighting colour color colors colours tone`
  .split(/\s+/)
  .filter((w) => w.length > 0);

export const DEMO_WORDS: readonly string[] = [...Object.keys(COLOUR_WORDS), ...OTHER_WORDS];
export const BOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';

/** GPT-2/CLIP byte ↔ printable-unicode mapping, in CLIP's vocabulary order. */
export function byteSymbols(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const symbols = printable.map((b) => String.fromCodePoint(b));
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.includes(b)) symbols.push(String.fromCodePoint(256 + extra++));
  }
  return symbols;
}

/** BPE as CLIP applies it to one lowercase ASCII word: repeatedly merge the lowest-ranked adjacent pair. */
function applyMerges(word: string, ranks: ReadonlyMap<string, number>): string[] {
  const parts = [...word.slice(0, -1)].concat(`${word.slice(-1)}</w>`);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i < parts.length - 1; i++) {
      const rank = ranks.get(`${parts[i]} ${parts[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) return parts;
    parts.splice(best, 2, parts[best] + parts[best + 1]);
  }
}

export interface DemoVocabulary {
  vocab: Record<string, number>;
  /** merges.txt contents, `#version` line first. */
  merges: string;
  bosId: number;
  eosId: number;
}

/**
 * Builds the vocabulary. A merge appended last never fires in a word that already merges fully, so
 * adding the first remaining pair of each word until it is one token leaves earlier words intact.
 */
export function buildDemoVocabulary(): DemoVocabulary {
  const symbols = byteSymbols();
  const tokens = [...symbols, ...symbols.map((s) => `${s}</w>`)];
  const mergeList: string[] = [];
  const ranks = new Map<string, number>();
  for (const word of DEMO_WORDS) {
    for (let parts = applyMerges(word, ranks); parts.length > 1; parts = applyMerges(word, ranks)) {
      const merge = `${parts[0]} ${parts[1]}`;
      ranks.set(merge, mergeList.length);
      mergeList.push(merge);
      if (!tokens.includes(parts[0] + parts[1])) tokens.push(parts[0] + parts[1]);
    }
  }
  tokens.push(BOS_TOKEN, EOS_TOKEN);
  const vocab: Record<string, number> = {};
  tokens.forEach((token, id) => {
    vocab[token] = id;
  });
  return { vocab, merges: ['#version: 0.2', ...mergeList].join('\n') + '\n', bosId: tokens.length - 2, eosId: tokens.length - 1 };
}
