/** ODCS comparison operators of a quality rule (§7). */
export const OPERATORS = [
  'mustBe', 'mustNotBe', 'mustBeGreaterThan', 'mustBeGreaterOrEqualTo', 'mustBeLessThan', 'mustBeLessOrEqualTo', 'mustBeBetween', 'mustNotBeBetween',
] as const
export type Operator = (typeof OPERATORS)[number]

export interface Expectation {
  operator: Operator
  /** A number, or [low, high] for the between operators. */
  operand: number | [number, number]
}

/** The operator a rule states, if any; a between operand must be two numbers. */
export function expectationOf(rule: Record<string, unknown>): Expectation | {error: string} | undefined {
  const operator = OPERATORS.find((o) => rule[o] !== undefined)
  if (!operator) return undefined
  const raw = rule[operator]
  if (operator === 'mustBeBetween' || operator === 'mustNotBeBetween') {
    if (!Array.isArray(raw) || raw.length !== 2 || raw.some((x) => typeof x !== 'number')) return {error: `${operator} needs two numbers, [low, high]`}
    return {operator, operand: [raw[0], raw[1]]}
  }
  if (typeof raw !== 'number') return {error: `${operator} needs a number`}
  return {operator, operand: raw}
}

export function holds(value: number, {operator, operand}: Expectation): boolean {
  switch (operator) {
    case 'mustBe': return value === operand
    case 'mustNotBe': return value !== operand
    case 'mustBeGreaterThan': return value > (operand as number)
    case 'mustBeGreaterOrEqualTo': return value >= (operand as number)
    case 'mustBeLessThan': return value < (operand as number)
    case 'mustBeLessOrEqualTo': return value <= (operand as number)
    case 'mustBeBetween': return value >= (operand as [number, number])[0] && value <= (operand as [number, number])[1]
    case 'mustNotBeBetween': return value < (operand as [number, number])[0] || value > (operand as [number, number])[1]
  }
}

export function describeExpectation({operator, operand}: Expectation): string {
  return `${operator} ${Array.isArray(operand) ? `[${operand.join(', ')}]` : operand}`
}
