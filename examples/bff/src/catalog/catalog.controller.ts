import { Controller, Get, Inject, Param } from '@nestjs/common';
import { SalesforceIdPipe } from '../http/params.js';
import { CatalogService } from './catalog.service.js';

@Controller('api/catalog')
export class CatalogController {
  constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

  @Get('products/:productId')
  product(@Param('productId', SalesforceIdPipe) productId: string) {
    return this.catalog.product(productId);
  }

  @Get('bundles/:bundleId')
  bundle(@Param('bundleId', SalesforceIdPipe) bundleId: string) {
    return this.catalog.bundle(bundleId);
  }
}
