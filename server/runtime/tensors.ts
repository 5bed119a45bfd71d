// Feeding and reading onnxruntime tensors in a model's float type (fp16 exports take and return float16).
import { Tensor } from 'onnxruntime-node';
import type { FloatType, UNetSignature } from './contract.ts';
import { fromHalfArray, toHalfArray } from './float16.ts';

export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): Tensor {
  return type === 'float16' ? new Tensor('float16', toHalfArray(data), dims) : new Tensor('float32', data, dims);
}

/** A float output as float32 values. */
export function readFloats(tensor: Tensor): Float32Array {
  if (tensor.type === 'float16') return fromHalfArray(tensor.data as Uint16Array);
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  throw new Error(`expected a float tensor, got ${tensor.type}`);
}

export function integerTensor(type: 'int32' | 'int64', values: ArrayLike<number>, dims: readonly number[]): Tensor {
  return type === 'int64'
    ? new Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims)
    : new Tensor('int32', Int32Array.from(values), dims);
}

/** The `timestep` input in the dtype and shape the UNet declares ([] / [1] / [batch]). */
export function timestepTensor(signature: UNetSignature, timestep: number, batch: number): Tensor {
  const count = signature.timestepShape === 'batch' ? batch : 1;
  const dims = signature.timestepShape === 'scalar' ? [] : [count];
  const values = new Array<number>(count).fill(timestep);
  switch (signature.timestepType) {
    case 'int64':
    case 'int32':
      return integerTensor(signature.timestepType, values.map(Math.round), dims);
    case 'float16':
      return new Tensor('float16', toHalfArray(values), dims);
    case 'float32':
      return new Tensor('float32', Float32Array.from(values), dims);
  }
}
