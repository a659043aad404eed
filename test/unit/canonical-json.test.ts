import { canonicalJson, digestOf } from '../../pipeline/canonical-json';

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('gives the same digest for equal values written in a different key order', () => {
    expect(digestOf({ x: 1, y: 'a' })).toBe(digestOf({ y: 'a', x: 1 }));
    expect(digestOf({ x: 1, y: 'a' })).not.toBe(digestOf({ x: 2, y: 'a' }));
  });
  it('GIVEN an audit entry THEN its text and digest are exactly what earlier versions wrote (hash chains in existing logs keep verifying)', () => {
    const entry = {
      actor: 'operator@example.com',
      action: 'aws.intent',
      keyring: 'identity-center',
      runId: 'r-1',
      detail: { operation: 'kms:CreateKey', list: [1, 'two', null, undefined, { z: true, a: -0.5 }], skipped: undefined, text: 'ü"\\\u2028' },
      at: '2026-12-02T00:00:00.000Z',
      seq: 7,
      prevHash: '0'.repeat(64),
    };
    expect(canonicalJson(entry)).toBe(
      '{"action":"aws.intent","actor":"operator@example.com","at":"2026-12-02T00:00:00.000Z","detail":{"list":[1,"two",null,null,{"a":-0.5,"z":true}],"operation":"kms:CreateKey","text":"ü\\"\\\\\u2028"},"keyring":"identity-center","prevHash":"0000000000000000000000000000000000000000000000000000000000000000","runId":"r-1","seq":7}',
    );
    expect(digestOf(entry)).toBe('76a4cf09d80980e07c914917d27d57a384f710d04dc42f1b38664d2f4811e90d');
  });
  it('rejects values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
  });
});
