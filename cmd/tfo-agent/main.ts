#!/usr/bin/env node
// commander, the config loader and `config show` are required where they are used: once the
// agent runs, releaseStartupModules() drops them (./startup-modules.ts).
import type { Command, CommanderError } from 'commander';
import { ConfigError, formatWarning } from '../../internal/config/errors';
import { tryParseDuration } from '../../internal/config/duration';
import { tuneV8ForLongRun } from '../../internal/agent/v8-tuning';
import type { LoadedConfig, LoadOptions } from '../../internal/config/load';
import { createLogger, errorMessage, type Logger } from '../../internal/log/logger';
import { VERSION, versionInfo } from '../../internal/version/version';
import { releaseStartupModules } from './startup-modules';

/** The exit codes the service manager acts on: 2 is not worth a restart. */
const EXIT_OK = 0;
const EXIT_RUNTIME = 1;
const EXIT_CONFIG = 2;

interface GlobalOptions {
  config?: string;
  logLevel?: string;
  logFormat?: string;
  hostRoot?: string;
}

function loadOptionsFrom(options: GlobalOptions): LoadOptions {
  return {
    file: options.config,
    env: process.env,
    flags: { logLevel: options.logLevel, logFormat: options.logFormat, hostRoot: options.hostRoot },
    cwd: process.cwd(),
  };
}

