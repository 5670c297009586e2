/**
 * What a scaffolded entity holds: the fields of its `raw` and `clean` states, the SQL of the
 * transition between them, and a few sample rows. A known entity (orders, customers, products,
 * payments, events, invoices, users, …) gets fields that fit its name; any other name gets a
 * generic record. Every model here is checked by the tests: its SQL binds in DuckDB (the
 * validate rule `sql`), its rows pass the raw state's schema, and `expected` is what the
 * transition makes of them (a data test compares exactly that).
 */
import type {DataSchema} from '../model/types.js'

export type Field = DataSchema['spec']['versions'][number]['states'][number]['fields'][number]

/** A row as CSV cells, in the order of the state's fields; null is an empty cell. */
export type Row = Array<string | null>

export interface EntityModel {
  /** What one record is, for descriptions: "an order placed by a customer". */
  noun: string
  raw: Field[]
  clean: Field[]
  /** SELECT … FROM raw: the `clean` transition. */
  sql: string
  /** Sample rows of the raw state (data/<input-port>.csv and the data test's input). */
  rows: Row[]
  /** The clean state's rows the transition makes of `rows` (the data test's expectation). */
  expected: Row[]
}

const id = (name = 'id'): Field => ({name, type: 'string', required: true, primaryKey: true})
const email = (name: string): Field => ({name, type: 'string', pii: true, classification: 'confidential'})

