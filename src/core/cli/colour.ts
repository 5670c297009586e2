import chalk, {Chalk, type ChalkInstance} from 'chalk'

/** Colour for a stream: only on a terminal, and never with NO_COLOR (https://no-color.org). */
export function colourFor(stream: NodeJS.WriteStream = process.stdout): ChalkInstance {
  const enabled = Boolean(stream.isTTY) && !process.env.NO_COLOR
  return new Chalk({level: enabled ? Math.max(chalk.level, 1) as 1 | 2 | 3 : 0})
}
