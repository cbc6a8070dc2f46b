// Runs inside a fresh network namespace (`unshare -n`, started by collectd-peer.test.ts): sets up
// multicast on its own links, runs the agent and a real collectd sending to a multicast group, and
// prints the export and the csv directory as one JSON line for the test to compare.
import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { runCollectd, withCollectdAgent } from '../support/collectd';

const PORT = 25826;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'inherit' });
}

async function waitForLinkLocal(iface: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (networkInterfaces()[iface]?.some((a) => a.family === 'IPv6' && a.address.startsWith('fe80'))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${iface} has no link-local address`);
}

async function main(): Promise<void> {
  const [family, dir] = process.argv.slice(2);
  ip('link', 'set', 'lo', 'up');
  let listen: string;
  let server: string;
  let iface: string;
  if (family === 'ipv4') {
    ip('link', 'set', 'lo', 'multicast', 'on');
    ip('route', 'add', '224.0.0.0/4', 'dev', 'lo');
    listen = `239.192.74.66%lo:${PORT}`;
    server = '239.192.74.66';
    iface = 'lo';
  } else {
    // lo carries no IPv6 multicast here; a veth pair does.
    ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('link', 'set', 'v0', 'up');
    ip('link', 'set', 'v1', 'up');
    await waitForLinkLocal('v0');
    listen = `[ff18::efc0:4a42%v0]:${PORT}`;
    server = 'ff18::efc0:4a42';
    iface = 'v0';
  }
  const name = `multicast-${family}`;
  let csv = '';
  const { points } = await withCollectdAgent(dir, { listen: [listen] }, async () => {
    csv = runCollectd(dir, { name, server, port: PORT, iface });
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
  const host = `collectd-${name}`;
  const mine = points.filter((p) => p.resource['host.name'] === host);
  process.stdout.write(`${JSON.stringify({ host, csv, points: mine }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
