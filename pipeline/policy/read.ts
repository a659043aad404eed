/**
 * Reading policy statements the way IAM evaluates them, for the lint and the Identity Center
 * check: string-or-list fields as lists, action wildcards (`kms:*`, `kms:ReEncrypt*`, `*`) matched
 * case-insensitively like IAM does, principals by kind.
 */
import type { PolicyPrincipal, PolicyStatement } from './types';

export function asList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** True when the statement's Action (or the complement of its NotAction) covers `action`. */
export function coversAction(statement: PolicyStatement, action: string): boolean {
  if (statement.NotAction !== undefined) return !asList(statement.NotAction).some((p) => globToRegExp(p).test(action));
  return asList(statement.Action).some((p) => globToRegExp(p).test(action));
}

/** True when the statement grants every KMS action: `kms:*`, `*`, or a NotAction form. */
export function grantsAllKmsActions(statement: PolicyStatement): boolean {
  if (statement.NotAction !== undefined) return true;
  return asList(statement.Action).some((p) => p === '*' || p.toLowerCase() === 'kms:*');
}

export function principalsOf(principal: PolicyPrincipal | undefined, kind: 'AWS' | 'Service'): readonly string[] {
  if (principal === undefined) return [];
  if (principal === '*') return kind === 'AWS' ? ['*'] : [];
  return asList(principal[kind]);
}

/** `"*"` or `{"AWS": "*"}`: anyone, limited only by the statement's conditions. */
export function hasWildcardPrincipal(statement: PolicyStatement): boolean {
  return statement.NotPrincipal !== undefined || principalsOf(statement.Principal, 'AWS').includes('*');
}

export function hasConditions(statement: PolicyStatement): boolean {
  return Object.values(statement.Condition ?? {}).some((block) => Object.keys(block).length > 0);
}

/** The values of a condition key under an operator, e.g. ('StringEquals', 'aws:SourceAccount'). */
export function conditionValues(statement: PolicyStatement, operator: string, key: string): readonly string[] | undefined {
  const block = statement.Condition?.[operator];
  if (block === undefined) return undefined;
  const found = Object.keys(block).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : asList(block[found]);
}

/** Every condition key a statement tests, lower-cased (condition keys are case-insensitive). */
export function conditionKeys(statement: PolicyStatement): Set<string> {
  return new Set(Object.values(statement.Condition ?? {}).flatMap((block) => Object.keys(block).map((k) => k.toLowerCase())));
}
