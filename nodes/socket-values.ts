// The value types the node sockets carry, declared to the node contract so `execute` sees typed inputs.
// They live beside the code that makes them; this file only names them.
import type { Metrics } from '../server/analysis/stability.ts';
import type { MaskBatch } from '../server/masks/mask-batch.ts';
import type { ImageBatch } from '../server/media/image-batch.ts';
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../server/runtime/model-values.ts';

declare module '../server/engine/node-contract.ts' {
  interface SocketValueMap {
    IMAGE: ImageBatch;
    MASK: MaskBatch;
    LATENT: LatentBatch;
    MODEL: DiffusionModel;
    CLIP: ClipModel;
    VAE: VaeModel;
    CONDITIONING: Conditioning;
    METRICS: Metrics;
  }
}
