// The status page: one HTML document, its script and style sheet, and uPlot, served by the API
// listener without the token (the data requests the page makes carry it). Files are read on the
// first request and kept, so an agent whose page nobody opens holds none of them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger';
import { errorMessage } from '../log/logger';
import { backoffDelay } from '../retry/backoff';
import { sendJson, type Route } from './server';

// web/status at the package root, seen from dist/internal/api.
const PAGE_DIR = join(__dirname, '..', '..', '..', 'web', 'status');

/**
 * Only the agent's own origin: no inline script or style, no CDN, no external font, and no
 * framing. form-action 'none' keeps the token form from ever submitting (into a URL) if the
 * script did not run.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  path: string;
  contentType: string;
  /** Where the file is, resolved when first served. */
  file?(): string;
  /** Or the text itself, built when first served. */
  text?(): string;
}

/**
 * The agent's own backoff computation (internal/retry/backoff.ts) for the page's reconnects: the
 * compiled function itself, so the page waits as the exporter and the heartbeat do.
 */
export const pageBackoffScript = (): string => `window.tfoBackoffDelay = ${backoffDelay.toString()};\n`;

export const PAGE_ASSETS: readonly Asset[] = [
  { path: '/', contentType: 'text/html; charset=utf-8', file: () => join(PAGE_DIR, 'index.html') },
  { path: '/page/page.js', contentType: 'text/javascript; charset=utf-8', file: () => join(PAGE_DIR, 'page.js') },
  { path: '/page/page.css', contentType: 'text/css; charset=utf-8', file: () => join(PAGE_DIR, 'page.css') },
  { path: '/page/backoff.js', contentType: 'text/javascript; charset=utf-8', text: pageBackoffScript },
  { path: '/page/icon.svg', contentType: 'image/svg+xml', file: () => join(PAGE_DIR, 'icon.svg') },
  { path: '/page/uPlot.min.js', contentType: 'text/javascript; charset=utf-8', file: () => require.resolve('uplot/dist/uPlot.iife.min.js') },
  { path: '/page/uPlot.min.css', contentType: 'text/css; charset=utf-8', file: () => require.resolve('uplot/dist/uPlot.min.css') },
];

interface Loaded {
  body: Buffer;
  etag: string;
}

function pageRoute(asset: Asset, logger: Logger): Route {
  let loaded: Loaded | undefined;
  let failureLogged = false;
  return {
    path: asset.path,
    public: true,
    handle: ({ req, res }) => {
      if (loaded === undefined) {
        let file = '';
        try {
          const body = asset.text ? Buffer.from(asset.text()) : readFileSync((file = asset.file!()));
          loaded = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
        } catch (err) {
          if (!failureLogged) logger.error({ event: 'api.page_asset_missing', path: asset.path, file, err: errorMessage(err) }, `status page file ${file || asset.path} cannot be read; the package is incomplete`);
          failureLogged = true;
          return sendJson(res, 500, { error: `status page file for ${asset.path} missing from the installation` });
        }
      }
      const headers = {
        'content-type': asset.contentType,
        // Revalidated on every load (a 304 when unchanged), so an upgraded agent serves its new page.
        'cache-control': 'no-cache',
        etag: loaded.etag,
        'content-security-policy': PAGE_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      };
      if (req.headers['if-none-match'] === loaded.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': loaded.body.length });
      res.end(req.method === 'HEAD' ? undefined : loaded.body);
    },
  };
}

/** The page and its files, each a public route. */
export function pageRoutes(logger: Logger): Route[] {
  return PAGE_ASSETS.map((asset) => pageRoute(asset, logger));
}
