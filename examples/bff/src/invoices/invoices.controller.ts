import { Controller, Get, Inject, Param } from '@nestjs/common';
import { WhmcsClientIdPipe } from '../http/params.js';
import { InvoicesService } from './invoices.service.js';

@Controller('api/invoices')
export class InvoicesController {
  constructor(@Inject(InvoicesService) private readonly invoices: InvoicesService) {}

  @Get(':clientId')
  async list(@Param('clientId', WhmcsClientIdPipe) clientId: number) {
    return { clientId, invoices: await this.invoices.list(clientId) };
  }
}
