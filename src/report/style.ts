/** The report's stylesheet, inlined into the page: system fonts only, nothing fetched. */
export const REPORT_CSS = `
:root {
  --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa;
  --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --skip: #6e7781; --skip-bg: #eef1f4;
  --cancel: #9a6700; --cancel-bg: #fff8c5; --run: #0969da; --run-bg: #ddf4ff; --pend: #8c959f; --pend-bg: #ffffff;
  --intr: #8250df; --intr-bg: #fbefff;
  font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif;
  font-size: 14px; line-height: 1.45; color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 24px 28px 40px; max-width: 1040px; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px; }
a { color: var(--run); text-decoration: none; }
a:hover { text-decoration: underline; }
h1 { font-size: 24px; margin: 0; }
h2 { font-size: 16px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
h4 { font-size: 13px; margin: 10px 0 4px; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; }

.status-succeeded { --c: var(--ok); --cb: var(--ok-bg); }
.status-failed { --c: var(--bad); --cb: var(--bad-bg); }
.status-skipped { --c: var(--skip); --cb: var(--skip-bg); }
.status-cancelled { --c: var(--cancel); --cb: var(--cancel-bg); }
.status-running { --c: var(--run); --cb: var(--run-bg); }
.status-pending { --c: var(--pend); --cb: var(--pend-bg); }
.status-interrupted { --c: var(--intr); --cb: var(--intr-bg); }

.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600;
  color: var(--c); background: var(--cb); border: 1px solid var(--c); white-space: nowrap; }
.flag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 11px; font-weight: 500;
  color: var(--muted); background: var(--panel); border: 1px solid var(--line); }

header.job { border-left: 5px solid var(--c); padding: 4px 0 4px 16px; }
header .title { display: flex; align-items: center; gap: 12px; }
header .title .badge { font-size: 14px; padding: 2px 12px; }
dl.facts { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 10px 0 0; }
dl.facts div { display: flex; gap: 6px; align-items: baseline; }
dt { color: var(--muted); font-size: 12px; }
dd { margin: 0; }
.tally { margin: 10px 0 0; display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.count { color: var(--c); font-weight: 600; }

svg text { font-family: inherit; }
svg.dag .edge { fill: none; stroke: #8c959f; stroke-width: 1.5; }
svg.dag .arrowhead { fill: #8c959f; }
svg.dag .node rect { fill: var(--cb); stroke: var(--c); stroke-width: 1.5; }
svg.dag .node.status-failed rect { stroke-width: 2.5; }
svg.dag .node:hover rect { filter: brightness(0.96); }
svg.dag .node .icon { fill: var(--c); font-size: 15px; font-weight: 700; }
svg.dag .node .id { fill: var(--fg); font-size: 13px; font-weight: 600; }
svg.dag .node .detail { fill: var(--muted); font-size: 11px; }

svg.gantt .row { fill: transparent; }
svg.gantt .row.odd { fill: #f6f8fa; }
svg.gantt .grid { stroke: #d8dee4; stroke-width: 1; }
svg.gantt .tick { fill: var(--muted); font-size: 11px; text-anchor: middle; }
svg.gantt .label { fill: var(--fg); font-size: 13px; font-weight: 500; }
svg.gantt .icon { fill: var(--c); font-size: 13px; font-weight: 700; }
svg.gantt .bar { fill: var(--c); }
svg.gantt .bar.retried { fill: #ff8182; fill-opacity: 0.55; stroke: var(--bad); stroke-dasharray: 3 2; }
svg.gantt .mark { fill: var(--c); }
svg.gantt .took { fill: var(--c); font-size: 12px; font-weight: 600; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; color: var(--muted); font-size: 12px; margin: 6px 0 0; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 14px; height: 10px; border-radius: 2px; background: var(--c); }
.swatch.retried { background: #ff8182; opacity: 0.7; outline: 1px dashed var(--bad); }

table.summary { border-collapse: collapse; width: 100%; margin-bottom: 18px; }
table.summary th, table.summary td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.summary th { font-size: 12px; color: var(--muted); font-weight: 600; background: var(--panel); }
table.summary td:first-child { border-left: 4px solid var(--c); font-weight: 600; }
table.summary tr.status-failed td { background: var(--bad-bg); }
.num { text-align: right !important; font-variant-numeric: tabular-nums; white-space: nowrap; }
.error-cell { color: var(--c); word-break: break-word; }
table.summary th:last-child { width: 42%; }

article.step { border: 1px solid var(--line); border-left: 5px solid var(--c); border-radius: 6px; padding: 12px 16px; margin: 0 0 14px; }
article.step.status-failed { background: linear-gradient(90deg, var(--bad-bg), #fff 55%); border-color: var(--bad); }
.step-id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 15px; }
article.step dl.facts { margin: 0 0 8px; }
.error { margin: 8px 0; padding: 8px 12px; border-radius: 6px; background: var(--cb); color: var(--c); border: 1px solid var(--c); white-space: pre-wrap; word-break: break-word; }
.error code { font-weight: 700; }
details { margin: 8px 0 0; }
summary { cursor: pointer; font-weight: 600; font-size: 13px; }
pre { margin: 6px 0 0; padding: 10px 12px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  max-height: 420px; overflow: auto; white-space: pre-wrap; word-break: break-all; }
.tail { display: flex; flex-direction: column-reverse; max-height: 420px; overflow: auto; margin: 6px 0 0;
  background: #161b22; border-radius: 6px; }
.tail pre { max-height: none; overflow: visible; margin: 0; background: transparent; color: #e6edf3; border: 0; }
.note { margin: 6px 0 0; font-size: 12px; color: var(--cancel); }
.none { margin: 6px 0 0; font-size: 12px; }
.artifacts ul { margin: 0; padding-left: 20px; }
footer { margin-top: 32px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@media print { pre, .tail { max-height: none; } }
`;
