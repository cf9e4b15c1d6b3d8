// llm-server.mjs — the loopback OpenAI-compatible server of the LLM yardstick (bench/run.mjs, group `llm`):
// POST /v1/chat/completions answers every request after DELAY ms, streamed (SSE) when asked, else whole.
// Run as a child process: `node llm-server.mjs <delayMs>` prints `listening <url>` and serves until killed.
import http from 'node:http';

const DELAY = Number(process.argv[2] ?? 50);
let served = 0;
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const q = JSON.parse(body || '{}');
    const text = `answer ${++served}: ${String(q.messages?.at(-1)?.content ?? '').slice(0, 40)}`;
    setTimeout(() => {
      const base = { id: `c${served}`, created: 0, model: q.model ?? 'bench' };
      if (!q.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta, finish) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(chunk({ role: 'assistant', content: text }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n');
    }, DELAY);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
