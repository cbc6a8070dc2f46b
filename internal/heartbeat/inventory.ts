import type { HeartbeatBody } from '../../pkg/heartbeat';
import type { HostFs } from '../procfs/host';
import type { AgentConfig } from '../config/types';
import type { Logger } from '../log/logger';
import { SystemInfoBuilder } from './system-info';

export interface InventoryOptions {
  logger: Logger;
  /** Where the JSON goes; stdout by default. */
  out?: NodeJS.WritableStream;
  host?: HostFs;
  /**
   * How long CPU shares and rates are measured over. The wait is a timer between two readings,
   * not a busy sample: the process is idle meanwhile.
   */
  sampleMs?: number;
}

const DEFAULT_SAMPLE_MS = 500;

/**
 * `tfo-agent inventory`: builds the heartbeat body once, exactly as the heartbeat would send it,
 * and prints it as indented JSON. Sources that could not be read are logged, one warning each.
 */
export async function printInventory(config: AgentConfig, options: InventoryOptions): Promise<HeartbeatBody> {
  const builder = new SystemInfoBuilder({ config, logger: options.logger, host: options.host });
  await builder.prime();
  await new Promise((resolve) => setTimeout(resolve, options.sampleMs ?? DEFAULT_SAMPLE_MS));
  const { systemInfo, problems } = await builder.build();
  for (const problem of problems) options.logger.warn({ event: 'inventory.source_unreadable', problem }, 'a source could not be read; its fields are absent');
  const body: HeartbeatBody = { systemInfo };
  (options.out ?? process.stdout).write(JSON.stringify(body, null, 2) + '\n');
  return body;
}
