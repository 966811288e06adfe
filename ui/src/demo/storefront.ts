// The demo storefront's page code (served by `sightline demo` at /static/storefront.js): a small
// shop — products, cart with a promo code, checkout with a payment form — instrumented as a real
// one would be: Sightline's recorder (a script tag in the page) and the OpenTelemetry web SDK's
// fetch instrumentation, exporting to the engine.
//
// Two of the demo's five bugs live here, on purpose:
//  4. Silent validation: a field's error shows for 2 s, then vanishes, and the form never
//     submits (a Canadian postal code fails a US-only ZIP check), so no request is sent.
//  5. Dead control: "Estimate shipping" is styled as a button and does nothing.
// and one more is made possible here: "Place order" stays enabled while its request is in
// flight (the double-click race; the backend is not idempotent).

import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Recorder } from '../recorder/index';

interface Config {
  /** The engine's OTLP/HTTP base URL. */
  otlp: string;
  /** Sightline's UI, if known. */
  sightline: string | null;
  declinedCard: string;
}

interface Product {
  id: string;
  name: string;
  blurb: string;
  priceCents: number;
  art: string;
  hue: number;
}

interface Line {
  id: string;
  quantity: number;
}

interface ApiError {
  error?: { code?: string; message?: string };
}

/** The recorder the page's script tag started (`ui/src/recorder/auto.ts`). */
const recorder = () => (window as unknown as { Sightline?: Recorder }).Sightline;

const config: Config = {
  otlp: 'http://127.0.0.1:4318',
  sightline: null,
  declinedCard: '4000000000000002',
  ...(JSON.parse(document.getElementById('demo-config')?.textContent ?? '{}') as Partial<Config>),
};

/** How long a field's validation message stays (the bug: then it is gone, and so is the hint). */
const VALIDATION_MESSAGE_MS = 2000;
/** How long a toast stays. */
const TOAST_MS = 7000;
/** The web SDK sends its spans this often (its default, 5 s, is slow for a demo). */
const EXPORT_EVERY_MS = 500;
const CART_KEY = 'fernhill.cart';
const PROMO_KEY = 'fernhill.promo';

// ── Telemetry: the OpenTelemetry web SDK, as the shop's developers set it up ───────────────
const provider = new WebTracerProvider({
  resource: resourceFromAttributes({
    'service.name': 'storefront-web',
    'service.namespace': 'sightline-demo',
    'deployment.environment.name': 'demo',
  }),
  spanProcessors: [
    new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.otlp}/v1/traces` }), {
      scheduledDelayMillis: EXPORT_EVERY_MS,
    }),
  ],
});
provider.register();
registerInstrumentations({
  instrumentations: [
    new FetchInstrumentation({
      ignoreUrls: [new RegExp(`^${config.otlp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)],
      applyCustomAttributesOnSpan: (span) => {
        const session = recorder()?.sessionId;
        if (session) span.setAttribute('session.id', session);
      },
    }),
  ],
});
addEventListener('pagehide', () => void provider.forceFlush());

// ── Small DOM helpers ───────────────────────────────────────────────────────────────────────
type Child = Node | string | number | null | undefined | false;

