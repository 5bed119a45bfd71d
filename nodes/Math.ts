import { defineNode, keysOf } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';

const OPERATIONS = {
  add: (a: number, b: number) => a + b,
  subtract: (a: number, b: number) => a - b,
  multiply: (a: number, b: number) => a * b,
  divide: (a: number, b: number) => a / b,
  min: Math.min,
  max: Math.max,
  power: Math.pow,
} as const;

export default defineNode({
  type: 'Math',
  displayName: 'Math',
  category: 'utils/primitives',
  description: 'Combines two numbers (e.g. frames × seconds, weight ÷ 2).',
  version: 1,
  inputs: {
    required: {
      a: { type: 'FLOAT', default: 0, min: -1e12, max: 1e12, step: 0.01 },
      operation: { type: 'COMBO', options: keysOf(OPERATIONS), default: 'add' },
      b: { type: 'FLOAT', default: 0, min: -1e12, max: 1e12, step: 0.01 },
    },
  },
  outputs: [
    { type: 'FLOAT', name: 'FLOAT' },
    { type: 'INT', name: 'INT', tooltip: 'the result rounded to the nearest integer' },
  ],
  execute: ({ a, operation, b }) => {
    const result = OPERATIONS[operation](a, b);
    if (!Number.isFinite(result)) {
      throw new NodeInputError('b', `${a} ${operation} ${b} is not a finite number; change a or b`);
    }
    return { outputs: [result, Math.round(result)] };
  },
});
