/**
 * File and process operations on a host, as commands through its HostShell: the same
 * POSIX tools (sh, mkdir, ln, mv, tar, rm) on the executor's machine and over SSH, so
 * local and remote deploys run one code path.
 */
import { StepError } from '../../domain/errors.js';
import type { ExecOptions, ExecResult, HostShell } from '../shell/types.js';

const TAIL_BYTES = 2_000;

export interface RunOptions extends ExecOptions {
  /** What the command is for, in the error when it fails. */
  what?: string;
}

export class HostOps {
  constructor(readonly shell: HostShell) {}

  /** Runs argv; a non-zero exit is a StepError naming `what`, with the end of stderr. */
  async run(argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    const { what, ...exec } = options;
    const result = await this.shell.exec(argv, exec);
    if (result.code !== 0) {
      const tail = (result.stderr || result.stdout).slice(-TAIL_BYTES).trim();
      throw new StepError('DEPLOY_HOST_COMMAND_FAILED', `${what ?? argv[0]} failed on ${this.shell.label} (exit ${result.code})${tail ? `: ${tail}` : ''}`, {
        host: this.shell.label,
        exit_code: result.code,
      });
    }
    return result;
  }

  /** A fixed POSIX sh script with its arguments passed as $1…: never interpolated into the script. */
  sh(script: string, args: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
    return this.run(['sh', '-c', script, 'sh', ...args], options);
  }

  async exists(path: string, options: ExecOptions = {}): Promise<boolean> {
    return (await this.shell.exec(['test', '-e', path], options)).code === 0;
  }

  async isDirectory(path: string, options: ExecOptions = {}): Promise<boolean> {
    return (await this.shell.exec(['test', '-d', path], options)).code === 0;
  }

  async mkdirs(paths: readonly string[], options: RunOptions & { mode?: string } = {}): Promise<void> {
    const { mode, ...run } = options;
    await this.run(['mkdir', '-p', ...(mode ? ['-m', mode] : []), ...paths], { what: 'mkdir', ...run });
  }

  /**
   * Written whole under a temporary name, given its mode (and group) and then renamed: a
   * reader sees the old file or the new one, never one it may not read.
   */
  async writeFile(path: string, content: string, options: RunOptions & { mode?: string; group?: string; sudo?: boolean } = {}): Promise<void> {
    const { mode = '600', group = '', sudo = false, ...run } = options;
    const script = 'umask 077 && rm -f "$1.tmp" && cat > "$1.tmp" && chmod "$2" "$1.tmp" && { [ -z "$3" ] || $4 chgrp "$3" "$1.tmp"; } && mv -f "$1.tmp" "$1"';
    await this.sh(script, [path, mode, group, sudo ? 'sudo -n' : ''], {
      what: `writing ${path}`,
      ...run,
      stdin: content,
    });
  }

  /** A regular file's text, or null when it is missing or not a regular file (a link is never followed). */
  async readFile(path: string, options: ExecOptions = {}): Promise<string | null> {
    const result = await this.shell.exec(['sh', '-c', '[ -f "$1" ] && [ ! -L "$1" ] && exec cat -- "$1"', 'sh', path], options);
    return result.code === 0 ? result.stdout : null;
  }

  /** Where a link points, or null when it is not a link. */
  async readLink(path: string, options: ExecOptions = {}): Promise<string | null> {
    const result = await this.shell.exec(['readlink', path], options);
    return result.code === 0 ? result.stdout.trim() : null;
  }

  /** Points `link` at `target` atomically: a new link under a temporary name, renamed over the old one. */
  async switchLink(link: string, target: string, tag: string): Promise<void> {
    await this.sh('ln -sfn "$2" "$1.next-$3" && mv -Tf "$1.next-$3" "$1"', [link, target, tag], { what: 'switching current' });
  }

  /** Removes a tree, read-only releases included. Missing is fine. */
  async remove(paths: readonly string[], options: RunOptions = {}): Promise<void> {
    if (paths.length === 0) return;
    // A link is removed itself; chmod -R would follow it to whatever it points at.
    await this.sh('for p do if [ -L "$p" ]; then rm -f "$p"; continue; fi; [ -e "$p" ] || continue; chmod -R u+w "$p" 2>/dev/null; rm -rf "$p"; done', paths, {
      what: 'removing',
      ...options,
    });
  }

  /** Entry names in a directory (hidden ones included), [] when it is missing. */
  async list(dir: string, options: ExecOptions = {}): Promise<string[]> {
    const result = await this.shell.exec(['ls', '-1A', dir], options);
    return result.code === 0 ? result.stdout.split('\n').filter(Boolean) : [];
  }

  /** The last lines of a file, '' when it is missing. */
  async tail(file: string, lines: number, options: ExecOptions = {}): Promise<string> {
    const result = await this.shell.exec(['tail', '-n', String(lines), file], options);
    return result.code === 0 ? result.stdout : '';
  }
}
