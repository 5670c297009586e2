import type {FromSchema} from 'json-schema-to-ts'

export const imageResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['entity', 'image', 'tag', 'digest', 'status'],
  properties: {
    entity: {type: 'string'},
    image: {type: 'string', description: 'the reference built: repository:tag'},
    tag: {type: 'string'},
    digest: {type: ['string', 'null'], description: 'the manifest digest the registry holds (sha256:…), once pushed; else null'},
    status: {type: 'string', enum: ['built', 'unchanged', 'pushed', 'failed'], description: 'pushed: built (or found) and pushed in this run; unchanged: same context as the recorded build'},
    contextDigest: {type: 'string', description: 'content digest of the build context (files and Containerfile)'},
    durationMs: {type: 'integer'},
    error: {type: 'string', description: 'failed only: what failed, naming the entity'},
    log: {type: 'array', items: {type: 'string'}, description: 'failed only: the last lines of the builder output'},
  },
} as const

/** The shape of `dappmesh build --json`, printed whatever the exit code. */
export const buildResultSchema = {
  $id: 'https://dappmesh.io/schemas/build.json',
  title: 'dappmesh build',
  type: 'object',
  additionalProperties: false,
  required: ['root', 'images'],
  properties: {
    root: {type: 'string', description: 'the project directory'},
    builder: {type: 'string', description: 'docker, docker buildx, buildah or podman; absent when there was nothing to build'},
    imagesFile: {type: 'string', description: 'the .dappmesh/images.json written, when any image succeeded'},
    images: {type: 'array', items: imageResultSchema},
    warnings: {type: 'array', items: {type: 'string'}, description: 'things the user asked for that this builder does otherwise'},
  },
} as const

export type ImageResult = FromSchema<typeof imageResultSchema>
export type BuildResult = FromSchema<typeof buildResultSchema>
