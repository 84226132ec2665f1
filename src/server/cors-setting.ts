// The CORS setting as the entries read it from text (CLI --cors, EDGESEEK_CORS,
// the Worker's CORS_ORIGINS var): "*" or "true" for any origin, "none" or
// "false" for none, else a comma-separated list of origins. Unset keeps
// createApp's default (see AppOptions.cors).
export function corsSetting(text: string | undefined): boolean | string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = text.trim().toLowerCase();
  if (value === '*' || value === 'true') return true;
  if (value === 'none' || value === 'false') return false;
  const origins = text.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new Error(`CORS origin '${origin}' is not an origin like https://example.com (no path); use *, none, or a comma-separated list`);
  }
  return origins;
}
