import { describe, expect, it } from 'vitest';
import { COMFY_ALIASES } from '../../common/comfyui-nodes.ts';
import { searchNodeTypes, type SearchEntry } from '../../client/src/model/node-search.ts';

const entries: SearchEntry[] = [
  { type: 'LoadModel', title: 'Load Model', aliases: COMFY_ALIASES.LoadModel },
  { type: 'TextEncode', title: 'Text Encode', aliases: COMFY_ALIASES.TextEncode },
  { type: 'Sampler', title: 'Sampler', aliases: COMFY_ALIASES.Sampler },
  { type: 'VAEEncode', title: 'VAE Encode', aliases: [] },
  { type: 'Encode', title: 'Encode Video', aliases: COMFY_ALIASES.Encode },
  { type: 'LoadVideo', title: 'Load Video', aliases: COMFY_ALIASES.LoadVideo },
];

describe('node search', () => {
  it('finds nodes by their ComfyUI names', () => {
    expect(searchNodeTypes('KSampler', entries)).toEqual(['Sampler']);
    expect(searchNodeTypes('CLIPTextEncode', entries)).toEqual(['TextEncode']);
    expect(searchNodeTypes('checkpointloader', entries)).toEqual(['LoadModel']);
    expect(searchNodeTypes('VHS_VideoCombine', entries)).toEqual(['Encode']);
  });

  it('puts exact matches first, then prefixes, then word starts, then the rest', () => {
    // "encode": Encode exactly, then the titles with a word starting so (Text Encode, VAE Encode), in list order.
    expect(searchNodeTypes('encode', entries)).toEqual(['Encode', 'TextEncode', 'VAEEncode']);
    expect(searchNodeTypes('load', entries)).toEqual(['LoadModel', 'LoadVideo']);
    expect(searchNodeTypes('  ', entries)).toEqual(entries.map((e) => e.type));
    expect(searchNodeTypes('nothing like it', entries)).toEqual([]);
  });
});