function h(tag: string, attrs: Record<string, unknown> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    } else if (key === 'html') {
      el.innerHTML = String(value);
    } else {
      el.setAttribute(key === 'className' ? 'class' : key, value === true ? '' : String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** Line drawings of the products, in the product's hue. */
const ART: Record<string, string> = {
  mug: '<path d="M24 30h42v36a12 12 0 0 1-12 12H36a12 12 0 0 1-12-12z"/><path d="M66 38h6a9 9 0 0 1 0 18h-6"/><path d="M36 18c0 4 4 4 4 8M48 16c0 4 4 4 4 8"/>',
  tee: '<path d="M36 18l-18 10 7 14 9-4v42h32V38l9 4 7-14-18-10c-2 6-8 9-14 9s-12-3-14-9z"/>',
  tote: '<path d="M22 38h56l-5 44H27z"/><path d="M36 38v-8a14 14 0 0 1 28 0v8"/>',
  notebook: '<rect x="26" y="16" width="48" height="68" rx="4"/><path d="M34 16v68"/><g stroke-width="4" stroke-linecap="round"><path d="M46 32h.1M56 32h.1M66 32h.1M46 44h.1M56 44h.1M66 44h.1M46 56h.1M56 56h.1M66 56h.1M46 68h.1M56 68h.1M66 68h.1"/></g>',
  cap: '<path d="M22 60a28 28 0 0 1 56 0z"/><path d="M22 60h62a6 6 0 0 1-6 6H22z"/><path d="M50 32v-2"/>',
  candle: '<rect x="30" y="42" width="40" height="40" rx="6"/><path d="M30 54h40"/><path d="M50 42v-8"/><path d="M50 18c6 6 6 12 0 14-6-2-6-8 0-14z"/>',
};

function art(product: Product, className: string): HTMLElement {
  const el = h('div', { className, style: `background: hsl(${product.hue} 45% 92%)` });
  el.innerHTML = `<svg viewBox="0 0 100 100" fill="none" stroke="hsl(${product.hue} 38% 34%)" stroke-width="3" stroke-linejoin="round" stroke-linecap="round" aria-hidden="true">${ART[product.art] ?? ''}</svg>`;
  return el;
}

// ── State: the cart and promo live in the browser, prices on the server ─────────────────────
let products: Product[] = [];

function cart(): Line[] {
  try {
    const lines = JSON.parse(localStorage.getItem(CART_KEY) ?? '[]') as Line[];
    return Array.isArray(lines) ? lines.filter((l) => typeof l.id === 'string' && l.quantity > 0) : [];
  } catch {
    return [];
  }
}

function saveCart(lines: Line[]) {
  localStorage.setItem(CART_KEY, JSON.stringify(lines.filter((l) => l.quantity > 0)));
  updateCartCount();
}

function addToCart(id: string) {
  const lines = cart();
  const line = lines.find((l) => l.id === id);
  if (line) line.quantity += 1;
  else lines.push({ id, quantity: 1 });
  saveCart(lines);
}

function promo(): { code: string; percentOff: number } | null {
  try {
    return JSON.parse(localStorage.getItem(PROMO_KEY) ?? 'null');
  } catch {
    return null;
  }
}

function totals() {
  const lines = cart();
  const subtotal = lines.reduce((sum, l) => sum + (products.find((p) => p.id === l.id)?.priceCents ?? 0) * l.quantity, 0);
  const percent = promo()?.percentOff ?? 0;
  const discount = Math.floor((subtotal * percent) / 100);
  return { lines, subtotal, discount, total: subtotal - discount };
}

async function loadProducts(): Promise<void> {
  if (products.length) return;
  const resp = await fetch('/api/products');
  if (!resp.ok) throw new Error(`the product list answered ${resp.status}`);
  products = ((await resp.json()) as { products: Product[] }).products;
}

async function post<T>(path: string, body: unknown): Promise<{ ok: boolean; status: number; data: T & ApiError }> {
  const resp = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = (await resp.json().catch(() => ({}))) as T & ApiError;
  return { ok: resp.ok, status: resp.status, data };
}

// ── Chrome: ribbon, header, toasts, the bug guide ───────────────────────────────────────────
const app = document.getElementById('app') as HTMLElement;
const toasts = h('div', { className: 'toasts', role: 'status' });
let cartCount: HTMLElement | null = null;

function updateCartCount() {
  if (cartCount) cartCount.textContent = String(cart().reduce((n, l) => n + l.quantity, 0));
}

function toast(kind: 'error' | 'info', title: string, message: string) {
  const el = h('div', { className: `toast ${kind}` }, h('div', {}, h('strong', {}, title), message));
  toasts.append(el);
  setTimeout(() => el.remove(), TOAST_MS);
}

function guide() {
  const close = () => panel.remove();
  const slow = h('button', {
    className: 'btn secondary',
    onclick: async () => {
      const r = await post<{ slowNextOrder: boolean }>('/demo/faults', { slowNextOrder: true });
      slow.textContent = r.ok ? 'The next order will time out' : 'Could not arm it';
    },
  }, 'Make the next order time out');
  const panel = h(
    'aside',
    { className: 'guide', 'aria-label': 'The bugs in this demo' },
    h('button', { className: 'close', onclick: close, 'aria-label': 'Close' }, '×'),
    h('h2', {}, 'Five bugs to find'),
    h('p', { className: 'lede' }, 'Each one is a classic of checkout debugging. Reproduce it here, then find it in Sightline: the replay, the request, the backend trace and its logs, linked.'),
    h(
      'ol',
      {},
      h('li', {}, h('strong', {}, 'Payment declined'), 'Pay with ', h('code', {}, '4000 0000 0000 0002'), '. payment-svc declines with card_declined; the page shows a toast.'),
      h('li', {}, h('strong', {}, 'Order timeout'), 'Now and then order-svc waits 5 s on its database and the order fails with a 500. ', slow),
      h('li', {}, h('strong', {}, 'Double order'), 'Click "Place order" twice, quickly: two charges, two orders.'),
      h('li', {}, h('strong', {}, 'Vanishing validation'), 'Enter a Canadian postal code (', h('code', {}, 'K1A 0B1'), ') and place the order: a message flashes for 2 s and nothing is sent.'),
      h('li', {}, h('strong', {}, 'Dead button'), '"Estimate shipping" in the cart looks like a button and does nothing.'),
    ),
    config.sightline ? h('a', { className: 'btn block', href: config.sightline, target: '_blank' }, 'Open Sightline') : null,
  );
  document.body.append(panel);
}

function chrome(active: string, content: HTMLElement): HTMLElement {
  cartCount = h('span', { className: 'cart-count' }, '0');
  const link = (path: string, label: string) => h('a', { href: path, 'data-link': '', className: active === path ? 'active' : '' }, label);
  const page = h(
    'div',
    {},
    h(
      'div',
      { className: 'ribbon' },
      h('span', {}, h('strong', {}, 'Sightline demo'), ' · this shop has five deliberate bugs.'),
      h('button', { onclick: guide }, 'Show me the bugs'),
      config.sightline ? h('a', { href: config.sightline, target: '_blank' }, 'Open Sightline →') : null,
    ),
    h(
      'header',
      { className: 'site' },
      h(
        'a',
        { className: 'logo', href: '/', 'data-link': '', html: '<svg viewBox="0 0 32 32" aria-hidden="true"><circle cx="16" cy="16" r="15" fill="#1f5f4a"/><path d="M9 21c4-9 10-12 14-12-1 6-5 12-14 12z" fill="#bfe3d3"/></svg>Fernhill Supply' },
      ),
      h('nav', { className: 'main' }, link('/', 'Shop'), link('/cart', 'Cart'), link('/checkout', 'Checkout')),
      h('a', { className: 'cart-link', href: '/cart', 'data-link': '' }, 'Cart', cartCount),
    ),
    h('main', {}, content),
    h('footer', { className: 'site' }, 'Fernhill Supply is a demo shop. Nothing is sold; no card is charged.'),
  );
  updateCartCount();
  return page;
}

// ── Pages ───────────────────────────────────────────────────────────────────────────────────
function productsPage(): HTMLElement {
  const grid = h('div', { className: 'grid' });
  for (const product of products) {
    const add = h('button', { className: 'btn', type: 'button' }, 'Add to cart');
    add.addEventListener('click', () => {
      addToCart(product.id);
      add.textContent = 'Added ✓';
      add.classList.add('added');
      setTimeout(() => {
        add.textContent = 'Add to cart';
        add.classList.remove('added');
      }, 1200);
    });
    grid.append(
      h(
        'article',
        { className: 'product', 'data-product': product.id },
        art(product, 'art'),
        h('div', { className: 'body' }, h('h3', {}, product.name), h('p', {}, product.blurb), h('div', { className: 'row' }, h('span', { className: 'price' }, money(product.priceCents)), add)),
      ),
    );
  }
  return h(
    'div',
    {},
    h('div', { className: 'hero' }, h('div', {}, h('span', { className: 'badge' }, 'New this season'), h('h1', {}, 'Everyday goods, made to last'), h('p', { className: 'lede' }, 'Small-batch basics for the kitchen, the desk and the road.'))),
    grid,
  );
}

function summaryLines(): HTMLElement[] {
  const t = totals();
  const p = promo();
  return [
    h('div', { className: 'sum' }, h('span', {}, 'Subtotal'), h('span', {}, money(t.subtotal))),
    p ? h('div', { className: 'sum' }, h('span', { className: 'discount' }, `Promo ${p.code} (−${p.percentOff}%)`), h('span', { className: 'discount' }, `−${money(t.discount)}`)) : null,
    h('div', { className: 'sum' }, h('span', {}, 'Shipping'), h('span', {}, 'Free')),
    h('div', { className: 'sum total' }, h('span', {}, 'Total'), h('span', { 'data-total': '' }, money(t.total))),
  ].filter((x): x is HTMLElement => x !== null);
}

function cartPage(): HTMLElement {
  const t = totals();
  if (!t.lines.length) {
    return h('div', { className: 'empty' }, h('h1', {}, 'Your cart is empty'), h('p', {}, 'Find something you like in the shop.'), h('a', { className: 'btn', href: '/', 'data-link': '' }, 'Go to the shop'));
  }
  const list = h('div', { className: 'panel' }, h('h2', {}, 'Your cart'));
  for (const line of t.lines) {
    const product = products.find((p) => p.id === line.id);
    if (!product) continue;
    const change = (delta: number) => () => {
      saveCart(cart().map((l) => (l.id === line.id ? { ...l, quantity: l.quantity + delta } : l)));
      render();
    };
    list.append(
      h(
        'div',
        { className: 'line' },
        art(product, 'thumb'),
        h(
          'div',
          {},
          h('h3', {}, product.name),
          h('span', { className: 'qty' }, h('button', { onclick: change(-1), 'aria-label': 'One fewer' }, '−'), h('span', {}, line.quantity), h('button', { onclick: change(1), 'aria-label': 'One more' }, '+')),
          h('button', { className: 'remove', onclick: change(-line.quantity) }, 'Remove'),
        ),
        h('span', { className: 'price' }, money(product.priceCents * line.quantity)),
      ),
    );
  }
  const code = h('input', { placeholder: 'Promo code', 'aria-label': 'Promo code', value: promo()?.code ?? '' }) as HTMLInputElement;
  const note = h('p', { className: 'note' });
  const apply = h('button', {
    className: 'btn secondary',
    type: 'button',
    onclick: async () => {
      const r = await post<{ code: string; percentOff: number }>('/api/promo', { code: code.value });
      if (r.ok) {
        localStorage.setItem(PROMO_KEY, JSON.stringify({ code: r.data.code, percentOff: r.data.percentOff }));
        render();
      } else {
        localStorage.removeItem(PROMO_KEY);
        note.className = 'note bad';
        note.textContent = r.data.error?.message ?? 'This promo code is not valid.';
      }
    },
  }, 'Apply');
  if (promo()) {
    note.className = 'note ok';
    note.textContent = `${promo()?.code} applied: ${promo()?.percentOff}% off.`;
  }
  const summary = h(
    'div',
    { className: 'panel' },
    h('h2', {}, 'Summary'),
    ...summaryLines(),
    h('div', { className: 'promo' }, code, apply),
    note,
    h(
      'div',
      { className: 'stack' },
      h('a', { className: 'btn block', href: '/checkout', 'data-link': '' }, 'Checkout'),
      // Bug 5: styled as a button, wired to nothing.
      h('div', { className: 'btn secondary block', 'data-testid': 'estimate-shipping' }, 'Estimate shipping'),
    ),
  );
  return h('div', {}, h('h1', {}, 'Cart'), h('p', { className: 'lede' }, 'Free shipping on every order this month.'), h('div', { className: 'layout' }, list, summary));
}

interface FieldSpec {
  name: string;
  label: string;
  type?: string;
  wide?: boolean;
  placeholder?: string;
  hint?: string;
  autocomplete?: string;
}

function field(spec: FieldSpec): HTMLElement {
  return h(
    'label',
    { className: spec.wide ? 'wide' : '' },
    h('span', {}, spec.label, spec.hint ? h('span', { className: 'hint' }, ` · ${spec.hint}`) : null),
    h('input', { name: spec.name, type: spec.type ?? 'text', placeholder: spec.placeholder, autocomplete: spec.autocomplete }),
  );
}

/** The first problem with the form, if any. The ZIP rule is US-only: bug 4's cause. */
function validate(form: FormData): { field: string; message: string } | null {
  const v = (k: string) => String(form.get(k) ?? '').trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v('email'))) return { field: 'email', message: 'Enter an email address' };
  for (const [k, label] of [['name', 'your name'], ['address', 'a street address'], ['city', 'a city']] as const) {
    if (!v(k)) return { field: k, message: `Enter ${label}` };
  }
  if (!/^\d{5}(-\d{4})?$/.test(v('zip'))) return { field: 'zip', message: 'Invalid ZIP code' };
  const digits = v('card').replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return { field: 'card', message: 'Enter a card number' };
  if (!/^(0[1-9]|1[0-2])\s*\/\s*\d{2}$/.test(v('expiry'))) return { field: 'expiry', message: 'Use MM/YY' };
  if (!/^\d{3,4}$/.test(v('cvc'))) return { field: 'cvc', message: 'Enter the 3 digits on the back' };
  return null;
}

