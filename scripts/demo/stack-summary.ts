/**
 * A few lines that say what a synthesized stack declares for its keys: which generations are
 * resources (and which are imported or protected), which are dropped with `removed` blocks, where
 * the alias points and what Identity Center is set to.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

// Synthesized Terraform JSON is read loosely: only a few known paths are looked at.
type Json = Record<string, any>;

export async function summarizeSynthesizedStack(outdir: string, stack: string): Promise<string> {
  const file = path.join(outdir, 'stacks', stack, 'cdk.tf.json');
  const doc = JSON.parse(await fs.readFile(file, 'utf8')) as Json;
  const lines = [`stack ${stack} (${path.relative(process.cwd(), file)}):`];
  const keys: Json = doc.resource?.aws_kms_key ?? {};
  for (const [name, key] of Object.entries<Json>(keys)) {
    const flags = [
      key.import ? `imported from ${key.import.id ?? 'existing key'}` : undefined,
      key.lifecycle?.prevent_destroy ? 'prevent_destroy' : undefined,
      key.is_enabled === false ? 'disabled' : undefined,
    ].filter(Boolean);
    lines.push(`  aws_kms_key.${name}${flags.length ? ` (${flags.join(', ')})` : ''}`);
  }
  for (const [name, replica] of Object.entries<Json>(doc.resource?.aws_kms_replica_key ?? {})) {
    const flags = [`via provider ${replica.provider ?? 'aws'}`, replica.lifecycle?.prevent_destroy ? 'prevent_destroy' : undefined, replica.enabled === false ? 'disabled' : undefined].filter(Boolean);
    lines.push(`  aws_kms_replica_key.${name} (${flags.join(', ')})`);
  }
  for (const imp of doc.import ?? []) lines.push(`  import ${imp.to} ← ${imp.id}${imp.provider ? ` (provider ${imp.provider})` : ''}`);
  for (const removed of doc.removed ?? []) lines.push(`  removed ${removed.from} (destroy = ${removed.lifecycle?.destroy})`);
  for (const [name, alias] of Object.entries<Json>(doc.resource?.aws_kms_alias ?? {})) lines.push(`  aws_kms_alias.${name}: ${alias.name} → ${alias.target_key_id}`);
  for (const [name, data] of Object.entries<Json>(doc.resource?.terraform_data ?? {})) {
    const input = data.input ?? data.triggers_replace;
    lines.push(`  terraform_data.${name} (Identity Center encryption): ${JSON.stringify(input)}`);
  }
  return lines.join('\n');
}
