import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { AGENT_ID_FILE, resolveAgentId, uuidFromMachineId } from '../../internal/agent/identity';
import { readMachineId } from '../../internal/procfs/machine-id';
import { HostFs } from '../../internal/procfs/host';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig } from '../../internal/config/types';
import { createLogger, silentLogger } from '../../internal/log/logger';
import { tempDir } from './temp';

const V5_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MACHINE_ID = '3f9d1c2b4a5e6f708192a3b4c5d6e7f8';

function configWith(agent: Partial<AgentConfig['agent']>): AgentConfig {
  const config = defaultConfig();
  Object.assign(config.agent, agent);
  return config;
}

describe('resolveAgentId', () => {
  it('uses agent.id when set', () => {
    const host = new HostFs(tempDir().dir);
    assert.deepEqual(resolveAgentId(configWith({ id: 'my-agent' }), host, silentLogger()), { id: 'my-agent', source: 'config' });
  });

  it('derives the same UUID from the host machine id on every resolve', () => {
    const root = tempDir();
    root.write('etc/machine-id', MACHINE_ID + '\n');
    const data = tempDir().dir;
    const first = resolveAgentId(configWith({ data_dir: data }), new HostFs(root.dir), silentLogger());
    const second = resolveAgentId(configWith({ data_dir: data }), new HostFs(root.dir), silentLogger());
    assert.equal(first.source, 'machine-id');
    assert.match(first.id, V5_UUID);
    assert.deepEqual(second, first);
    assert.equal(first.id, uuidFromMachineId(MACHINE_ID));
    assert.equal(first.id.includes(MACHINE_ID.slice(0, 8)), false, 'the machine id itself is not exposed');
    assert.equal(existsSync(join(data, AGENT_ID_FILE)), false, 'nothing is written when the machine id suffices');
  });

  it('gives different hosts different ids', () => {
    assert.notEqual(uuidFromMachineId(MACHINE_ID), uuidFromMachineId(MACHINE_ID.replace('3f', '40')));
  });

  it('falls back to /var/lib/dbus/machine-id and skips uninitialized or malformed ids', () => {
    const root = tempDir();
    root.write('etc/machine-id', 'uninitialized\n');
    assert.equal(readMachineId(new HostFs(root.dir)), undefined);
    root.write('var/lib/dbus/machine-id', MACHINE_ID.toUpperCase() + '\n');
    assert.equal(readMachineId(new HostFs(root.dir)), MACHINE_ID);
    root.write('etc/machine-id', '0'.repeat(32) + '\n');
    assert.equal(readMachineId(new HostFs(root.dir)), MACHINE_ID);
    root.write('var/lib/dbus/machine-id', 'garbage\x00\xff');
    assert.equal(readMachineId(new HostFs(root.dir)), undefined);
  });

  it('keeps a generated id in data_dir when the host has no machine id', () => {
    const host = new HostFs(tempDir().dir);
    const data = join(tempDir().dir, 'nested', 'state');
    const first = resolveAgentId(configWith({ data_dir: data }), host, silentLogger());
    assert.equal(first.source, 'data-dir');
    assert.equal(readFileSync(join(data, AGENT_ID_FILE), 'utf8').trim(), first.id);
    const afterRestart = resolveAgentId(configWith({ data_dir: data }), host, silentLogger());
    assert.deepEqual(afterRestart, first);
  });

  it('replaces a corrupt stored id', () => {
    const state = tempDir();
    state.write(AGENT_ID_FILE, 'not-a-uuid\n');
    const resolved = resolveAgentId(configWith({ data_dir: state.dir }), new HostFs(tempDir().dir), silentLogger());
    assert.equal(resolved.source, 'data-dir');
    assert.equal(readFileSync(join(state.dir, AGENT_ID_FILE), 'utf8').trim(), resolved.id);
  });

  it('uses a per-process id with one warning when data_dir cannot be written', () => {
    // A data_dir beneath a regular file cannot be created, even by root.
    const blocker = tempDir().write('not-a-directory', 'x');
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'info', format: 'json', destination });
    const resolved = resolveAgentId(configWith({ data_dir: join(blocker, 'state') }), new HostFs(tempDir().dir), logger);
    assert.equal(resolved.source, 'ephemeral');
    assert.match(resolved.id, /^[0-9a-f-]{36}$/);
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]);
    assert.equal(line.level, 'warn');
    assert.equal(line.agent_id, resolved.id);
    assert.match(line.msg, /lasts only until restart/);
  });
});
