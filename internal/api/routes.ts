// The local query API's routes, one table: what each path answers and whether it needs the token.
import type { ApiContext } from './context';
import { sendJson, type Route } from './server';

/** GET /health: no token, for load balancers and scripts that only ask "is it there?". */
function healthRoute(context: ApiContext): Route {
  return {
    path: '/health',
    public: true,
    handle: ({ res }) => sendJson(res, 200, { status: 'ok', time: new Date(context.clock.now()).toISOString(), host: context.host }),
  };
}

/** Every route the listener serves. */
export function apiRoutes(context: ApiContext): Route[] {
  return [healthRoute(context)];
}
