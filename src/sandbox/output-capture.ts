/**
 * Combined output of a child process, capped: the head and the tail are kept, the
 * middle is counted and replaced by a visible marker. Appending never blocks, so the
 * child's pipes are always drained.
 */
export const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 * 1024;

export class OutputCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private totalBytes = 0;

  constructor(limitBytes: number = DEFAULT_OUTPUT_LIMIT_BYTES) {
    const limit = Math.max(2, Math.floor(limitBytes));
    this.headLimit = Math.floor(limit / 2);
    this.tailLimit = limit - this.headLimit;
  }

  append(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const taken = rest.subarray(0, this.headLimit - this.headBytes);
      this.head.push(taken);
      this.headBytes += taken.length;
      rest = rest.subarray(taken.length);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    // Drop whole chunks from the front while what remains still covers the tail limit.
    while (this.tail.length > 1 && this.tailBytes - this.tail[0]!.length >= this.tailLimit) {
      this.tailBytes -= this.tail.shift()!.length;
    }
  }

  get truncated(): boolean {
    return this.totalBytes > this.headLimit + this.tailLimit;
  }

  get bytesSeen(): number {
    return this.totalBytes;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tailBuffer = Buffer.concat(this.tail);
    if (!this.truncated) return head + tailBuffer.toString('utf8');
    const keptTail = tailBuffer.subarray(tailBuffer.length - this.tailLimit);
    const dropped = this.totalBytes - this.headBytes - keptTail.length;
    return `${head}\n[... ${dropped} bytes truncated ...]\n${keptTail.toString('utf8')}`;
  }
}
