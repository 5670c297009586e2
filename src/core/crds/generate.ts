import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

import type {CustomResourceDefinition, JSONSchemaProps, ObjectMeta, Typed} from '../kube/types.js'
import {PRODUCT_SEPARATOR} from '../model/child-names.js'
import {GROUP, KINDS, type KindInfo, VERSION} from '../model/kinds.js'
import {SYSTEM_NAMESPACE_NAME} from '../model/schemas/common.js'
import {toStructural} from './structural.js'

export const SCHEMA_HASH_ANNOTATION = 'dappmesh.io/schema-hash'
/**
 * The version of the dappmesh that installed a CRD's schema: an older dappmesh, whose schema hash
 * differs, must not replace a newer one's (objects stored with newer fields would fail its
 * validation, or lose them on the next write). Not part of the hash.
 */
export const CLI_VERSION_ANNOTATION = 'dappmesh.io/cli-version'

let cliVersion: string | undefined
/** This dappmesh's version, from its package.json. */
export function dappmeshVersion(): string {
  cliVersion ??= String(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version)
  return cliVersion
}

const condition = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: {type: 'string'},
    status: {type: 'string', enum: ['True', 'False', 'Unknown']},
    observedGeneration: {type: 'integer', format: 'int64'},
    lastTransitionTime: {type: 'string', format: 'date-time'},
    reason: {type: 'string'},
    message: {type: 'string'},
  },
}

/** What reconcilers write: observedGeneration, standard conditions, and kind-specific extras. */
const status = {
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  properties: {
    observedGeneration: {type: 'integer', format: 'int64'},
    conditions: {
      type: 'array',
      items: condition,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
  },
}

/**
 * Rules that need metadata.name, which only a rule at the root of the schema may read. A domain's
 * namespace defaults to its name, so a domain named after a reserved namespace takes it.
 */
const ROOT_VALIDATIONS: Record<string, Array<{rule: string; message: string}>> = {
  DataProduct: [
    {
      rule: `!self.metadata.name.contains('${PRODUCT_SEPARATOR}')`,
      message: `a DataProduct name may not hold "${PRODUCT_SEPARATOR}": it separates a product's name from its parts' in the names of their Kubernetes objects; use single hyphens`,
    },
  ],
  DataDomain: [
    {
      rule: `has(self.spec.namespace) || !(self.metadata.name.startsWith('kube-') || self.metadata.name in ['default', '${SYSTEM_NAMESPACE_NAME}'])`,
      message: 'a DataDomain without spec.namespace uses its name as namespace, and this one is reserved (kube-*, default, dappmesh-system): set spec.namespace, or rename the domain',
    },
  ],
}

/** A CRD as dappmesh generates it: always labelled and annotated (schema hash, CLI version). */
export type GeneratedCrd = Typed<CustomResourceDefinition> & {metadata: ObjectMeta & {labels: Record<string, string>; annotations: Record<string, string>}}

/** The CustomResourceDefinition of one kind, generated from its JSON Schema. */
export function generateCrd(info: KindInfo): GeneratedCrd {
  const spec = toStructural(info.schema.properties.spec) as JSONSchemaProps
  const openAPIV3Schema = {
    type: 'object',
    description: info.schema.description,
    required: ['spec'],
    ...(ROOT_VALIDATIONS[info.kind] ? {'x-kubernetes-validations': ROOT_VALIDATIONS[info.kind]} : {}),
    properties: {
      apiVersion: {type: 'string'},
      kind: {type: 'string'},
      metadata: {type: 'object'},
      spec,
      status,
    },
  }
  const hash = createHash('sha256').update(JSON.stringify(openAPIV3Schema)).digest('hex').slice(0, 16)
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${info.plural}.${GROUP}`,
      labels: {'app.kubernetes.io/part-of': 'dappmesh', 'app.kubernetes.io/managed-by': 'dappmesh'},
      annotations: {[SCHEMA_HASH_ANNOTATION]: hash, [CLI_VERSION_ANNOTATION]: dappmeshVersion()},
    },
    spec: {
      group: GROUP,
      scope: info.scope,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: info.shortNames,
        categories: ['dappmesh'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {openAPIV3Schema},
          subresources: {status: {}},
          additionalPrinterColumns: info.columns,
        },
      ],
    },
  }
}

/** Every dappmesh CRD, in the order kinds are applied. */
export function generateCrds(): GeneratedCrd[] {
  return KINDS.map(generateCrd)
}
