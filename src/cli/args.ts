// A small flag parser for the CLI: `--name value` and `--flag`, nothing else.
// Each command names the options it accepts, so a misspelt one is an error
// instead of a silently ignored setting.

export class CliError extends Error {}

export class Args {
  private readonly values = new Map<string, string | true>();

  constructor(argv: string[], accepted: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (!arg.startsWith('--')) throw new CliError(`unexpected argument '${arg}'`);
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (!accepted.includes(name)) {
        throw new CliError(`unknown option --${name} (accepted: ${accepted.map((a) => `--${a}`).join(', ')})`);
      }
      if (eq > 0) { this.values.set(name, arg.slice(eq + 1)); continue; }
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) { this.values.set(name, next); i++; }
      else this.values.set(name, true);
    }
  }

  string(name: string): string | undefined {
    const value = this.values.get(name);
    if (value === true) throw new CliError(`--${name} needs a value`);
    return value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw new CliError(`--${name} is required`);
    return value;
  }

  number(name: string, fallback?: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got '${value}'`);
    return n;
  }

  /** An integer ≥ min (default 0). */
  integer(name: string, fallback: number, min = 0): number {
    const n = this.number(name, fallback)!;
    if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer ≥ ${min}, got '${this.string(name)}'`);
    return n;
  }

  flag(name: string): boolean {
    return this.values.has(name);
  }
}
