import type { AgentConfig } from '../config/types';
import type { Logger } from '../log/logger';
import type { Clock } from '../procfs/host';

/** What the routes read: the configuration and the host's name, the clock. */
export interface ApiContext {
  config: AgentConfig;
  /** host.name, as the OTLP export's resource says it. */
  host: string;
  clock: Clock;
  logger: Logger;
}
