import { Controller, Get, Inject, Param } from '@nestjs/common';
import { SalesforceIdPipe } from '../http/params.js';
import { PricingService } from './pricing.service.js';

@Controller('api/pricing')
export class PricingController {
  constructor(@Inject(PricingService) private readonly pricing: PricingService) {}

  @Get(':productId')
  availability(@Param('productId', SalesforceIdPipe) productId: string) {
    return this.pricing.availability(productId);
  }
}
