/** The build's generated files (list, and one file's text) and the diff of each repair. */
import { api, paths } from '../api.js';
import { h, replace } from '../h.js';

function formatSize(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function showFile(viewer, buildId, path) {
  replace(viewer, h('p', `Loading ${path}…`));
  try {
    const file = await api(paths.file(buildId, path));
    replace(viewer,
      h('h3', { id: 'file-title', tabindex: '-1' }, file.path),
      h('p.note', `${formatSize(file.size)}${file.truncated ? ', cut to its first 256 KiB' : ''}${file.commit ? ` at ${file.commit.slice(0, 10)}` : ''}`),
      file.content === null ? h('p', 'A binary file: not shown.') : h('pre.file', { tabindex: '0', 'aria-labelledby': 'file-title' }, file.content),
    );
    viewer.querySelector('#file-title')?.focus();
  } catch (thrown) {
    replace(viewer, h('p.error', { role: 'alert' }, `Could not read ${path}: ${thrown.message}`));
  }
}

/** Loads the list of files; `container` keeps the viewer beside it. */
export async function renderFiles(container, buildId) {
  let listing;
  try {
    listing = await api(paths.files(buildId));
  } catch (thrown) {
    replace(container, h('p.error', `Could not list the files: ${thrown.message}`));
    return;
  }
  // The same commit as shown: keep the list and the file being read as they are.
  const shown = listing.commit ?? 'none';
  if (container.dataset.commit === shown) return;
  container.dataset.commit = shown;
  if (listing.files.length === 0) {
    replace(container, h('p.note', 'No files yet: the repository is made after the SPEC.'));
    return;
  }
  const viewer = h('div.file-viewer', { 'aria-live': 'polite' }, h('p.note', 'Choose a file to read it.'));
  const list = h('ul.files', listing.files.map((file) => h('li',
    h('button.link', { type: 'button', dataset: { path: file.path }, onclick: () => showFile(viewer, buildId, file.path) }, file.path),
    h('span.note', ` ${formatSize(file.size)}`))));
  replace(container,
    h('p.note', `${listing.files.length} files${listing.commit ? ` at commit ${listing.commit.slice(0, 10)}` : ''}.`),
    h('div.files-layout', h('nav', { 'aria-label': 'Generated files' }, list), viewer));
}

function diffView(diff) {
  // One span per line so additions and removals are marked (by a sign as well as colour).
  return h('pre.diff', { tabindex: '0' }, diff.split('\n').map((line) => {
    const kind = line.startsWith('+++') || line.startsWith('---') ? 'file' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : 'ctx';
    return h('span', { class: `line ${kind}` }, `${line}\n`);
  }));
}

export async function renderRepairs(container, buildId) {
  let repairs;
  try {
    ({ repairs } = await api(paths.repairs(buildId)));
  } catch (thrown) {
    replace(container, h('p.error', `Could not read the repairs: ${thrown.message}`));
    return;
  }
  // Unchanged repairs are left alone, so a diff the reader opened stays open; new ones keep the open ones open.
  const key = repairs.map((repair) => repair.commit).join(' ') || 'none';
  if (container.dataset.repairs === key) return;
  container.dataset.repairs = key;
  if (repairs.length === 0) {
    replace(container, h('p.note', 'No repairs: the code passed verification as first written (or has not been verified yet).'));
    return;
  }
  const open = new Set([...container.querySelectorAll('details.repair[open]')].map((details) => details.dataset.attempt));
  replace(container, repairs.map((repair) => h('details.repair', { dataset: { attempt: repair.attempt }, open: open.has(String(repair.attempt)) },
    h('summary', `Repair after attempt ${repair.attempt}: ${repair.message} (${repair.files.length} file${repair.files.length === 1 ? '' : 's'})`),
    h('p.note', `Commit ${repair.commit.slice(0, 10)}: ${repair.files.join(', ')}${repair.truncated ? ' (diff cut short)' : ''}`),
    diffView(repair.diff))));
}
