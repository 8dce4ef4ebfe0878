/**
 * Just enough Markdown for a SPEC: headings, paragraphs, lists, pipe tables, fenced code,
 * `code`, **bold** and _emphasis_. Built as DOM nodes from text: nothing is parsed as HTML.
 */
import { h } from './h.js';

const INLINE = /(`[^`]+`|\*\*[^*]+\*\*|\b_[^_]+_\b)/g;

function inline(text) {
  return text.split(INLINE).filter((part) => part !== '').map((part) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) return h('code', part.slice(1, -1));
    if (part.startsWith('**') && part.endsWith('**') && part.length > 3) return h('strong', part.slice(2, -2));
    if (/^_[^_]+_$/.test(part)) return h('em', part.slice(1, -1));
    return part;
  });
}

const cells = (line) => line.trim().replace(/^\||\|$/g, '').split('|').map((cell) => cell.trim());

function table(lines) {
  const [head, , ...rows] = lines;
  return h('div.table-wrap', h('table',
    h('thead', h('tr', cells(head).map((cell) => h('th', { scope: 'col' }, inline(cell))))),
    h('tbody', rows.map((row) => h('tr', cells(row).map((cell) => h('td', inline(cell)))))),
  ));
}

function list(lines, ordered) {
  const items = [];
  for (const line of lines) {
    const start = ordered ? /^\s*\d+[.)]\s+(.*)$/.exec(line) : /^\s*[-*]\s+(.*)$/.exec(line);
    if (start) items.push(start[1]);
    else if (items.length > 0) items[items.length - 1] += ` ${line.trim()}`;
  }
  return h(ordered ? 'ol' : 'ul', items.map((item) => h('li', inline(item))));
}

/** Takes lines while `test` holds, from `index`; returns them and the next index. */
function takeWhile(lines, index, test) {
  const taken = [];
  let i = index;
  while (i < lines.length && test(lines[i])) taken.push(lines[i++]);
  return [taken, i];
}

const isBlank = (line) => line.trim() === '';
const isTable = (line) => /^\s*\|/.test(line);
const isBullet = (line) => /^\s*[-*]\s+/.test(line);
const isNumbered = (line) => /^\s*\d+[.)]\s+/.test(line);
const isHeading = (line) => /^#{1,6}\s/.test(line);
const isFence = (line) => line.trim().startsWith('```');
const startsBlock = (line) => isBlank(line) || isTable(line) || isBullet(line) || isNumbered(line) || isHeading(line) || isFence(line);

/** `headingOffset`: a SPEC's `#` becomes an h2 inside the page, keeping one h1 per page. */
export function renderMarkdown(text, headingOffset = 1) {
  const lines = String(text).replace(/\r\n/g, '\n').split('\n');
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let block;
    if (isBlank(line)) { i++; continue; }
    if (isFence(line)) {
      [block, i] = takeWhile(lines, i + 1, (l) => !isFence(l));
      out.push(h('pre', h('code', block.join('\n'))));
      i++;
    } else if (isHeading(line)) {
      const level = Math.min(6, line.indexOf(' ') + headingOffset);
      out.push(h(`h${level}`, inline(line.replace(/^#+\s+/, ''))));
      i++;
    } else if (isTable(line)) {
      [block, i] = takeWhile(lines, i, isTable);
      out.push(table(block));
    } else if (isBullet(line) || isNumbered(line)) {
      const ordered = isNumbered(line);
      [block, i] = takeWhile(lines, i, (l) => !isBlank(l) && !isHeading(l) && !isTable(l));
      out.push(list(block, ordered));
    } else {
      [block, i] = takeWhile(lines, i, (l) => !startsBlock(l));
      if (block.length === 0) { block = [line]; i++; }
      out.push(h('p', inline(block.join(' '))));
    }
  }
  return out;
}
