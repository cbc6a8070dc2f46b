import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The package root is three levels above this file both in the repository (dist/internal/version)
// and in an installed package or image, so the version is read from the one package.json shipped.
function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
  return pkg.version;
}

export const VERSION: string = readPackageVersion();

/** The commit the build came from: set by the image build (TFO_AGENT_COMMIT); never a git call at run time. */
export function buildCommit(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const commit = env.TFO_AGENT_COMMIT?.trim();
  return commit && commit !== 'unknown' ? commit : undefined;
}

/** Architecture names as OpenTelemetry's host.arch and Go use them (amd64, arm64, …). */
export function hostArch(nodeArch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm32', ppc64: 'ppc64', s390x: 's390x' };
  return names[nodeArch] ?? nodeArch;
}

/** Operating system names as OpenTelemetry's os.type uses them (linux, darwin, windows, …). */
export function osType(platform: string = process.platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

/** `tfo-agent/<version> (<os>; <arch>)`, sent on every request the agent makes. */
export function userAgent(): string {
  return `tfo-agent/${VERSION} (${osType()}; ${hostArch()})`;
}

export interface VersionInfo {
  version: string;
  commit?: string;
  node: string;
  os: string;
  arch: string;
}

export function versionInfo(env: NodeJS.ProcessEnv = process.env): VersionInfo {
  const commit = buildCommit(env);
  return { version: VERSION, ...(commit ? { commit } : {}), node: process.versions.node, os: osType(), arch: hostArch() };
}