const MODELS: Record<string, EntityModel> = {
  order: {
    noun: 'an order placed by a customer',
    raw: [id(), {name: 'customer_id', type: 'string', required: true}, email('customer_email'), {name: 'amount', type: 'decimal', required: true}, {name: 'currency', type: 'string'}, {name: 'placed_at', type: 'timestamp', required: true}],
    clean: [id(), {name: 'customer_id', type: 'string', required: true}, email('customer_email'), {name: 'amount', type: 'decimal', required: true}, {name: 'currency', type: 'string', required: true}, {name: 'placed_at', type: 'timestamp', required: true}],
    sql: "SELECT id, customer_id, lower(trim(customer_email)) AS customer_email, amount, upper(coalesce(currency, 'EUR')) AS currency, placed_at FROM raw WHERE amount >= 0",
    rows: [
      ['o-1001', 'c-1', 'Ada@Example.com', '25.50', 'eur', '2024-05-01 09:15:00'],
      ['o-1002', 'c-2', 'grace@example.com', '120.00', null, '2024-05-01 11:42:10'],
      ['o-1003', 'c-1', 'ada@example.com', '-5.00', 'EUR', '2024-05-02 08:00:00'],
      ['o-1004', 'c-3', ' alan@example.com ', '9.99', 'usd', '2024-05-02 17:30:45'],
    ],
    expected: [
      ['o-1001', 'c-1', 'ada@example.com', '25.50', 'EUR', '2024-05-01 09:15:00'],
      ['o-1002', 'c-2', 'grace@example.com', '120.00', 'EUR', '2024-05-01 11:42:10'],
      ['o-1004', 'c-3', 'alan@example.com', '9.99', 'USD', '2024-05-02 17:30:45'],
    ],
  },
  customer: {
    noun: 'a customer of the shop',
    raw: [id(), email('email'), {name: 'name', type: 'string', pii: true, classification: 'confidential'}, {name: 'country', type: 'string'}, {name: 'signed_up_at', type: 'timestamp', required: true}],
    clean: [id(), {...email('email'), required: true}, {name: 'name', type: 'string', pii: true, classification: 'confidential'}, {name: 'country', type: 'string'}, {name: 'signed_up_at', type: 'timestamp', required: true}],
    sql: 'SELECT id, lower(trim(email)) AS email, trim(name) AS name, upper(country) AS country, signed_up_at FROM raw WHERE email IS NOT NULL',
    rows: [
      ['c-1', 'Ada@Example.com', 'Ada Lovelace ', 'gb', '2024-01-10 10:00:00'],
      ['c-2', 'grace@example.com', 'Grace Hopper', 'us', '2024-02-20 14:30:00'],
      ['c-3', null, 'Anonymous', 'fr', '2024-03-05 08:45:00'],
    ],
    expected: [
      ['c-1', 'ada@example.com', 'Ada Lovelace', 'GB', '2024-01-10 10:00:00'],
      ['c-2', 'grace@example.com', 'Grace Hopper', 'US', '2024-02-20 14:30:00'],
    ],
  },
  product: {
    noun: 'a product in the catalogue',
    raw: [id('sku'), {name: 'name', type: 'string', required: true}, {name: 'category', type: 'string'}, {name: 'price', type: 'decimal', required: true}, {name: 'in_stock', type: 'integer'}],
    clean: [id('sku'), {name: 'name', type: 'string', required: true}, {name: 'category', type: 'string', required: true}, {name: 'price', type: 'decimal', required: true}, {name: 'available', type: 'boolean', required: true}],
    sql: "SELECT sku, trim(name) AS name, coalesce(lower(category), 'other') AS category, price, coalesce(in_stock, 0) > 0 AS available FROM raw WHERE price >= 0",
    rows: [
      ['sku-1', 'Teapot', 'Kitchen', '19.90', '12'],
      ['sku-2', 'Mug ', null, '6.50', '0'],
      ['sku-3', 'Kettle', 'kitchen', '-1.00', '3'],
    ],
    expected: [
      ['sku-1', 'Teapot', 'kitchen', '19.90', 'true'],
      ['sku-2', 'Mug', 'other', '6.50', 'false'],
    ],
  },
  payment: {
    noun: 'a payment for an order',
    raw: [id(), {name: 'order_id', type: 'string', required: true}, {name: 'amount', type: 'decimal', required: true}, {name: 'method', type: 'string'}, {name: 'paid_at', type: 'timestamp', required: true}],
    clean: [id(), {name: 'order_id', type: 'string', required: true}, {name: 'amount', type: 'decimal', required: true}, {name: 'method', type: 'string', required: true}, {name: 'paid_on', type: 'date', required: true}],
    sql: "SELECT id, order_id, amount, coalesce(lower(method), 'unknown') AS method, CAST(paid_at AS DATE) AS paid_on FROM raw WHERE amount > 0",
    rows: [
      ['p-1', 'o-1001', '25.50', 'CARD', '2024-05-01 09:16:00'],
      ['p-2', 'o-1002', '120.00', null, '2024-05-01 23:59:59'],
      ['p-3', 'o-1003', '0.00', 'card', '2024-05-02 08:01:00'],
    ],
    expected: [
      ['p-1', 'o-1001', '25.50', 'card', '2024-05-01'],
      ['p-2', 'o-1002', '120.00', 'unknown', '2024-05-01'],
    ],
  },
  event: {
    noun: 'an event a user caused',
    raw: [id(), {name: 'type', type: 'string', required: true}, {name: 'user_id', type: 'string'}, {name: 'occurred_at', type: 'timestamp', required: true}],
    clean: [id(), {name: 'type', type: 'string', required: true}, {name: 'user_id', type: 'string', required: true}, {name: 'occurred_at', type: 'timestamp', required: true}, {name: 'day', type: 'date', required: true}],
    sql: 'SELECT id, lower(type) AS type, user_id, occurred_at, CAST(occurred_at AS DATE) AS day FROM raw WHERE user_id IS NOT NULL',
    rows: [
      ['e-1', 'PageView', 'u-1', '2024-05-01 09:00:00'],
      ['e-2', 'click', 'u-2', '2024-05-01 09:00:05'],
      ['e-3', 'click', null, '2024-05-02 10:00:00'],
    ],
    expected: [
      ['e-1', 'pageview', 'u-1', '2024-05-01 09:00:00', '2024-05-01'],
      ['e-2', 'click', 'u-2', '2024-05-01 09:00:05', '2024-05-01'],
    ],
  },
  invoice: {
    noun: 'an invoice sent to a customer',
    raw: [id(), {name: 'customer_id', type: 'string', required: true}, {name: 'total', type: 'decimal', required: true}, {name: 'issued_on', type: 'date', required: true}, {name: 'paid', type: 'boolean'}],
    clean: [id(), {name: 'customer_id', type: 'string', required: true}, {name: 'total', type: 'decimal', required: true}, {name: 'issued_on', type: 'date', required: true}, {name: 'paid', type: 'boolean', required: true}],
    sql: 'SELECT id, customer_id, total, issued_on, coalesce(paid, false) AS paid FROM raw WHERE total >= 0',
    rows: [
      ['i-1', 'c-1', '145.50', '2024-05-31', 'true'],
      ['i-2', 'c-2', '9.99', '2024-05-31', null],
      ['i-3', 'c-3', '-10.00', '2024-06-01', 'false'],
    ],
    expected: [
      ['i-1', 'c-1', '145.50', '2024-05-31', 'true'],
      ['i-2', 'c-2', '9.99', '2024-05-31', 'false'],
    ],
  },
  user: {
    noun: 'a user account',
    raw: [id(), email('email'), {name: 'display_name', type: 'string'}, {name: 'created_at', type: 'timestamp', required: true}, {name: 'last_login_at', type: 'timestamp'}],
    clean: [id(), {...email('email'), required: true}, {name: 'display_name', type: 'string', required: true}, {name: 'created_at', type: 'timestamp', required: true}, {name: 'active', type: 'boolean', required: true}],
    sql: 'SELECT id, lower(trim(email)) AS email, coalesce(trim(display_name), id) AS display_name, created_at, last_login_at IS NOT NULL AS active FROM raw WHERE email IS NOT NULL',
    rows: [
      ['u-1', 'Ada@Example.com', 'ada', '2024-01-10 10:00:00', '2024-05-01 09:00:00'],
      ['u-2', 'grace@example.com', null, '2024-02-20 14:30:00', null],
      ['u-3', null, 'ghost', '2024-03-01 00:00:00', null],
    ],
    expected: [
      ['u-1', 'ada@example.com', 'ada', '2024-01-10 10:00:00', 'true'],
      ['u-2', 'grace@example.com', 'u-2', '2024-02-20 14:30:00', 'false'],
    ],
  },
}

