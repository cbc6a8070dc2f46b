// The proxy the environment names for an export target, read the way grpc-js and curl read it.
// gRPC: grpc_proxy, else https_proxy, else http_proxy. HTTP: https_proxy for an https URL,
// http_proxy for an http one. Lowercase wins over uppercase. NO_PROXY/no_proxy exempts hosts.
import { isIP } from 'node:net';
import { maskUrlPassword } from '../config/secrets';

/** A proxy variable that is not an http:// URL; names the variable and the value. */
export class ProxyConfigError extends Error {
  constructor(readonly variable: string, readonly value: string) {
    super(`${variable}: ${JSON.stringify(maskUrlPassword(value))} is not a proxy URL such as "http://proxy.example.com:3128"`);
    this.name = 'ProxyConfigError';
  }
}

function read(env: NodeJS.ProcessEnv, name: string): { variable: string; value: string } | undefined {
  for (const variable of [name.toLowerCase(), name.toUpperCase()]) {
    const value = env[variable]?.trim();
    if (value) return { variable, value };
  }
  return undefined;
}

/**
 * Whether NO_PROXY exempts host:port. Entries are comma- or space-separated: `*` (everything), a
 * name (matching it and its subdomains; a leading `.` or `*.` means the same), an IP address, an
 * optional `:port`.
 */
export function noProxyExempts(noProxy: string, host: string, port: number): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  return noProxy
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .some((raw) => {
      if (raw === '*') return true;
      // [v6]:port, [v6], host:port, or a bare name or address (a v6 one has several colons).
      const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
      const withPort = bracketed ? undefined : /^([^:]+):(\d+)$/.exec(raw);
      const entryHost = (bracketed?.[1] ?? withPort?.[1] ?? raw).toLowerCase().replace(/^\*?\./, '');
      const entryPort = bracketed?.[2] ?? withPort?.[2];
      if (entryPort !== undefined && Number(entryPort) !== port) return false;
      if (isIP(entryHost) || isIP(name)) return entryHost === name;
      return name === entryHost || name.endsWith(`.${entryHost}`);
    });
}

/** The proxy for a target, or undefined for a direct connection. Throws ProxyConfigError. */
export function proxyFor(scheme: 'grpc' | 'http' | 'https', host: string, port: number, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const names = scheme === 'grpc' ? ['grpc_proxy', 'https_proxy', 'http_proxy'] : scheme === 'https' ? ['https_proxy'] : ['http_proxy'];
  let chosen: { variable: string; value: string } | undefined;
  for (const name of names) {
    chosen = read(env, name);
    if (chosen) break;
  }
  if (!chosen) return undefined;
  const noProxy = read(env, 'no_proxy');
  if (noProxy && noProxyExempts(noProxy.value, host, port)) return undefined;
  // A bare host:port is the common way to write it; it means plain http to the proxy.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(chosen.value) ? chosen.value : `http://${chosen.value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ProxyConfigError(chosen.variable, chosen.value);
  }
  if (url.protocol !== 'http:' || url.hostname === '') throw new ProxyConfigError(chosen.variable, chosen.value);
  return url;
}
