// The local query API's routes, one table: what each path answers and whether it needs the token.
import type { ApiContext } from './context';
import { CSV_EOL, CSV_HEADER, formatRow, sampleOfRow } from './csv';
import { pageRoutes } from './page';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus';
import { BUCKET_FIELDS, parseRangeQuery, StepBuckets, type Bucket, type RangeQuery } from './range';
import { SAMPLE_FIELDS, type Sample } from './sample';
import { badParameter, send, sendJson, type ApiRequest, type Route } from './server';
import { statusRoute } from './status';
import { statusStreamRoute } from './status-stream';

// A range answered sample by sample stops here; longer ones ask for a step.
export const MAX_RANGE_POINTS = 86_400;

/** GET /health: no token, for load balancers and scripts that only ask "is it there?". */
function healthRoute(context: ApiContext): Route {
  return {
    path: '/health',
    public: true,
    handle: ({ res }) => sendJson(res, 200, { status: 'ok', time: new Date(context.clock.now()).toISOString(), host: context.host }),
  };
}

function inventoryRoute(context: ApiContext): Route {
  return { path: '/inventory', handle: async ({ res }) => sendJson(res, 200, await context.inventory()) };
}

function latestRoute(context: ApiContext): Route {
  return {
    path: '/metrics/latest',
    handle: ({ res }) => {
      const latest = context.ring.latest();
      if (latest === undefined) sendJson(res, 503, { error: 'No data yet' });
      else sendJson(res, 200, latest);
    },
  };
}

function wantsCsv(request: ApiRequest): boolean {
  return /\btext\/csv\b/i.test(request.req.headers.accept ?? '');
}

function answer(request: ApiRequest, rows: readonly object[], fields: readonly string[], header: string): void {
  if (!wantsCsv(request)) {
    sendJson(request.res, 200, rows);
    return;
  }
  let text = header + CSV_EOL;
  for (const row of rows) text += formatRow(row as Record<string, unknown>, fields);
  send(request.res, 200, 'text/csv; charset=utf-8; header=present', text);
}

/**
 * The samples of a range, oldest first: from the CSV history up to the ring's oldest sample,
 * then from the ring, so that the seam has neither a gap nor a duplicate.
 */
function collectSamples(context: ApiContext, query: RangeQuery): Sample[] {
  const samples: Sample[] = [];
  const ringStart = context.ring.oldest()?.ts_unix ?? Infinity;
  if (query.from < ringStart) context.history.read(query.from, query.to, ringStart, (row) => samples.push(sampleOfRow(row)));
  for (const sample of context.ring.between(query.from, query.to)) samples.push(sample);
  return samples;
}

/** The same samples in step buckets: the history's (from its daily summaries where it can), then the ring's. */
function collectBuckets(context: ApiContext, query: RangeQuery, step: number): Bucket[] {
  const buckets = new StepBuckets(step);
  const ringStart = context.ring.oldest()?.ts_unix ?? Infinity;
  if (query.from < ringStart) context.history.readBuckets(query.from, query.to, ringStart, buckets);
  buckets.beginSource();
  for (const sample of context.ring.between(query.from, query.to)) buckets.addSample(sample);
  return buckets.finish();
}

function rangeRoute(context: ApiContext): Route {
  const { api } = context.config;
  const maxSeconds = api.retention_days * 86_400;
  return {
    path: '/metrics/range',
    handle: (request) => {
      const query = parseRangeQuery(request.url.searchParams, context.clock.now() / 1000, maxSeconds);
      if ('parameter' in query) return badParameter(request.res, query.parameter, query.message);
      if (query.step === undefined) {
        const expected = ((query.to - query.from) * 1000) / api.collect_interval;
        if (expected > MAX_RANGE_POINTS) {
          const step = Math.ceil((query.to - query.from) / MAX_RANGE_POINTS);
          return badParameter(request.res, 'step', `the range holds about ${Math.round(expected)} samples, more than ${MAX_RANGE_POINTS} answered one by one; add step (at least ${step}s)`);
        }
        return answer(request, collectSamples(context, query), SAMPLE_FIELDS, CSV_HEADER);
      }
      return answer(request, collectBuckets(context, query, query.step), BUCKET_FIELDS, BUCKET_FIELDS.join(','));
    },
  };
}

function prometheusRoute(context: ApiContext): Route {
  return {
    path: '/metrics',
    handle: ({ res }) => {
      const text = context.prometheusText();
      if (text !== undefined) return send(res, 200, PROMETHEUS_CONTENT_TYPE, text);
      const why = context.config.exporter.otlp.enabled ? 'No export yet' : 'No metrics: exporter.otlp.enabled is false, and /metrics serves what the export carries';
      return sendJson(res, 503, { error: why });
    },
  };
}

/** Every route the listener serves. */
export function apiRoutes(context: ApiContext): Route[] {
  const routes = [healthRoute(context), inventoryRoute(context), latestRoute(context), rangeRoute(context), statusRoute(context), statusStreamRoute(context), ...pageRoutes(context.logger)];
  if (context.config.api.prometheus) routes.push(prometheusRoute(context));
  return routes;
}
