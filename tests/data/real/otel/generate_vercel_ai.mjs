// Generate vercel_ai.jsonl: Vercel AI SDK (`ai` + @ai-sdk/openai) spans as OTLP/JSON.
// setup: npm install ai @ai-sdk/openai @opentelemetry/api @opentelemetry/sdk-trace-node
//        @opentelemetry/sdk-trace-base @opentelemetry/resources @opentelemetry/otlp-transformer
//        (exact versions in SOURCES.md); run with NODE_PATH=<that node_modules>:
//        node generate_vercel_ai.mjs   (writes vercel_ai.jsonl beside this file)
// Serialisation: @opentelemetry/otlp-transformer's JsonTraceSerializer, i.e. the exact bytes
// @opentelemetry/exporter-trace-otlp-http would POST with Content-Type application/json.
// The replay server is ./replay_server.py, started as a child process on 127.0.0.1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(process.env.NODE_PATH ? path.join(process.env.NODE_PATH, 'x.js') : import.meta.url);
const { generateText, streamText } = require('ai');
const { createOpenAI } = require('@ai-sdk/openai');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'vercel_ai.jsonl');
fs.writeFileSync(OUT, '');

class OtlpJsonFileExporter {
  export(spans, done) {
    const bytes = JsonTraceSerializer.serializeRequest(spans);
    fs.appendFileSync(OUT, Buffer.from(bytes).toString('utf8') + '\n');
    done({ code: 0 });
  }
  shutdown() { return Promise.resolve(); }
  forceFlush() { return Promise.resolve(); }
}

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'workbench-fixture-vercel-ai' }),
  spanProcessors: [new SimpleSpanProcessor(new OtlpJsonFileExporter())],
});
provider.register();

const PORT = 18000 + Math.floor(Math.random() * 1000);
const server = spawn('python3', [path.join(HERE, 'replay_server.py'), String(PORT)], { stdio: ['ignore', 'inherit', 'pipe'] });
await new Promise((resolve) => server.stderr.on('data', (d) => { process.stderr.write(d); if (String(d).includes('listening')) resolve(); }));

// The provider keeps the public base URL; a custom fetch sends every request to the loopback
// replay server instead (nothing leaves 127.0.0.1).
const loopbackFetch = (url, init) => fetch(String(url).replace('https://api.openai.com', `http://127.0.0.1:${PORT}`), init);
const openai = createOpenAI({ baseURL: 'https://api.openai.com/v1', apiKey: 'sk-replay-not-a-key', fetch: loopbackFetch });
const telemetry = (fn, sessionId) => ({
  isEnabled: true,
  functionId: fn,
  metadata: { sessionId, userId: 'user-fixture-42', feature: 'fixture' },
});

await generateText({
  model: openai.chat('gpt-4o-mini'),
  prompt: 'Summarize the OpenLLMetry launch article in three short bullet points.',
  maxRetries: 0,
  experimental_telemetry: telemetry('summarize', 'sess-fixture-001'),
});
await generateText({
  model: openai.chat('gpt-5-nano'),
  prompt: "Count r's in strawberry",
  providerOptions: { openai: { reasoningEffort: 'low' } },
  maxRetries: 0,
  experimental_telemetry: telemetry('count-letters', 'sess-fixture-001'),
});
const s = streamText({
  model: openai.chat('gpt-4'),
  prompt: 'Say this is a test',
  maxRetries: 0,
  experimental_telemetry: telemetry('say-test', 'sess-fixture-002'),
});
for await (const _ of s.textStream) { /* drain */ }
await s.usage;
try {
  await generateText({
    model: openai.chat('this-model-does-not-exist'),
    prompt: 'Say this is a test',
    maxRetries: 0,
    experimental_telemetry: telemetry('say-test', 'sess-fixture-003'),
  });
} catch (e) {
  console.log('expected error:', e.name, e.statusCode);
}
await provider.forceFlush();
await provider.shutdown();
server.kill();
