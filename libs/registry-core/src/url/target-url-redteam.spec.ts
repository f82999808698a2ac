// Red team: team host patterns (keyspace team records: loaderHosts, purgeHosts) against the
// hosts the WHATWG parser (fetch, the CDN adapters) actually reads from a URL.
import { checkTargetUrl, hostMatches, hostPatternProblem } from './target-url';

const hostOf = (url: string) => checkTargetUrl(url).host;

describe('team host patterns vs what URLs parse to (red team)', () => {
  // A host whose last label is a number is not a name to WHATWG: it is an IPv4 address.
  // "*.2.3.4" passed as a wildcard NAME and then matched the IP literals 1.2.3.4, 5.2.3.4, ...
  // (256 addresses in unrelated networks); "1.2.3" and "0x7f.0.0.1" passed too but can never
  // match (WHATWG reads them as 1.2.0.3 and 127.0.0.1), so an admin saw them accepted and useless.
  it('refuses patterns that WHATWG reads as IPv4 unless they are an exact, canonical dotted quad', () => {
    expect(hostMatches(hostOf('http://5.2.3.4/p'), ['*.2.3.4'])).toBe(true); // what the wildcard would grant
    for (const pattern of ['*.2.3.4', '*.0x7f.1', '1.2.3', '0x7f.0.0.1', '010.0.0.1', '*.example.123']) {
      expect([pattern, hostPatternProblem(pattern)]).toEqual([pattern, expect.stringMatching(/IPv4|IP address/)]);
    }
    expect(hostPatternProblem('93.184.216.34')).toBeUndefined();
    expect(hostMatches(hostOf('http://0x5db8d822/p'), ['93.184.216.34'])).toBe(true);
    // a number inside a name is fine
    expect(hostPatternProblem('*.api2.example.com')).toBeUndefined();
    expect(hostPatternProblem('123.example.com')).toBeUndefined();
  });

  // Holds: case, percent-encoding, a trailing dot, homographs and backslashes do not move a URL
  // onto a team's pattern it does not name.
  it('case, %2E, a trailing dot, a homograph and a backslash do not change whose host it is', () => {
    expect(hostMatches(hostOf('http://SHOP.EXAMPLE.COM/p'), ['shop.example.com'])).toBe(true);
    expect(hostMatches(hostOf('http://shop%2Eexample.com/p'), ['shop.example.com'])).toBe(true);
    expect(() => checkTargetUrl('http://shop.example.com./p')).toThrow(/empty label/);
    expect(hostMatches(hostOf('http://shоp.example.com/p'), ['shop.example.com'])).toBe(false); // Cyrillic о
    expect(hostMatches(hostOf('http://shop.example.com.evil/p'), ['*.example.com', 'shop.example.com'])).toBe(false);
    expect(hostMatches(hostOf('http://evilexample.com/p'), ['*.example.com'])).toBe(false);
    expect(hostOf('http://a.shop.example.com\\@evil.com/p')).toBe('a.shop.example.com');
    expect(() => checkTargetUrl('http://[fe80::1%25eth0]/p')).toThrow(); // zone ids do not parse
  });

  // Was open: wildcards right under a public suffix ("*.github.io", "*.s3.amazonaws.com",
  // "*.co.uk") granted hosts anyone can register; the Public Suffix List (psl) refuses them.
  it('refuses a wildcard directly under a public suffix', () => {
    for (const pattern of ['*.github.io', '*.s3.amazonaws.com', '*.co.uk']) expect(hostPatternProblem(pattern)).toMatch(/public suffix/);
    for (const pattern of ['*.acme.github.io', '*.shop.co.uk', '*.cdn.example']) expect(hostPatternProblem(pattern)).toBeUndefined();
  });
});
