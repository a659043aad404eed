/**
 * The text rules every human view follows: one time format (UTC, `2026-11-23 00:00:01Z`), ARNs in
 * full on first mention and by their resource part after it (`key/1234…`), and lines that fit the
 * view's width (100 columns unless `--wide`), wrapped under their own indentation.
 */

/** Width every human view fits, unless `--wide`. */
export const VIEW_COLUMNS = 100;

const ISO_TIME = /\b(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z\b/g;

/** The one time format of human output: UTC to the second. */
export function formatTime(at: string | Date | undefined): string {
  if (at === undefined) return '';
  const iso = typeof at === 'string' ? at : at.toISOString();
  return iso.replace(ISO_TIME, '$1 $2Z');
}

/** Rewrites every ISO-8601 UTC timestamp inside `text` (stage summaries, AWS answers) to the one format. */
export function normalizeTimes(text: string): string {
  return text.replace(ISO_TIME, '$1 $2Z');
}

/** A duration as operators read it: `23h 59m`, `4m`, `12s`, `3d 4h`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.ceil(seconds / 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return `${d}d ${h}h`;
  return h > 0 ? `${h}h ${m}m` : `${m}m`;
}

const ARN = /\barn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(?:\d{12})?:([A-Za-z0-9_+=,.@\/:-]+[A-Za-z0-9_+=@\/-])/g;

/**
 * Shortens the ARNs of one view: the first mention of each stays whole, later ones become their
 * resource part (`key/<id>`, `instance/ssoins-…`, `user/operator`), which is unique within one run.
 * With `wide`, every ARN stays whole.
 */
export class ArnShortener {
  private readonly seen = new Set<string>();

  constructor(private readonly wide = false) {}

  /** Commands in backticks keep their ARNs whole: they must work when pasted. */
  shorten(text: string): string {
    if (this.wide) return text;
    return text
      .split('`')
      .map((part, i) => {
        if (i % 2 === 1) {
          for (const match of part.matchAll(ARN)) this.seen.add(match[0]);
          return part;
        }
        return part.replace(ARN, (arn: string, resource: string) => {
          if (!this.seen.has(arn)) {
            this.seen.add(arn);
            return arn;
          }
          return resource;
        });
      })
      .join('`');
  }

  /** Marks an ARN as already shown in full (e.g. in a header the reader saw). */
  note(arn: string | undefined): void {
    if (arn) this.seen.add(arn);
  }
}

/** Every ARN in `text` by its resource part: for transient views (the live lines) that redraw. */
export function shortenEveryArn(text: string): string {
  return text.replace(ARN, (_arn: string, resource: string) => resource);
}

/** The resource part of an ARN (`key/1234…`), or the text itself when it is not one. */
export function shortArn(arn: string): string {
  const match = new RegExp(ARN.source).exec(arn);
  return match && match[0] === arn ? match[1]! : arn;
}

/**
 * Wraps one line at `width` on spaces; continuation lines keep the line's indentation plus two
 * spaces. A single word longer than the width (a long ARN) is left whole rather than cut.
 */
const KEEP_TOGETHER = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\dZ)/g;

export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const indent = /^ */.exec(line)![0];
  const continuation = `${indent}  `;
  // A time is one word: never split between its date and its time of day.
  const words = line.slice(indent.length).replace(KEEP_TOGETHER, '$1\u00a0$2').split(' ').map((w) => w.replace('\u00a0', ' '));
  const lines: string[] = [];
  let current = indent;
  for (const word of words) {
    const start = current.trim() === '' ? current : `${current} `;
    if ((start + word).length > width && current.trim() !== '') {
      lines.push(current);
      current = continuation + word;
    } else {
      current = start + word;
    }
  }
  lines.push(current);
  return lines;
}

/** Fits a block of text to the view: wrapped at 100 columns, or untouched with `wide`. */
export function fitText(text: string, wide: boolean, width = VIEW_COLUMNS): string {
  if (wide) return text;
  return text
    .split('\n')
    .flatMap((line) => wrapLine(line, width))
    .join('\n');
}
