import { addressProblem, checkTargetUrl, hostMatches, hostPatternProblem, parseHostAllowList, TargetUrlError } from './target-url';

describe('checkTargetUrl', () => {
  it.each([
    'http://../service/x/purge_all',
    'http://./x',
    'http://127.0.0.1:8080/admin',
    'http://0x7f.1/x', // 127.0.0.1 in hex, normalised by the WHATWG parser
    'http://2130706433/x', // 127.0.0.1 as one decimal number
    'http://[::1]/x',
    'http://[::ffff:127.0.0.1]/x',
    'http://[::ffff:a9fe:a9fe]/latest/meta-data', // 169.254.169.254 mapped into IPv6
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3/x',
    'http://192.168.0.10/x',
    'http://172.16.0.1/x',
    'http://100.64.0.1/x',
    'http://0.0.0.0/x',
    'http://[fd00::1]/x',
    'http://[fe80::1]/x',
    'http://localhost:3000/x',
    'http://api.localhost/x',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://user:pass@shop.example/x',
    'http://shop.example@127.0.0.1/x',
    'ftp://shop.example/x',
    'file:///etc/passwd',
    'http://shop..example/x',
    'not a url',
  ])('refuses %s', (raw) => {
    expect(() => checkTargetUrl(raw)).toThrow(TargetUrlError);
  });

  it.each(['https://shop.example/products/42', 'http://8.8.8.8/x', 'https://[2606:4700::1111]/x', 'http://api.shop.example:8443/p?id=1'])(
    'accepts %s',
    (raw) => {
      expect(checkTargetUrl(raw).url.href).toBeDefined();
    },
  );

  it('lets an operator allow-list names, IPs and CIDRs', () => {
    const allow = parseHostAllowList('localhost, 127.0.0.2 ,10.0.0.0/8', 'LOADER_ALLOWED_HOSTS');
    expect(checkTargetUrl('http://localhost:3000/x', allow).host).toBe('localhost');
    expect(checkTargetUrl('http://127.0.0.2:9/x', allow).host).toBe('127.0.0.2');
    expect(checkTargetUrl('http://10.9.8.7/x', allow).host).toBe('10.9.8.7');
    expect(() => checkTargetUrl('http://127.0.0.1/x', allow)).toThrow(/loopback/);
    expect(() => checkTargetUrl('http://169.254.169.254/x', allow)).toThrow(/metadata/);
  });

  it('names the variable of a bad allow-list entry', () => {
    expect(() => parseHostAllowList('ok.example, 10.0.0.0/99', 'PURGE_ALLOWED_HOSTS')).toThrow(/PURGE_ALLOWED_HOSTS: "10.0.0.0\/99"/);
    expect(() => parseHostAllowList('a b', 'LOADER_ALLOWED_HOSTS')).toThrow(/LOADER_ALLOWED_HOSTS/);
  });
});

describe('addressProblem (resolved addresses)', () => {
  it('judges an IPv4-compatible IPv6 address (::a.b.c.d, deprecated) as the IPv4 address it embeds', () => {
    expect(() => checkTargetUrl('http://[::127.0.0.1]/')).toThrow(/loopback/);
    expect(() => checkTargetUrl('http://[::169.254.169.254]/latest')).toThrow(/metadata/);
    expect(() => checkTargetUrl('http://[::10.0.0.1]/')).toThrow(/private/);
    expect(addressProblem('::7f00:1')).toMatch(/loopback/);
    expect(addressProblem('::8.8.8.8')).toBeUndefined();
    expect(addressProblem('::7f00:1', parseHostAllowList('127.0.0.0/8', 'X'))).toBeUndefined();
  });

  it('refuses internal addresses and accepts public ones', () => {
    expect(addressProblem('127.0.0.1')).toMatch(/loopback/);
    expect(addressProblem('::ffff:10.0.0.1')).toMatch(/private/);
    expect(addressProblem('93.184.216.34')).toBeUndefined();
  });
});

describe('team host patterns', () => {
  it('matches exact names and subdomains of a wildcard only', () => {
    expect(hostMatches('api.acme.example', ['api.acme.example'])).toBe(true);
    expect(hostMatches('API.ACME.EXAMPLE', ['api.acme.example'])).toBe(true);
    expect(hostMatches('x.acme.example', ['*.acme.example'])).toBe(true);
    expect(hostMatches('a.b.acme.example', ['*.acme.example'])).toBe(true);
    expect(hostMatches('acme.example', ['*.acme.example'])).toBe(false);
    expect(hostMatches('evilacme.example', ['*.acme.example'])).toBe(false);
    expect(hostMatches('api.acme.example.evil', ['api.acme.example'])).toBe(false);
  });

  it('refuses patterns that are too wide or not host names', () => {
    expect(hostPatternProblem('*.example')).toMatch(/too wide/);
    expect(hostPatternProblem('*')).toBeDefined();
    expect(hostPatternProblem('Shop.Example')).toBeDefined();
    expect(hostPatternProblem('shop.example/x')).toBeDefined();
    expect(hostPatternProblem('*.shop.example')).toBeUndefined();
  });
});
