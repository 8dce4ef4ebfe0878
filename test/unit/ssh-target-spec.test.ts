/** DEPLOY_HOSTS entries: `user@host:port`, defaults, IPv6 in brackets, and what is refused. */
import { describe, expect, it } from 'vitest';
import { parseSshTarget, parseSshTargets, sshTargetLabel } from '../../src/deploy/shell/ssh-target-spec.js';

describe('parseSshTarget', () => {
  it('reads user@host:port', () => {
    expect(parseSshTarget('deploy@web1.example.org:2222')).toEqual({ user: 'deploy', host: 'web1.example.org', port: 2222, label: 'deploy@web1.example.org:2222' });
  });

  it('defaults the port to 22 (or the given default) and the user to SSH_USER', () => {
    expect(parseSshTarget('deploy@10.0.0.5')).toMatchObject({ port: 22, label: 'deploy@10.0.0.5:22' });
    expect(parseSshTarget('10.0.0.5', { user: 'ops' })).toMatchObject({ user: 'ops', host: '10.0.0.5', port: 22 });
    expect(parseSshTarget('10.0.0.5', { user: 'ops', port: 2200 })).toMatchObject({ port: 2200 });
    expect(parseSshTarget('root@10.0.0.5:23', { user: 'ops', port: 2200 })).toMatchObject({ user: 'root', port: 23 });
  });

  it('takes IPv6 addresses in brackets and labels them so', () => {
    expect(parseSshTarget('deploy@[::1]:2222')).toEqual({ user: 'deploy', host: '::1', port: 2222, label: 'deploy@[::1]:2222' });
    expect(parseSshTarget('deploy@[2001:DB8::7]')).toMatchObject({ host: '2001:db8::7', port: 22, label: 'deploy@[2001:db8::7]:22' });
  });

  it('trims the entry and lower-cases the host, so one host has one label', () => {
    expect(parseSshTarget('  deploy@Web1.Example.ORG:22 ')).toMatchObject({ host: 'web1.example.org', label: 'deploy@web1.example.org:22' });
  });

  it.each([
    ['web1:22', /no user/],
    ['@web1', /no user/],
    ['bad user@web1', /not a valid user name/],
    ['deploy@', /not a host name/],
    ['deploy@web_1', /not a host name/],
    ['deploy@web1:', /port/],
    ['deploy@web1:0', /port/],
    ['deploy@web1:65536', /port/],
    ['deploy@web1:22x', /port/],
    ['deploy@::1', /brackets/],
    ['deploy@[web1]:22', /IPv6/],
    ['deploy@[::1]x', /IPv6/],
    ['deploy@web1;rm -rf', /not a host name/],
  ])('refuses %j', (entry, message) => {
    expect(() => parseSshTarget(entry)).toThrow(message);
  });
});

describe('parseSshTargets', () => {
  it('reads a comma-separated list, ignoring blank entries', () => {
    const targets = parseSshTargets('deploy@a.example.org:2222, deploy@b.example.org ,,', { user: 'x' });
    expect(targets.map((target) => target.label)).toEqual(['deploy@a.example.org:2222', 'deploy@b.example.org:22']);
  });

  it('refuses the same host twice', () => {
    expect(() => parseSshTargets('deploy@a:22,deploy@A')).toThrow(/twice/);
  });

  it('labels like the parser', () => {
    expect(sshTargetLabel('u', '::1', 22)).toBe('u@[::1]:22');
    expect(sshTargetLabel('u', 'h', 2)).toBe('u@h:2');
  });
});
