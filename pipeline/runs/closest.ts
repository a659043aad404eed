/**
 * "Did you mean …": the known names closest to what someone typed, for every not-found error
 * (runs, key rings). Run ids share long prefixes (`<key ring>-<UTC stamp>-<hex>`), so a typed
 * prefix is compared with each candidate cut to the same length as well as with the whole of it.
 */

/** Levenshtein edit distance (insertions, deletions, substitutions), two rows of memory. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Up to `limit` candidates nearest to `typed`, nearest first (ties: the later candidate first, so
 * the newest of several similar run ids leads). Candidates further than half the typed length
 * away are not suggestions but noise, and are left out.
 */
export function closestNames(typed: string, candidates: readonly string[], limit = 3): string[] {
  const needle = typed.toLowerCase();
  const scored = candidates.map((name, index) => {
    const hay = name.toLowerCase();
    const distance = Math.min(editDistance(needle, hay), editDistance(needle, hay.slice(0, needle.length)));
    return { name, index, distance };
  });
  const bound = Math.max(2, Math.ceil(needle.length / 2));
  return scored
    .filter((s) => s.distance <= bound)
    .sort((x, y) => x.distance - y.distance || y.index - x.index)
    .slice(0, limit)
    .map((s) => s.name);
}
