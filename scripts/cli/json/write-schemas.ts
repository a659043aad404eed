/**
 * `npm run schemas`: writes schemas/cli/v1/<command>.schema.json from json/schemas.ts. Run it after
 * changing the JSON a command prints; test/cli/json-schemas.test.ts fails while a file is stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { COMMAND_SCHEMAS, jsonSchemaOf, VERSION, type SchemaName } from './schemas';

export const SCHEMA_DIR = path.join('schemas', 'cli', `v${VERSION}`);

export function schemaFileText(name: SchemaName): string {
  return `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`;
}

if (require.main === module) {
  const root = process.argv[2] ?? process.cwd();
  const dir = path.join(root, SCHEMA_DIR);
  mkdirSync(dir, { recursive: true });
  for (const name of Object.keys(COMMAND_SCHEMAS) as SchemaName[]) {
    writeFileSync(path.join(dir, `${name}.schema.json`), schemaFileText(name));
  }
  process.stdout.write(`wrote ${Object.keys(COMMAND_SCHEMAS).length} schemas to ${dir}\n`);
}
