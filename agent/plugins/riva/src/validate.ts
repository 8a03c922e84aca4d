/** Tiny option checks with messages that name the option (no schema library: the plugin stays dependency-light). */
export function check(label: string, name: string, value: unknown) {
  const fail = (expected: string): never => {
    throw new Error(`${label}: invalid option "${name}": expected ${expected}, got ${JSON.stringify(value)}`);
  };
  return {
    int(min: number, max: number): void {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(`an integer between ${min} and ${max}`);
      }
    },
    num(min: number, max: number): void {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
        fail(`a number between ${min} and ${max}`);
      }
    },
    bool(): void {
      if (typeof value !== 'boolean') fail('a boolean');
    },
    string(): void {
      if (typeof value !== 'string') fail('a string');
    },
    nonEmptyString(): void {
      if (typeof value !== 'string' || !value.trim()) fail('a non-empty string');
    },
    oneOf(values: readonly (string | number)[]): void {
      if (!values.includes(value as string | number)) fail(`one of ${values.join(', ')}`);
    },
  };
}
