/** Downloads a text document with a time and size limit (the product-names list is about 1 MB). */
export async function download(url: string, timeoutMs: number, maxBytes: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new Error(`it is larger than ${maxBytes} bytes`);
  if (!response.body) throw new Error('empty response');
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`it is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A one-line reason for a log message. */
export function reason(error: unknown): string {
  // Duck-typed: fetch's DOMException is not always an instance of this realm's Error.
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { name, message, cause } = error as { name?: unknown; message?: unknown; cause?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
    const detail =
      typeof cause === 'object' && cause !== null && 'message' in cause ? `: ${String(cause.message)}` : '';
    return `${String(message)}${detail}`;
  }
  return String(error);
}
