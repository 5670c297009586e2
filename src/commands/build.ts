import os from 'node:os'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {BUILDERS} from '../core/build/builders.js'
import {buildDirectory} from '../core/build/build.js'
import type {BuildResult} from '../core/build/result-schema.js'
import {ExitCode} from '../core/errors.js'

export default class Build extends BaseCommand {
  static override summary = "Build each entity's image from services/<entity>/Containerfile, tagged by content; push and record digests."
  static override description = `For every entity with a services/<entity>/Containerfile (or Dockerfile), builds an image tagged <registry>/<product>-<entity>:<digest>, where <digest> is the start of a content digest of the build context (its files, modes and Containerfile, honouring .containerignore or .dockerignore) and of the IDs of its FROM images in the builder's store, so a rebuilt base image rebuilds the entity too. An entity whose context and base images have not changed since the recorded build is not rebuilt (unchanged). With --push the image goes to --registry (or the DataProduct's spec.registry) and the digest the registry stored is recorded in .dappmesh/images.json, which render and apply use to pin images by digest.

Builders: docker (buildx when present), buildah or podman; the first that answers is used unless --builder names one. buildah and podman use chroot isolation for RUN steps unless BUILDAH_ISOLATION is set, and keep images where DAPPMESH_STORAGE_ROOT, DAPPMESH_STORAGE_RUNROOT and DAPPMESH_STORAGE_DRIVER say (or CONTAINERS_STORAGE_CONF).

An OutputPort with a service but no service.image needs its entity to have a Containerfile; build refuses otherwise.

Exit codes: 0 every image built, pushed or unchanged; 1 a build, push or load failed (the others still run), or the project cannot be built; 2 usage error.`

  static override examples = [
    {description: 'Build every image of the product in the current directory', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Build and push to the product\'s registry, then pin by digest', command: '<%= config.bin %> <%= command.id %> --push && <%= config.bin %> render'},
    {description: 'Push to a local test registry that speaks plain HTTP', command: '<%= config.bin %> <%= command.id %> ./orders --push --registry 127.0.0.1:5000/sales --insecure-registry'},
    {description: 'Build with buildah, showing its output, and load into the kind cluster "dappmesh"', command: '<%= config.bin %> <%= command.id %> --builder buildah --verbose --load'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product (or a directory inside it)', default: '.', exists: false}),
  }

  static override flags = {
    builder: Flags.string({description: 'image builder; default: the first of docker, buildah, podman that answers', options: [...BUILDERS]}),
    registry: Flags.string({description: "where images are tagged and pushed, e.g. 127.0.0.1:5000/sales; default: the DataProduct's spec.registry", helpValue: 'HOST[:PORT]/PATH'}),
    push: Flags.boolean({description: 'push each image and record the digest the registry stored'}),
    'insecure-registry': Flags.boolean({description: 'allow plain HTTP or an unverified certificate for the registry (local test registries only; docker takes this from its daemon)'}),
    tag: Flags.string({description: 'tag every image with this instead of its context digest', helpValue: 'TAG'}),
    platform: Flags.string({description: 'target platform, passed to the builder (e.g. linux/arm64)', helpValue: 'OS/ARCH'}),
    load: Flags.boolean({description: 'load each image into a kind cluster (kind load)'}),
    'kind-cluster': Flags.string({description: 'the kind cluster --load loads into', default: 'dappmesh', helpValue: 'NAME'}),
    concurrency: Flags.integer({description: 'how many images to build at once; default: the number of CPUs, at most 4', min: 1}),
    verbose: Flags.boolean({char: 'v', description: "stream the builders' output to stderr"}),
  }

  async run(): Promise<BuildResult> {
    const {args, flags} = await this.parse(Build)
    const result = await buildDirectory(args.dir, {
      builder: flags.builder,
      registry: flags.registry,
      push: flags.push,
      insecureRegistry: flags['insecure-registry'],
      tag: flags.tag,
      platform: flags.platform,
      kindCluster: flags.load ? flags['kind-cluster'] : undefined,
      concurrency: flags.concurrency ?? Math.min(4, os.availableParallelism()),
      // Straight to stderr, --json or not: stdout stays the result, and CI logs still show progress.
      onProgress: (entity, message) => process.stderr.write(`${entity}: ${message}\n`),
      onOutput: flags.verbose ? (entity, line) => process.stderr.write(`${entity} | ${line}\n`) : undefined,
    })
    const failed = result.images.filter((i) => i.status === 'failed')
    for (const warning of result.warnings ?? []) this.warn(warning)

    if (this.jsonEnabled()) {
      if (failed.length > 0) {
        this.logJson(result)
        this.exit(ExitCode.failed)
      }
      return result
    }
    if (result.images.length === 0) this.log('no entity has a Containerfile or Dockerfile under services/<entity>/: nothing to build')
    const width = Math.max(0, ...result.images.map((i) => i.entity.length))
    for (const i of result.images) this.log(`${i.status.padEnd(9)} ${i.entity.padEnd(width)}  ${i.digest ? `${i.image.replace(/:[^:/]+$/, '')}@${i.digest}` : i.image}`)
    if (failed.length > 0) {
      for (const f of failed) {
        this.logToStderr(`\n${f.error}${f.log && f.log.length > 0 ? `; its last ${f.log.length} lines:\n${f.log.map((l) => `  ${l}`).join('\n')}` : ''}`)
      }
      this.error(`${failed.length} of ${result.images.length} images failed: ${failed.map((f) => f.entity).join(', ')}`, {exit: ExitCode.failed})
    }
    return result
  }
}
