// Playback fetches nothing from a site the recording did not come from. A recording is outside
// input: a page (or a forged bundle) can plant `<img src>`, `<link href>`, CSS `url()`,
// `@import`, `<base>`, `srcset`, `<video poster>`, SVG `<image href>` or a meta refresh that
// points at an attacker's server, and the player, sandboxed though it is, would fetch them and so
// tell that server when the recording was watched and from where. The page's own images and
// stylesheets, served from the origin(s) the recorder captured (the session's pages), still load.
//
// The events are rewritten in place before rrweb sees them (a window's events are its own copy,
// fresh from the API): a foreign URL becomes an inert one (a blank image, `data:,`), and a
// `<base>` loses its `href`, so relative URLs cannot be sent elsewhere.

/** An inert 1×1 transparent GIF: what a blocked image shows (no broken-image icon). */
const BLANK_IMAGE = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
/** What any other blocked URL becomes: fetches nothing. */
const INERT = 'data:,';

/** Attributes whose value is one URL the browser may fetch (or navigate a frame to). */
const URL_ATTRIBUTES = new Set(['src', 'href', 'xlink:href', 'poster', 'data', 'background', 'ping', 'action', 'formaction', 'rr_src', 'rr_dataurl']);
/** Attributes holding candidate lists (`url 1x, url 2x`). */
const SRCSET_ATTRIBUTES = new Set(['srcset', 'imagesrcset']);
/** Attributes holding CSS text: rrweb's inlined stylesheet, the style attribute, and the SVG
 * presentation attributes that take `url()` (a remote mask or filter is fetched). */
const CSS_ATTRIBUTES = new Set(['style', '_csstext', 'mask', 'filter', 'clip-path', 'marker-start', 'marker-mid', 'marker-end', 'fill', 'stroke']);

// rrweb's numbers (rrweb-snapshot NodeType, rrweb EventType and IncrementalSource).
const NODE_ELEMENT = 2;
const NODE_TEXT = 3;
const EVENT_FULL_SNAPSHOT = 2;
const EVENT_INCREMENTAL = 3;
const EVENT_META = 4;
const SOURCE_MUTATION = 0;
const SOURCE_STYLESHEET_RULE = 8;
const SOURCE_FONT = 10;
const SOURCE_STYLE_DECLARATION = 13;
const SOURCE_ADOPTED_STYLESHEET = 15;

/** An element's tag as rrweb builds it: a `<link>` whose sheet was inlined (`_cssText`) is
 * rebuilt as a `<style>`. */
function tagOf(n: { tagName?: unknown; attributes?: unknown }): string {
  const tag = typeof n.tagName === 'string' ? n.tagName.toLowerCase() : '';
  const attrs = n.attributes && typeof n.attributes === 'object' ? (n.attributes as Record<string, unknown>) : {};
  return tag === 'link' && Object.keys(attrs).some((k) => k.toLowerCase() === '_csstext') ? 'style' : tag;
}

/** A URL's origin (`https://shop.example`), or null when it has none. */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/** Counts what was blocked, for the player to say so. */
export interface Guarded {
  blocked: number;
}

class Guard {
  blocked = 0;
  /** Text nodes inside `<style>`: their text is CSS. */
  private styleTexts = new Set<number>();
  /** Element tags by node id, for attribute mutations (which name only the node). */
  private tags = new Map<number, string>();

  constructor(private allowed: Set<string>) {}

  /** Whether fetching `url` would reach a site the recording is not from. */
  foreign(raw: string): boolean {
    const url = raw.trim();
    if (url === '' || url.startsWith('#')) return false;
    // A backslash or a control character can be read differently by the URL parser here and
    // by CSS or HTML there (`ht\74p://`); such a URL is not worth the doubt.
    if (/[\\\u0000-\u001f]/.test(url)) return true;
    // A data: URL fetches nothing itself, but one that is a document or a stylesheet
    // (`data:text/html,<img src=…>`, `data:text/css,@import …`) loads what it holds: only
    // images, fonts and the inert `data:,` pass.
    if (/^data:/i.test(url)) return !/^data:(,|image\/(png|gif|jpeg|jpg|webp|avif|bmp|x-icon)[;,]|font\/|application\/(x-)?font)/i.test(url);
    if (/^(blob|about):/i.test(url)) return false;
    let parsed: URL;
    try {
      // Relative URLs resolve against the player's own address (the <base> is removed).
      parsed = new URL(url, 'http://relative.invalid/');
    } catch {
      return true;
    }
    if (parsed.origin === 'http://relative.invalid' && !/^[a-z][a-z0-9+.-]*:|^\/\//i.test(url)) return false;
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return true;
    return !this.allowed.has(parsed.origin);
  }

  private url(value: string, image: boolean): string {
    if (!this.foreign(value)) return value;
    this.blocked++;
    return image ? BLANK_IMAGE : INERT;
  }

  private srcset(value: string): string {
    const kept = value
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '' && !this.foreign(c.split(/\s+/)[0] ?? ''));
    const dropped = value.split(',').filter((c) => c.trim() !== '').length - kept.length;
    this.blocked += dropped;
    return dropped > 0 ? kept.join(', ') : value;
  }

