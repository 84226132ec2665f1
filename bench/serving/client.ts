// The HTTP side of bench/serving.ts: streamed OpenAI requests against a
// running `edgeseek serve`, each stream's token arrival times recorded as the
// SSE chunks are parsed (node:http, one socket per stream).
import http from 'node:http';

export interface StreamTimes {
  /** performance.now() when the request was written. */
  sentAt: number;
  /** When each token's chunk arrived (tokens that only start a UTF-8 character send none). */
  arrivals: number[];
  /** usage.completion_tokens of the final chunk. */
  tokens: number;
  /** usage.prompt_tokens_details.cached_tokens, when reported. */
  cachedTokens?: number;
  status: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/**
 * POSTs a streamed request to `path` and records its chunks' arrival times.
 * `onToken` sees the count so far; returning true closes the stream there
 * (a client that stops reading, as one that got its answer).
 */
export function stream(port: number, path: string, body: object, onToken?: (count: number) => boolean): Promise<StreamTimes> {
  const payload = JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } });
  return new Promise((resolve, reject) => {
    const times: StreamTimes = { sentAt: performance.now(), arrivals: [], tokens: 0, status: 0 };
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path, agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
    }, (res) => {
      times.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (text: string) => {
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer.slice(buffer.indexOf('data: ') + 6, end);
          buffer = buffer.slice(end + 2);
          if (data === '[DONE]' || times.status !== 200) continue;
          const chunk = JSON.parse(data);
          if (chunk.usage) {
            times.tokens = chunk.usage.completion_tokens;
            times.cachedTokens = chunk.usage.prompt_tokens_details?.cached_tokens;
          }
          const choice = chunk.choices?.[0];
          if (choice && (choice.text || choice.delta?.content)) {
            times.arrivals.push(performance.now());
            if (onToken?.(times.arrivals.length)) { req.destroy(); resolve(times); return; }
          }
        }
      });
      res.on('end', () => resolve(times));
      res.on('error', reject);
    });
    req.setNoDelay(true);
    req.on('error', (error) => (times.arrivals.length > 0 ? resolve(times) : reject(error)));
    req.end(payload);
  });
}

export function getJson(port: number, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (t: string) => { text += t; });
      res.on('end', () => resolve(JSON.parse(text)));
      res.on('error', reject);
    }).on('error', reject);
  });
}
