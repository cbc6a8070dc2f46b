// The headers every export carries: TelemetryFlow authentication, the agent id, the operator's
// extra headers and the User-Agent.
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { isSecretHeaderName } from '../config/secrets';
import type { AgentConfig } from '../config/types';
import { userAgent } from '../version/version';

export const KEY_ID_HEADER = 'X-TelemetryFlow-Key-ID';
export const KEY_SECRET_HEADER = 'X-TelemetryFlow-Key-Secret';
export const AGENT_ID_HEADER = 'X-TelemetryFlow-Agent-ID';

/**
 * Names as written (HTTP/1.1 sends them so; gRPC lowercases them). The agent's own headers win
 * over an extra header of the same name in any case: the agent id is always the effective id.
 */
export function exportHeaders(config: AgentConfig, agentId: string): Record<string, string> {
  const own: Record<string, string> = { 'User-Agent': userAgent() };
  const { api_key_id: keyId, api_key_secret: keySecret } = config.telemetryflow;
  if (keyId !== '') own[KEY_ID_HEADER] = keyId;
  if (keySecret !== '') own[KEY_SECRET_HEADER] = keySecret;
  own[AGENT_ID_HEADER] = agentId;

  const ownNames = new Set(Object.keys(own).map((n) => n.toLowerCase()));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.exporter.otlp.headers)) {
    if (!ownNames.has(name.toLowerCase())) headers[name] = value;
  }
  return { ...headers, ...own };
}

/** Header values that are credentials: scrubbed from every message the transports produce. */
export function secretHeaderValues(headers: Record<string, string>): string[] {
  // The names config show masks; the key id is no secret (config show prints it).
  return Object.entries(headers)
    .filter(([name]) => isSecretHeaderName(name) && name.toLowerCase() !== KEY_ID_HEADER.toLowerCase())
    .map(([, value]) => value);
}

/** An extra header the transport cannot send; names the header, never its value. */
export class HeaderError extends Error {
  constructor(
    readonly header: string,
    readonly reason: string,
  ) {
    super(`exporter.otlp.headers: ${JSON.stringify(header)} cannot be sent: ${reason}`);
    this.name = 'HeaderError';
  }
}

/** Throws HeaderError for a name or value HTTP cannot carry (checked once, not at every send). */
export function checkHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (error) {
      throw new HeaderError(name, (error as NodeJS.ErrnoException).code === 'ERR_INVALID_CHAR' ? 'the value has a character not allowed in a header' : 'not a valid header name');
    }
  }
}
