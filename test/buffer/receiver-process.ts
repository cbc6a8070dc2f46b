// The OTLP receiver in a process of its own, for the replay benchmark: its decoding then runs on
// another core instead of sharing the event loop with the replayer being measured. Prints its
// ports as one JSON line; answers "points" on stdin with the accepted point count.
import { createInterface } from 'node:readline';
import { startOtlpReceiver } from '../support/otlp-receiver';

void (async () => {
  const receiver = await startOtlpReceiver();
  process.stdout.write(JSON.stringify({ grpcAddress: receiver.grpcAddress, httpUrl: receiver.httpUrl }) + '\n');
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'points') {
      process.stdout.write(JSON.stringify({ points: receiver.points().length }) + '\n');
      receiver.reset();
    }
  });
  lines.on('close', () => void receiver.close().then(() => process.exit(0)));
})();
