import {type JsonSchema, anyScalar, authoritativeDefinition, authoritativeDefinitions, customProperties, customProperty, dateTime, idOf, number, object, string, tags} from './common.js'
import {elementDefinitions, schemaObject} from './elements.js'
import {role, supportItem, team} from './people.js'
import {qualityCheck} from './quality.js'
import {server} from './servers.js'
import {type OdcsVersion, apiVersions, atLeast, closedEverywhere} from './versions.js'

/*
 * One JSON Schema per released ODCS version, written for dappmesh from the rules of that
 * version's official schema (bitol-io/open-data-contract-standard, schema/odcs-json-schema-v*.json):
 * what is closed there is closed here, what is required there is required here. Objects the
 * standard leaves open up to 3.0.2 (servers, quality checks, team, support, roles ...) stay open
 * here too, so that a contract valid by the standard is valid for dappmesh.
 */

function slaProperty(version: OdcsVersion): JsonSchema {
  const since31 = atLeast(version, '3.1.0')
  return object(
    {
      ...idOf(version),
      property: string,
      value: anyScalar,
      valueExt: anyScalar,
      unit: string,
      element: string,
      driver: string,
      ...(since31 ? {description: string, schedule: string, scheduler: string} : {}),
    },
    {required: ['property', 'value'], closed: since31},
  )
}

function price(version: OdcsVersion): JsonSchema {
  return object({...idOf(version), priceAmount: number, priceCurrency: string, priceUnit: string}, {closed: closedEverywhere(version)})
}

function description(version: OdcsVersion): JsonSchema {
  // Open in every version; 3.0.1 added the typed lists.
  return object(
    {
      usage: string,
      purpose: string,
      limitations: string,
      ...(atLeast(version, '3.0.1') ? {authoritativeDefinitions, customProperties: customProperties} : {}),
    },
    {closed: false},
  )
}

/** The JSON Schema of an ODCS contract document of `version`. */
export function odcsSchema(version: OdcsVersion): JsonSchema {
  return {
    $id: `https://dappmesh.io/schemas/odcs-${version}.json`,
    definitions: {
      ...elementDefinitions(version),
      customProperty: customProperty(version),
      authoritativeDefinition: authoritativeDefinition(version),
      qualityCheck: qualityCheck(version),
      role: role(version),
    },
    ...object(
      {
        version: string,
        kind: {type: 'string', enum: ['DataContract']},
        apiVersion: {type: 'string', enum: apiVersions(version)},
        id: string,
        name: string,
        // 3.0.0 still had a top-level `type` (e.g. Tables); 3.0.1 dropped it.
        ...(version === '3.0.0' ? {type: string} : {}),
        tenant: string,
        tags,
        status: string,
        servers: {type: 'array', items: server(version)},
        dataProduct: string,
        description: description(version),
        domain: string,
        schema: {type: 'array', items: schemaObject(version)},
        support: {type: 'array', items: supportItem(version)},
        price: price(version),
        team: team(version),
        roles: {type: 'array', items: {$ref: '#/definitions/role'}},
        slaDefaultElement: string,
        slaProperties: {type: 'array', items: slaProperty(version)},
        ...(atLeast(version, '3.0.1') ? {authoritativeDefinitions: authoritativeDefinitions} : {}),
        customProperties,
        contractCreatedTs: dateTime,
      },
      {required: ['version', 'apiVersion', 'kind', 'id', 'status'], closed: true},
    ),
  }
}
