import { Controller, Get, Inject, Param } from '@nestjs/common';
import { SalesforceIdPipe } from '../http/params.js';
import { OrdersService } from './orders.service.js';

@Controller('api/orders')
export class OrdersController {
  constructor(@Inject(OrdersService) private readonly orders: OrdersService) {}

  /** The account's order summaries. */
  @Get(':accountId')
  async summaries(@Param('accountId', SalesforceIdPipe) accountId: string) {
    return { accountId, orders: await this.orders.summaries(accountId) };
  }

  /** One order; 404 when it is not the account's. */
  @Get(':accountId/:orderId')
  detail(
    @Param('accountId', SalesforceIdPipe) accountId: string,
    @Param('orderId', SalesforceIdPipe) orderId: string,
  ) {
    return this.orders.detail(accountId, orderId);
  }
}
