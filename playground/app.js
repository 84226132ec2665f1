// The playground page (served at / by the Worker, `edgeseek serve` and
// `deno task serve`; src/server/playground.ts). A chat that streams from this
// server's /v1/chat/completions, or, with "in this browser" on, from the same
// model run in this page by the browser build (WebGPU, else Wasm). The page
// holds no API key: a user who has one types it under Settings, and it stays
// in this tab's sessionStorage.
const $ = (id) => document.getElementById(id);
const chat = $('chat');
const KEY_STORAGE = 'edgeseek-api-key';

let config; // playground/config.json: { model, modelUrl, inBrowser, apiKeyRequired }
let history = []; // { role, content } of the conversation so far
let pageEngine; // the in-page engine, loaded the first time the switch is turned on
let running; // the AbortController of the reply being generated

$('api-key').value = sessionStorage.getItem(KEY_STORAGE) ?? '';
$('api-key').addEventListener('change', () => sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim()));
const authHeaders = () => {
  const key = $('api-key').value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
};

function bubble(role, text = '') {
  const div = document.createElement('div');
  div.className = `message ${role}`;
  div.textContent = text;
  chat.append(div);
  div.scrollIntoView({ block: 'end' });
  return div;
}

function showError(message) {
  bubble('error', message);
}

/** TTFT and decode speed (tokens after the first over the time after the first). */
function showStats({ start, first, end, tokens, where }) {
  const parts = [where];
  if (first !== undefined) parts.push(`TTFT ${Math.round(first - start)} ms`);
  if (tokens > 1 && end > first) parts.push(`${((tokens - 1) / ((end - first) / 1000)).toFixed(1)} tok/s`);
  parts.push(`${tokens} tokens`);
  $('stats').textContent = parts.join(' · ');
}

/** Server-sent events of a fetch response, as parsed JSON `data:` payloads (until [DONE]). */
async function* serverEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return;
        yield JSON.parse(data);
      }
    }
  }
}

/** Streams a reply from the server's OpenAI API: yields text deltas, returns the completion token count. */
async function* fromServer(messages, options, signal) {
  const response = await fetch('v1/chat/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...authHeaders() },
    body: JSON.stringify({
      model: config.model, messages, stream: true, stream_options: { include_usage: true },
      temperature: options.temperature, max_tokens: options.maxTokens,
    }),
    signal,
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const hint = response.status === 401 ? ' Enter the server\'s API key under Settings.' : '';
    throw new Error(`${body.error?.message ?? `HTTP ${response.status}`}${hint}`);
  }
  let tokens = 0;
  for await (const chunk of serverEvents(response)) {
    if (chunk.error) throw new Error(chunk.error.message);
    const text = chunk.choices?.[0]?.delta?.content;
    if (text) { tokens++; yield text; }
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  return tokens;
}

/** Streams a reply from the model running in this page. */
async function* fromPage(messages, options, signal) {
  let tokens = 0;
  for await (const event of pageEngine.generate({ messages, temperature: options.temperature, maxTokens: options.maxTokens, signal })) {
    if (event.type === 'token') { tokens++; if (event.text) yield event.text; }
    else if (event.text) yield event.text;
  }
  return tokens;
}

function setProgress(fraction, label) {
  $('load').hidden = false;
  $('progress').value = fraction;
  $('progress-label').textContent = label;
}

const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Loads the in-page engine once, showing download and weight progress. */
async function loadPageEngine() {
  if (pageEngine) return pageEngine;
  setProgress(0, 'loading the browser build…');
  const edgeseek = await import('./edgeseek.js');
  pageEngine = await edgeseek.createEngine({
    model: config.modelUrl,
    backend: 'auto',
    modelId: config.model,
    fetch: (url, init = {}) => fetch(url, { ...init, headers: { ...init.headers, ...authHeaders() } }),
    onProgress: (p) => {
      if (p.stage === 'download') {
        const cached = p.fromCache ? `, ${mib(p.fromCache)} cached` : '';
        setProgress(p.total ? 0.7 * (p.loaded / p.total) : 0, `downloading ${p.file} (${p.filesLoaded}/${p.filesTotal} files, ${mib(p.loaded)} of ${mib(p.total)}${cached})`);
      } else if (p.stage === 'weights') {
        setProgress(0.7 + 0.28 * (p.loaded / p.total), `loading weights: ${p.tensor}`);
      } else if (p.stage === 'tokenizer') {
        setProgress(0.99, 'loading the tokenizer');
      }
    },
  });
  const { backend, threads } = pageEngine.model;
  setProgress(1, `ready: ${backend}${backend === 'cpu' ? `, ${threads} thread${threads === 1 ? '' : 's'}` : ''}`);
  return pageEngine;
}

async function send(text) {
  const inPage = $('mode').checked;
  const options = { temperature: Number($('temperature').value), maxTokens: Number($('max-tokens').value) };
  history.push({ role: 'user', content: text });
  bubble('user', text);
  const reply = bubble('assistant streaming');
  running = new AbortController();
  $('send').disabled = true;
  $('stop').hidden = false;
  const where = inPage ? `in this browser (${pageEngine?.model.backend ?? 'loading'})` : 'server';
  const stats = { start: performance.now(), first: undefined, end: undefined, tokens: 0, where };
  try {
    const stream = inPage ? fromPage(history, options, running.signal) : fromServer(history, options, running.signal);
    let step;
    while (!(step = await stream.next()).done) {
      stats.first ??= performance.now();
      reply.textContent += step.value;
      reply.scrollIntoView({ block: 'end' });
    }
    stats.tokens = step.value;
    stats.end = performance.now();
    showStats(stats);
    history.push({ role: 'assistant', content: reply.textContent });
  } catch (error) {
    history.pop();
    if (!reply.textContent) reply.remove();
    if (error.name !== 'AbortError') showError(error.message);
  } finally {
    reply.classList.remove('streaming');
    running = undefined;
    $('send').disabled = false;
    $('stop').hidden = true;
  }
}

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('message').value.trim();
  if (!text || running) return;
  $('message').value = '';
  void send(text);
});
$('message').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); $('composer').requestSubmit(); }
});
$('stop').addEventListener('click', () => running?.abort());
$('new-chat').addEventListener('click', () => { running?.abort(); history = []; chat.replaceChildren(); });
$('mode').addEventListener('change', async () => {
  if (!$('mode').checked) return;
  $('send').disabled = true;
  try {
    await loadPageEngine();
  } catch (error) {
    $('mode').checked = false;
    setProgress(0, 'failed');
    showError(`Loading the model in this browser failed: ${error.message}`);
  } finally {
    $('send').disabled = false;
  }
});

try {
  const response = await fetch('playground/config.json');
  if (!response.ok) throw new Error(`playground/config.json: HTTP ${response.status}`);
  config = await response.json();
  $('model-id').textContent = config.model;
  $('mode').disabled = !config.inBrowser;
  if (!config.inBrowser) $('mode').parentElement.title = 'This server does not hand its model files to pages';
} catch (error) {
  showError(`This page needs its server: ${error.message}`);
}
