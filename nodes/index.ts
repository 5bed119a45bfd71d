// Every node type Limelight ships. New node files are added here.
import type { NodeDefinition } from '../server/engine/node-contract.ts';
import Float from './Float.ts';
import InjectCrossAttention from './InjectCrossAttention.ts';
import Int from './Int.ts';
import Encode from './Encode.ts';
import KeyframeInterpolate from './KeyframeInterpolate.ts';
import LoadImage from './LoadImage.ts';
import LoadImageSequence from './LoadImageSequence.ts';
import LoadVideo from './LoadVideo.ts';
import MaskFromImage from './MaskFromImage.ts';
import PreviewImage from './PreviewImage.ts';
import LoadModel from './LoadModel.ts';
import MathNode from './Math.ts';
import Sampler from './Sampler.ts';
import SaveText from './SaveText.ts';
import StabilityReport from './StabilityReport.ts';
import Text from './Text.ts';
import TextEncode from './TextEncode.ts';
import VAEDecode from './VAEDecode.ts';
import VAEEncode from './VAEEncode.ts';

export const ALL_NODES: readonly NodeDefinition[] = [Int, Float, Text, MathNode, SaveText, StabilityReport, LoadModel, TextEncode, VAEEncode, InjectCrossAttention, Sampler, VAEDecode, LoadVideo, LoadImage, LoadImageSequence, MaskFromImage, KeyframeInterpolate, Encode, PreviewImage];
