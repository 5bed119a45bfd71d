// T5's tokenizer (SD3's tokenizer_3/tokenizer.json, a SentencePiece Unigram model) with
// @huggingface/tokenizers: the prompt's tokens, EOS, then padding to a fixed length (diffusers: 256,
// truncated), and where each word landed so attention can target words.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { WordTokens } from '../tokenizer.ts';

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${file}: cannot read JSON (${(error as Error).message})`);
  }
}

function special(config: Record<string, unknown>, key: string, fallback: string): string {
  const value = config[key];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return fallback;
}

export class T5Tokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly eosId: number,
    readonly padId: number,
  ) {}

  static load(dir: string): T5Tokenizer {
    const configFile = path.join(dir, 'tokenizer_config.json');
    const config = existsSync(configFile) ? readJson(configFile) : {};
    const tokenizer = new Tokenizer(readJson(path.join(dir, 'tokenizer.json')), config);
    const idOf = (token: string) => {
      const id = tokenizer.token_to_id(token);
      if (id === undefined) throw new Error(`tokenizer: special token ${JSON.stringify(token)} is not in the vocabulary of ${dir}`);
      return id;
    };
    return new T5Tokenizer(tokenizer, idOf(special(config, 'eos_token', '</s>')), idOf(special(config, 'pad_token', '<pad>')));
  }

  /** The prompt's tokens (at most length − 1), EOS, padding; word positions are 0-based in this sequence. */
  encode(text: string, length: number): { ids: Int32Array; words: WordTokens[] } {
    const ids = new Int32Array(length).fill(this.padId);
    const words: WordTokens[] = [];
    let count = 0;
    // The Metaspace pre-tokenizer splits at whitespace, so word-by-word tokenization gives the same ids.
    for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
      const positions: number[] = [];
      for (const id of this.tokenizer.encode(word, { add_special_tokens: false }).ids) {
        if (count === length - 1) break;
        positions.push(count);
        ids[count++] = id;
      }
      words.push({ word, positions });
      if (count === length - 1) break;
    }
    ids[count] = this.eosId;
    return { ids, words };
  }
}
