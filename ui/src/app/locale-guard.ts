// Runs before any other module of the UI: a webview started under `LANG=C` (containers, CI,
// some desktops) reports `navigator.language` as "C", which is not a language tag, and
// libraries that pass it to `Intl` (uPlot does, when it loads) throw and the page stays blank.
// Such a value is replaced by the tag `Intl` picks itself.

function valid(tag: string | undefined): boolean {
  if (!tag) return false;
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

export const uiLanguage: string = (() => {
  const nav = typeof navigator === 'undefined' ? undefined : navigator;
  if (!nav || valid(nav.language)) return nav?.language ?? 'en-US';
  const fallback = new Intl.NumberFormat().resolvedOptions().locale || 'en-US';
  try {
    Object.defineProperty(nav, 'language', { get: () => fallback, configurable: true });
    Object.defineProperty(nav, 'languages', { get: () => [fallback], configurable: true });
  } catch {
    // A browser that does not let it be redefined also has a valid one.
  }
  return fallback;
})();
