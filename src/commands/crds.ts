import {Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {type AdmissionObject, generateAdmissionPolicies} from '../core/crds/admission.js'
import {type GeneratedCrd, generateCrds} from '../core/crds/generate.js'
import {type KubeList, kubeList, toYamlStream} from '../core/render/yaml.js'

export default class Crds extends BaseCommand {
  static override summary = 'Print the CustomResourceDefinitions of every dappmesh kind, and the admission policy that goes with them.'
  static override description = `The CRDs are generated from the same JSON Schemas that \`dappmesh validate\` uses, with CEL rules (x-kubernetes-validations) where a rule spans fields, so the API server enforces what validate enforces. Each carries a dappmesh.io/schema-hash annotation that apply and doctor use to tell whether the cluster's CRDs are current. After them come a ValidatingAdmissionPolicy and its binding that refuse a DataRole granting more than its author may do, or naming Kubernetes system identities.`

  static override examples = [
    {description: 'Install the CRDs with kubectl', command: '<%= config.bin %> <%= command.id %> | kubectl apply --server-side -f -'},
    {description: 'As a JSON list', command: '<%= config.bin %> <%= command.id %> -o json'},
  ]

  static override flags = {
    output: Flags.string({char: 'o', description: 'output format', options: ['yaml', 'json'], default: 'yaml'}),
  }

  /** `--json` and `-o json` print the same List. */
  async run(): Promise<KubeList<GeneratedCrd | AdmissionObject>> {
    const {flags} = await this.parse(Crds)
    // The admission policy that checks DataRole authors goes with the CRDs (after them: it names their kind).
    const list = kubeList([...generateCrds(), ...generateAdmissionPolicies()])
    if (this.jsonEnabled()) return list
    if (flags.output === 'json') this.log(JSON.stringify(list, null, 2))
    else this.log(toYamlStream(list.items))
    return list
  }
}
