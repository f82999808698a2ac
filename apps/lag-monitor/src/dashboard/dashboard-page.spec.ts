import { renderDashboardPage } from './dashboard-page';

describe('renderDashboardPage', () => {
  it('embeds its settings so that no value can break out of the script or the title', () => {
    const html = renderDashboardPage({ dataUrl: '/x/</script><script>alert(1)</script>/data', pollMs: 1000, title: '<b>$& lag</b>' });
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html).toContain('<title>&lt;b&gt;$&amp; lag&lt;/b&gt;</title>');
    expect(html).toContain('"pollMs":1000');
  });

  it('is plain HTML: no external script, stylesheet or font is loaded', () => {
    const html = renderDashboardPage({ dataUrl: '/dashboard/data', pollMs: 1000, title: 't' });
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('has the purge panel beside the invalidations panel, reading invalidator.purges', () => {
    const html = renderDashboardPage({ dataUrl: '/dashboard/data', pollMs: 1000, title: 't' });
    expect(html).toContain('Purges per second by outcome');
    expect(html).toContain('<table data-testid="purges">');
    expect(html).toContain('data.invalidator.purges');
  });

  it('gives the read-side panels stable hooks: panel ids, a key per row, a column per cell', () => {
    const html = renderDashboardPage({ dataUrl: '/dashboard/data', pollMs: 1000, title: 't' });
    for (const id of ['families-panel', 'outcomes-panel', 'purges-panel', 'families-sub', 'outcomes-sub', 'purges-sub']) {
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).toContain("fillRows('families', 'data-family', ['family', 'reads', 'hit-rate', 'l1-share', 'bar']");
    expect(html).toContain("fillRows('outcomes', 'data-outcome'");
    expect(html).toContain("fillRows('purges', 'data-outcome'");
  });
});
