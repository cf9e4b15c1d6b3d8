// What a malformed Redis URL is told: every command that takes one, and validate, say this before ioredis sees it.
import { describe, expect, it } from 'vitest';
import { redisUrlProblem } from '../../../src/util/redis-url.js';

describe('redisUrlProblem', () => {
  it('accepts what ioredis takes: host, port, IPv6, user and password, a database, rediss', () => {
    for (const url of ['redis://127.0.0.1:6379', 'redis://queue-host', 'redis://[::1]:6379', 'redis://[::1]', 'redis://u:p@h:6379/2', 'rediss://h:6380', 'redis://:p@h:1/0?family=4']) {
      expect(redisUrlProblem(url), url).toBeUndefined();
    }
  });

  it('names the fault: a port that is no number or out of range, an unclosed [, what follows an IPv6 address', () => {
    expect(redisUrlProblem('redis://127.0.0.1:notaport')).toBe('its port "notaport" is not a number');
    expect(redisUrlProblem('redis://127.0.0.1:99999')).toBe('its port 99999 is out of range (1 to 65535)');
    expect(redisUrlProblem('redis://h:0')).toBe('its port 0 is out of range (1 to 65535)');
    expect(redisUrlProblem('redis://u:p@h:x/0')).toBe('its port "x" is not a number');
    expect(redisUrlProblem('redis://[::1')).toBe('its IPv6 address opens a [ that no ] closes (redis://[::1]:6379)');
    expect(redisUrlProblem('redis://[::1]x')).toBe('"x" follows its IPv6 address, where only :port may (redis://[::1]:6379)');
    expect(redisUrlProblem('redis://h o:1')).toBe('it is not a valid URL (redis://host:port)');
  });
});
