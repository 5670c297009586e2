import type {KubeRest} from '../kube/rest.js'
import type {Event, KubeObject} from '../kube/types.js'
import {resourcePath} from '../kube/paths.js'
import type {Log} from './controller.js'

const REPEAT_WINDOW_MS = 10 * 60_000
const MESSAGE_LIMIT = 1024
const CUT = ' … (truncated)'

/** An Event's message, cut at 1 KiB; a longer one says so (the operator's log has it whole). */
export function eventMessage(message: string): string {
  return message.length <= MESSAGE_LIMIT ? message : `${message.slice(0, MESSAGE_LIMIT - CUT.length)}${CUT}`
}

/**
 * Kubernetes Events about the objects the operator reconciles: what it did, and why something
 * failed, where `kubectl describe`, `dappmesh status` and `apply --wait` look. The same event for
 * the same object is recorded once per ten minutes (a retry loop must not flood the API server).
 * Recording is best effort: a failure is logged, never fails a reconcile.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>()

  constructor(private readonly rest: KubeRest, private readonly log: Log, private readonly component = 'dappmesh-operator') {}

  async record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = object.metadata.namespace ?? 'default'
    const key = `${object.kind}/${namespace}/${object.metadata.name}/${object.metadata.uid}/${type}/${reason}/${message}`
    const now = Date.now()
    if ((this.recent.get(key) ?? 0) > now - REPEAT_WINDOW_MS) return
    this.recent.set(key, now)
    if (this.recent.size > 10_000) for (const [k, at] of this.recent) if (at <= now - REPEAT_WINDOW_MS) this.recent.delete(k)
    const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z')
    try {
      // Named by the server (generateName): one object per occurrence, as client-go's recorder does.
      const event: Omit<Event, 'metadata'> & {metadata: {generateName: string; namespace: string}} = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {generateName: `${object.metadata.name}.`, namespace},
        involvedObject: {apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace, uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion},
        type,
        reason,
        message: eventMessage(message),
        source: {component: this.component},
        reportingComponent: this.component,
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        count: 1,
      }
      await this.rest.request<Event>('POST', resourcePath('v1', 'Event', namespace), {body: event})
    } catch (error) {
      this.log('warn', `could not record the event ${reason} on ${object.kind} ${object.metadata.name}: ${(error as Error).message}`)
    }
  }
}
