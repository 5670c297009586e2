import type {RuntimeModel} from './model.js'
import {DEFAULT_LIMIT, FORMATS, MAX_LIMIT} from './port-query.js'

const error = {$ref: '#/components/responses/Error'}

/** The OpenAPI 3 document of the runtime's API, with the product's own ports and workflows as enums. */
export function openApiDocument(model: RuntimeModel): Record<string, unknown> {
  const ports = [...model.ports.keys()]
  const inputs = [...model.inputs.keys()]
  const workflows = [...model.workflows.keys()]
  const portParam = {name: 'port', in: 'path', required: true, schema: {type: 'string', ...(ports.length > 0 ? {enum: ports} : {})}}
  return {
    openapi: '3.0.3',
    info: {title: `dappmesh runtime of product ${model.product}`, version: '1', description: 'Serves the output ports, ingests pushes into the input ports and runs the workflows of one data product (DESIGN §7).'},
    components: {
      securitySchemes: {kubernetes: {type: 'http', scheme: 'bearer', description: 'A Kubernetes token (TokenReview); a DataRole must grant the subject read (ports) or write (pushes, runs). Not required by a local runtime started without --auth.'}},
      responses: {Error: {description: 'An error', content: {'application/json': {schema: {$ref: '#/components/schemas/Error'}}}}},
      schemas: {
        Error: {type: 'object', required: ['error'], properties: {error: {type: 'object', required: ['message'], properties: {message: {type: 'string'}, status: {type: 'integer'}}, additionalProperties: true}}},
        Page: {type: 'object', required: ['rows', 'next'], properties: {rows: {type: 'array', items: {type: 'object'}}, next: {type: 'string', nullable: true, description: 'cursor of the next page (null on the last page)'}}},
        PushResult: {type: 'object', properties: {port: {type: 'string'}, push: {type: 'string'}, accepted: {type: 'integer'}, rejected: {type: 'integer'}, rejections: {type: 'array', items: {type: 'object', properties: {row: {type: 'integer'}, reason: {type: 'string'}}}}}},
        Run: {type: 'object', properties: {id: {type: 'string'}, workflow: {type: 'string'}, status: {type: 'string', enum: ['running', 'succeeded', 'failed', 'timed-out', 'abandoned']}, startedAt: {type: 'string'}, finishedAt: {type: 'string', nullable: true}, ms: {type: 'integer', nullable: true}, activities: {type: 'array', items: {type: 'object'}}, result: {}, error: {type: 'string', nullable: true}}},
      },
    },
    security: [{kubernetes: []}],
    paths: {
      '/v1/ports': {get: {summary: 'Output ports: contract id and version, schema ref, row count, last run', responses: {200: {description: 'the ports'}, 401: error, 403: error}}},
      '/v1/ports/{port}': {
        get: {
          summary: 'Rows of the state an output port serves, one page, streamed',
          parameters: [
            portParam,
            {name: 'format', in: 'query', schema: {type: 'string', enum: FORMATS}, description: 'or Accept: application/json, application/x-ndjson, text/csv, application/vnd.apache.parquet'},
            {name: 'limit', in: 'query', schema: {type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT}},
            {name: 'cursor', in: 'query', schema: {type: 'string'}, description: 'the `next` of the previous page (JSON body, or the Dappmesh-Next-Cursor trailer of the other formats)'},
            {name: 'fields', in: 'query', schema: {type: 'string'}, description: 'comma-separated fields to return'},
            {name: 'filters', in: 'query', style: 'form', explode: true, schema: {type: 'object', additionalProperties: {type: 'string'}}, description: '<field>=<value>: rows whose field equals the value'},
            {name: 'If-None-Match', in: 'header', schema: {type: 'string'}},
          ],
          responses: {
            200: {description: 'a page', headers: {ETag: {schema: {type: 'string'}}}, content: {'application/json': {schema: {$ref: '#/components/schemas/Page'}}, 'application/x-ndjson': {}, 'text/csv': {}, 'application/vnd.apache.parquet': {}}},
            304: {description: 'not modified since the ETag'},
            400: error,
            401: error,
            403: error,
            404: error,
            409: error,
          },
        },
      },
      '/v1/ports/{port}/contract': {get: {summary: 'The ODCS contract document of the port', parameters: [portParam], responses: {200: {description: 'the document'}, 404: error}}},
      '/v1/ports/{port}/schema': {get: {summary: 'The fields of the state the port serves', parameters: [portParam], responses: {200: {description: 'the schema'}, 404: error}}},
      '/v1/inputs/{port}': {
        post: {
          summary: 'Push rows into an input port (schema-checked; a retried push with the same Idempotency-Key lands once)',
          parameters: [
            {name: 'port', in: 'path', required: true, schema: {type: 'string', ...(inputs.length > 0 ? {enum: inputs} : {})}},
            {name: 'Idempotency-Key', in: 'header', schema: {type: 'string', maxLength: 200}},
            {name: 'format', in: 'query', schema: {type: 'string', enum: ['ndjson', 'json', 'csv', 'parquet']}, description: 'instead of Content-Type'},
          ],
          requestBody: {required: true, content: {'application/x-ndjson': {}, 'application/json': {}, 'text/csv': {}, 'application/vnd.apache.parquet': {}}},
          responses: {200: {description: 'rows accepted (some may be rejected)', content: {'application/json': {schema: {$ref: '#/components/schemas/PushResult'}}}}, 400: error, 404: error, 413: error, 415: error, 422: error},
        },
      },
      '/v1/workflows/{workflow}/runs': {
        post: {
          summary: 'Start a run of a workflow (202; poll the run)',
          parameters: [{name: 'workflow', in: 'path', required: true, schema: {type: 'string', ...(workflows.length > 0 ? {enum: workflows} : {})}}],
          responses: {202: {description: 'started', content: {'application/json': {schema: {$ref: '#/components/schemas/Run'}}}}, 404: error, 409: error},
        },
      },
      '/v1/runs/{id}': {get: {summary: 'A run and its activities', parameters: [{name: 'id', in: 'path', required: true, schema: {type: 'string'}}], responses: {200: {description: 'the run', content: {'application/json': {schema: {$ref: '#/components/schemas/Run'}}}}, 404: error}}},
      '/healthz': {get: {summary: 'The process is alive', security: [], responses: {200: {description: 'alive'}}}},
      '/readyz': {get: {summary: 'Storage reachable and model loaded', security: [], responses: {200: {description: 'ready'}, 503: error}}},
      '/metrics': {get: {summary: 'Prometheus metrics', security: [], responses: {200: {description: 'text exposition format'}}}},
      '/v1/openapi.json': {get: {summary: 'This document', responses: {200: {description: 'OpenAPI 3'}}}},
    },
  }
}
