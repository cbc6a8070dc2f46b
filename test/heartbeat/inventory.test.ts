import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import type { HeartbeatBody } from '../../pkg/heartbeat';
import { HostFs } from '../../internal/procfs/host';
import { printInventory } from '../../internal/heartbeat/inventory';
import { heartbeatSchema } from '../../internal/heartbeat/schema';
import { startFakeTelemetryFlowApi } from '../support/fake-telemetryflow-api';
import { CLI, FIXTURES } from '../support/paths';
import { captureLogger, heartbeatConfig, tempDir } from './helpers';

const run = promisify(execFile);
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(heartbeatSchema());

describe('tfo-agent inventory', () => {
  it('reports the host under the host root, not this machine, and names what it could not read', async () => {
    const root = join(FIXTURES, 'procfs', 'vm-6.18-2cpu');
    const log = captureLogger();
    let printed = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        printed += chunk.toString('utf8');
        done();
      },
    });
    const config = heartbeatConfig('', '/nonexistent', (c) => (c.host_root = root));
    const body = await printInventory(config, { logger: log.logger, out, host: new HostFs(root), sampleMs: 10 });
    assert.deepEqual(JSON.parse(printed), body);
    assert.equal(validate(body), true, JSON.stringify(validate.errors));
    const info = body.systemInfo!;
    const meminfo = readFileSync(join(root, 'proc', 'meminfo'), 'utf8');
    assert.equal(info.memoryTotal, Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)![1]) * 1024);
    assert.equal(info.bootTime, Number(/^btime (\d+)/m.exec(readFileSync(join(root, 'proc', 'stat'), 'utf8'))![1]));
    assert.equal(info.processCount, 4, 'the fixture holds pids 1, 2, 1306 and 18089');
    assert.equal(info.tcpRetransmits, undefined, 'the fixture has no /proc/net/snmp');
    assert.ok(log.lines.some((l) => l.includes('/proc/net/snmp')), 'the unreadable source is named');
  });

  it('the CLI prints valid JSON, contacts nobody and never prints the secret', async () => {
    const api = await startFakeTelemetryFlowApi();
    const dir = tempDir();
    const secret = 'tfs_inventory_secret_4242';
    try {
      const file = join(dir.path, 'tfo-agent.yaml');
      writeFileSync(
        file,
        [
          'telemetryflow:',
          `  backend_endpoint: ${api.url}`,
          '  api_key_id: tfk_inventory',
          `  api_key_secret: ${secret}`,
          'agent:',
          `  data_dir: ${dir.path}`,
          'logging:',
          '  level: debug',
          '',
        ].join('\n'),
      );
      const { stdout, stderr } = await run(process.execPath, [CLI, 'inventory', '--config', file], { timeout: 20_000 });
      const body = JSON.parse(stdout) as HeartbeatBody;
      assert.equal(validate(body), true, JSON.stringify(validate.errors));
      assert.equal(typeof body.systemInfo?.cpuUsage, 'number', 'CPU shares measured over the short sample');
      assert.equal(api.requests.length, 0);
      assert.ok(!stdout.includes(secret) && !stderr.includes(secret));
    } finally {
      await api.close();
      dir.remove();
    }
  });
});
