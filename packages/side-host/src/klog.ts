/** The kernel log (dmesg): a bounded array of lines, readable by tests and tools. */
import { KLOG_LINES } from "./limits.js";

/** printk levels used here (include/linux/kern_levels.h names). */
export type LogLevel = "err" | "warn" | "info" | "debug";

/** One line of the log. */
export interface LogLine {
  /** Simulated time in ns. */
  readonly timeNs: number;
  readonly level: LogLevel;
  /** Who logged it: "kernel", a driver module name, an interface or device name. */
  readonly source: string;
  readonly text: string;
}

/** Bounded log; the oldest lines are dropped first (and counted). */
export class KernelLog {
  readonly lines: LogLine[] = [];
  /** Lines dropped because the log was full. */
  dropped = 0;

  constructor(
    private readonly now: () => number,
    readonly capacity = KLOG_LINES,
  ) {}

  /** Append a line. */
  write(level: LogLevel, source: string, text: string): void {
    if (this.lines.length >= this.capacity) {
      this.lines.shift();
      this.dropped++;
    }
    this.lines.push({ timeNs: this.now(), level, source, text });
  }

  /** The log as dmesg prints it: "[    0.500000] source: text". */
  dmesg(): string[] {
    return this.lines.map((l) => `[${(l.timeNs / 1e9).toFixed(6).padStart(12)}] ${l.source}: ${l.text}`);
  }

  /** True if some line contains `needle`. */
  contains(needle: string): boolean {
    return this.lines.some((l) => l.text.includes(needle));
  }
}