/** Names a known model goes by, singular (the plural adds an s). */
const ALIASES: Record<string, string> = {
  purchase: 'order', sale: 'order', client: 'customer', item: 'product', article: 'product', transaction: 'payment',
  activity: 'event', click: 'event', bill: 'invoice', account: 'user', member: 'user',
}

/** The generic record for a name no model fits: an identifier, a name, a quantity and a time. */
const GENERIC: EntityModel = {
  noun: 'a record',
  raw: [id(), {name: 'name', type: 'string'}, {name: 'quantity', type: 'integer'}, {name: 'recorded_at', type: 'timestamp', required: true}],
  clean: [id(), {name: 'name', type: 'string', required: true}, {name: 'quantity', type: 'integer', required: true}, {name: 'recorded_at', type: 'timestamp', required: true}],
  sql: "SELECT id, coalesce(trim(name), 'unnamed') AS name, quantity, recorded_at FROM raw WHERE quantity >= 0",
  rows: [
    ['r-1', 'first ', '3', '2024-05-01 09:00:00'],
    ['r-2', null, '0', '2024-05-01 10:30:00'],
    ['r-3', 'broken', '-1', '2024-05-02 12:00:00'],
  ],
  expected: [
    ['r-1', 'first', '3', '2024-05-01 09:00:00'],
    ['r-2', 'unnamed', '0', '2024-05-01 10:30:00'],
  ],
}

function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`
  if (word.endsWith('ses')) return word.slice(0, -2)
  return word.endsWith('s') ? word.slice(0, -1) : word
}

/** The model of a known entity name (or of its last `-` part: `web-orders`), else undefined. */
export function knownModel(entity: string): EntityModel | undefined {
  for (const word of [entity, entity.split('-').at(-1) ?? entity]) {
    const one = singular(word)
    const name = Object.hasOwn(MODELS, one) ? one : ALIASES[one]
    if (name && Object.hasOwn(MODELS, name)) return MODELS[name]
  }
  return undefined
}

export function entityModel(entity: string): EntityModel {
  return knownModel(entity) ?? GENERIC
}

/** Every model, for tests that check each one against DuckDB. */
export function allModels(): Array<[string, EntityModel]> {
  return [...Object.entries(MODELS), ['generic', GENERIC]]
}

/** RFC 4180 CSV: a header and one line per row; null is an empty cell, and cells with `,` `"` or spaces at an end are quoted. */
export function toCsv(fields: readonly Field[], rows: readonly Row[]): string {
  const cell = (v: string | null) => (v === null ? '' : /[",\r\n]|^\s|\s$/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v)
  return [fields.map((f) => cell(f.name)).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n'
}
