/**
 * A fixture holds only the fields its test is about, where the reconcilers' types want whole
 * objects as the API server stores them: one named cast for fixtures, instead of `any` in tests.
 */
export function partial<T>(fixture: unknown): T {
  return fixture as T
}

/** The fields of T, each optional and of any shape: what a test passes to override a fixture's. */
export type Loose<T> = {[K in keyof T]?: unknown}
