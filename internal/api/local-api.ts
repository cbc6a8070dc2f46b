// The local query API as the agent runs it: the listener and what feeds its answers. Built from
// the api: section; stopped and rebuilt when a reload changes that section.
import type { AgentConfig } from '../config/types';
import type { Logger } from '../log/logger';
import type { Clock } from '../procfs/host';
import { hostName } from '../agent/resource';
import type { ApiContext } from './context';
import { apiRoutes } from './routes';
import { startApiServer, type ApiServer } from './server';

export interface LocalApiDeps {
  logger: Logger;
  clock: Clock;
  env: NodeJS.ProcessEnv;
}

export class LocalApi {
  private constructor(private readonly server: ApiServer) {}

  /** Starts the listener; rejects when api.address cannot be bound or the certificate does not load. */
  static async start(config: AgentConfig, deps: LocalApiDeps): Promise<LocalApi> {
    const logger = deps.logger.child({ component: 'api' });
    const context: ApiContext = { config, host: hostName(config, deps.env), clock: deps.clock, logger };
    const server = await startApiServer(config.api, apiRoutes(context), logger);
    return new LocalApi(server);
  }

  /** `scheme://host:port` the listener answers on. */
  get url(): string {
    return `${this.server.scheme}://${this.server.address}`;
  }

  reloadTls(): void {
    this.server.reloadTls();
  }

  async stop(): Promise<void> {
    await this.server.close();
  }
}
