/** The UI's own styles, over the report's (served as /assets/ui.css: the CSP allows no inline style). */
export const UI_CSS = `
body { max-width: 1180px; }
.ui-nav { margin: 0 0 12px; font-size: 13px; }
.actions, .filters, .compare-form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
button { font: inherit; padding: 3px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); cursor: pointer; }
button.danger { color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .5; cursor: default; }
input, select { font: inherit; padding: 2px 6px; }
table.runs td, table.compare td { vertical-align: middle; }
tr.changed td:first-child { border-left: 3px solid var(--cancel); }
tr.changed.added td:first-child { border-left-color: var(--ok); }
tr.changed.removed td:first-child { border-left-color: var(--bad); }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.side h2 { border: 0; margin: 8px 0 4px; }
table.evaluation td, table.answers td { vertical-align: top; }
table.evaluation pre, table.answers pre { white-space: pre-wrap; margin: 2px 0; max-height: 240px; overflow: auto; }
.side-b { border-top: 1px dashed var(--line); margin-top: 4px; padding-top: 4px; }
#event-list { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; max-height: 320px; overflow: auto; }
.tail.live { max-height: 70vh; }
.warnings { color: var(--cancel); }
`;
