// Small helpers for the board's own pages and links (Bull Board renders everything else). The pages carry no inline
// script and no style attribute: their one <style> block is allowed by its hash in the Content-Security-Policy.
import { createHash } from 'node:crypto';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** joinPath('/', 'enqueue') → '/enqueue'; joinPath('/ops', 'enqueue') → '/ops/enqueue'; joinPath('/ops', '') → '/ops/'. */
export function joinPath(base: string, rest: string): string {
  return `${base.replace(/\/+$/, '')}/${rest.replace(/^\/+/, '')}`;
}

/** Bull Board's page for one job: {base}/queue/<queue>/<jobId>. */
export function jobPath(basePath: string, queue: string, jobId: string): string {
  return joinPath(basePath, `queue/${encodeURIComponent(queue)}/${encodeURIComponent(jobId)}`);
}

/** Production in red, staging in amber, anything else in green: the colour says how careful to be. */
export function environmentBadge(environment: string): { label: string; color: string; textColor: string } {
  const env = environment.toLowerCase();
  if (env.startsWith('prod')) return { label: environment, color: '#b42318', textColor: '#ffffff' };
  if (env.startsWith('stag') || env.startsWith('pre'))
    return { label: environment, color: '#b54708', textColor: '#ffffff' };
  return { label: environment, color: '#067647', textColor: '#ffffff' };
}

/** The badge's colours as a class of the page's style sheet (a style attribute would need 'unsafe-inline'). */
function badgeClass(environment: string): string {
  const { color } = environmentBadge(environment);
  return color === '#b42318' ? 'env-prod' : color === '#b54708' ? 'env-staging' : 'env-other';
}

/** The same environment strip Bull Board shows above its pages, for the board's own pages. */
export function environmentStrip(environment: string): string {
  return `<div class="env ${badgeClass(environment)}" title="BOARD_ENVIRONMENT">${escapeHtml(environment)}</div>`;
}

const PAGE_STYLE = `
  body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d232b; }
  section { border: 1px solid #d0d6de; border-radius: 6px; padding: 0.5rem 1rem 1rem; margin: 1rem 0; }
  form { display: grid; grid-template-columns: max-content 1fr; gap: 0.5rem 1rem; align-items: center; }
  button { grid-column: 2; justify-self: start; padding: 0.4rem 1rem; }
  .error { color: #a4161a; font-weight: 600; }
  .note { background: #fff3cd; padding: 0.5rem; }
  small { color: #5b6775; }
  .env { text-align: center; font-size: 0.85rem; padding: 0.15rem; border-radius: 0 0 6px 6px; margin-top: -2rem; }
  .env-prod { background: #b42318; color: #ffffff; }
  .env-staging { background: #b54708; color: #ffffff; }
  .env-other { background: #067647; color: #ffffff; }
  table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
  th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #d0d6de; vertical-align: top; }
  td.refused { color: #a4161a; }
  body.wide { max-width: 100rem; }
  nav.history { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; align-items: center; }
  nav.history a[aria-current] { font-weight: 700; color: inherit; text-decoration: none; }
  form.inline, form.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: end; }
  form.inline button, form.filters button { grid-column: auto; }
  form.filters label { display: flex; flex-direction: column; font-size: 0.85rem; gap: 0.15rem; }
  .status { font-weight: 700; padding: 0 0.35rem; border-radius: 3px; white-space: nowrap; }
  .status-success { color: #067647; }
  .status-partial { color: #7a3e00; background: #ffe2a8; }
  .status-error { color: #ffffff; background: #b42318; }
  tr.run-partial > td { background: #fff8e6; }
  tr.run-error > td { background: #fdeceb; }
  tr.run-partial > td:first-child { border-left: 4px solid #d97706; }
  tr.run-error > td:first-child { border-left: 4px solid #b42318; }
  .warn { color: #7a3e00; font-weight: 600; }
  code, pre { font-size: 0.85rem; }
  pre { white-space: pre-wrap; word-break: break-word; background: #f5f7f9; padding: 0.5rem; }
  .from { color: #a4161a; text-decoration: line-through; }
  .to { color: #067647; }
  ul.changes, ul.rejected { margin: 0; padding-left: 1.1rem; }
  dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
  dl.fields dt { font-weight: 600; }
  dl.fields dd { margin: 0; }
  .pager { display: flex; gap: 1.5rem; margin: 1rem 0; }
  .nowrap { white-space: nowrap; }
  td p { margin: 0 0 0.25rem; }
`;

/** The CSP source that allows the pages' one <style> block and nothing else inline. */
export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(PAGE_STYLE, 'utf8').digest('base64')}'`;

/** `wide`: a table page (the history pages), not a form. */
export function pageShell(title: string, body: string, options: { wide?: boolean } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body${options.wide ? ' class="wide"' : ''}>
${body}
</body>
</html>
`;
}
