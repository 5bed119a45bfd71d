// A minimal Matroska file that holds only global tags. ffmpeg copies its tags into an output with
// `-i tags.mkv -map_metadata 1`: unlike an FFMETADATA file, whose reader in the bundled 2018 ffmpeg cuts
// lines at 1024 bytes, and unlike `-metadata key=value`, which fails beyond 128 KiB per argument (E2BIG),
// it carries values of any length.

const EBML = 0x1a45dfa3;
const DOC_TYPE = 0x4282;
const DOC_TYPE_VERSION = 0x4287;
const DOC_TYPE_READ_VERSION = 0x4285;
const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const TIMECODE_SCALE = 0x2ad7b1;
const MUXING_APP = 0x4d80;
const WRITING_APP = 0x5741;
const TAGS = 0x1254c367;
const TAG = 0x7373;
const TARGETS = 0x63c0;
const SIMPLE_TAG = 0x67c8;
const TAG_NAME = 0x45a3;
const TAG_STRING = 0x4487;
const CLUSTER = 0x1f43b675;
const CLUSTER_TIMECODE = 0xe7;

function elementId(id: number): Buffer {
  const bytes = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const out = Buffer.alloc(bytes);
  out.writeUIntBE(id, 0, bytes);
  return out;
}

/** Sizes are always written in the 8-byte form: simple, and valid for any length. */
function elementSize(size: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(size));
  out[0]! |= 0x01;
  return out;
}

function element(id: number, ...children: (Buffer | string)[]): Buffer {
  const data = Buffer.concat(children.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
  return Buffer.concat([elementId(id), elementSize(data.length), data]);
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

export function matroskaWithTags(tags: Record<string, string>): Buffer {
  const simpleTags = Object.entries(tags).map(([name, value]) => element(SIMPLE_TAG, element(TAG_NAME, name), element(TAG_STRING, value)));
  return Buffer.concat([
    element(EBML, element(DOC_TYPE, 'matroska'), element(DOC_TYPE_VERSION, uint32(4)), element(DOC_TYPE_READ_VERSION, uint32(2))),
    element(
      SEGMENT,
      element(INFO, element(TIMECODE_SCALE, uint32(1_000_000)), element(MUXING_APP, 'limelight'), element(WRITING_APP, 'limelight')),
      element(TAGS, element(TAG, element(TARGETS), ...simpleTags)),
      // ffmpeg's demuxer reads top-level elements until the first cluster; without one it reports end of file.
      element(CLUSTER, element(CLUSTER_TIMECODE, uint32(0))),
    ),
  ]);
}
