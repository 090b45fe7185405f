import { Module } from '@nestjs/common';
import { CacheModule } from '@org/cache-nestjs';
import { PricingController } from './pricing.controller.js';
import { pricingDomain } from './pricing.domain.js';
import { PricingService } from './pricing.service.js';

@Module({
  imports: [CacheModule.forFeature([pricingDomain])],
  controllers: [PricingController],
  providers: [PricingService],
})
export class PricingModule {}
