import { badRequest } from '../http/errors.js';
import { isSalesforceId, isWhmcsClientId, SALESFORCE_ID, WHMCS_CLIENT_ID } from '../ids.js';

/** A path parameter that must be a Salesforce id; 400 INVALID_ID otherwise. */
export function salesforceIdParam(params: Readonly<Record<string, string>>, name: string): string {
  const value = params[name];
  if (!isSalesforceId(value))
    throw badRequest('INVALID_ID', `${name} must be a Salesforce id (${SALESFORCE_ID.source})`);
  return value;
}

/** A path parameter that must be a WHMCS client id; 400 INVALID_ID otherwise. */
export function whmcsClientIdParam(params: Readonly<Record<string, string>>, name: string): number {
  const value = params[name];
  if (!isWhmcsClientId(value))
    throw badRequest(
      'INVALID_ID',
      `${name} must be a WHMCS client id, a positive integer (${WHMCS_CLIENT_ID.source})`,
    );
  return Number(value);
}
