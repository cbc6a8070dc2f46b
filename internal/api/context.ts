import type { AgentConfig } from '../config/types';
import type { Logger } from '../log/logger';
import type { Clock } from '../procfs/host';
import type { CsvHistory } from './csv-history';
import type { Inventory } from './inventory';
import type { SampleRing } from './ring';
import type { LiveFeed } from './status-stream';
import type { AgentState } from './status';

/** What the routes read: the configuration, the host's name, the samples and their history. */
export interface ApiContext {
  config: AgentConfig;
  /** host.name, as the OTLP export's resource says it. */
  host: string;
  clock: Clock;
  logger: Logger;
  ring: SampleRing;
  history: CsvHistory;
  inventory(): Promise<Inventory>;
  /** The status page's open live streams, fed each new sample. */
  live: LiveFeed;
  /** The agent's own state, for /status. */
  agent: AgentState;
  /** The last exported batch as a Prometheus exposition; undefined before the first export. */
  prometheusText(): string | undefined;
}
