// llm-floor.mjs — the LLM yardstick (bench/run.mjs, group `llm`): the least a program can do for N prompts.
// A minimal Node loop with the `openai` SDK: a pool of P requests in flight, each streamed, each answer written
// to its own file. `node llm-floor.mjs <baseUrl> <n> <pool> <outDir>`
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';

const [baseURL, n, pool, out] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
fs.mkdirSync(out, { recursive: true });
const client = new OpenAI({ baseURL, apiKey: 'none' });
let next = 0;
async function worker() {
  while (next < n) {
    const i = next++;
    const stream = await client.chat.completions.create({ model: 'bench', messages: [{ role: 'user', content: `question ${i}` }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    fs.writeFileSync(path.join(out, `${i}.txt`), text);
  }
}
await Promise.all(Array.from({ length: pool }, worker));
