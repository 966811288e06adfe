import { describe, expect, it } from 'vitest';
import { guardReplay } from './replay-guard';

const OWN = 'http://localhost:5173';
const EVIL = 'http://evil.example';

/** A full snapshot of `html` elements (as rrweb serializes them) under one body. */
function snapshot(children: unknown[]) {
  return [
    { type: 4, timestamp: 1, data: { href: `${OWN}/checkout`, width: 800, height: 600 } },
    {
      type: 2,
      timestamp: 2,
      data: {
        node: {
          type: 0,
          id: 1,
          childNodes: [{ type: 2, id: 2, tagName: 'html', attributes: {}, childNodes: [{ type: 2, id: 3, tagName: 'body', attributes: {}, childNodes: children }] }],
        },
      },
    },
  ];
}

const el = (id: number, tagName: string, attributes: Record<string, unknown>, childNodes: unknown[] = []) => ({ type: 2, id, tagName, attributes, childNodes });

describe('the replay guard', () => {
  it('makes every foreign URL a recording plants inert, and keeps the page’s own', () => {
    const events = snapshot([
      el(10, 'img', { src: `${EVIL}/pixel.gif?watched` }),
      el(11, 'img', { src: `${OWN}/logo.png`, srcset: `${OWN}/logo@2x.png 2x, ${EVIL}/x.png 3x` }),
      el(12, 'link', { rel: 'stylesheet', href: `${EVIL}/a.css` }),
      el(13, 'link', { rel: 'stylesheet', href: `${OWN}/site.css`, _cssText: `body{background:url(${EVIL}/bg.png)} .own{background:url("${OWN}/ok.png")}` }),
      el(14, 'div', { style: `background-image: image-set("${EVIL}/i.png" 1x)` }),
      el(15, 'base', { href: `${EVIL}/` }),
      el(16, 'iframe', { src: `${EVIL}/frame`, srcdoc: `<img src="${EVIL}/y">` }),
      el(17, 'video', { poster: `${EVIL}/poster.jpg`, src: '/relative.mp4' }),
      el(18, 'image', { 'xlink:href': `//evil.example/svg.png` }),
      el(19, 'meta', { 'http-equiv': 'Refresh', content: `0; url=${EVIL}/` }),
      el(20, 'a', { href: `${EVIL}/a-link` }),
      el(21, 'style', {}, [{ type: 3, id: 22, textContent: `@import "${EVIL}/i.css"; @font-face{src:url(${EVIL}/f.woff)}`, isStyle: true }]),
      el(23, 'div', { style: `background:\\75 rl(${EVIL}/escaped.png)` }),
      el(24, 'img', { src: `ht\\74p://evil.example/odd` }),
    ]);
    const { blocked } = guardReplay(events, []);
    const text = JSON.stringify(events);
    // Nothing of the attacker's server is left where a browser would fetch it, except the link.
    const left = text.match(/evil\.example[^"\\]*/g) ?? [];
    expect(left).toEqual(['evil.example/a-link']);
    expect(text).toContain(`${OWN}/logo.png`);
    expect(text).toContain(`${OWN}/logo@2x.png 2x`);
    expect(text).toContain(`${OWN}/site.css`);
    expect(text).toContain(`url(\\"${OWN}/ok.png\\")`);
    expect(text).toContain('/relative.mp4');
    expect(blocked).toBeGreaterThanOrEqual(14);
  });

  it('guards what mutations add and change later', () => {
    const events = [
      ...snapshot([el(30, 'style', {}, [])]),
      {
        type: 3,
        timestamp: 3,
        data: {
          source: 0,
          adds: [
            { parentId: 3, nextId: null, node: el(40, 'img', { src: `${EVIL}/late.png` }) },
            { parentId: 30, nextId: null, node: { type: 3, id: 41, textContent: `body{background:url(${EVIL}/late.css.png)}` } },
          ],
          attributes: [{ id: 40, attributes: { src: `${EVIL}/changed.png`, style: { background: `url(${EVIL}/s.png)` } } }],
          texts: [{ id: 41, value: `p{background:url('${EVIL}/t.png')}` }],
          removes: [],
        },
      },
      { type: 3, timestamp: 4, data: { source: 8, id: 30, adds: [{ rule: `a{background:url(${EVIL}/rule.png)}`, index: 0 }] } },
      { type: 3, timestamp: 5, data: { source: 13, id: 30, index: [0], set: { property: 'background', value: `url(${EVIL}/decl.png)` } } },
      { type: 3, timestamp: 6, data: { source: 10, family: 'x', fontSource: `url(${EVIL}/font.woff)`, buffer: false, descriptors: {} } },
      { type: 3, timestamp: 7, data: { source: 15, id: 1, styleIds: [1], styles: [{ styleId: 1, rules: [{ rule: `b{background:url(${EVIL}/adopted.png)}` }] }] } },
    ];
    guardReplay(events, []);
    expect(JSON.stringify(events)).not.toContain('evil.example');
  });

  it('leaves a recording with nothing foreign as it was', () => {
    const events = snapshot([el(10, 'img', { src: `${OWN}/logo.png` }), el(11, 'a', { href: 'https://docs.example/help' })]);
    const before = JSON.stringify(events);
    expect(guardReplay(events, []).blocked).toBe(0);
    expect(JSON.stringify(events)).toBe(before);
  });

  it('takes the page origins from the session when the window has no meta event', () => {
    const events = snapshot([el(10, 'img', { src: 'https://shop.example/logo.png' })]).slice(1);
    guardReplay(events, ['https://shop.example/cart']);
    expect(JSON.stringify(events)).toContain('https://shop.example/logo.png');
    guardReplay(events, []);
    expect(JSON.stringify(events)).not.toContain('https://shop.example/logo.png');
  });

  it('closes the holes an attacker\'s review found', () => {
    const events: { type: number; data: unknown }[] = snapshot([
      el(30, 'canvas', { rr_dataURL: `${EVIL}/canvas.png` }),
      el(31, 'iframe', { SRCDOC: `<img src="${EVIL}/upper">` }),
      el(32, 'iframe', { src: `data:text/html,<img src=${EVIL}/doc>` }),
      el(33, 'link', { rel: 'stylesheet', href: `data:text/css,@import url(${EVIL}/x.css)` }),
      el(34, 'img', { src: 'data:image/png;base64,iVBORw0KGgo=' }),
      el(35, 'rect', { mask: `url(${EVIL}/m.svg#m)`, fill: 'url(#grad)' }),
      el(36, 'style', {}, [{ type: 3, id: 37, textContent: '@import "https:/\\\n/evil.example/nl.css"; h1{background:image-set("https:evil.example/p" 1x)}' }]),
      el(38, 'meta', { content: `0;url=${EVIL}/later` }),
    ]);
    events.push(
      // The style element's own text set later, a text added before its <style> parent in the
      // same mutation, and a sheet replaced whole.
      { type: 3, data: { source: 0, adds: [
        { parentId: 41, node: { type: 3, id: 42, textContent: `body{background:url(${EVIL}/early.png)}` } },
        { parentId: 3, node: el(41, 'style', {}) },
      ], removes: [], texts: [{ id: 36, value: `@import url(${EVIL}/own-text.css)` }], attributes: [{ id: 38, attributes: { 'HTTP-EQUIV': 'refresh' } }] } },
      { type: 3, data: { source: 8, styleId: 1, replaceSync: `body{background:url(${EVIL}/sync.png)}` } },
    );
    guardReplay(events, [`${OWN}/checkout`]);
    const text = JSON.stringify(events);
    expect(text).not.toMatch(/evil\.example/);
    expect(text).toContain('data:image/png;base64,iVBORw0KGgo=');
    expect(text).toContain('url(#grad)');
  });
});
