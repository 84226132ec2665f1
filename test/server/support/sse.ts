// Reads a whole SSE response into its `data:` payloads, checking the framing.
export async function readSse(response: Response): Promise<{ frames: string[]; raw: string }> {
  const raw = await response.text();
  const blocks = raw.split('\n\n');
  if (blocks.at(-1) !== '') throw new Error(`SSE stream does not end with a blank line: ${JSON.stringify(raw.slice(-40))}`);
  const frames = blocks.slice(0, -1).map((block) => {
    if (!block.startsWith('data: ') || block.includes('\n')) throw new Error(`not a single data: line: ${JSON.stringify(block)}`);
    return block.slice('data: '.length);
  });
  return { frames, raw };
}

/** Streams an SSE response frame by frame as it arrives. */
export async function* sseFrames(response: Response): AsyncGenerator<string> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith('data: ')) yield block.slice(6);
    }
  }
}
