/**
 * The part of the Open Data Contract Standard v3 (bitol-io, Apache-2.0) that dappmesh checks,
 * written from the standard's documentation. The top level is closed, as the standard says:
 * extensions belong under customProperties.
 */
export const ODCS_LOGICAL_TYPES: Record<string, readonly string[]> = {
  '3.0': ['string', 'date', 'number', 'integer', 'object', 'array', 'boolean'],
  // Later minors add time types of their own.
  later: ['string', 'date', 'timestamp', 'time', 'number', 'integer', 'object', 'array', 'boolean'],
}

const customProperties = {
  type: 'array',
  items: {type: 'object', required: ['property'], properties: {property: {type: 'string'}, value: {}}},
} as const
const authoritativeDefinitions = {
  type: 'array',
  items: {type: 'object', required: ['url', 'type'], properties: {url: {type: 'string'}, type: {type: 'string'}}},
} as const
const quality = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      type: {type: 'string', enum: ['text', 'library', 'sql', 'custom']},
      rule: {type: 'string'},
      description: {type: 'string'},
      dimension: {type: 'string'},
      severity: {type: 'string'},
      query: {type: 'string'},
    },
  },
} as const
const tags = {type: 'array', items: {type: 'string'}} as const

function property(logicalTypes: readonly string[]): Record<string, unknown> {
  return {
    type: 'object',
    required: ['name'],
    properties: {
      name: {type: 'string', minLength: 1},
      logicalType: {type: 'string', enum: logicalTypes},
      physicalType: {type: 'string'},
      physicalName: {type: 'string'},
      businessName: {type: 'string'},
      description: {type: 'string'},
      required: {type: 'boolean'},
      primaryKey: {type: 'boolean'},
      primaryKeyPosition: {type: 'integer'},
      unique: {type: 'boolean'},
      partitioned: {type: 'boolean'},
      partitionKeyPosition: {type: 'integer'},
      classification: {type: 'string'},
      criticalDataElement: {type: 'boolean'},
      encryptedName: {type: 'string'},
      examples: {type: 'array'},
      logicalTypeOptions: {type: 'object'},
      tags,
      quality,
      customProperties,
      authoritativeDefinitions,
    },
  }
}

export function odcsSchema(minor: '3.0' | 'later'): Record<string, unknown> {
  return {
    $id: `https://dappmesh.io/schemas/odcs-${minor}.json`,
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'id', 'version', 'status'],
    properties: {
      apiVersion: {type: 'string', pattern: '^v3\\.[0-9]+\\.[0-9]+$'},
      kind: {type: 'string', enum: ['DataContract']},
      id: {type: 'string', minLength: 1},
      version: {type: 'string', minLength: 1},
      status: {type: 'string', minLength: 1},
      name: {type: 'string'},
      tenant: {type: 'string'},
      domain: {type: 'string'},
      dataProduct: {type: 'string'},
      description: {
        type: 'object',
        properties: {purpose: {type: 'string'}, limitations: {type: 'string'}, usage: {type: 'string'}, authoritativeDefinitions, customProperties},
      },
      schema: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name'],
          properties: {
            name: {type: 'string', minLength: 1},
            logicalType: {type: 'string', enum: ['object']},
            physicalType: {type: 'string'},
            physicalName: {type: 'string'},
            businessName: {type: 'string'},
            description: {type: 'string'},
            dataGranularityDescription: {type: 'string'},
            properties: {type: 'array', items: property(ODCS_LOGICAL_TYPES[minor])},
            tags,
            quality,
            customProperties,
            authoritativeDefinitions,
          },
        },
      },
      servers: {type: 'array', items: {type: 'object', required: ['server', 'type'], properties: {server: {type: 'string'}, type: {type: 'string'}}}},
      team: {type: 'array', items: {type: 'object', properties: {username: {type: 'string'}, role: {type: 'string'}}}},
      roles: {type: 'array', items: {type: 'object', required: ['role'], properties: {role: {type: 'string'}, access: {type: 'string'}}}},
      support: {type: 'array', items: {type: 'object', required: ['channel', 'url'], properties: {channel: {type: 'string'}, url: {type: 'string'}}}},
      slaDefaultElement: {type: 'string'},
      slaProperties: {type: 'array', items: {type: 'object', required: ['property', 'value'], properties: {property: {type: 'string'}}}},
      price: {type: 'object', properties: {priceAmount: {type: 'number'}, priceCurrency: {type: 'string'}, priceUnit: {type: 'string'}}},
      tags,
      customProperties,
      authoritativeDefinitions,
      contractCreatedTs: {type: 'string'},
    },
  }
}
