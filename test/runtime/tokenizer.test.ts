import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDemoVocabulary, DEMO_WORDS } from '../../server/demo/demo-vocab.ts';
import { clipTokenizerJson, ClipTokenizer } from '../../server/runtime/tokenizer.ts';

/** A hand-written CLIP-style vocabulary: ids chosen here, so expectations are independent of the code. */
const VOCAB: Record<string, number> = {
  '!': 0, ',': 1, '1': 2, '2': 3, d: 4, e: 5, h: 6, l: 7, o: 8, r: 9, w: 10,
  '!</w>': 11, ',</w>': 12, '1</w>': 13, '2</w>': 14, 'd</w>': 15, 'e</w>': 16, 'o</w>': 17,
  he: 18, ll: 19, hell: 20, 'hello</w>': 21, wo: 22, wor: 23, worl: 24, 'world</w>': 25,
  '<|startoftext|>': 26, '<|endoftext|>': 27,
};
const MERGES = ['#version: 0.2', 'h e', 'l l', 'he ll', 'hell o</w>', 'w o', 'wo r', 'wor l', 'worl d</w>'].join('\n');
const [BOS, EOS] = [26, 27];

function tokenizerDir(config: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'limelight-tok-'));
  writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(VOCAB));
  writeFileSync(path.join(dir, 'merges.txt'), MERGES);
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', model_max_length: 77, ...config }));
  return dir;
}

describe('CLIP tokenizer', () => {
  it('lowercases, splits words and punctuation, ends words with </w>, wraps in BOS/EOS and pads with EOS', () => {
    const tokenizer = ClipTokenizer.load(tokenizerDir());
    const { ids, words, tokenCount, truncated } = tokenizer.encode('Hello,   WORLD!');
    expect(Array.from(ids.slice(0, 7))).toEqual([BOS, 21, 12, 25, 11, EOS, EOS]);
    expect(ids.length).toBe(77);
    expect(ids[76]).toBe(EOS);
    expect(tokenCount).toBe(4);
    expect(truncated).toBe(false);
    expect(words).toEqual([
      { word: 'Hello,', positions: [1, 2] },
      { word: 'WORLD!', positions: [3, 4] },
    ]);
  });

  it('prefers tokenizer.json when the folder has one', () => {
    const dir = tokenizerDir();
    const json = clipTokenizerJson(VOCAB, MERGES, '<|startoftext|>', '<|endoftext|>');
    // The same vocabulary, but "world" is no longer merged: only tokenizer.json can be the source.
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ ...json, model: { ...(json.model as object), merges: ['h e', 'l l', 'he ll', 'hell o</w>'] } }));
    expect(ClipTokenizer.load(dir).tokenIds('hello world')).toEqual([21, 10, 8, 9, 7, 15]);
  });

  it('splits numbers into single digits', () => {
    const tokenizer = ClipTokenizer.load(tokenizerDir());
    expect(tokenizer.tokenIds('hello 12')).toEqual([21, 13, 14]);
  });

  it('reads the pad token from the config (SD 2 pads with "!", id 0)', () => {
    const tokenizer = ClipTokenizer.load(tokenizerDir({ pad_token: { content: '!' } }));
    expect(tokenizer.padId).toBe(0);
    expect(Array.from(tokenizer.encode('hello').ids.slice(0, 4))).toEqual([BOS, 21, EOS, 0]);
  });

  it('keeps at most 75 prompt tokens and reports the cut', () => {
    const tokenizer = ClipTokenizer.load(tokenizerDir());
    const prompt = tokenizer.encode(Array.from({ length: 80 }, () => 'hello').join(' '));
    expect(prompt.truncated).toBe(true);
    expect(prompt.tokenCount).toBe(75);
    expect(prompt.ids[75]).toBe(21);
    expect(prompt.ids[76]).toBe(EOS);
    expect(prompt.words.length).toBe(75);
    expect(prompt.words.at(-1)!.positions).toEqual([75]);
  });

  it('the demo vocabulary makes every listed word one token (its BPE agrees with the library\'s)', () => {
    const vocabulary = buildDemoVocabulary();
    const dir = mkdtempSync(path.join(tmpdir(), 'limelight-tok-'));
    writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocabulary.vocab));
    writeFileSync(path.join(dir, 'merges.txt'), vocabulary.merges);
    const tokenizer = ClipTokenizer.load(dir);
    expect(tokenizer.bosId).toBe(vocabulary.bosId);
    expect(tokenizer.eosId).toBe(Object.keys(vocabulary.vocab).length - 1);
    for (const word of DEMO_WORDS) expect(tokenizer.tokenIds(word), word).toEqual([vocabulary.vocab[`${word}</w>`]]);
    // A word outside the list still tokenizes, into byte-level pieces.
    expect(tokenizer.tokenIds('zebra').length).toBeGreaterThan(1);
  });
});
