// Repeatable `attribute=key=value` filters in page URLs and API queries: each filter its own
// parameter (the API takes all of them; all must match).

import { href } from './router';

/** `&attribute=…` for each filter, to append to a query string that already has a `?`. */
export function attributeQuery(attrs: string[]): string {
  return attrs.map((a) => `&attribute=${encodeURIComponent(a)}`).join('');
}

/** A page's address with its filters and its attribute filters. */
export function hrefWithAttributes(parts: string[], params: Record<string, string | undefined>, attrs: string[]): string {
  const url = href(parts, params);
  const extra = attrs.map((a) => `attribute=${encodeURIComponent(a)}`).join('&');
  return extra ? `${url}${url.includes('?') ? '&' : '?'}${extra}` : url;
}

/** `attrs` with `key=value` in place of any other value of `key`. */
export function withAttribute(attrs: string[], key: string, value: string): string[] {
  return [...attrs.filter((a) => !a.startsWith(`${key}=`)), `${key}=${value}`];
}
