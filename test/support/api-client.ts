import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface ApiAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body as JSON; throws when it is not. */
  json<T = Record<string, unknown>>(): T;
  /** The subject CN of the certificate the server presented (HTTPS). */
  peerCommonName?: string;
}

export interface ApiRequestOptions {
  token?: string;
  /** A raw Authorization header, for malformed ones. */
  authorization?: string;
  accept?: string;
  method?: string;
  /** The CA to trust for HTTPS. */
  ca?: Buffer;
}

/** One request to the local API over real HTTP or HTTPS (a fresh connection each time). */
export function apiGet(url: string, options: ApiRequestOptions = {}): Promise<ApiAnswer> {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.accept !== undefined) headers.accept = options.accept;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, { method: options.method ?? 'GET', headers, ca: options.ca, agent: false }, (res) => {
      const socket = res.socket as TLSSocket;
      const peerCommonName = typeof socket.getPeerCertificate === 'function' ? (socket.getPeerCertificate().subject?.CN as string | undefined) : undefined;
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T, peerCommonName });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}
