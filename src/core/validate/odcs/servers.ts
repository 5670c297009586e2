import {type JsonSchema, SFTP_URI, branch, customProperties, idOf, integer, string, uri} from './common.js'
import {type OdcsVersion, atLeast, closedEverywhere} from './versions.js'

interface ServerType {
  properties: Record<string, unknown>
  required: string[]
}

const FILE_FORMATS = ['parquet', 'delta', 'json', 'csv']
const JSON_DELIMITERS = ['new_line', 'array']
const hostPortDatabase = {host: string, port: integer, database: string}
const hostPortDatabaseSchema = {...hostPortDatabase, schema: string}

/** What each server type adds to a server, and which of it is required, in `version`. */
function serverTypes(version: OdcsVersion): Record<string, ServerType> {
  // 3.1.0 stopped restricting file formats (any format an engine reads is fine).
  const format = atLeast(version, '3.1.0') ? string : {type: 'string', enum: FILE_FORMATS}
  const delimiter = atLeast(version, '3.1.0') ? string : {type: 'string', enum: JSON_DELIMITERS}
  const types: Record<string, ServerType> = {
    api: {properties: {location: uri}, required: ['location']},
    // Up to 3.0.1 the official schema requires `staging_dir` although the field is `stagingDir`;
    // kept, since agreeing with each version's schema is the point.
    athena: {
      properties: {stagingDir: uri, schema: string, catalog: string, regionName: string},
      required: [atLeast(version, '3.0.2') ? 'stagingDir' : 'staging_dir', 'schema'],
    },
    azure: {properties: {location: uri, format, delimiter}, required: ['location', 'format']},
    bigquery: {properties: {project: string, dataset: string}, required: ['project', 'dataset']},
    clickhouse: {properties: hostPortDatabase, required: ['host', 'port', 'database']},
    databricks: {properties: {host: string, catalog: string, schema: string}, required: ['catalog', 'schema']},
    denodo: {properties: hostPortDatabase, required: ['host', 'port']},
    dremio: {properties: {host: string, port: integer, schema: string}, required: ['host', 'port']},
    // 3.0.x types the DuckDB schema as an integer (a slip that 3.1.0 fixed); kept for agreement.
    duckdb: {properties: {database: string, schema: atLeast(version, '3.1.0') ? string : integer}, required: ['database']},
    glue: {properties: {account: string, database: string, location: uri, format: string}, required: ['account', 'database']},
    cloudsql: {properties: hostPortDatabaseSchema, required: ['host', 'port', 'database', 'schema']},
    db2: {properties: hostPortDatabaseSchema, required: ['host', 'port', 'database']},
    informix: {properties: hostPortDatabase, required: ['host', 'database']},
    kafka: {properties: {host: string, format: string}, required: ['host']},
    kinesis: {properties: {region: string, format: string}, required: []},
    local: {properties: {path: string, format: string}, required: ['path', 'format']},
    mysql: {properties: hostPortDatabase, required: ['host', 'port', 'database']},
    oracle: {properties: {host: string, port: integer, serviceName: string}, required: ['host', 'port', 'serviceName']},
    postgresql: {properties: hostPortDatabaseSchema, required: ['host', 'port', 'database', 'schema']},
    postgres: {properties: hostPortDatabaseSchema, required: ['host', 'port', 'database', 'schema']},
    presto: {properties: {host: string, catalog: string, schema: string}, required: ['host']},
    pubsub: {properties: {project: string}, required: ['project']},
    redshift: {properties: {host: string, database: string, schema: string, region: string, account: string}, required: ['database', 'schema']},
    s3: {properties: {location: uri, endpointUrl: uri, format, delimiter}, required: ['location']},
    sftp: {properties: {location: {type: 'string', pattern: SFTP_URI}, format, delimiter}, required: ['location']},
    snowflake: {properties: {host: string, port: integer, account: string, database: string, schema: string, warehouse: string}, required: ['account', 'database', 'schema']},
    sqlserver: {properties: hostPortDatabaseSchema, required: ['host', 'database', 'schema']},
    synapse: {properties: hostPortDatabase, required: ['host', 'port', 'database']},
    trino: {properties: {host: string, port: integer, catalog: string, schema: string}, required: ['host', 'port', 'catalog', 'schema']},
    vertica: {properties: hostPortDatabaseSchema, required: ['host', 'port', 'database', 'schema']},
    custom: {
      properties: {
        account: string, catalog: string, database: string, dataset: string, delimiter: string, endpointUrl: uri, format: string, host: string,
        location: uri, path: string, port: integer, project: string, region: string, regionName: string, schema: string, serviceName: string,
        stagingDir: string, warehouse: string, ...(atLeast(version, '3.1.0') ? {stream: string} : {}),
      },
      required: [],
    },
  }
  if (atLeast(version, '3.1.0')) {
    types.hive = {properties: hostPortDatabase, required: ['host', 'database']}
    types.impala = {properties: hostPortDatabase, required: ['host', 'database']}
    types.zen = {properties: hostPortDatabase, required: ['host', 'database']}
  }
  return types
}

/**
 * A server: what every server has, plus what its `type` adds.
 */
export function server(version: OdcsVersion): JsonSchema {
  const closed = closedEverywhere(version)
  const types = serverTypes(version)
  const names = Object.keys(types).sort()
  const common = {
    ...idOf(version),
    server: string,
    type: {type: 'string', enum: names},
    description: string,
    environment: string,
    roles: {type: 'array', items: {$ref: '#/definitions/role'}},
    customProperties,
  }
  // One if/then per type (at most one applies). An unknown or missing type is the one thing to
  // report then: which other keys belong depends on it.
  const perType = names.map((name) => ({
    if: {type: 'object', required: ['type'], properties: {type: {const: name}}},
    then: branch(common, types[name].properties, {required: types[name].required, closed}),
  }))
  return {type: 'object', required: ['server', 'type'], properties: common, allOf: perType}
}
