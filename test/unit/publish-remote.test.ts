/** Rendering GIT_REMOTE_URL_TEMPLATE, the GitHub web origin, and how the token reaches git (and where it does not). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.js';
import { createPublisher } from '../../src/composition/publisher.js';
import { GitPublisher } from '../../src/repo/publisher.js';
import {
  authorizationHeader,
  credentialEnvironment,
  githubRemoteTemplate,
  githubWebOrigin,
  isBranchName,
  printable,
  RemoteTemplateError,
  renderRemote,
  sshEnvironment,
} from '../../src/repo/remote.js';

describe('renderRemote', () => {
  it('renders a path as a local bare repository shown by its file URL', () => {
    expect(renderRemote('/srv/git/{droplet}.git', 'quote-keeper')).toEqual({ kind: 'path', url: 'file:///srv/git/quote-keeper.git', target: '/srv/git/quote-keeper.git' });
    expect(renderRemote('file:///srv/git/{droplet}.git', 'quote-keeper')).toEqual({ kind: 'path', url: 'file:///srv/git/quote-keeper.git', target: '/srv/git/quote-keeper.git' });
  });

  it('renders https, ssh URLs and the scp-like form', () => {
    expect(renderRemote('https://github.com/acme/{droplet}.git', 'poll-booth')).toEqual({
      kind: 'http',
      url: 'https://github.com/acme/poll-booth.git',
      target: 'https://github.com/acme/poll-booth.git',
      origin: 'https://github.com',
    });
    expect(renderRemote('git@github.com:acme/{droplet}.git', 'poll-booth')).toEqual({ kind: 'ssh', url: 'git@github.com:acme/poll-booth.git', target: 'git@github.com:acme/poll-booth.git' });
    expect(renderRemote('ssh://git@git.example.com:2222/{droplet}.git', 'poll-booth').kind).toBe('ssh');
  });

  it('replaces every {droplet}', () => {
    expect(renderRemote('/srv/{droplet}/{droplet}.git', 'a-b').target).toBe('/srv/a-b/a-b.git');
  });

  it('refuses credentials in the URL, relative paths, other transports and a template without {droplet}', () => {
    expect(() => renderRemote('https://x-access-token:ghp_abc@github.com/acme/{droplet}.git', 'a')).toThrow(RemoteTemplateError);
    expect(() => renderRemote('https://user@github.com/acme/{droplet}.git', 'a')).toThrow(/credentials/);
    expect(() => renderRemote('repos/{droplet}.git', 'a')).toThrow(/absolute path/);
    expect(() => renderRemote('ext::sh -c touch% /tmp/pwned {droplet}', 'a')).toThrow(RemoteTemplateError);
    expect(() => renderRemote('ftp://example.com/{droplet}.git', 'a')).toThrow(/only a path/);
    expect(() => renderRemote('https://github.com/acme/{droplet}.git?x=1', 'a')).toThrow(/query/);
    expect(() => renderRemote('/srv/git/repo.git', 'a')).toThrow(/\{droplet\}/);
  });
});

describe('GitHub origins', () => {
  it('maps API URLs to the web origin git pushes to', () => {
    expect(githubWebOrigin()).toBe('https://github.com');
    expect(githubWebOrigin('https://api.github.com')).toBe('https://github.com');
    expect(githubWebOrigin('https://ghe.example.com/api/v3')).toBe('https://ghe.example.com');
    expect(githubWebOrigin('https://api.acme.ghe.com')).toBe('https://acme.ghe.com');
    expect(githubWebOrigin('http://127.0.0.1:4321/api/v3')).toBe('http://127.0.0.1:4321');
  });

  it("defaults the template to the owner's repositories on that GitHub", () => {
    expect(githubRemoteTemplate('acme')).toBe('https://github.com/acme/{droplet}.git');
    expect(githubRemoteTemplate('acme', 'https://ghe.example.com/api/v3')).toBe('https://ghe.example.com/acme/{droplet}.git');
  });
});

describe('credentialEnvironment', () => {
  const token = { value: 'ghp_secretToken123', origin: 'https://github.com' };

  it('hands the token to git as a URL-scoped extra header in the environment', () => {
    const env = credentialEnvironment(renderRemote('https://github.com/acme/{droplet}.git', 'a'), token);
    expect(env).toEqual({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.https://github.com/.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('x-access-token:ghp_secretToken123').toString('base64')}`,
    });
    expect(authorizationHeader('t')).toBe(`Authorization: Basic ${Buffer.from('x-access-token:t').toString('base64')}`);
  });

  it('gives nothing to a remote outside the token’s origin, to ssh and to a path', () => {
    expect(credentialEnvironment(renderRemote('https://gitlab.example.com/acme/{droplet}.git', 'a'), token)).toEqual({});
    expect(credentialEnvironment(renderRemote('http://github.com/acme/{droplet}.git', 'a'), token)).toEqual({});
    expect(credentialEnvironment(renderRemote('https://github.com:8443/acme/{droplet}.git', 'a'), token)).toEqual({});
    expect(credentialEnvironment(renderRemote('git@github.com:acme/{droplet}.git', 'a'), token)).toEqual({});
    expect(credentialEnvironment(renderRemote('/srv/{droplet}.git', 'a'), token)).toEqual({});
    expect(credentialEnvironment(renderRemote('https://github.com/acme/{droplet}.git', 'a'), null)).toEqual({});
  });

  it('lets ssh use the machine’s agent, never prompting', () => {
    expect(sshEnvironment(renderRemote('git@github.com:acme/{droplet}.git', 'a'), { SSH_AUTH_SOCK: '/run/agent.sock', GITHUB_TOKEN: 'x' })).toEqual({
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
      SSH_AUTH_SOCK: '/run/agent.sock',
    });
    expect(sshEnvironment(renderRemote('https://github.com/acme/{droplet}.git', 'a'), { SSH_AUTH_SOCK: '/run/agent.sock' })).toEqual({});
  });
});

describe('printable (text a remote wrote, on its way to events)', () => {
  it('removes escape sequences and control characters, keeps line breaks as spaces, and caps the length', () => {
    expect(printable('remote: \x1b[31mdenied\x1b[0m\r\nremote: \x1b]0;title\x07next\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x00\x08\x7f\x9bend', 200)).toBe('remote: denied remote: nextlink end');
    expect(printable('a\tb\n\nc', 200)).toBe('a b c');
    expect(printable('x'.repeat(50), 10)).toBe('x'.repeat(10));
  });
});

describe('isBranchName (a branch a remote names for the push to move)', () => {
  it('takes plain names and refuses what git would read as more or as an option', () => {
    for (const name of ['main', 'trunk', 'release/2024', 'dev_1.x']) expect(isBranchName(name), name).toBe(true);
    for (const name of ['', '-x', '--upload-pack=x', 'a..b', 'a:b', 'a b', 'a//b', '/a', 'a/', 'a.', 'a.lock', 'a/.b', '.a', 'a\nb', 'x'.repeat(201)]) {
      expect(isBranchName(name), name).toBe(false);
    }
  });
});

describe('createPublisher', () => {
  const base = { DATA_DIR: '/tmp/unused-data-dir', LOG_LEVEL: 'silent' };

  it('is null without a template or a GitHub owner', () => {
    expect(createPublisher(loadConfig(base))).toBeNull();
  });

  it('publishes with a template, or with GITHUB_TOKEN + GITHUB_OWNER alone', () => {
    expect(createPublisher(loadConfig({ ...base, GIT_REMOTE_URL_TEMPLATE: '/srv/git/{droplet}.git' }))).toBeInstanceOf(GitPublisher);
    expect(createPublisher(loadConfig({ ...base, GITHUB_TOKEN: 'ghp_x', GITHUB_OWNER: 'acme' }))).toBeInstanceOf(GitPublisher);
  });

  it('stops the start-up on a template that names no usable remote', () => {
    expect(() => createPublisher(loadConfig({ ...base, GIT_REMOTE_URL_TEMPLATE: 'https://me:pw@example.com/{droplet}.git' }))).toThrow(/credentials/);
  });
});
