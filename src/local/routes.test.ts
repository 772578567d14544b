import { RouteTable } from './routes';

function table(...templates: string[]): RouteTable<string> {
  const routes = new RouteTable<string>();
  for (const template of templates) routes.add(template, template);
  return routes;
}

describe('local host route matching', () => {
  const routes = table(
    '{*path}',
    'api/portals/{id}',
    'api/portals',
    'api/portals/{id}/runs/{runId}',
    'api/portals/{id}/runs',
    'api/openapi.json',
  );

  it('prefers a literal segment over a parameter over a catch-all, whatever the order of declaration', () => {
    expect(routes.match('/api/portals')?.target).toBe('api/portals');
    expect(routes.match('/api/portals/abc')).toEqual({ target: 'api/portals/{id}', params: { id: 'abc' } });
    expect(routes.match('/api/openapi.json')?.target).toBe('api/openapi.json');
    expect(routes.match('/api/portals/p1/runs/r1')).toEqual({
      target: 'api/portals/{id}/runs/{runId}',
      params: { id: 'p1', runId: 'r1' },
    });
    expect(routes.match('/index.html')).toEqual({ target: '{*path}', params: { path: 'index.html' } });
  });

  it('lets a catch-all take several segments, and none', () => {
    expect(routes.match('/assets/js/app.js')?.params).toEqual({ path: 'assets/js/app.js' });
    expect(routes.match('/')).toEqual({ target: '{*path}', params: {} });
    expect(routes.match('/api/portals/p1/runs/r1/extra')?.target).toBe('{*path}');
  });

  it('compares literals case-insensitively and decodes parameters', () => {
    expect(routes.match('/API/Portals/a%20b')?.params).toEqual({ id: 'a b' });
  });

  it('filters by what the caller accepts (the HTTP method) before picking the most specific route', () => {
    const matched = routes.match('/api/portals', (target) => target !== 'api/portals');
    expect(matched?.target).toBe('{*path}');
  });

  it('does not match a malformed escape', () => {
    expect(table('api/{id}').match('/api/%E0%A4%A')).toBeUndefined();
  });

  it('supports optional last parameters and known constraints', () => {
    const routes = table('api/items/{id:int}', 'api/items/{name}', 'api/things/{id?}');
    expect(routes.match('/api/items/42')?.target).toBe('api/items/{id:int}');
    expect(routes.match('/api/items/abc')?.target).toBe('api/items/{name}');
    expect(routes.match('/api/things')?.params).toEqual({});
    expect(routes.match('/api/things/7')?.params).toEqual({ id: '7' });
  });

  it('rejects a catch-all that is not last', () => {
    expect(() => table('api/{*rest}/x')).toThrow(/catch-all/);
  });
});