/** Bug 4: the message disappears after 2 s, and nothing else tells the shopper what is wrong. */
function flash(form: HTMLFormElement, name: string, message: string) {
  const input = form.elements.namedItem(name);
  if (!(input instanceof HTMLInputElement)) return;
  const error = h('span', { className: 'field-error', role: 'alert' }, message);
  input.after(error);
  setTimeout(() => error.remove(), VALIDATION_MESSAGE_MS);
}

function checkoutPage(): HTMLElement {
  const t = totals();
  if (!t.lines.length) return cartPage();
  const place = h('button', { className: 'btn block', type: 'submit' }, `Place order · ${money(t.total)}`);
  const form = h(
    'form',
    { className: 'panel', novalidate: true, 'aria-label': 'Checkout' },
    h('fieldset', {}, h('legend', {}, 'Contact'), h('div', { className: 'fields' }, field({ name: 'email', label: 'Email', type: 'email', wide: true, placeholder: 'you@example.com', autocomplete: 'email' }))),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Shipping address'),
      h(
        'div',
        { className: 'fields' },
        field({ name: 'name', label: 'Full name', wide: true, autocomplete: 'name' }),
        field({ name: 'address', label: 'Address', wide: true, autocomplete: 'street-address' }),
        field({ name: 'city', label: 'City', autocomplete: 'address-level2' }),
        field({ name: 'zip', label: 'ZIP / postal code', autocomplete: 'postal-code' }),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Payment'),
      h(
        'div',
        { className: 'fields' },
        field({ name: 'card', label: 'Card number', wide: true, placeholder: '4242 4242 4242 4242', hint: 'test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined', autocomplete: 'cc-number' }),
        field({ name: 'expiry', label: 'Expiry', placeholder: 'MM/YY', autocomplete: 'cc-exp' }),
        field({ name: 'cvc', label: 'CVC', placeholder: '123', autocomplete: 'cc-csc' }),
      ),
    ),
    place,
  ) as HTMLFormElement;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const problem = validate(data);
    if (problem) {
      flash(form, problem.field, problem.message);
      return;
    }
    // Bug 3: the button stays enabled while the request is in flight.
    const v = (k: string) => String(data.get(k) ?? '').trim();
    const r = await post<{ orderId: number; totalCents: number }>('/api/checkout', {
      email: v('email'),
      name: v('name'),
      address: { line1: v('address'), city: v('city'), zip: v('zip') },
      items: cart(),
      promo: promo()?.code ?? null,
      card: { number: v('card'), expiry: v('expiry'), cvc: v('cvc') },
    });
    if (r.ok) {
      saveCart([]);
      localStorage.removeItem(PROMO_KEY);
      sessionStorage.setItem('fernhill.email', v('email'));
      navigate(`/orders/${r.data.orderId}`);
    } else if (r.data.error?.code === 'card_declined') {
      toast('error', 'Payment declined', r.data.error.message ?? 'Your card was declined.');
    } else {
      toast('error', 'Something went wrong', r.data.error?.message ?? `The shop answered ${r.status}.`);
    }
  });
  const summary = h('div', { className: 'panel' }, h('h2', {}, 'Order summary'));
  for (const line of t.lines) {
    const product = products.find((p) => p.id === line.id);
    if (product) summary.append(h('div', { className: 'sum' }, h('span', {}, `${product.name} × ${line.quantity}`), h('span', {}, money(product.priceCents * line.quantity))));
  }
  summary.append(...summaryLines());
  return h('div', {}, h('h1', {}, 'Checkout'), h('p', { className: 'lede' }, 'You will not be charged: this is a demo shop.'), h('div', { className: 'layout' }, form, summary));
}

