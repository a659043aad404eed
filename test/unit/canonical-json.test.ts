import { canonicalJson, digestOf } from '../../pipeline/canonical-json';

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('gives the same digest for equal values written in a different key order', () => {
    expect(digestOf({ x: 1, y: 'a' })).toBe(digestOf({ y: 'a', x: 1 }));
    expect(digestOf({ x: 1, y: 'a' })).not.toBe(digestOf({ x: 2, y: 'a' }));
  });
  it('rejects values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/NaN/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
  });
});
