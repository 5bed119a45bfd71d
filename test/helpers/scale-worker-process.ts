// One `limelight worker` as its own process (so a test can kill -9 it), configured by LIMELIGHT_TEST_WORKER.
import { ChunkWorker, type ChunkWorkerOptions } from '../../server/scale/chunk-worker.ts';

const options = JSON.parse(process.env.LIMELIGHT_TEST_WORKER!) as ChunkWorkerOptions;
const worker = new ChunkWorker(options);
await worker.ready();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
