import { randomUUID } from 'node:crypto';

/**
 * Salesforce Change Data Capture events in the Pub/Sub API's JSON shape (`{ replayId, payload }`),
 * as a subscriber receives them once decoded from Avro: a ChangeEventHeader plus the changed
 * fields (unchanged fields are null, and left out here).
 */
export interface SalesforceChangeEvent {
  replayId: number;
  payload: {
    ChangeEventHeader: {
      entityName: string;
      recordIds: string[];
      changeType: 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';
      changeOrigin: string;
      transactionKey: string;
      sequenceNumber: number;
      commitTimestamp: number;
      commitUser: string;
      changedFields: string[];
    };
    [field: string]: unknown;
  };
}

let replayId = 0;

export interface ChangeEventInput {
  entity: string;
  ids: string[];
  changeType: SalesforceChangeEvent['payload']['ChangeEventHeader']['changeType'];
  /**
   * An UPDATE's changed fields and their new values (it also touches LastModifiedDate); a
   * CREATE's field values (its changedFields list is empty).
   */
  fields?: Record<string, unknown>;
}

export function salesforceChangeEvent(input: ChangeEventInput): SalesforceChangeEvent {
  const fields = input.fields ?? {};
  const changedFields = input.changeType === 'UPDATE' ? [...Object.keys(fields), 'LastModifiedDate'] : [];
  const now = Date.now();
  return {
    replayId: ++replayId,
    payload: {
      ChangeEventHeader: {
        entityName: input.entity,
        recordIds: input.ids,
        changeType: input.changeType,
        changeOrigin: 'com/salesforce/api/rest/62.0',
        transactionKey: randomUUID(),
        sequenceNumber: 1,
        commitTimestamp: now,
        commitUser: '005DEMOUSER',
        changedFields: [...new Set(changedFields)],
      },
      ...fields,
      LastModifiedDate: new Date(now).toISOString(),
    },
  };
}
