// CLIP BPE tokenization with @huggingface/tokenizers, from a model's tokenizer/ folder: tokenizer.json when
// present, else vocab.json + merges.txt assembled into the equivalent tokenizer.json in memory (no network).
// Besides the 77 ids it reports where each word of the prompt landed, so attention can target words.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const CLIP_SPLIT_PATTERN =
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

export interface WordTokens {
  word: string;
  /** Positions in the 77-token sequence (BOS is position 0). */
  positions: number[];
}

export interface TokenizedPrompt {
  ids: Int32Array;
  words: WordTokens[];
  /** Tokens between BOS and EOS that were kept. */
  tokenCount: number;
  /** Words (or parts) cut off at the sequence length. */
  truncated: boolean;
}

type TokenConfigValue = string | { content: string } | undefined;

function tokenContent(value: TokenConfigValue): string | undefined {
  return typeof value === 'string' ? value : value?.content;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${file}: cannot read JSON (${(error as Error).message})`);
  }
}

/** The tokenizer.json a CLIP tokenizer's vocab.json and merges.txt stand for. */
export function clipTokenizerJson(vocab: Record<string, number>, mergesText: string, bos: string, eos: string): Record<string, unknown> {
  const merges = mergesText
    .split('\n')
    .filter((line, i) => line.trim().length > 0 && !(i === 0 && line.startsWith('#version')));
  const special = (content: string) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(bos), special(eos)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: eos,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

export class ClipTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly bosId: number,
    readonly eosId: number,
    readonly padId: number,
    readonly maxLength: number,
  ) {}

  /** Loads `dir` (a model's tokenizer/ folder). */
  static load(dir: string): ClipTokenizer {
    const configFile = path.join(dir, 'tokenizer_config.json');
    const mapFile = path.join(dir, 'special_tokens_map.json');
    const config = existsSync(configFile) ? readJson(configFile) : {};
    const specialMap = existsSync(mapFile) ? readJson(mapFile) : {};
    const special = (key: string, fallback: string) =>
      tokenContent(config[key] as TokenConfigValue) ?? tokenContent(specialMap[key] as TokenConfigValue) ?? fallback;
    const bos = special('bos_token', '<|startoftext|>');
    const eos = special('eos_token', '<|endoftext|>');
    const pad = special('pad_token', eos);
    const tokenizerJsonFile = path.join(dir, 'tokenizer.json');
    let json: Record<string, unknown>;
    if (existsSync(tokenizerJsonFile)) {
      json = readJson(tokenizerJsonFile);
    } else {
      const vocabFile = path.join(dir, 'vocab.json');
      const mergesFile = path.join(dir, 'merges.txt');
      for (const file of [vocabFile, mergesFile]) {
        if (!existsSync(file)) throw new Error(`tokenizer: missing ${file} (expected tokenizer.json, or vocab.json and merges.txt)`);
      }
      json = clipTokenizerJson(readJson(vocabFile) as Record<string, number>, readFileSync(mergesFile, 'utf8'), bos, eos);
    }
    const tokenizer = new Tokenizer(json, { ...config, bos_token: bos, eos_token: eos, pad_token: pad });
    const idOf = (token: string) => {
      const id = tokenizer.token_to_id(token);
      if (id === undefined) throw new Error(`tokenizer: special token ${JSON.stringify(token)} is not in the vocabulary of ${dir}`);
      return id;
    };
    const configuredLength = typeof config.model_max_length === 'number' && config.model_max_length <= 4096 ? config.model_max_length : 77;
    return new ClipTokenizer(tokenizer, idOf(bos), idOf(eos), idOf(pad), configuredLength);
  }

  /** Token ids of one piece of text, without BOS/EOS. */
  tokenIds(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  token(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** BOS, the prompt's tokens (at most maxLength − 2), EOS, then padding to maxLength. */
  encode(text: string): TokenizedPrompt {
    const room = this.maxLength - 2;
    const ids = new Int32Array(this.maxLength).fill(this.padId);
    ids[0] = this.bosId;
    const words: WordTokens[] = [];
    let count = 0;
    let truncated = false;
    // CLIP's pre-tokenizer never merges across whitespace, so tokenizing word by word gives the same ids.
    for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
      const positions: number[] = [];
      for (const id of this.tokenIds(word)) {
        if (count === room) {
          truncated = true;
          break;
        }
        ids[++count] = id;
        positions.push(count);
      }
      if (positions.length > 0) words.push({ word, positions });
      if (truncated) break;
    }
    ids[count + 1] = this.eosId;
    return { ids, words, tokenCount: count, truncated };
  }
}

const tokenizers = new Map<string, ClipTokenizer>();

/** The tokenizer of a folder, loaded once per process. */
export function tokenizerFor(dir: string): ClipTokenizer {
  let tokenizer = tokenizers.get(dir);
  if (!tokenizer) {
    tokenizer = ClipTokenizer.load(dir);
    tokenizers.set(dir, tokenizer);
  }
  return tokenizer;
}
