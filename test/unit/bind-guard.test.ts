/** Which binds may start without API_TOKEN: loopback only, unless ALLOW_INSECURE_BIND says otherwise. */
import { describe, expect, it } from 'vitest';
import { checkBind, isLoopbackHost } from '../../src/composition/bind-guard.js';

const base = { PORT: 8400, API_TOKEN: undefined, ALLOW_INSECURE_BIND: false };

describe('the bind guard', () => {
  it.each(['127.0.0.1', '127.0.0.53', '127.255.255.254', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LocalHost'])('takes %s for loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.20', '128.0.0.1', '::ffff:10.0.0.1', 'fe80::1', 'executor.example.com', 'localhost.example.com'])('takes %s for reachable beyond this machine', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('lets loopback start without a token, and anything with one', () => {
    expect(checkBind({ ...base, HOST: '127.0.0.1' })).toEqual({ verdict: 'safe' });
    expect(checkBind({ ...base, HOST: '0.0.0.0', API_TOKEN: 'a-token' })).toEqual({ verdict: 'safe' });
  });

  it('refuses a reachable bind without a token in one line that says how to fix it', () => {
    const check = checkBind({ ...base, HOST: '0.0.0.0' });
    expect(check.verdict).toBe('refused');
    const line = (check as { line: string }).line;
    expect(line.split('\n')).toHaveLength(1);
    for (const fix of ['API_TOKEN', 'HOST=127.0.0.1', 'ALLOW_INSECURE_BIND=true']) expect(line).toContain(fix);
  });

  it('lets ALLOW_INSECURE_BIND=true start it, with a warning naming the risk', () => {
    const check = checkBind({ ...base, HOST: '::', ALLOW_INSECURE_BIND: true });
    expect(check.verdict).toBe('insecure');
    expect((check as { warning: string }).warning).toMatch(/anyone who can reach this port .* run code on this host/);
  });
});
