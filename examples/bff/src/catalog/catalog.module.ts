import { Module } from '@nestjs/common';
import { CacheModule } from '@org/cache-nestjs';
import { CatalogController } from './catalog.controller.js';
import { catalogDomain } from './catalog.domain.js';
import { CatalogService } from './catalog.service.js';

@Module({
  imports: [CacheModule.forFeature([catalogDomain])],
  controllers: [CatalogController],
  providers: [CatalogService],
})
export class CatalogModule {}
