import {type JsonSchema, authoritativeDefinitions, customProperties, date, idOf, object, string, tags} from './common.js'
import {type OdcsVersion, atLeast, closedEverywhere} from './versions.js'

/** Who may access the data: an IAM role. */
export function role(version: OdcsVersion): JsonSchema {
  return object(
    {
      ...idOf(version),
      role: string,
      description: string,
      access: string,
      firstLevelApprovers: string,
      secondLevelApprovers: string,
      ...(atLeast(version, '3.0.1') ? {customProperties} : {}),
    },
    {required: ['role'], closed: closedEverywhere(version)},
  )
}

/** One member of the team (3.0.x: an item of `team`; 3.1.0: of `team.members`). */
function member(version: OdcsVersion): JsonSchema {
  const since31 = atLeast(version, '3.1.0')
  return object(
    {
      ...idOf(version),
      username: string,
      ...(atLeast(version, '3.0.2') ? {name: string, description: string} : {}),
      role: string,
      dateIn: date,
      dateOut: date,
      replacedByUsername: string,
      ...(since31 ? {tags, customProperties, authoritativeDefinitions: authoritativeDefinitions} : {}),
    },
    {required: since31 ? ['username'] : [], closed: since31},
  )
}

/**
 * `team`: a list of members up to 3.0.2; from 3.1.0 an object with `members`, the list form still
 * read (deprecated). if/else rather than oneOf, so that an error names the field at fault.
 */
export function team(version: OdcsVersion): JsonSchema {
  const members = {type: 'array', items: member(version)}
  if (!atLeast(version, '3.1.0')) return members
  return {
    if: {type: 'array'},
    then: members,
    else: object(
      {
        ...idOf(version),
        name: string,
        description: string,
        members,
        tags,
        customProperties,
        authoritativeDefinitions,
      },
      {closed: true},
    ),
  }
}

/** A support channel: 3.1.0 requires only `channel`. */
export function supportItem(version: OdcsVersion): JsonSchema {
  const since31 = atLeast(version, '3.1.0')
  return object(
    {
      ...idOf(version),
      channel: string,
      url: string,
      description: string,
      tool: string,
      scope: string,
      invitationUrl: string,
      ...(since31 ? {customProperties} : {}),
    },
    {required: since31 ? ['channel'] : ['channel', 'url'], closed: since31},
  )
}
