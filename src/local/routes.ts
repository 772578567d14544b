/**
 * Route templates as Azure Functions (ASP.NET Core routing) reads them: literal segments, `{param}` (optionally
 * `{param?}` as the last segment, `{param:constraint}`), and a final `{*catchall}`. Literals compare
 * case-insensitively. When several templates match, the more specific one wins segment by segment: a literal
 * beats a parameter, a parameter beats a catch-all.
 */

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string; optional: boolean; constraint?: string }
  | { kind: 'catchall'; name: string };

export interface CompiledRoute<T> {
  template: string;
  segments: Segment[];
  target: T;
}

export interface RouteMatch<T> {
  target: T;
  params: Record<string, string>;
}

const PARAM = /^\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)(?::([^}?=]+))?(\?)?\}$/;

export function compileRoute<T>(template: string, target: T): CompiledRoute<T> {
  const parts = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((part) => part.length > 0);
  const segments = parts.map((part, index): Segment => {
    const param = PARAM.exec(part);
    if (!param) {
      if (part.includes('{') || part.includes('}'))
        throw new Error(`Route "${template}": unsupported segment "${part}"`);
      return { kind: 'literal', value: part.toLowerCase() };
    }
    const [, star, name = '', constraint, optional] = param;
    const last = index === parts.length - 1;
    if (star) {
      if (!last) throw new Error(`Route "${template}": a catch-all must be the last segment`);
      return { kind: 'catchall', name };
    }
    if (optional && !last) throw new Error(`Route "${template}": only the last parameter may be optional`);
    return { kind: 'param', name, optional: Boolean(optional), constraint };
  });
  return { template, segments, target };
}

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  guid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  alpha: /^[a-z]+$/i,
  bool: /^(true|false)$/i,
};

function satisfies(value: string, constraint: string | undefined): boolean {
  if (!constraint) return true;
  const rule = CONSTRAINTS[constraint.toLowerCase()];
  // Constraints this host does not know are not enforced rather than failing every request.
  return rule ? rule.test(value) : true;
}

/** Matches decoded path segments against one route; the parameters when it matches. */
export function matchRoute<T>(route: CompiledRoute<T>, path: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const segment = route.segments[i] as Segment;
    if (segment.kind === 'catchall') {
      const rest = path.slice(i).join('/');
      if (rest) params[segment.name] = rest;
      return params;
    }
    const value = path[i];
    if (value === undefined) {
      return segment.kind === 'param' && segment.optional && i === path.length ? params : undefined;
    }
    if (segment.kind === 'literal') {
      if (value.toLowerCase() !== segment.value) return undefined;
    } else {
      if (!value || !satisfies(value, segment.constraint)) return undefined;
      params[segment.name] = value;
    }
  }
  return path.length === route.segments.length ? params : undefined;
}

/** Per segment: 0 literal, 1 constrained parameter, 2 parameter, 3 catch-all (lower is more specific). */
function precedence(route: CompiledRoute<unknown>): number[] {
  return route.segments.map((segment) => {
    if (segment.kind === 'literal') return 0;
    if (segment.kind === 'param') return segment.constraint ? 1 : 2;
    return 3;
  });
}

function compare(a: CompiledRoute<unknown>, b: CompiledRoute<unknown>): number {
  const pa = precedence(a);
  const pb = precedence(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    // A route that ran out of segments is shorter: the longer one is more specific where they otherwise tie.
    const x = pa[i] ?? 4;
    const y = pb[i] ?? 4;
    if (x !== y) return x - y;
  }
  return 0;
}

/** A route table; `match` returns the most specific route that matches the path and accepts the target. */
export class RouteTable<T> {
  private readonly routes: CompiledRoute<T>[] = [];

  add(template: string, target: T): void {
    this.routes.push(compileRoute(template, target));
    this.routes.sort(compare);
  }

  /** `path` is the URL path (still percent-encoded); undefined when no route matches or the path is malformed. */
  match(pathname: string, accept: (target: T) => boolean = () => true): RouteMatch<T> | undefined {
    const segments = splitPath(pathname);
    if (!segments) return undefined;
    for (const route of this.routes) {
      if (!accept(route.target)) continue;
      const params = matchRoute(route, segments);
      if (params) return { target: route.target, params };
    }
    return undefined;
  }
}

export function splitPath(pathname: string): string[] | undefined {
  try {
    return pathname
      .split('/')
      .filter((part) => part.length > 0)
      .map((part) => decodeURIComponent(part));
  } catch {
    return undefined;
  }
}
