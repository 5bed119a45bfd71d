// Every node type Limelight ships. New node files are added here.
import type { NodeDefinition } from './define.ts';
import Float from './Float.ts';
import Int from './Int.ts';
import MathNode from './Math.ts';
import SaveText from './SaveText.ts';
import StabilityReport from './StabilityReport.ts';
import Text from './Text.ts';

export const ALL_NODES: readonly NodeDefinition[] = [Int, Float, Text, MathNode, SaveText, StabilityReport];