/** Loads the config or exits 2 with every problem on stderr: no stack trace, a way forward. */
function loadOrExit(loadOptions: LoadOptions): LoadedConfig {
  // The config checks stay loaded after start-up (the exporter parses endpoints with them). Loaded
  // first here rather than by the loader: Node 22 and later keep a link from a module to the one
  // that first loaded it, which releaseStartupModules cannot cut, and it would keep the loader alive.
  require('../../internal/config/checks');
  const { loadConfig } = require('../../internal/config/load') as typeof import('../../internal/config/load');
  try {
    return loadConfig(loadOptions);
  } catch (err) {
    if (err instanceof ConfigError) {
      const file = err.file ?? loadOptions.file;
      process.stderr.write(`tfo-agent: ${err.message}\n`);
      process.stderr.write(`after fixing, check with: tfo-agent config validate${file ? ` --config ${file}` : ''}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

// How long a stopping process may wait for its last log lines to reach a log file.
const LOG_DRAIN_MS = 1_000;

/**
 * Ends the process with `code` once the event loop is empty, so that lines still on their way to
 * logging.file are written; a handle that lingers past LOG_DRAIN_MS does not hold the exit up.
 */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), LOG_DRAIN_MS).unref();
}

function printWarnings(loaded: LoadedConfig): void {
  for (const warning of loaded.warnings) process.stderr.write(`warning: ${formatWarning(warning)}\n`);
}

async function runAgent(options: GlobalOptions): Promise<void> {
  tuneV8ForLongRun();
  const loadOptions = loadOptionsFrom(options);
  const loaded = loadOrExit(loadOptions);
  const { logging } = loaded.config;
  const logger = createLogger({ level: logging.level, format: logging.format, file: logging.file, maxSizeMb: logging.max_size_mb, maxFiles: logging.max_files });
  // Loaded here rather than at the top: `version` and `config` need none of the OpenTelemetry SDK.
  const { Agent } = await import('../../internal/agent/agent');
  // No pipeline left after a failed reload (agent.reload_restore_failed): exit 1, let the service manager restart.
  const agent = new Agent({ loaded, loadOptions, logger, onFatal: () => finish(EXIT_RUNTIME) });
  installCrashHandlers(logger);

  // A SIGHUP while a reload waits to run joins it (Agent.reload): one line per reload, not per signal.
  let lastReload: Promise<unknown> | undefined;
  process.on('SIGHUP', () => {
    const reload = agent.reload();
    if (reload !== lastReload) logger.info({ event: 'signal', signal: 'SIGHUP' }, 'SIGHUP: reloading the configuration');
    lastReload = reload;
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ event: 'agent.forced_exit', signal }, `second ${signal}: exiting without waiting for the final export`);
      process.exit(EXIT_RUNTIME);
    }
    stopping = true;
    const timeoutMs = agent.currentConfig.agent.shutdown_timeout;
    logger.info({ event: 'agent.stopping', signal, timeout_ms: timeoutMs }, `${signal}: stopping after one last export`);
    const deadline = setTimeout(() => {
      logger.error({ event: 'agent.shutdown_timeout', timeout_ms: timeoutMs }, `shutdown took longer than agent.shutdown_timeout (${timeoutMs} ms)`);
      finish(EXIT_RUNTIME);
    }, timeoutMs);
    deadline.unref();
    agent.stop().then(
      () => {
        clearTimeout(deadline);
        finish(EXIT_OK);
      },
      (err: unknown) => {
        clearTimeout(deadline);
        logger.error({ event: 'agent.stop_failed', err: errorMessage(err) }, `stop failed: ${errorMessage(err)}`);
        finish(EXIT_RUNTIME);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // Signals are handled from here on: the agent serializes a reload or a stop after its start.
  try {
    await agent.start();
  } catch (err) {
    logger.error({ event: 'agent.start_failed', err: errorMessage(err) }, `agent failed to start: ${errorMessage(err)}`);
    await agent.stop().catch(() => undefined);
    process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_RUNTIME);
  }
  releaseStartupModules();
}

/** A bug must end the process with 1 and one line saying why, not a silent half-running agent. */
function installCrashHandlers(logger: Logger): void {
  const crash = (kind: string) => (err: unknown) => {
    logger.fatal({ event: 'agent.crashed', kind, err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined }, `${kind}: ${errorMessage(err)}`);
    process.exit(EXIT_RUNTIME);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
}

function buildProgram(): Command {
  const { Command } = require('commander') as typeof import('commander');
  const program = new Command();
  program
    .name('tfo-agent')
    .description('OpenTelemetry-native host telemetry agent for TelemetryFlow')
    .option('-c, --config <file>', 'config file (default: ./tfo-agent.yaml, ./configs/tfo-agent.yaml, /etc/tfo-agent/tfo-agent.yaml, ~/.tfo-agent/tfo-agent.yaml)')
    .option('--log-level <level>', 'debug | info | warn | error (overrides logging.level)')
    .option('--log-format <format>', 'json | text (overrides logging.format)')
    .option('--host-root <dir>', "where the host's / is mounted (overrides TELEMETRYFLOW_HOST_ROOT)")
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    // Usage errors are configuration errors too: a service manager must not restart on them.
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? EXIT_OK : EXIT_CONFIG));

  program
    .command('start', { isDefault: true })
    .description('run the agent (the default when no command is given)')
    // A mistyped command lands here as an argument of the default command: name it as such.
    .allowExcessArguments()
    .action(async (_options, command: Command) => {
      if (command.args.length > 0) program.error(`error: unknown command '${command.args[0]}' (see tfo-agent --help)`, { exitCode: EXIT_CONFIG });
      await runAgent(command.optsWithGlobals<GlobalOptions>());
    });

  program
    .command('version')
    .description('print the version, commit, Node.js version and OS/arch')
    .option('--json', 'as JSON')
    .option('--short', 'the version number only')
    .action((options: { json?: boolean; short?: boolean }) => {
      const info = versionInfo();
      if (options.short) process.stdout.write(`${VERSION}\n`);
      else if (options.json) process.stdout.write(`${JSON.stringify(info)}\n`);
      else process.stdout.write(`tfo-agent ${info.version}${info.commit ? ` (commit ${info.commit})` : ''}, Node.js ${info.node}, ${info.os}/${info.arch}\n`);
    });

  const config = program.command('config').description('check or print the effective configuration');
  config
    .command('validate')
    .description('check the configuration; exit 0 with a summary, or 2 with every problem')
    .action((_options, command: Command) => {
      const loaded = loadOrExit(loadOptionsFrom(command.optsWithGlobals<GlobalOptions>()));
      const { summarizeConfig } = require('../../internal/config/show') as typeof import('../../internal/config/show');
      process.stdout.write(`${summarizeConfig(loaded)}\n`);
    });
  config
    .command('show')
    .description('print the effective configuration (file + environment + defaults) as YAML, secrets masked')
    .action((_options, command: Command) => {
      const loaded = loadOrExit(loadOptionsFrom(command.optsWithGlobals<GlobalOptions>()));
      printWarnings(loaded);
      const { renderConfigYaml } = require('../../internal/config/show') as typeof import('../../internal/config/show');
      process.stdout.write(renderConfigYaml(loaded.config));
    });
  addBufferCommands(program);
  addCollectdCommands(program);
  program
    .command('inventory')
    .description('print the heartbeat payload (the system information the TelemetryFlow API receives) once as JSON')
    .action(async (_options, command: Command) => {
      const loaded = loadOrExit(loadOptionsFrom(command.optsWithGlobals<GlobalOptions>()));
      const { logging } = loaded.config;
      // The JSON goes to stdout; log lines to stderr (and logging.file).
      const logger = createLogger({ level: logging.level, format: logging.format, file: logging.file, maxSizeMb: logging.max_size_mb, maxFiles: logging.max_files, destination: process.stderr });
      const { printInventory } = await import('../../internal/heartbeat/inventory');
      await printInventory(loaded.config, { logger });
    });
  return program;
}

/** `collectd listen` (internal/receiver/collectd/cli.ts): prints what collectd daemons send, exports nothing. */
function addCollectdCommands(program: Command): void {
  program
    .command('collectd')
    .description('collectd network protocol tools')
    .command('listen')
    .description('print each value list and notification that arrives, one line each')
    .option('--listen <address>', 'host:port or [ipv6]:port, a multicast group with %interface; repeatable', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--auth-file <file>', 'user: password lines for signed and encrypted data', '')
    .option('--security-level <level>', 'none, sign or encrypt', 'none')
    .action(async (options: { listen: string[]; authFile: string; securityLevel: string }) => {
      const logger = createLogger({ level: 'info', format: 'text', destination: process.stderr });
      const { listen } = await import('../../internal/receiver/collectd/cli');
      const receiver = await listen({ ...options, listen: options.listen.length > 0 ? options.listen : ['127.0.0.1:25826'] }, logger, (line) => process.stdout.write(`${line}\n`));
      const stop = (): void => {
        receiver.stop();
        process.stderr.write(`packets ${receiver.stats.packets}, value lists ${receiver.stats.valueLists}, notifications ${receiver.stats.notifications}, dropped ${JSON.stringify(Object.fromEntries(receiver.stats.dropped))}\n`);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** `buffer status`, `buffer quarantine` and `buffer drain` (internal/buffer/cli.ts); all read buffer.path from the config. */
function addBufferCommands(program: Command): void {
  const buffer = program.command('buffer').description('inspect or drain the spill buffer at buffer.path');
  buffer
    .command('status')
    .description('print the backlog (batches, points, size, oldest, newest); safe while the agent runs')
    .option('--json', 'as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const loaded = loadOrExit(loadOptionsFrom(command.optsWithGlobals<GlobalOptions>()));
      const { bufferStatus } = await import('../../internal/buffer/cli');
      process.exitCode = bufferStatus(loaded.config, { json: options.json === true, out: process.stdout, err: process.stderr });
    });
  buffer
    .command('quarantine')
    .description('list the batches set aside (refused by the collector, or unreadable); safe while the agent runs')
    .option('--json', 'as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const loaded = loadOrExit(loadOptionsFrom(command.optsWithGlobals<GlobalOptions>()));
      const { bufferQuarantine } = await import('../../internal/buffer/cli');
      process.exitCode = bufferQuarantine(loaded.config, { json: options.json === true, out: process.stdout, err: process.stderr });
    });
  buffer
    .command('drain')
    .description('replay the backlog to the configured collector without collecting; exit 0 once empty')
    .option('--give-up-after <duration>', 'exit 1 after this long without progress (default: keep retrying)', '0s')
    .action(async (options: { giveUpAfter: string }, command: Command) => {
      const loaded = loadOrExit(loadOptionsFrom(command.optsWithGlobals<GlobalOptions>()));
      const giveUpAfterMs = tryParseDuration(options.giveUpAfter);
      if (giveUpAfterMs === undefined) {
        process.stderr.write(`tfo-agent: --give-up-after: ${JSON.stringify(options.giveUpAfter)} is not a duration (e.g. 10m)\n`);
        process.exit(EXIT_CONFIG);
      }
      const { logging } = loaded.config;
      // Progress goes to stdout; log lines to stderr (and logging.file).
      const logger = createLogger({ level: logging.level, format: logging.format, file: logging.file, maxSizeMb: logging.max_size_mb, maxFiles: logging.max_files, destination: process.stderr });
      const { runBufferDrain } = await import('../../internal/buffer/cli');
      finish(await runBufferDrain(loaded.config, logger, giveUpAfterMs));
    });
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`tfo-agent: ${errorMessage(err)}\n`);
    process.exit(EXIT_RUNTIME);
  });
