// The attention mask on the demo model, through the real nodes (LoadModel → TextEncode → VAEEncode →
// InjectCrossAttention → Sampler → VAEDecode): the practitioner's weight spectrum against the formula,
// word targeting, and the BOS mass at w = 1 in fp32 and fp16. The demo UNet's denoiser ignores the prompt,
// so the difference between a colour prompt and the same prompt without colour words is the prompt's pull alone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_MODEL_NAME, ensureDemoModel, writeDemoModel } from '../../server/demo/demo-model.ts';
import { COLOUR_WORDS } from '../../server/demo/demo-vocab.ts';
import { FORMULA_TOLERANCE, meanShift, measureSpectrum, spectrumFixture } from '../helpers/attention-spectrum.ts';

const demo = await spectrumFixture(DEMO_MODEL_NAME, ensureDemoModel);
const { encode, render, crossAttentionRows, meanAttention } = demo;

/** Least-squares coefficients (a, b) of shift ≈ a·u + b·v. */
function decompose(shift: readonly number[], u: readonly number[], v: readonly number[]): [number, number] {
  const dot = (x: readonly number[], y: readonly number[]) => x.reduce((s, xi, i) => s + xi * y[i], 0);
  const [uu, uv, vv, su, sv] = [dot(u, u), dot(u, v), dot(v, v), dot(shift, u), dot(shift, v)];
  const det = uu * vv - uv * uv;
  return [(su * vv - sv * uv) / det, (sv * uu - su * uv) / det];
}

describe('InjectCrossAttention on the demo model', () => {
  it("follows the practitioner's spectrum and the formula (1−w)/((1−w)+w·p₀)", async () => {
    const p0 = await meanAttention(await encode('a red wall'), 0);
    expect(p0).toBeGreaterThan(0.5); // BOS is the attention sink the formula's denominator rests on
    const ratios = await measureSpectrum(demo, p0, [1, 0.8, 0.1], (weight, white) =>
      expect(white, `w = ${weight}: the colour shows where the mask is white`).toBeGreaterThan(10),
    );
    expect(ratios.get(1)!.measured).toBeLessThanOrEqual(0.01);
    expect(ratios.get(0.8)!.measured).toBeGreaterThanOrEqual(0.1);
    expect(ratios.get(0.8)!.measured).toBeLessThanOrEqual(0.35);
    expect(ratios.get(0.1)!.measured).toBeGreaterThanOrEqual(0.8);
    for (const [weight, { measured, predicted }] of ratios) expect(Math.abs(measured - predicted), `w = ${weight}: ${measured} vs ${predicted}`).toBeLessThan(FORMULA_TOLERANCE);
  });

  it.each(['float32', 'float16'] as const)('w = 1, all black: every cross-attention row puts ≥ 0.999 of its mass on BOS (%s UNet)', async (floatType) => {
    let unetFile = demo.model.unetFile;
    if (floatType === 'float16') {
      const dir = mkdtempSync(path.join(tmpdir(), 'limelight-fp16-'));
      writeDemoModel(dir, { floatType });
      unetFile = path.join(dir, 'unet', 'model.onnx');
    }
    const prompt = await encode('a red wall');
    const rows = await crossAttentionRows(prompt, unetFile, { mask: new Float32Array(64), maskWidth: 8, maskHeight: 8, weight: 1 });
    expect(rows).toHaveLength(3);
    for (const probabilities of rows) {
      let least = 1;
      for (let row = 0; row < probabilities.length / prompt.sequenceLength; row++) least = Math.min(least, probabilities[row * prompt.sequenceLength]);
      expect(least).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('word targeting: only the chosen colour word follows the mask', async () => {
    const prompt = 'red wall, blue sky';
    const plain = await render('a wall, a sky');
    const masked = await render(prompt, { weight: 1, words: 'red' });
    const [white, black] = (['white', 'black'] as const).map((region) => decompose(meanShift(masked, plain, region), COLOUR_WORDS.red, COLOUR_WORDS.blue));
    const [redWhite, blueWhite] = white;
    const [redBlack, blueBlack] = black;
    expect(redWhite).toBeGreaterThan(10);
    expect(blueWhite).toBeGreaterThan(10);
    expect(redBlack / redWhite).toBeLessThanOrEqual(0.01);
    // Where black, red's attention moves to the other tokens in proportion, blue's share included: blue
    // grows by 1/(1 − a_red), a few per cent. Untargeted words do not follow the mask beyond that.
    const conditioning = await encode(prompt);
    const redShare = await meanAttention(conditioning, conditioning.words.find((w) => w.word === 'red')!.positions[0]);
    expect(Math.abs(blueBlack / blueWhite - 1 / (1 - redShare))).toBeLessThan(FORMULA_TOLERANCE);
    expect(Math.abs(blueBlack / blueWhite - 1)).toBeLessThan(0.1);
  });
});
