// Builds DOM nodes. Text always goes in as text nodes, never as HTML.

import { ICONS } from './icons.js';

/**
 * h('button', { class: 'big', onclick: fn, 'aria-label': '…' }, 'text', childNode, [more])
 * Attributes starting with "on" become event listeners; `dataset` takes an object;
 * false/null/undefined attributes and children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

/** One SVG element of an icon: `<tag name="value" …/>`. */
const ICON_ELEMENT = /<([a-z]+)((?:\s+[a-z-]+="[^"]*")*)\s*\/>/g;
const ICON_ATTRIBUTE = /([a-z-]+)="([^"]*)"/g;

/**
 * An icon from ui/icons.js, drawn inline in the current text colour. Its elements are made one
 * by one from the table's constant, self-closing tags (no markup parser, no HTML sink).
 */
export function icon(name, extra = '') {
  const [viewBox, body] = ICONS[name];
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', `icon ${extra}`.trim());
  svg.setAttribute('viewBox', viewBox);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const [, tag, attrs] of body.matchAll(ICON_ELEMENT)) {
    const el = document.createElementNS(SVG, tag);
    for (const [, key, value] of attrs.matchAll(ICON_ATTRIBUTE)) el.setAttribute(key, value);
    svg.append(el);
  }
  return svg;
}
