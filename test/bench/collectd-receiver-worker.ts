// A child process for the collectd bench: the agent's receiver (sockets, decoding, points) on a
// loopback port, drained as an export would every 10 s. Prints `ready <port>` once listening.
import { createLogger } from '../../internal/log/logger';
import { CollectdMetrics } from '../../internal/receiver/collectd/convert';
import { CollectdReceiver } from '../../internal/receiver/collectd/receiver';
import { builtinTypesDb } from '../../internal/receiver/collectd/types-db';

async function main(): Promise<void> {
  const metrics = new CollectdMetrics(builtinTypesDb(), 100_000, () => undefined);
  const receiver = await CollectdReceiver.start({
    listen: ['127.0.0.1:0'],
    maxPacketSize: 1452,
    securityLevel: 'none',
    authFile: '',
    logger: createLogger({ level: 'error', format: 'json', destination: process.stderr }),
    onValueList: (vl) => metrics.add(vl, Date.now()),
    onNotification: () => undefined,
  });
  setInterval(() => metrics.drain(Date.now()), 10_000);
  process.stdout.write(`ready ${receiver.addresses[0].split(':').pop()}\n`);
}

void main();
