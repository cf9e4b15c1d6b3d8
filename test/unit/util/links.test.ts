import { describe, expect, it } from 'vitest';
import { underALink } from '../../../src/util/links.js';

describe('underALink', () => {
  it('finds a file that lies under one of the links beside it, at any depth, and names the link', () => {
    expect(underALink([{ path: 'out/bin', link: '/etc' }, { path: 'out/bin/passwd' }])).toEqual({ path: 'out/bin/passwd', link: 'out/bin' });
    expect(underALink([{ path: 'out/a/b/c.txt' }, { path: 'out/a', link: '../x' }])).toEqual({ path: 'out/a/b/c.txt', link: 'out/a' });
  });

  it('lets files beside links be, and a link whose name only starts like another path', () => {
    expect(underALink([{ path: 'out/bin/tool', link: '../lib/tool.js' }, { path: 'out/lib/tool.js' }, { path: 'out/bin/tool.d/x' }])).toBeUndefined();
    expect(underALink([{ path: 'a.txt' }, { path: 'b/c.txt' }])).toBeUndefined();
  });
});