function orderPage(id: string): HTMLElement {
  const email = sessionStorage.getItem('fernhill.email');
  return h(
    'div',
    { className: 'confirm' },
    h('div', { className: 'check' }, '✓'),
    h('h1', {}, `Order #${id} is confirmed`),
    h('p', { className: 'lede' }, email ? `A receipt is on its way to ${email}.` : 'A receipt is on its way.'),
    h('a', { className: 'btn', href: '/', 'data-link': '' }, 'Continue shopping'),
  );
}

// ── Routing ─────────────────────────────────────────────────────────────────────────────────
function navigate(path: string) {
  history.pushState(null, '', path);
  render();
  scrollTo(0, 0);
}

async function render() {
  const path = location.pathname;
  try {
    await loadProducts();
  } catch (err) {
    app.replaceChildren(chrome(path, h('div', { className: 'empty' }, h('h1', {}, 'The shop is unavailable'), h('p', {}, String(err)))));
    return;
  }
  const order = path.match(/^\/orders\/(\d+)$/);
  const content =
    path === '/cart' ? cartPage() : path === '/checkout' ? checkoutPage() : order?.[1] ? orderPage(order[1]) : productsPage();
  document.title = `${path === '/cart' ? 'Cart' : path === '/checkout' ? 'Checkout' : order ? 'Order confirmed' : 'Shop'} · Fernhill Supply`;
  app.replaceChildren(chrome(path, content));
}

document.addEventListener('click', (event) => {
  const link = (event.target as Element | null)?.closest?.('a[data-link]');
  if (link instanceof HTMLAnchorElement && !event.metaKey && !event.ctrlKey && link.origin === location.origin) {
    event.preventDefault();
    navigate(link.pathname);
  }
});
addEventListener('popstate', () => void render());
document.body.append(toasts);
void render();
