/**
 * The live view on a terminal: one line per stage, redrawn in place as the engine reports. Each
 * state has its own mark (done ✔, waiting ⏸, skipped ↷, failed ✖, undone ↶, not reached ·); a
 * running stage spins and shows its latest call or message. Lines are cut to the terminal's
 * width so the redraw never miscounts wrapped lines. An error is not drawn here: the command
 * prints it once, with its next step, after the view.
 */
import type { ProgressEvent } from '../../../pipeline/engine/engine';
import type { StageStatus } from '../../../pipeline/state/types';
import type { CliTerminal } from '../context';
import { MARK, statusWords } from './marks';
import { normalizeTimes, shortenEveryArn } from './text';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ESC = '\u001b[';

interface Line {
  readonly name: string;
  status: StageStatus;
  waitingFor?: 'time' | 'people';
  detail: string;
}

export class LiveView {
  private readonly lines: Line[];
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly wide: boolean;
  private readonly nameWidth: number;

  constructor(
    private readonly terminal: CliTerminal,
    stages: readonly string[],
    options: { wide?: boolean; spin?: boolean } = {},
  ) {
    this.lines = stages.map((name) => ({ name, status: 'pending', detail: '' }));
    this.nameWidth = Math.max(...stages.map((s) => s.length));
    this.wide = Boolean(options.wide);
    this.terminal.write(`${ESC}?25l`); // hide the cursor while redrawing
    this.draw();
    if (options.spin !== false) {
      this.timer = setInterval(() => {
        this.frame = (this.frame + 1) % SPINNER.length;
        if (this.lines.some((l) => l.status === 'running')) this.draw();
      }, 100);
      this.timer.unref();
    }
  }

  onEvent(event: ProgressEvent): void {
    if (event.type === 'stopped') return;
    const line = this.lines.find((l) => l.name === event.stage);
    if (!line) return;
    switch (event.type) {
      case 'stage-start':
        line.status = 'running';
        line.detail = event.recheck ? 'checking again' : event.resumed ? `resumed (attempt ${event.attempt})` : '';
        break;
      case 'message':
        line.detail = event.message;
        break;
      case 'call':
        if (event.phase === 'intent') line.detail = `→ ${event.operation} ${event.target}`;
        break;
      case 'stage-end':
        line.status = event.status;
        line.waitingFor = event.waitingFor;
        // A failure is reported once, below the view, with its next step.
        line.detail = event.status === 'failed' ? 'see the error below' : event.summary;
        break;
    }
    this.draw();
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    this.terminal.write(`${ESC}?25h`);
  }

  private render(line: Line): string {
    const mark = line.status === 'running' ? SPINNER[this.frame]! : MARK[line.status];
    const words = line.status === 'pending' ? 'not reached' : statusWords(line.status, line.waitingFor);
    const shown = normalizeTimes(line.detail);
    const detail = shown ? `  ${this.wide ? shown : shortenEveryArn(shown)}` : '';
    const text = `  ${mark} ${line.name.padEnd(this.nameWidth)}  ${words}${detail}`;
    const width = Math.max(20, this.terminal.columns() - 1);
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  }

  private draw(): void {
    const up = this.drawn > 0 ? `${ESC}${this.drawn}A\r` : '';
    this.terminal.write(`${up}${ESC}J${this.lines.map((l) => this.render(l)).join('\n')}\n`);
    this.drawn = this.lines.length;
  }
}
