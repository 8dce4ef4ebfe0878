/**
 * A tiny hyperscript helper: h('tag.class', { attr }, ...children). Text children are
 * text nodes, never HTML, so values from builds cannot inject markup.
 */
export function h(spec, props, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length > 0) el.className = classes.join(' ');
  let kids = children;
  if (props instanceof Node || typeof props === 'string' || Array.isArray(props)) kids = [props, ...children];
  else if (props) applyProps(el, props);
  append(el, kids);
  return el;
}

function applyProps(el, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' || key === 'checked') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/**
 * Replaces a polled part's children, keeping keyboard focus on the element of the same
 * `data-focus` key if it had it, so a refresh does not throw a keyboard user back to the top.
 */
export function replaceKeepingFocus(el, ...children) {
  const active = document.activeElement;
  const key = active && el.contains(active) ? active.dataset?.focus : undefined;
  replace(el, ...children);
  if (key) el.querySelector(`[data-focus="${CSS.escape(key)}"]`)?.focus();
  return el;
}

/** Tells screen readers (the page's aria-live region). */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = message;
}

export function formatTime(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString();
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function formatCost(usd) {
  return typeof usd === 'number' ? `$${usd.toFixed(4)}` : '—';
}

/** A status word as a badge; the text says it, the colour only repeats it. */
export function badge(status, label = status) {
  return h('span.badge', { 'data-status': status }, String(label).replaceAll('_', ' '));
}
