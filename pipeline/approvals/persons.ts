/**
 * One person, one vote. A person is never a principal string: it is everything that is provably the
 * same holder — a signing key (for a certificate, the key it certifies), every principal that key
 * is listed or signed under, every key listed under one of those principals, and the principals a
 * reviewed `people` entry groups together. This module joins those facts into connected groups
 * (union-find over `key:` and `name:` nodes) and explains, for any two members, why they are one.
 *
 * Merging only ever lowers a count or widens the initiator's exclusion, so a surprising link
 * (someone's key under a wildcard, signing under another's name) costs a vote, never grants one.
 */
import { isPattern, type AllowedSigner } from './allowed-signers';

export interface PersonGroup {
  /** `people[].name` in the config. */
  readonly name: string;
  /** allowed_signers principals that are this person. */
  readonly signers: readonly string[];
}

export const keyNode = (fingerprint: string): string => `key:${fingerprint}`;
export const nameNode = (principal: string): string => `name:${principal.trim().toLowerCase()}`;

interface Edge {
  readonly to: string;
  readonly why: string;
}

export class PersonGraph {
  private readonly parent = new Map<string, string>();
  private readonly edges = new Map<string, Edge[]>();

  /** The graph of what the bound allowed_signers and `people` entries say about who is who. */
  static fromBar(signers: readonly AllowedSigner[], people: readonly PersonGroup[]): PersonGraph {
    const graph = new PersonGraph();
    for (const entry of signers) {
      // A CA line vouches for many people; only the certificates it signs say who is who.
      if (entry.certAuthority) continue;
      for (const principal of entry.principals.filter((p) => !isPattern(p))) {
        graph.link(keyNode(entry.fingerprint), nameNode(principal), `allowed_signers line ${entry.line} lists key ${entry.fingerprint} for ${principal}`);
      }
    }
    for (const person of people) {
      const [first, ...rest] = person.signers;
      for (const other of rest) graph.link(nameNode(first!), nameNode(other), `people entry "${person.name}" groups ${first} and ${other}`);
    }
    return graph;
  }

  link(a: string, b: string, why: string): void {
    this.edge(a, b, why);
    this.edge(b, a, why);
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }

  find(node: string): string {
    let root = node;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root)!;
    // Path compression keeps later finds short.
    let at = node;
    while (at !== root) {
      const next = this.parent.get(at)!;
      this.parent.set(at, root);
      at = next;
    }
    return root;
  }

  same(a: string, b: string): boolean {
    return this.find(a) === this.find(b);
  }

  /** The chain of facts that joins `a` to `b`, in words (breadth-first: the shortest explanation). */
  explain(a: string, b: string): string {
    if (a === b) return describeNode(a);
    const previous = new Map<string, { from: string; why: string }>([[a, { from: a, why: '' }]]);
    const queue = [a];
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const edge of this.edges.get(at) ?? []) {
        if (previous.has(edge.to)) continue;
        previous.set(edge.to, { from: at, why: edge.why });
        if (edge.to === b) {
          const steps: string[] = [];
          for (let node = b; node !== a; node = previous.get(node)!.from) steps.unshift(previous.get(node)!.why);
          return steps.join('; ');
        }
        queue.push(edge.to);
      }
    }
    return `${describeNode(a)} and ${describeNode(b)} are linked`;
  }

  private edge(from: string, to: string, why: string): void {
    const list = this.edges.get(from) ?? [];
    if (!list.some((e) => e.to === to && e.why === why)) list.push({ to, why });
    this.edges.set(from, list);
  }
}

function describeNode(node: string): string {
  return node.startsWith('key:') ? `key ${node.slice(4)}` : `principal ${node.slice(5)}`;
}
