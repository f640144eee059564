/**
 * A decision of the expert system: what was chosen, why (one sentence a user can read in the
 * report), and the measured figures that made it. Every rule in src/strategies returns one.
 */
export interface Decision<T> {
  rule: string;
  choice: T;
  reason: string;
  figures: Record<string, number | string | boolean | null>;
}

export function decision<T>(rule: string, choice: T, reason: string, figures: Decision<T>['figures'] = {}): Decision<T> {
  return { rule, choice, reason, figures };
}
