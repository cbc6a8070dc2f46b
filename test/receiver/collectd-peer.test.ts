// A real collectd 5.12 sends to the agent (in process) over loopback, and inside network
// namespaces this test makes (multicast); the agent exports to a real OTLP receiver. What arrives
// must equal what the same collectd run wrote with its csv plugin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertExportMatchesCsv, runCollectd, withCollectdAgent } from '../support/collectd';
import type { ReceivedPoint } from '../support/otlp-receiver';
import { COLLECTD, freePort, havePeer } from '../support/peers';
import { onPath } from '../support/tools';

const dir = mkdtempSync(join(tmpdir(), 'tfo-agent-collectd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const skip = !havePeer(COLLECTD) && 'collectd is not installed (.ci/run installs collectd-core)';
const canUnshare = process.getuid?.() === 0 && onPath('unshare') && onPath('ip');

describe('collectd 5.12 sending to the agent', { skip }, () => {
  it('plain over IPv4 and encrypted over IPv6: the exported values and times are collectd\'s own (its csv files)', async () => {
    const [v4, v6] = [await freePort(), await freePort()];
    const auth = join(dir, 'auth');
    writeFileSync(auth, 'alice: s3cret\n');
    let plainCsv = '';
    let encryptedCsv = '';
    const { points } = await withCollectdAgent(dir, { listen: [`127.0.0.1:${v4}`, `[::1]:${v6}`], auth_file: auth }, async () => {
      plainCsv = runCollectd(dir, { name: 'plain', server: '127.0.0.1', port: v4 });
      encryptedCsv = runCollectd(dir, { name: 'encrypted', server: '::1', port: v6, security: { level: 'Encrypt', password: 's3cret' } });
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    assertExportMatchesCsv(points, plainCsv, 'collectd-plain');
    assertExportMatchesCsv(points, encryptedCsv, 'collectd-encrypted');
  });

  it('signed, at security level sign: taken; plain data at that level: counted as insecure', async () => {
    const [signedPort, plainPort] = [await freePort(), await freePort()];
    const auth = join(dir, 'auth-sign');
    writeFileSync(auth, 'alice: s3cret\n');
    let csv = '';
    const { points } = await withCollectdAgent(dir, { listen: [`127.0.0.1:${signedPort}`, `127.0.0.1:${plainPort}`], auth_file: auth, security_level: 'sign' }, async () => {
      csv = runCollectd(dir, { name: 'signed', server: '127.0.0.1', port: signedPort, security: { level: 'Sign', password: 's3cret' } });
      runCollectd(dir, { name: 'unsigned', server: '127.0.0.1', port: plainPort });
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    assertExportMatchesCsv(points, csv, 'collectd-signed');
    assert.equal(points.filter((p) => p.resource['host.name'] === 'collectd-unsigned').length, 0);
    assert.ok(points.some((p) => p.name === 'tfo_agent.collectd.dropped' && p.attributes.reason === 'insecure' && p.value > 0));
  });

  it('a wrong password: nothing accepted, the counter says why, the log names the sender and user, never a password', async () => {
    const port = await freePort();
    const auth = join(dir, 'auth-wrong');
    writeFileSync(auth, 'alice: the-receivers-password\n');
    const { points, lines } = await withCollectdAgent(dir, { listen: [`127.0.0.1:${port}`], auth_file: auth, security_level: 'encrypt' }, async () => {
      runCollectd(dir, { name: 'wrong', server: '127.0.0.1', port, security: { level: 'Encrypt', password: 'senders-guess' } });
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    assert.equal(points.filter((p) => p.resource['host.name'] === 'collectd-wrong').length, 0);
    const dropped = points.filter((p) => p.name === 'tfo_agent.collectd.dropped');
    assert.ok(dropped.some((p) => p.attributes.reason === 'decryption_failed' && p.value > 0), JSON.stringify(dropped.map((p) => [p.attributes, p.value])));
    const failing = lines.filter((l) => l.includes('collectd.auth.failing'));
    assert.equal(failing.length, 1, 'logged once per streak');
    assert.match(failing[0], /"peer":"127\.0\.0\.1"/);
    assert.match(failing[0], /"user":"alice"/);
    assert.doesNotMatch(lines.join('\n'), /senders-guess|the-receivers-password/);
  });

  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`multicast over ${family} in a network namespace of its own: agent and collectd inside, values as in collectd's csv`, { skip: !canUnshare && 'needs root, unshare and ip' }, () => {
      const child = join(__dirname, 'collectd-netns-child.js');
      const result = spawnSync('unshare', ['-n', process.execPath, child, family, dir], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      const { points, csv, host } = JSON.parse(result.stdout.trim().split('\n').pop() as string) as { points: ReceivedPoint[]; csv: string; host: string };
      assertExportMatchesCsv(points, csv, host);
    });
  }
});
