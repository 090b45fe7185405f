import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { isSalesforceId, isWhmcsClientId, SALESFORCE_ID, WHMCS_CLIENT_ID } from '../ids.js';
import { badRequest } from './errors.js';

/** `@Param('accountId', SalesforceIdPipe)`: a Salesforce id, or 400 INVALID_ID naming the parameter. */
@Injectable()
export class SalesforceIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (!isSalesforceId(value))
      throw badRequest('INVALID_ID', `${metadata.data} must be a Salesforce id (${SALESFORCE_ID.source})`);
    return value;
  }
}

/** `@Param('clientId', WhmcsClientIdPipe)`: a WHMCS client id as a number, or 400 INVALID_ID. */
@Injectable()
export class WhmcsClientIdPipe implements PipeTransform<unknown, number> {
  transform(value: unknown, metadata: ArgumentMetadata): number {
    if (!isWhmcsClientId(value))
      throw badRequest(
        'INVALID_ID',
        `${metadata.data} must be a WHMCS client id, a positive integer (${WHMCS_CLIENT_ID.source})`,
      );
    return Number(value);
  }
}
