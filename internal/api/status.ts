// GET /status: the agent about itself and its host, read from state the agent already keeps (the
// probe status with its buffer and heartbeat sections, the export accounting, the inventory).
// With `since`, also the ring's samples newer than it. The status page reads it once when it
// loads; its live updates come over /status/stream (status-stream.ts).
import type { ServerResponse } from 'node:http';
import type { HealthStatus } from '../health/server';
import type { ExportAccounting } from '../exporter/accounting';
import type { ApiContext } from './context';
import { parseInstant } from './range';
import { badParameter, sendJson, type Route } from './server';

/** Where the OTLP export goes; undefined while no exporter runs (exporter.otlp.enabled false). */
export interface ExportTargetView {
  protocol: string;
  target: string;
}

/** The agent's parts /status reads; each may be absent (an API started on its own in a test). */
export interface AgentState {
  health?: HealthStatus;
  accounting?: ExportAccounting;
  exportTarget?: () => ExportTargetView | undefined;
}

// The inventory keys the page's header shows.
const HOST_KEYS = ['hostname', 'os_system', 'os_release', 'os_id', 'os_version_id', 'architecture', 'cpu_model', 'cpu_physical_cores', 'cpu_logical_cores', 'memory_total_bytes'];

function accountingView(accounting: ExportAccounting | undefined): Record<string, unknown> | null {
  if (accounting === undefined) return null;
  return {
    produced: accounting.produced,
    exported: accounting.exportedLive,
    spilled: accounting.spilled,
    replayed: accounting.replayed,
    dropped: accounting.totalDropped(),
    dropped_by_reason: Object.fromEntries(accounting.dropped),
    in_backlog: accounting.inBacklog,
  };
}

/** `since` (unix seconds or ISO 8601), undefined when absent; null once a 400 answered one that is not a time. */
export function sinceParameter(res: ServerResponse, url: URL): number | undefined | null {
  const text = url.searchParams.get('since');
  if (text === null) return undefined;
  const since = parseInstant(text);
  if (since !== undefined) return since;
  badParameter(res, 'since', `${JSON.stringify(text)} is not unix seconds or ISO 8601`);
  return null;
}

/**
 * Moves whenever the header's counts do: the accounting's counters only grow, and each
 * collection and export moves one (and with it the last export's result and the buffer).
 */
export function statusVersion(context: ApiContext): number {
  const accounting = context.agent.accounting;
  return accounting === undefined ? 0 : accounting.produced + accounting.exportedLive + accounting.spilled + accounting.replayed + accounting.totalDropped();
}

/** The /status answer: what the page's header shows, built from the agent's state now. */
export async function statusBody(context: ApiContext): Promise<Record<string, unknown>> {
  const { api } = context.config;
  const state = context.agent;
  const inventory = await context.inventory();
  const health = state.health?.snapshot() ?? {};
  return {
    time: new Date(context.clock.now()).toISOString(),
    host: Object.fromEntries(HOST_KEYS.filter((key) => key in inventory).map((key) => [key, inventory[key]])),
    agent: { id: health.agent_id ?? null, version: inventory.agent_version, status: health.status ?? null, uptime_s: health.uptime_s ?? null },
    api: { collect_interval_ms: api.collect_interval, ring_size: api.ring_size, retention_days: api.retention_days, live_streams: context.live.size },
    export: { ...(state.exportTarget?.() ?? { protocol: null, target: null }), last: health.last_export ?? null },
    buffer: health.buffer ?? null,
    heartbeat: health.heartbeat ?? null,
    accounting: accountingView(state.accounting),
  };
}

export function statusRoute(context: ApiContext): Route {
  return {
    path: '/status',
    handle: async ({ res, url }) => {
      const since = sinceParameter(res, url);
      if (since === null) return;
      const body = await statusBody(context);
      if (since !== undefined) body.samples = context.ring.newerThan(since);
      sendJson(res, 200, body);
    },
  };
}
