import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatValueList } from '../../internal/receiver/collectd/cli';
import { decodePacket } from '../../internal/receiver/collectd/decode';
import { CLI, FIXTURES } from '../support/paths';

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('tfo-agent collectd listen', () => {
  it('prints one line per value list of a real collectd packet, counts a malformed one, and sums up on SIGTERM', async () => {
    const packet = readFileSync(join(FIXTURES, 'collectd', 'plain-0.bin'));
    const expected = decodePacket(packet, { securityLevel: 'none' }).valueLists.map(formatValueList);
    const child = spawn(process.execPath, [CLI, 'collectd', 'listen', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(() => /listening on 127\.0\.0\.1:\d+/.test(err), 'the listening line');
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(err)?.[1]);
      const socket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => socket.send(Buffer.from([0, 0, 0, 3]), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      await new Promise<void>((resolve, reject) => socket.send(packet, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      socket.close();
      await until(() => out.split('\n').filter(Boolean).length >= expected.length, `${expected.length} lines`);
      assert.deepEqual(out.split('\n').filter(Boolean), expected);
      assert.match(expected[0], /^\d{4}-\d\d-\d\dT[\d:.]+Z [^/]+\/load\/load gauge=[\d.]+ gauge=[\d.]+ gauge=[\d.]+$/);
    } finally {
      child.kill('SIGTERM');
    }
    await exited;
    assert.match(err, new RegExp(`packets 2, value lists ${expected.length}, notifications 0, dropped \\{"[a-z_]+":1\\}`));
  });
});
