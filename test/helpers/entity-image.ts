import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

/**
 * Makes a scaffolded entity one that brings its own image: a Containerfile and the script it
 * copies in services/<entity>/, and a service on its output port (init scaffolds data-only ports,
 * which the runtime serves; `dappmesh build` is for entities like this one).
 */
export function giveImage(dir: string, entity: string, containerfile = 'FROM scratch\nCOPY server.sh /server.sh\n'): void {
  const services = path.join(dir, 'services', entity)
  writeFileSync(path.join(services, 'Containerfile'), containerfile)
  writeFileSync(path.join(services, 'server.sh'), `#!/bin/sh\necho "${entity} api"\n`)
  chmodSync(path.join(services, 'server.sh'), 0o755)
  const output = path.join(services, 'output.yaml')
  const text = readFileSync(output, 'utf8')
  if (!/^ {2}service:/m.test(text)) writeFileSync(output, `${text.trimEnd()}\n  service:\n    port: 8080\n`)
}
