/**
 * Runs the real `executor` CLI as a child process: from source (node --import tsx), as a
 * compiled bin (its shebang, executable, as npm links it), or inside a pseudo-terminal
 * (util-linux `script`) so it sees a TTY, with a way to answer its prompts.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const CLI_SOURCE = ['node', '--import', 'tsx', 'src/cli/main.ts'];

export function cliEnv(baseUrl: string, token: string | undefined): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', EXECUTOR_URL: baseUrl, ...(token ? { EXECUTOR_TOKEN: token } : {}) };
}

/** Runs the CLI from source without a terminal (stdin closed, stdout a pipe); `onStdout` sees what it printed so far. */
export function runCli(args: string[], env: Record<string, string>, command: string[] = CLI_SOURCE, onStdout?: (stdout: string) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [file, ...rest] = command;
    const child = spawn(file!, [...rest, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      onStdout?.(stdout);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The ANSI escapes and carriage returns a live terminal view writes, removed. */
export function plainText(output: string): string {
  // eslint-disable-next-line no-control-regex
  return output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export interface PtyRun {
  child: ChildProcess;
  /** Everything the terminal showed so far (raw, with escapes). */
  output(): string;
  /** Resolves once the terminal has shown `text` (escapes removed). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Types into the terminal. */
  type(text: string): void;
  exited(): Promise<number | null>;
}

/** Runs `command` in a pseudo-terminal 120 columns wide; the CLI sees a TTY on stdin and stdout. */
export function runInPty(command: string[], env: Record<string, string>): PtyRun {
  const line = `stty cols 120 rows 50; exec ${command.map(shellQuote).join(' ')}`;
  const child = spawn('/usr/bin/script', ['-qfec', line, '/dev/null'], { env: { ...env, TERM: 'xterm-256color' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    type: (text) => void child.stdin.write(text),
    exited: () => exited,
    waitFor(text, timeoutMs = 180_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the terminal never showed ${JSON.stringify(text)}:\n${plainText(output)}`)), timeoutMs);
        const check = () => {
          if (!plainText(output).includes(text)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
        void exited.then(() => {
          if (waiters.has(check)) reject(new Error(`the CLI exited before showing ${JSON.stringify(text)}:\n${plainText(output)}`));
        });
      });
    },
  };
}

/** Compiles the CLI alone (it imports only src/cli and src/domain) into a folder node_modules resolution reaches. */
export async function compileCliBin(): Promise<{ bin: string; remove(): void }> {
  mkdirSync('node_modules/.cache', { recursive: true });
  const outDir = mkdtempSync(join('node_modules/.cache', 'cli-bin-'));
  const flags = ['--outDir', outDir, '--rootDir', 'src', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node'];
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', ...flags, 'src/cli/main.ts']);
  const bin = join(process.cwd(), outDir, 'cli', 'main.js');
  // npm makes a bin executable when it links it; the shebang then runs it.
  chmodSync(bin, 0o755);
  return { bin, remove: () => rmSync(outDir, { recursive: true, force: true }) };
}
