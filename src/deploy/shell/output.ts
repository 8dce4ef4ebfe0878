/** What both shells do with a command's output and its end. */
import { constants as osConstants } from 'node:os';

/** Each stream keeps at most this much; a runaway command cannot exhaust the executor's memory. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** A stream's bytes, decoded once at the end (a multi-byte character may span chunks). */
export class OutputCollector {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  add(chunk: Buffer): void {
    if (this.bytes >= MAX_OUTPUT_BYTES) return;
    const kept = chunk.subarray(0, MAX_OUTPUT_BYTES - this.bytes);
    this.chunks.push(kept);
    this.bytes += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** A shell's `$?`: the exit code, or 128 + the signal's number for a command a signal ended. */
export function exitCode(code: number | null, signal: string | null): number {
  if (code !== null) return code;
  if (signal === null) return 128;
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as NodeJS.Signals;
  return 128 + (osConstants.signals[name] ?? 0);
}
