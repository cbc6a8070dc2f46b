// Whether the heartbeat runs. The client, with the system-information readers and the payload
// schema, is loaded only when it does: an agent without a TelemetryFlow API keeps that half
// megabyte of resident memory.
import type { Heartbeat, HeartbeatOptions } from './client';

function disabled(agentId: string, intervalMs: number): Heartbeat {
  return {
    status: () => ({ enabled: false, agentId, intervalMs, sent: 0, failed: 0 }),
    stop: () => Promise.resolve(),
  };
}

/**
 * Starts the heartbeat: a loop separate from the OTLP pipeline that POSTs the system information
 * once shortly after start and then every heartbeat.interval. Returns at once; a missing
 * backend_endpoint or heartbeat.enabled false gives an inert handle and one log line.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { config, logger, agentId } = options;
  if (!config.heartbeat.enabled) {
    logger.info({ event: 'heartbeat.disabled', component: 'heartbeat' }, 'heartbeat disabled by heartbeat.enabled: false');
    return disabled(agentId, config.heartbeat.interval);
  }
  if (config.telemetryflow.backend_endpoint === '') {
    logger.info(
      { event: 'heartbeat.disabled', component: 'heartbeat' },
      'heartbeat disabled: telemetryflow.backend_endpoint is not set (the REST base URL of the TelemetryFlow API, e.g. http://tfo-backend:3100/api/v2)',
    );
    return disabled(agentId, config.heartbeat.interval);
  }
  const { HeartbeatClient } = require('./client') as typeof import('./client');
  return new HeartbeatClient(options);
}
