import { accountDefinition } from './objects/account.js';
import { activityHistoryDefinition, openActivityDefinition } from './objects/activity.js';
import { campaignDefinition, campaignMemberDefinition } from './objects/campaign.js';
import { contactDefinition } from './objects/contact.js';
import { individualDefinition } from './objects/individual.js';
import { leadDefinition } from './objects/lead.js';
import { opportunityContactRoleDefinition, opportunityDefinition } from './objects/opportunity.js';
import { pushTopicDefinition } from './objects/push-topic.js';
import { streamingChannelDefinition } from './objects/streaming-channel.js';
import { taskDefinition } from './objects/task.js';
import { organizationDefinition, userDefinition } from './objects/user.js';
import type { EmulatorObjectDefinition } from './schema.js';

/**
 * The standard objects the emulator ships, described as a Developer/scratch org describes them
 * (field names, types, lengths and read-only-ness from the Object Reference for Salesforce), plus
 * the MarkMail custom fields (`MarkMail_ID__c`, `MarkMail_Campaign_ID__c`). One file per object
 * under `objects/`.
 */
export function standardObjectDefinitions(): EmulatorObjectDefinition[] {
  return [
    accountDefinition(),
    contactDefinition(),
    leadDefinition(),
    opportunityDefinition(),
    opportunityContactRoleDefinition(),
    campaignDefinition(),
    campaignMemberDefinition(),
    taskDefinition(),
    activityHistoryDefinition(),
    openActivityDefinition(),
    individualDefinition(),
    userDefinition(),
    organizationDefinition(),
    pushTopicDefinition(),
    streamingChannelDefinition(),
  ];
}
