// Small helpers for the board's own pages and links (Bull Board renders everything else).

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

/** The same environment strip Bull Board shows above its pages, for the board's own pages. */
export function environmentStrip(environment: string): string {
  const badge = environmentBadge(environment);
  return `<div class="env" title="BOARD_ENVIRONMENT" style="background: ${badge.color}; color: ${badge.textColor}">${escapeHtml(badge.label)}</div>`;
}

export function pageShell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d232b; }
  section { border: 1px solid #d0d6de; border-radius: 6px; padding: 0.5rem 1rem 1rem; margin: 1rem 0; }
  form { display: grid; grid-template-columns: max-content 1fr; gap: 0.5rem 1rem; align-items: center; }
  button { grid-column: 2; justify-self: start; padding: 0.4rem 1rem; }
  .error { color: #a4161a; font-weight: 600; }
  .note { background: #fff3cd; padding: 0.5rem; }
  small { color: #5b6775; }
  .env { text-align: center; font-size: 0.85rem; padding: 0.15rem; border-radius: 0 0 6px 6px; margin-top: -2rem; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
