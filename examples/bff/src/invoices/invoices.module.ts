import { Module } from '@nestjs/common';
import { CacheModule } from '@org/cache-nestjs';
import { InvoicesController } from './invoices.controller.js';
import { invoicesDomain } from './invoices.domain.js';
import { InvoicesService } from './invoices.service.js';

@Module({
  imports: [CacheModule.forFeature([invoicesDomain])],
  controllers: [InvoicesController],
  providers: [InvoicesService],
})
export class InvoicesModule {}
