// Generates dist/internal/config/config-validator.js: the config schema compiled to plain code by
// ajv's standalone mode, after tsc. The agent then validates its config without loading ajv's
// compiler (66 modules, about 3.5 MB of resident memory and 90 ms of start-up).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const configDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'internal', 'config');
const { default: Ajv, _ } = require('ajv');
const { default: standaloneCode } = require('ajv/dist/standalone');
const { CONFIG_SCHEMA } = require(join(configDir, 'schema.js'));
const { formats } = require(join(configDir, 'duration-format.js'));

// The same options the validator was built with at run time before; load.ts relies on them
// (every error, array coercion, parentSchema in errors).
const ajv = new Ajv({
  allErrors: true, coerceTypes: 'array', verbose: true, strict: true,
  code: { source: true, formats: _`require("./duration-format").formats` },
});
for (const [name, format] of Object.entries(formats)) ajv.addFormat(name, format);
const code = standaloneCode(ajv, ajv.compile(CONFIG_SCHEMA));

// ajv is a build-time tool here: the generated code may load nothing but its own siblings.
const requires = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]).filter((p) => !p.startsWith('./'));
if (requires.length > 0) throw new Error(`generated validator needs ${requires.join(', ')} at run time`);
writeFileSync(join(configDir, 'config-validator.js'), code);
