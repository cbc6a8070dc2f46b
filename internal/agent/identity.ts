// The agent's id: one per host, stable across restarts. The TelemetryFlow Go agent made a new
// random id at every start, so one host became many agents in the backend.

import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostFs } from '../procfs/host';
import { readMachineId } from '../procfs/machine-id';
import type { AgentConfig } from '../config/types';
import { errorMessage, type Logger } from '../log/logger';

export type AgentIdSource = 'config' | 'machine-id' | 'data-dir' | 'ephemeral';

export interface AgentId {
  id: string;
  /** config: agent.id; machine-id: derived from the host's machine id; data-dir: generated once and
   * kept in agent.data_dir; ephemeral: generated for this process only (data_dir not writable). */
  source: AgentIdSource;
}

/** Namespace of ids derived from machine ids, so they never collide with other v5-style ids. */
const MACHINE_ID_NAMESPACE = Buffer.from('5c0a1e7e9d8b4f0a8c3e2b7d6f4a1c90', 'hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const AGENT_ID_FILE = 'agent-id';

/**
 * A UUID derived from a machine id the RFC 4122 v5 way, with SHA-256 in place of SHA-1. The machine
 * id itself is not sent: systemd asks that it be hashed before leaving the host.
 */
export function uuidFromMachineId(machineId: string): string {
  const digest = createHash('sha256').update(MACHINE_ID_NAMESPACE).update(machineId).digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id kept in the data directory, creating and storing one on first use. */
function persistedId(dataDir: string): string {
  const file = join(dataDir, AGENT_ID_FILE);
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (UUID.test(stored)) return stored.toLowerCase();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const id = randomUUID();
  // Written aside and renamed so a crash never leaves a half-written id behind.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, id + '\n', { mode: 0o644 });
  renameSync(temporary, file);
  return id;
}

/**
 * agent.id when set; else a UUID derived from the host's machine id (read through `host`, so a
 * DaemonSet pod reports its node's id); else one generated once and kept in agent.data_dir/agent-id;
 * else, when that directory cannot be written, a per-process id with a warning.
 */
export function resolveAgentId(config: AgentConfig, host: HostFs, logger: Logger): AgentId {
  if (config.agent.id !== '') return { id: config.agent.id, source: 'config' };
  const machineId = readMachineId(host);
  if (machineId !== undefined) return { id: uuidFromMachineId(machineId), source: 'machine-id' };
  try {
    return { id: persistedId(config.agent.data_dir), source: 'data-dir' };
  } catch (error) {
    const id = randomUUID();
    logger.warn(
      { data_dir: config.agent.data_dir, err: errorMessage(error), agent_id: id },
      'agent id cannot be kept: no machine id and agent.data_dir is not writable; this id lasts only until restart',
    );
    return { id, source: 'ephemeral' };
  }
}
