import { escapeHtml as esc } from '../report/escape.js';

/** What a page of the UI is made of. */
export interface PageParts {
  title: string;
  body: string;
  /** `data-page` of <body>: which part of the front end (assets/app.js) runs here. */
  page: 'runs' | 'run' | 'log' | 'compare' | 'error';
  /** More `data-*` attributes of <body> for the front end (job id, step, …). */
  data?: Record<string, string>;
}

/** A whole page: styles and the script come from this server (the CSP allows nothing else), nothing from the network. */
export function renderPage(p: PageParts): string {
  const data = Object.entries(p.data ?? {})
    .map(([k, v]) => ` data-${k}="${esc(v)}"`)
    .join('');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(p.title)}</title>`,
    '<link rel="icon" href="data:,">', // no favicon request (it would be a 404 in every console)
    '<link rel="stylesheet" href="/assets/report.css">',
    '<link rel="stylesheet" href="/assets/ui.css">',
    '<script src="/assets/app.js" defer></script>',
    '</head>',
    `<body data-page="${p.page}"${data}>`,
    '<nav class="ui-nav"><a href="/">All runs</a></nav>',
    p.body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
