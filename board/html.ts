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
`;

/** The CSP source that allows the pages' one <style> block and nothing else inline. */
export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(PAGE_STYLE, 'utf8').digest('base64')}'`;

export function pageShell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
