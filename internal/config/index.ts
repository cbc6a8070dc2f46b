export { loadConfig, configSearchPaths, type LoadedConfig, type LoadOptions } from './load';
export { ConfigError, formatWarning, type ConfigProblem, type ConfigWarning } from './errors';
export { renderConfigYaml, summarizeConfig } from './show';
export { parseDuration, tryParseDuration, formatDuration, DurationError } from './duration';
export { defaultConfig } from './defaults';
export type { AgentConfig } from './types';