  /** CSS text with every foreign `url(…)`, `@import "…"` and `image-set("…")` made inert. */
  css(text: string): string {
    // `\75 rl(` is `url(`: escapes of letters, digits and URL punctuation are read as what they
    // stand for before looking (escaped quotes and backslashes stay, so strings stay strings).
    // A backslash before a line break continues a string (`"https:/\⏎/evil"`): gone first.
    const plain = text.replace(/\\(\r\n|[\n\r\f])/g, '').replace(/\\([0-9a-f]{1,6})[ \t\n\r\f]?|\\([a-z0-9:/.()])/gi, (m, hex: string | undefined, ch: string | undefined) => {
      const c = hex !== undefined ? String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff) || 0xfffd) : ch!;
      return /^[a-z0-9:/.()]$/i.test(c) ? c : m;
    });
    return plain
      .replace(/url\(\s*(['"]?)(.*?)\1\s*\)/gi, (m, _q: string, u: string) => (this.foreign(u) ? (this.blocked++, `url("${INERT}")`) : m))
      .replace(/(['"])((?:(?:https?|wss?|ftp|data):|\/\/).*?)\1/gi, (m, _q: string, u: string) => (this.foreign(u) ? (this.blocked++, '""') : m));
  }

  private attributes(tag: string, attrs: Record<string, unknown>): void {
    // Attribute names in any case: the browser lowercases them when it sets them.
    for (const name of Object.keys(attrs)) {
      const key = name.toLowerCase();
      const value = attrs[name];
      // A frame's inline document is a page of its own, out of reach of this guard; a <base>
      // would send relative URLs elsewhere.
      const drop =
        key === 'srcdoc' ||
        (tag === 'base' && key === 'href') ||
        // A refresh (whatever says it is one, now or in a later mutation) to another site.
        (tag === 'meta' && key === 'content' && typeof value === 'string' && /^\s*\d*\s*[;,]\s*url\s*=/i.test(value) && this.foreign(value.replace(/^\s*\d*\s*[;,]\s*url\s*=\s*['"]?/i, '')));
      if (drop) {
        delete attrs[name];
        this.blocked++;
      }
    }
    for (const [name, value] of Object.entries(attrs)) {
      const key = name.toLowerCase();
      if (typeof value === 'string') {
        // A link is followed only when clicked, which a replay never does: it stays as recorded.
        if (key === 'href' && (tag === 'a' || tag === 'area')) continue;
        if (URL_ATTRIBUTES.has(key)) attrs[name] = this.url(value, tag === 'img' || tag === 'image' || key === 'poster');
        else if (SRCSET_ATTRIBUTES.has(key)) attrs[name] = this.srcset(value);
        else if (CSS_ATTRIBUTES.has(key)) attrs[name] = this.css(value);
      } else if (key === 'style' && value && typeof value === 'object') {
        // A style mutation: { property: value | [value, priority] | false }.
        const style = value as Record<string, unknown>;
        for (const [p, v] of Object.entries(style)) {
          if (typeof v === 'string') style[p] = this.css(v);
          else if (Array.isArray(v) && typeof v[0] === 'string') v[0] = this.css(v[0]);
        }
      }
    }
  }

  /** A serialized node and its subtree (iteratively: a recording may nest arbitrarily deep). */
  node(root: unknown): void {
    const stack: unknown[] = [root];
    while (stack.length > 0) {
      const n = stack.pop() as { type?: number; id?: number; tagName?: unknown; attributes?: unknown; childNodes?: unknown; textContent?: unknown; isStyle?: boolean } | null;
      if (!n || typeof n !== 'object') continue;
      if (n.type === NODE_ELEMENT && n.attributes && typeof n.attributes === 'object') {
        const tag = tagOf(n);
        if (typeof n.id === 'number') this.tags.set(n.id, tag);
        this.attributes(tag, n.attributes as Record<string, unknown>);
        if (tag === 'style' && Array.isArray(n.childNodes)) {
          for (const c of n.childNodes as { id?: number }[]) if (typeof c?.id === 'number') this.styleTexts.add(c.id);
        }
      }
      if (n.type === NODE_TEXT && typeof n.textContent === 'string' && (n.isStyle || (typeof n.id === 'number' && this.styleTexts.has(n.id)))) {
        if (typeof n.id === 'number') this.styleTexts.add(n.id);
        n.textContent = this.css(n.textContent);
      }
      if (Array.isArray(n.childNodes)) for (let i = n.childNodes.length - 1; i >= 0; i--) stack.push(n.childNodes[i]);
    }
  }

  event(e: { type: number; data: unknown }): void {
    const d = e.data as Record<string, unknown> | null;
    if (!d || typeof d !== 'object') return;
    if (e.type === EVENT_FULL_SNAPSHOT) this.node(d.node);
    if (e.type === EVENT_META) return; // its href is where the page was, shown, never fetched
    if (e.type !== EVENT_INCREMENTAL) return;
    switch (d.source) {
      case SOURCE_MUTATION: {
        const adds = (Array.isArray(d.adds) ? d.adds : []) as { parentId?: number; node?: unknown }[];
        // rrweb attaches a node whose parent comes later in the same list once the parent is
        // there: every added element's tag is known before any child is looked at.
        for (const a of adds) {
          const n = a?.node as { type?: number; id?: number; tagName?: unknown; attributes?: unknown } | undefined;
          if (n && n.type === NODE_ELEMENT && typeof n.id === 'number') this.tags.set(n.id, tagOf(n));
        }
        for (const a of adds) {
          const n = a?.node as { type?: number; id?: number } | undefined;
          // Text added under a <style> is CSS.
          if (n && n.type === NODE_TEXT && typeof n.id === 'number' && typeof a.parentId === 'number' && this.tags.get(a.parentId) === 'style') this.styleTexts.add(n.id);
          this.node(a?.node);
        }
        for (const a of (Array.isArray(d.attributes) ? d.attributes : []) as { id?: number; attributes?: unknown }[]) {
          if (a?.attributes && typeof a.attributes === 'object') this.attributes((typeof a.id === 'number' && this.tags.get(a.id)) || '', a.attributes as Record<string, unknown>);
        }
        for (const t of (Array.isArray(d.texts) ? d.texts : []) as { id?: number; value?: unknown }[]) {
          // A style's text, or the text of a <style> set through the element itself.
          if (t && typeof t.id === 'number' && typeof t.value === 'string' && (this.styleTexts.has(t.id) || this.tags.get(t.id) === 'style')) t.value = this.css(t.value);
        }
        break;
      }
      case SOURCE_STYLESHEET_RULE:
        for (const a of (Array.isArray(d.adds) ? d.adds : []) as { rule?: unknown }[]) if (a && typeof a.rule === 'string') a.rule = this.css(a.rule);
        // CSSStyleSheet.replace() / replaceSync(): a whole sheet's text.
        if (typeof d.replace === 'string') d.replace = this.css(d.replace);
        if (typeof d.replaceSync === 'string') d.replaceSync = this.css(d.replaceSync);
        break;
      case SOURCE_STYLE_DECLARATION: {
        const set = d.set as { value?: unknown } | undefined;
        if (set && typeof set.value === 'string') set.value = this.css(set.value);
        break;
      }
      case SOURCE_ADOPTED_STYLESHEET:
        for (const s of (Array.isArray(d.styles) ? d.styles : []) as { rules?: { rule?: unknown }[] }[]) {
          for (const r of Array.isArray(s?.rules) ? s.rules : []) if (r && typeof r.rule === 'string') r.rule = this.css(r.rule);
        }
        break;
      case SOURCE_FONT:
        // A font by URL (not by its bytes) is CSS `src` text.
        if (!d.buffer && typeof d.fontSource === 'string') d.fontSource = this.css(d.fontSource);
        break;
    }
  }

}

/**
 * Makes every foreign URL in `events` inert, in place. `pages` are the session's page
 * addresses; their origins, and those of the recording's own meta events, are the recording's.
 */
export function guardReplay(events: { type: number; data: unknown }[], pages: Iterable<string>): Guarded {
  const allowed = new Set<string>();
  for (const p of pages) {
    const o = originOf(p);
    if (o) allowed.add(o);
  }
  for (const e of events) {
    const href = e.type === EVENT_META ? (e.data as { href?: unknown } | null)?.href : undefined;
    const o = typeof href === 'string' ? originOf(href) : null;
    if (o) allowed.add(o);
  }
  const guard = new Guard(allowed);
  for (const e of events) guard.event(e);
  return { blocked: guard.blocked };
}
